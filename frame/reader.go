package frame

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// DefaultBufferSize is the read buffer of NewReader. It bounds the memory a
// Reader holds whatever the peer sends; larger payloads stream through it
// (MessageReader.WriteTo borrows a 1 MiB buffer while it moves one).
const DefaultBufferSize = 64 << 10

// maxEmptyReads bounds how often a transport may answer (0, nil) in a row
// before the Reader gives up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// Reader decodes frames and messages from a byte stream.
//
// Frame level: ReadHeader and ReadPayload. Message level: NextMessage. The
// two share one position on the stream; a caller uses one level at a time.
type Reader struct {
	src  io.Reader
	buf  []byte
	r, w int
	// off is the stream offset of buf[r]: the number of bytes consumed.
	off int64
	// rerr is an error the transport returned along with data, held back
	// until the data before it is consumed.
	rerr error
	// err is sticky: once set, the stream is not in a known state.
	err error

	// small is the Reader's own buffer while buf is a streaming buffer
	// from bigFree, held by bigp.
	small []byte
	bigp  *[]byte
	// kst is the pipes a WriteTo splices through, while it runs.
	kst *kstage

	cur    FrameHeader
	curOff int64
	left   uint32 // unread payload bytes of cur

	msg MessageReader

	// hook sees every accepted frame header (observe.go).
	hook func(FrameHeader, int64)
}

// NewReader returns a Reader with a DefaultBufferSize buffer.
func NewReader(src io.Reader) *Reader {
	return NewReaderSize(src, DefaultBufferSize)
}

// NewReaderSize returns a Reader with a buffer of size bytes (at least
// HeaderSize).
func NewReaderSize(src io.Reader, size int) *Reader {
	if size < HeaderSize {
		size = HeaderSize
	}
	return &Reader{src: src, buf: make([]byte, size)}
}

// Offset is the number of stream bytes consumed so far.
func (r *Reader) Offset() int64 { return r.off }

// Err returns the sticky error, if any.
func (r *Reader) Err() error { return r.err }

func (r *Reader) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return r.err
}

// fill reads at least one more byte into the buffer, or returns the
// transport's error. It never issues a zero-length read [FRAME-10].
func (r *Reader) fill() error {
	if r.bigp != nil {
		// Only payload bytes of the current frame ever go into the
		// streaming buffer, so once they are consumed it is empty and
		// goes back.
		r.putBig()
	}
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	n, err := r.readInto(r.buf[r.w:])
	r.w += n
	return err
}

