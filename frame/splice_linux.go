//go:build linux

package frame

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"

	"github.com/framerpc/framerpc/internal/splicecount"
)

// Payloads by splice(2). A stream body whose source is a pipe or a file
// (zfs send writes into a pipe) need not pass through user space on its
// way to a socket, nor a received one on its way into a pipe or a file:
// splice moves pages between a file descriptor and a pipe inside the
// kernel. Between two descriptors that are not pipes it needs a pipe in the
// middle, which here is also the answer to the frame-length problem: a
// frame header announces its length before its payload, and the canonical
// split [MSG-3] sends a full frame only once MaxPayload bytes are known.
// So the sender splices the source into pipes until they hold a whole
// frame (or the source ends), then writes the header, then splices the
// pipes' contents to the transport: the bytes on the wire are exactly the
// user-space writer's.
//
// Whatever cannot go this way falls back to user space with no byte lost:
// a descriptor splice refuses (EINVAL), a source that cannot be waited for,
// pipes whose pages fill before a frame does (a producer writing in small
// pieces), an error of the source. The bytes already in the pipes are then
// read out into the user-space buffers, which carry on as if they had been
// read there.

// Linux constants the syscall package does not name.
const (
	spliceFMove     = 0x1 // SPLICE_F_MOVE
	spliceFNonblock = 0x2 // SPLICE_F_NONBLOCK: pipe sides never block
	fSetPipeSize    = 1031
	fGetPipeSize    = 1032
	pollOut         = 0x4
)

// pipeSizes are the capacities tried for each staging pipe, largest first:
// above /proc/sys/fs/pipe-max-size (1 MiB by default) only a process with
// CAP_SYS_RESOURCE gets its request; otherwise more pipes make up a frame.
// Tests shrink it to exercise many pipes.
var pipeSizes = []int{MaxPayload, 1 << 20}

// maxPipes bounds the pipes of one staging area: with the 64 KiB default
// capacity, a frame takes 64.
const maxPipes = 64

// spliced counts the payload bytes moved to a destination by splice, for
// tests (of this package and the ones above) to tell the kernel path from
// the fallback.
var spliced = &splicecount.Moved

// kpipe is one staging pipe.
type kpipe struct {
	r, w int // descriptors
	cap  int // capacity in bytes
	n    int // bytes in it
	// full: it took no more although n < cap, its pages being partly
	// filled.
	full bool
}

// kstage is a kernel staging area of at least MaxPayload bytes.
type kstage struct {
	pipes []kpipe
	cur   int // the pipe being filled
	n     int // bytes in all pipes
}

func newKStage() (*kstage, error) {
	k := &kstage{}
	total := 0
	for total < MaxPayload && len(k.pipes) < maxPipes {
		var fds [2]int
		if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
			k.close()
			return nil, err
		}
		p := kpipe{r: fds[0], w: fds[1]}
		for _, size := range pipeSizes {
			if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p.w), fSetPipeSize, uintptr(size)); e == 0 {
				break
			}
		}
		c, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p.w), fGetPipeSize, 0)
		if e != 0 {
			syscall.Close(p.r)
			syscall.Close(p.w)
			k.close()
			return nil, e
		}
		p.cap = int(c)
		k.pipes = append(k.pipes, p)
		total += p.cap
	}
	if total < MaxPayload {
		k.close()
		return nil, errors.New("frame: pipes too small to stage a frame")
	}
	return k, nil
}

func (k *kstage) close() {
	for _, p := range k.pipes {
		syscall.Close(p.r)
		syscall.Close(p.w)
	}
	k.pipes = nil
}

// fillResult says why fill stopped.
type fillResult int

const (
	fillDone        fillResult = iota // the wanted bytes are staged
	fillPartial                       // partial fill: something is staged, the source has no more for now
	fillEOF                           // the source ended
	fillSourceError                   // the source failed: err
	fillFull                          // every pipe is full of partly filled pages
	fillUnsupported                   // splice refused the source
	fillCannotWait                    // the source would block and cannot be waited for
)