// readInto is the one place the Reader reads from the transport, into the
// buffer or straight into a caller's slice. It returns at least one byte
// or an error, never both: an error that comes with data is held back in
// rerr until that data has been consumed.
func (r *Reader) readInto(p []byte) (int, error) {
	if r.rerr != nil {
		return 0, r.rerr
	}
	for range maxEmptyReads {
		n, err := r.src.Read(p)
		if n < 0 || n > len(p) {
			return 0, errors.New("frame: transport returned an invalid count")
		}
		if err != nil {
			r.rerr = err
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.ErrNoProgress
}

// Streaming buffers. Moving a large payload to an io.Writer through the
// DefaultBufferSize buffer costs a read system call per 64 KiB, where raw
// copying is fastest with reads of a megabyte or more (BENCHMARKS.md). So
// WriteTo reads the rest of a large payload through a 1 MiB buffer (4 MiB
// costs as much CPU and leaves the caches sooner), taken from a small free
// list for the duration and given back when empty: an idle Reader holds
// only its own small buffer, and a stream allocates nothing in steady
// state (a sync.Pool would be emptied by every garbage collection).
const (
	bigBufferSize = 1 << 20
	// bigThreshold is the remaining payload from which WriteTo switches
	// to a streaming buffer.
	bigThreshold = 256 << 10
)

// bigFree holds streaming buffers not in use; past its capacity, a
// returned buffer is left to the garbage collector.
var bigFree = make(chan *[]byte, 4)

// useBig makes an empty buffer the streaming one.
func (r *Reader) useBig() {
	select {
	case r.bigp = <-bigFree:
	default:
		b := make([]byte, bigBufferSize)
		r.bigp = &b
	}
	r.small, r.buf = r.buf, *r.bigp
	r.r, r.w = 0, 0
}

// releaseBig gives the streaming buffer back if it holds nothing.
func (r *Reader) releaseBig() {
	if r.bigp != nil && r.r == r.w {
		r.putBig()
	}
}

// putBig gives an empty streaming buffer back to the free list.
func (r *Reader) putBig() {
	select {
	case bigFree <- r.bigp:
	default:
	}
	r.bigp = nil
	r.buf, r.small = r.small, nil
	r.r, r.w = 0, 0
}

// transportErr turns a transport error met at stream offset off into what
// the caller sees; EOF there means truncation.
func (r *Reader) transportErr(err error, off int64, where string) error {
	if err == io.EOF {
		return r.fail(&ProtocolError{Class: ClassUnexpectedEOF, Rule: "FRAME-6", Offset: off,
			Detail: "stream ended " + where})
	}
	return r.fail(fmt.Errorf("frame: reading at offset %d: %w", off, err))
}

// ReadHeader reads and validates the next frame header, first skipping
// whatever is left of the previous frame's payload. It is a low-level call,
// for tools that must see every frame (conformance tests, capture
// decoders): it checks the frame rules of section 3 but none of section 4,
// which NextMessage applies. At a frame boundary, a
// stream that ends cleanly gives io.EOF. For an RST it returns the header
// with a nil error and no payload, and every later call reports the reset
// [FRAME-8].
func (r *Reader) ReadHeader() (FrameHeader, error) {
	if r.err != nil {
		return FrameHeader{}, r.err
	}
	if r.left > 0 {
		if err := r.skipPayload(int64(r.left)); err != nil {
			return FrameHeader{}, err
		}
	}
	for r.w-r.r < HeaderSize {
		if err := r.fill(); err != nil {
			n := r.w - r.r
			if err == io.EOF && n == 0 {
				return FrameHeader{}, r.fail(io.EOF)
			}
			return FrameHeader{}, r.transportErr(err, r.off+int64(n),
				fmt.Sprintf("after %d of the %d bytes of a frame header", n, HeaderSize))
		}
	}
	h, err := ParseFrameHeader(r.buf[r.r:r.r+HeaderSize], r.off)
	if err != nil {
		return FrameHeader{}, r.fail(err)
	}
	r.cur, r.curOff = h, r.off
	if r.hook != nil {
		r.hook(h, r.off)
	}
	r.r += HeaderSize
	r.off += HeaderSize
	r.left = h.Length
	if h.Type == TypeRST {
		// Nothing after an RST is read, not even its payload [FRAME-8].
		r.left = 0
		r.err = &ProtocolError{Class: ClassReset, Rule: "FRAME-8", Offset: r.curOff, Detail: "RST received"}
	}
	return h, nil
}

// ReadPayload reads from the payload of the frame ReadHeader returned;
// io.EOF marks its end. It is a low-level call, the companion of
// ReadHeader.
func (r *Reader) ReadPayload(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if uint64(len(p)) > uint64(r.left) {
		p = p[:r.left]
	}
	if r.r == r.w {
		if len(p) >= len(r.buf) && r.bigp == nil {
			// A read at least as large as the buffer, with nothing
			// buffered: straight into the caller's slice, which holds
			// payload only, so no byte is copied twice.
			n, err := r.readInto(p)
			if n == 0 {
				return 0, r.payloadErr(err)
			}
			r.consume(n)
			return n, nil
		}
		if err := r.fill(); err != nil {
			return 0, r.payloadErr(err)
		}
	}
	n := copy(p, r.buf[r.r:r.w])
	r.r += n
	r.consume(n)
	return n, nil
}

func (r *Reader) consume(n int) {
	r.off += int64(n)
	r.left -= uint32(n)
}

func (r *Reader) payloadErr(err error) error {
	return r.transportErr(err, r.off, fmt.Sprintf("%d bytes before the end of a %d-byte payload", r.left, r.cur.Length))
}

// skipPayload discards n (<= r.left) bytes of the current payload.
func (r *Reader) skipPayload(n int64) error {
	for n > 0 {
		if r.r == r.w {
			if err := r.fill(); err != nil {
				return r.payloadErr(err)
			}
		}
		k := min(int64(r.w-r.r), n)
		r.r += int(k)
		r.consume(int(k))
		n -= k
	}
	return nil
}

// writePayload writes up to n bytes of the current payload to w, straight
// from the buffer, or with *splice set from the transport by splice(2)
// where both ends allow it; *splice is cleared where they do not.
func (r *Reader) writePayload(w io.Writer, n int64, splice *bool) (int64, error) {
	var done int64
	for done < n {
		if r.r == r.w && *splice && n-done >= bigThreshold {
			k, fallback, err := r.spliceTo(w, n-done)
			done += k
			if err != nil {
				return done, err
			}
			*splice = !fallback
			continue
		}
		if r.r == r.w {
			var err error
			if n-done >= bigThreshold {
				if r.bigp == nil && len(r.buf) < bigBufferSize {
					r.useBig()
				}
				// Payload bytes only: the next frame header is read
				// through the small buffer.
				var k int
				k, err = r.readInto(r.buf[:min(int64(len(r.buf)), n-done)])
				r.r, r.w = 0, k
			} else {
				err = r.fill()
			}
			if r.r == r.w {
				return done, r.payloadErr(err)
			}
		}
		k := min(int64(r.w-r.r), n-done)
		m, err := w.Write(r.buf[r.r : r.r+int(k)])
		if m < 0 || int64(m) > k {
			m = 0
			if err == nil {
				err = errors.New("frame: destination returned an invalid count")
			}
		}
		r.r += m
		r.consume(m)
		done += int64(m)
		if err == nil && int64(m) < k {
			err = io.ErrShortWrite
		}
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// NextMessage starts reading the next message, which must consist of frames
// of type want (Header, Data or Trailer). An unfinished previous message is
// drained first, so the stream never desyncs [MSG-9]. At a message boundary
// a cleanly ended stream gives io.EOF and an RST a reset error.
//
// The returned MessageReader is owned by r and reused: it is valid until the
// next call to NextMessage.
func (r *Reader) NextMessage(want Type) (*MessageReader, error) {
	if !want.IsMessage() {
		return nil, fmt.Errorf("frame: NextMessage(%v): %w", want, ErrInvalid)
	}
	m := &r.msg
	if m.rd != nil && !m.done && m.err == nil {
		if _, err := m.Discard(); err != nil {
			return nil, err
		}
	}
	*m = MessageReader{rd: r, typ: want, limit: want.messageLimit(), startOff: r.off}
	if err := m.nextFrame(true); err != nil {
		// No message is in progress: the next call must not try to
		// drain one.
		m.err = err
		return nil, err
	}
	return m, nil
}

// MessageReader reads the body of one message as an io.Reader: the
// payloads of its frames, in order, then io.EOF after the final frame.
type MessageReader struct {
	rd       *Reader
	typ      Type
	limit    int64
	startOff int64
	n        int64 // payload bytes delivered or discarded so far
	final    bool  // the current frame is the message's last
	done     bool
	err      error
}

// Type is the message's frame type.
func (m *MessageReader) Type() Type { return m.typ }

// Offset is the stream offset of the message's first frame.
func (m *MessageReader) Offset() int64 { return m.startOff }

// Done reports whether the whole message, its final frame included, has
// been consumed. Conformance tests use it to check that the end of a body
// is the end of its message.
func (m *MessageReader) Done() bool { return m.done }

func (m *MessageReader) nextFrame(first bool) error {
	r := m.rd
	h, err := r.ReadHeader()
	if err == io.EOF && first {
		return io.EOF
	}
	if err == io.EOF {
		// ReadHeader saw a clean end at a frame boundary; inside a message
		// that is a truncation, never io.EOF.
		r.err = &ProtocolError{Class: ClassUnexpectedEOF, Rule: "MSG-6", Offset: r.off,
			Detail: "stream ended between the frames of a message"}
		err = r.err
	}
	if err != nil {
		m.err = err
		return err
	}
	switch {
	case h.Type == TypeRST:
		where := "inside a message"
		if first {
			where = "at a message boundary"
		}
		err = &ProtocolError{Class: ClassReset, Rule: "MSG-5", Offset: r.curOff, Detail: "RST " + where}
	case h.Type != m.typ:
		err = &ProtocolError{Class: ClassTypeMismatch, Rule: "MSG-4", Offset: r.curOff,
			Detail: fmt.Sprintf("%v frame where a %v frame was expected", h.Type, m.typ)}
	case m.limit >= 0 && m.n+int64(h.Length) > m.limit:
		err = &ProtocolError{Class: ClassMessageTooLarge, Rule: "MSG-7", Offset: r.curOff + 2,
			Detail: fmt.Sprintf("%v message of at least %d bytes, limit %d", m.typ, m.n+int64(h.Length), m.limit)}
	}
	if err != nil {
		// Replaces the frame-level reset error: the message layer knows
		// where the RST fell.
		r.err = err
		m.err = err
		return err
	}
	m.final = h.Final
	if h.Final && h.Length == 0 {
		m.done = true
	}
	return nil
}

// advance moves to the next frame with payload left, or marks the message
// done. It reports whether there is payload to read.
func (m *MessageReader) advance() (bool, error) {
	for m.rd.left == 0 {
		if m.final {
			m.done = true
			return false, nil
		}
		if err := m.nextFrame(false); err != nil {
			return false, err
		}
	}
	return true, nil
}

// nextPayload readies the next payload bytes of the body, reporting false
// at its end.
func (m *MessageReader) nextPayload() (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	if m.done {
		return false, nil
	}
	return m.advance()
}

// Read implements io.Reader.
func (m *MessageReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	more, err := m.advance()
	if err != nil {
		return 0, err
	}
	if !more {
		return 0, io.EOF
	}
	n, err := m.rd.ReadPayload(p)
	m.n += int64(n)
	if err != nil {
		m.err = err
		return n, err
	}
	if m.rd.left == 0 && m.final {
		m.done = true
	}
	return n, nil
}

// WriteTo implements io.WriterTo: the rest of the body goes to w straight
// from the Reader's buffer. An error from w leaves the message unfinished
// but readable; an error from the stream is sticky.
//
// On Linux, when w and the Reader's transport both have file descriptors
// (a pipe or a file, and a TCP or Unix socket), large payloads move by
// splice(2) without passing through user space.
func (m *MessageReader) WriteTo(w io.Writer) (int64, error) {
	defer m.rd.releaseBig()
	defer m.rd.closeKStage()
	splice := true
	var total int64
	for {
		more, err := m.nextPayload()
		if err != nil || !more {
			return total, err
		}
		n, err := m.rd.writePayload(w, int64(m.rd.left), &splice)
		total += n
		m.n += n
		if err != nil {
			if m.rd.err != nil {
				m.err = m.rd.err
			}
			return total, err
		}
	}
}

// AppendTo reads the rest of the body and appends it to dst.
func (m *MessageReader) AppendTo(dst []byte) ([]byte, error) {
	for {
		more, err := m.nextPayload()
		if err != nil || !more {
			return dst, err
		}
		need := int(m.rd.left)
		dst = slices.Grow(dst, need)
		n, err := m.Read(dst[len(dst) : len(dst)+need])
		dst = dst[:len(dst)+n]
		if err != nil {
			return dst, err
		}
	}
}

// Discard consumes the rest of the message and reports how many body bytes
// it skipped. Use it to stay in sync after deciding not to read a body.
func (m *MessageReader) Discard() (int64, error) {
	return m.DiscardAtMost(-1)
}

// DiscardAtMost is Discard for untrusted peers: it skips at most limit body
// bytes (limit < 0: no bound). If the message goes on past that, it returns
// an error matching ErrDiscardLimit and the message stays unfinished: the
// caller must reset the stream rather than read on.
func (m *MessageReader) DiscardAtMost(limit int64) (int64, error) {
	var total int64
	for {
		more, err := m.nextPayload()
		if err != nil || !more {
			return total, err
		}
		n := int64(m.rd.left)
		if limit >= 0 && total+n > limit {
			return total, fmt.Errorf("frame: discarding %v message at offset %d: more than %d bytes: %w",
				m.typ, m.startOff, limit, ErrDiscardLimit)
		}
		if err := m.rd.skipPayload(n); err != nil {
			m.err = err
			return total, err
		}
		total += n
		m.n += n
	}
}