// fill splices from src until the pipes hold want bytes. With partial set
// it returns as soon as it holds anything and the source has no more for
// now.
func (k *kstage) fill(src syscall.RawConn, want int, partial bool) (fillResult, error) {
	for k.n < want {
		if k.cur == len(k.pipes) {
			return fillFull, nil
		}
		p := &k.pipes[k.cur]
		if p.full || p.n == p.cap {
			k.cur++
			continue
		}
		const pending = fillResult(-1)
		res, n := pending, 0
		var serr error
		werr := src.Read(func(fd uintptr) bool {
			for {
				m, e := syscall.Splice(int(fd), nil, p.w, nil, min(want-k.n, p.cap-p.n), spliceFMove|spliceFNonblock)
				switch {
				case e == syscall.EINTR:
					continue
				case e == syscall.EAGAIN && !writable(p.w):
					p.full = true
					res = fillDone
				case e == syscall.EAGAIN && partial && k.n > 0:
					res = fillPartial
				case e == syscall.EAGAIN:
					// The source has nothing for now: wait for it.
					return false
				case e == syscall.EINVAL || e == syscall.ENOSYS:
					res = fillUnsupported
				case e != nil:
					res, serr = fillSourceError, e
				case m == 0:
					res = fillEOF
				default:
					res, n = fillDone, int(m)
				}
				return true
			}
		})
		p.n += n
		k.n += n
		if werr != nil || res == pending {
			// The runtime could not wait for the source (a blocking or
			// unpollable descriptor, a deadline): user space takes over
			// and meets whatever it is.
			return fillCannotWait, nil
		}
		if res != fillDone {
			return res, serr
		}
	}
	return fillDone, nil
}

// writable reports whether the pipe's write end has a free page slot.
func writable(fd int) bool {
	type pollFd struct {
		fd      int32
		events  int16
		revents int16
	}
	fds := [1]pollFd{{fd: int32(fd), events: pollOut}}
	var ts syscall.Timespec
	n, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return e == 0 && n == 1 && fds[0].revents&pollOut != 0
}

// drainTo splices everything staged to dst. It returns the bytes moved;
// on error the rest stays in the pipes. unsupported reports that dst
// refused splice before any byte moved to it.
func (k *kstage) drainTo(dst syscall.RawConn) (moved int, unsupported bool, err error) {
	for i := range k.pipes {
		p := &k.pipes[i]
		for p.n > 0 {
			var n int
			var serr error
			werr := dst.Write(func(fd uintptr) bool {
				for {
					m, e := syscall.Splice(p.r, nil, int(fd), nil, p.n, spliceFMove|spliceFNonblock)
					if e == syscall.EINTR {
						continue
					}
					if e == syscall.EAGAIN {
						return false
					}
					n, serr = int(m), e
					return true
				}
			})
			if n > 0 {
				p.n -= n
				k.n -= n
				moved += n
			}
			if serr == syscall.EINVAL && moved == 0 {
				return 0, true, nil
			}
			if serr == nil {
				serr = werr
			}
			if serr == nil && n == 0 {
				serr = io.ErrShortWrite
			}
			if serr != nil {
				return moved, false, serr
			}
		}
	}
	k.reset()
	spliced.Add(int64(moved))
	return moved, false, nil
}

// readOut reads everything staged into b, which has room for it.
func (k *kstage) readOut(b []byte) (int, error) {
	done := 0
	for i := range k.pipes {
		p := &k.pipes[i]
		for p.n > 0 {
			n, err := syscall.Read(p.r, b[done:done+p.n])
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				return done, err
			}
			if n <= 0 {
				return done, io.ErrUnexpectedEOF
			}
			p.n -= n
			k.n -= n
			done += n
		}
	}
	k.reset()
	return done, nil
}

func (k *kstage) reset() {
	for i := range k.pipes {
		k.pipes[i].full = false
	}
	k.cur, k.n = 0, 0
}

// rawConn returns the raw descriptor access of v, if it has one.
func rawConn(v any) (syscall.RawConn, bool) {
	sc, ok := v.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}

// spliceFrom is MessageWriter.ReadFrom's kernel path, for a source that
// is an *os.File and a transport with a file descriptor. It stages each
// frame's payload in pipes, then writes the header and splices the payload
// after it. Bytes it took from src and could not send that way are in the
// user-space stage when it returns, as if read there; the status says
// whether the body ended and whether the next frame may splice again.
//
// An *io.LimitedReader of an *os.File (io.LimitReader) splices too, as
// net.TCPConn.ReadFrom does it: whole frames while N allows, the rest in
// user space through the LimitedReader.
func (m *MessageWriter) spliceFrom(src io.Reader) (total int64, st spliceStatus, err error) {
	lr, _ := src.(*io.LimitedReader)
	if lr != nil {
		src = lr.R
	}
	f, ok := src.(*os.File)
	if !ok || m.limit >= 0 {
		return 0, spliceNever, nil
	}
	w := m.w
	dst, ok := w.transport()
	if !ok {
		return 0, spliceNever, nil
	}
	srcRC, err := f.SyscallConn()
	if err != nil {
		return 0, spliceNever, nil
	}
	if w.kst == nil {
		if w.kst, err = newKStage(); err != nil {
			w.kst = nil
			return 0, spliceNever, nil
		}
	}
	k := w.kst
	for {
		if lr != nil && lr.N < MaxPayload {
			// Less than a frame left to take: user space reads it.
			return total, spliceNever, nil
		}
		res, serr := k.fill(srcRC, MaxPayload, false)
		total += int64(k.n)
		m.total += int64(k.n)
		if lr != nil {
			lr.N -= int64(k.n)
		}
		if res != fillDone {
			// What the pipes hold joins the user-space stage; Close or
			// the user-space path sends it.
			w.grow(k.n)
			n, rerr := k.readOut(w.stage[HeaderSize:])
			m.staged = n
			if rerr != nil {
				return total, spliceEnded, m.fail(fmt.Errorf("frame: reading back a splice pipe: %w", rerr))
			}
			switch res {
			case fillEOF:
				return total, spliceEnded, nil
			case fillSourceError:
				return total, spliceEnded, &os.PathError{Op: "splice", Path: f.Name(), Err: serr}
			case fillFull:
				// The producer writes in small pieces; the next frame
				// may fare better.
				return total, spliceRetry, nil
			}
			return total, spliceNever, nil
		}
		// A whole frame: the header, then the pipes.
		h := FrameHeader{Type: m.typ, Length: MaxPayload}
		h.put(w.hdr[:])
		if err := w.write(w.hdr[:]); err != nil {
			return total, spliceEnded, m.fail(err)
		}
		// What a buffered Writer gathered, this header included, goes
		// out before the payload does.
		if err := w.Flush(); err != nil {
			return total, spliceEnded, m.fail(err)
		}
		_, unsupported, derr := k.drainTo(dst)
		if unsupported {
			// The transport refuses splice: this payload, and the rest
			// of the body, go from user space.
			w.grow(k.n)
			n, rerr := k.readOut(w.stage[HeaderSize:])
			if rerr == nil {
				rerr = w.write(w.stage[HeaderSize : HeaderSize+n])
			}
			if rerr != nil {
				return total, spliceEnded, m.fail(rerr)
			}
			return total, spliceNever, nil
		}
		if derr != nil {
			w.err = fmt.Errorf("frame: writing to the transport: %w", os.NewSyscallError("splice", derr))
			return total, spliceEnded, m.fail(w.err)
		}
	}
}

// transport is the raw descriptor of the Writer's transport, under the
// buffer of a Writer from NewBufferedWriter.
func (w *Writer) transport() (syscall.RawConn, bool) {
	dst := w.dst
	if g, ok := dst.(*gatherWriter); ok {
		dst = g.dst
	}
	return rawConn(dst)
}

// closeKStage releases the Writer's pipes.
func (w *Writer) closeKStage() {
	if w.kst != nil {
		w.kst.close()
		w.kst = nil
	}
}

// spliceTo is MessageReader.WriteTo's kernel path for the next n bytes of
// the current payload, the buffer being empty: from the transport into
// pipes and on to w, with no byte in user space. It returns the payload
// bytes delivered. fallback reports that splice does not apply (any more)
// and the user-space path is to deliver the rest; otherwise, without an
// error, all n were delivered.
func (r *Reader) spliceTo(w io.Writer, n int64) (done int64, fallback bool, err error) {
	dst, ok := rawConn(w)
	if !ok || r.r != r.w || r.rerr != nil {
		return 0, true, nil
	}
	src, ok := rawConn(r.src)
	if !ok {
		return 0, true, nil
	}
	if r.kst == nil {
		if r.kst, err = newKStage(); err != nil {
			r.kst = nil
			return 0, true, nil
		}
	}
	k := r.kst
	for done < n {
		// At most what the streaming buffer holds, for unstage.
		res, serr := k.fill(src, int(min(n-done, int64(bigBufferSize))), true)
		if k.n > 0 {
			moved, unsupported, derr := k.drainTo(dst)
			r.consume(moved)
			done += int64(moved)
			if unsupported || derr != nil {
				// The bytes still staged were taken from the transport:
				// they become the Reader's buffered payload, read next.
				if err := r.unstage(); err != nil {
					return done, false, err
				}
				if unsupported {
					return done, true, nil
				}
				return done, false, derr
			}
		}
		switch res {
		case fillEOF:
			return done, false, r.payloadErr(io.EOF)
		case fillSourceError:
			return done, false, r.payloadErr(os.NewSyscallError("splice", serr))
		case fillUnsupported, fillCannotWait:
			return done, true, nil
		}
	}
	return done, false, nil
}

// unstage moves what the kernel stage holds into the (empty) buffer, as
// if it had been read there.
func (r *Reader) unstage() error {
	if r.kst.n == 0 {
		return nil
	}
	if r.bigp == nil {
		r.useBig()
	}
	n, err := r.kst.readOut(r.buf)
	r.r, r.w = 0, n
	if err != nil {
		return r.fail(fmt.Errorf("frame: reading back a splice pipe: %w", err))
	}
	return nil
}

// closeKStage releases the Reader's pipes.
func (r *Reader) closeKStage() {
	if r.kst != nil {
		r.kst.close()
		r.kst = nil
	}
}
