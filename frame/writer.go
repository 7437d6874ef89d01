package frame

import (
	"fmt"
	"io"
)

// vectorThreshold is the payload size from which a frame is written as two
// vectored buffers rather than copied behind its header: below it the copy
// is cheaper than the extra iovec.
const vectorThreshold = 32 << 10

// minStage is the first staging buffer a streaming message gets.
const minStage = 4 << 10

// Full-frame stages. A message larger than maxKeptStage is staged in a
// buffer of a whole frame (4 MiB), which the Writer takes for the message
// and gives back at its end, to a small free list shared by all Writers:
// an idle connection keeps only its small stage, and a stream after the
// first allocates nothing in steady state (a sync.Pool would be emptied
// by every garbage collection). As frame.Reader's streaming buffers
// (reader.go).
const maxKeptStage = HeaderSize + 64<<10

// bigStageFree holds full-frame stages not in use; past its capacity, a
// returned one is left to the garbage collector.
var bigStageFree = make(chan []byte, 4)

// Writer encodes frames and messages onto a byte stream. A small frame goes
// out in one Write call on the transport; a large one as a vectored write
// of its header and payload, which is one writev on a net.Conn and two
// Write calls on other writers [FRAME-11]. NewBufferedWriter gathers frames
// into fewer writes still. A failed write is sticky: the stream's state is
// unknown after it.
type Writer struct {
	dst io.Writer
	// stage holds a frame header followed by staged payload; it grows to
	// what is sent, never beyond HeaderSize+MaxPayload, and is reused up
	// to maxKeptStage. small is the Writer's own stage while stage is a
	// full-frame one from bigStageFree.
	stage []byte
	small []byte
	big   bool
	hdr   [HeaderSize]byte
	vec   vectored
	err   error
	msg   MessageWriter
	// kst is the pipes a ReadFrom splices through, while it runs.
	kst *kstage
}

// NewWriter returns a Writer on dst.
func NewWriter(dst io.Writer) *Writer {
	return &Writer{dst: dst}
}

// Err returns the sticky error, if any.
func (w *Writer) Err() error { return w.err }

// WriteFrame writes one frame. It is a low-level call, for tools that must
// produce frames the message writer would not (any split of a body,
// [MSG-2]): it checks the frame rules (a message type, a payload of at
// most MaxPayload bytes) before writing anything, but keeping the frames
// of a message together and its final flag right is the caller's job. An
// RST goes through WriteRST.
func (w *Writer) WriteFrame(t Type, final bool, payload []byte) error {
	if !t.IsMessage() {
		return fmt.Errorf("frame: writing a frame of type %v: %w", t, ErrInvalid)
	}
	if len(payload) > MaxPayload {
		return fmt.Errorf("frame: writing a %d-byte payload: %w", len(payload), ErrInvalid)
	}
	if w.msg.open {
		return fmt.Errorf("frame: writing a frame: %w", ErrMessageOpen)
	}
	return w.writeFrame(FrameHeader{Type: t, Final: final, Length: uint32(len(payload))}, payload)
}

func (w *Writer) writeFrame(h FrameHeader, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	var err error
	if len(payload) >= vectorThreshold {
		h.put(w.hdr[:])
		if werr := w.vec.write(w.dst, w.hdr[:], payload); werr != nil {
			w.err = fmt.Errorf("frame: writing to the transport: %w", werr)
			err = w.err
		}
	} else {
		w.grow(len(payload))
		h.put(w.stage)
		n := copy(w.stage[HeaderSize:], payload)
		err = w.write(w.stage[:HeaderSize+n])
	}
	return err
}

func (w *Writer) write(b []byte) error {
	n, err := w.dst.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("frame: writing to the transport: %w", err)
	}
	return w.err
}

// grow makes room for n payload bytes behind the header, keeping what is
// staged.
func (w *Writer) grow(n int) {
	if need := HeaderSize + n; need > len(w.stage) {
		size := max(2*len(w.stage), need, HeaderSize+minStage)
		size = min(size, HeaderSize+MaxPayload)
		// The header starts the allocation, which the kernel then
		// copies from its page-aligned start: aligning the payload
		// instead cost 10% more CPU on a socketpair (BENCHMARKS.md).
		var stage []byte
		switch {
		case size <= maxKeptStage:
			stage = make([]byte, size)
		default:
			select {
			case stage = <-bigStageFree:
			default:
				stage = make([]byte, HeaderSize+MaxPayload)
			}
			if !w.big {
				w.small, w.big = w.stage, true
			}
		}
		copy(stage, w.stage)
		w.stage = stage
	}
}

// putStage gives a full-frame stage back to the free list.
func (w *Writer) putStage() {
	select {
	case bigStageFree <- w.stage:
	default:
	}
}

// releaseStage ends the use of a full-frame stage, at the end of a
// message: its bytes have all been written.
func (w *Writer) releaseStage() {
	if !w.big {
		return
	}
	w.putStage()
	w.stage, w.small, w.big = w.small, nil, false
}

// WriteRST writes the reset frame ff 01 00 00 00 00 [FRAME-7]. The Writer
// refuses every later write; the caller closes the stream next.
func (w *Writer) WriteRST() error {
	if w.err != nil {
		return w.err
	}
	w.msg.open = false
	w.releaseStage()
	err := w.write(canonicalRST.AppendHeader(w.hdr[:0]))
	if err == nil {
		w.err = ErrWriterClosed
	}
	return err
}

// WriteMessage writes body as one message of type t, split as the original
// split it [MSG-3].
func (w *Writer) WriteMessage(t Type, body []byte) error {
	m, err := w.NewMessage(t)
	if err != nil {
		return err
	}
	if _, err := m.Write(body); err != nil {
		m.abandon()
		return err
	}
	return m.Close()
}

// NewMessage starts a message of type t. The MessageWriter is owned by w and
// reused for the next message; the previous one must be closed first.
func (w *Writer) NewMessage(t Type) (*MessageWriter, error) {
	if !t.IsMessage() {
		return nil, fmt.Errorf("frame: starting a message of type %v: %w", t, ErrInvalid)
	}
	if w.msg.open {
		return nil, fmt.Errorf("frame: starting a %v message: %w", t, ErrMessageOpen)
	}
	if w.err != nil {
		return nil, w.err
	}
	w.msg = MessageWriter{w: w, typ: t, limit: t.messageLimit(), open: true}
	return &w.msg, nil
}

// MessageWriter writes one message. It stages the body and sends a frame
// with final 00 each time MaxPayload bytes are staged; Close sends
// the rest, possibly nothing, as the final frame. This is byte for byte the
// original's split [MSG-3]. A Header or Trailer message larger than
// MaxControlMessage is refused before anything is written [MSG-7].
type MessageWriter struct {
	w      *Writer
	typ    Type
	limit  int64
	staged int   // payload bytes in w.stage after the header
	total  int64 // body bytes accepted so far
	open   bool
	err    error
}

func (m *MessageWriter) check(n int) error {
	if m.err != nil {
		return m.err
	}
	if !m.open {
		return fmt.Errorf("frame: writing a %v message: %w", m.typ, ErrWriterClosed)
	}
	if m.limit >= 0 && m.total+int64(n) > m.limit {
		// Nothing of a control message has been sent yet: it fits one
		// frame and leaves only at Close. Refusing it keeps the stream
		// at a message boundary.
		m.err = fmt.Errorf("frame: %v message of %d bytes, limit %d: %w", m.typ, m.total+int64(n), m.limit, ErrInvalid)
		m.abandon()
		return m.err
	}
	return nil
}

// abandon ends the message, after its frames left or dropping those
// that have not.
func (m *MessageWriter) abandon() {
	m.open = false
	m.w.msg.open = false
	m.w.releaseStage()
}

// Write implements io.Writer.
func (m *MessageWriter) Write(p []byte) (int, error) {
	if err := m.check(len(p)); err != nil {
		return 0, err
	}
	w, n := m.w, 0
	for len(p) > 0 {
		if m.staged == 0 && len(p) >= MaxPayload {
			// A whole frame straight from the caller's slice.
			if err := w.writeFrame(FrameHeader{Type: m.typ, Length: MaxPayload}, p[:MaxPayload]); err != nil {
				return n, m.fail(err)
			}
			p, n, m.total = p[MaxPayload:], n+MaxPayload, m.total+MaxPayload
			continue
		}
		k := min(len(p), MaxPayload-m.staged)
		w.grow(m.staged + k)
		copy(w.stage[HeaderSize+m.staged:], p[:k])
		m.staged += k
		p, n, m.total = p[k:], n+k, m.total+int64(k)
		if m.staged == MaxPayload {
			if err := m.flush(false); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom implements io.ReaderFrom: src is read straight into the staging
// buffer behind the frame header, so io.Copy adds no copy of its own.
//
// On Linux, when src is an *os.File (a pipe, a file) and the transport has
// a file descriptor (a TCP or Unix socket), the payload moves by splice(2)
// without passing through user space; the frames are the same.
func (m *MessageWriter) ReadFrom(src io.Reader) (int64, error) {
	if err := m.check(0); err != nil {
		return 0, err
	}
	defer m.w.closeKStage()
	kernel := true
	var total int64
	w := m.w
	for {
		if kernel && m.staged == 0 {
			n, st, err := m.spliceFrom(src)
			total += n
			if st == spliceEnded || m.err != nil {
				return total, err
			}
			// The current frame goes on in user space; the next one
			// tries the kernel again if it may help.
			kernel = st == spliceRetry
		}
		if m.staged == MaxPayload {
			if err := m.flush(false); err != nil {
				return total, err
			}
			continue
		}
		if HeaderSize+m.staged >= len(w.stage) {
			w.grow(m.staged + 1)
		}
		space := w.stage[HeaderSize+m.staged : min(len(w.stage), HeaderSize+MaxPayload)]
		if m.limit >= 0 {
			// One byte past the limit is enough to know it is exceeded.
			space = space[:min(int64(len(space)), m.limit-m.total+1)]
		}
		n, err := src.Read(space)
		if n < 0 || n > len(space) {
			n, err = 0, fmt.Errorf("frame: source returned an invalid count")
		}
		if n > 0 {
			if cerr := m.check(n); cerr != nil {
				return total, cerr
			}
			m.staged += n
			m.total += int64(n)
			total += int64(n)
		}
		if err == io.EOF {
			if m.staged == MaxPayload {
				// The last bytes came with io.EOF and filled the frame: it
				// is full, so not final, and goes out now like any other
				// full frame [MSG-3].
				if err := m.flush(false); err != nil {
					return total, err
				}
			}
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// How MessageWriter.spliceFrom left the body.
type spliceStatus int

const (
	spliceEnded spliceStatus = iota // the source ended or failed, or the transport failed
	spliceNever                     // splice does not apply: user space from here on
	spliceRetry                     // this frame goes on in user space, the next may splice
)

func (m *MessageWriter) fail(err error) error {
	m.err = err
	m.abandon()
	return err
}

func (m *MessageWriter) flush(final bool) error {
	w := m.w
	if w.err != nil {
		return m.fail(w.err)
	}
	h := FrameHeader{Type: m.typ, Final: final, Length: uint32(m.staged)}
	w.grow(m.staged)
	h.put(w.stage)
	err := w.write(w.stage[:HeaderSize+m.staged])
	m.staged = 0
	if err != nil {
		return m.fail(err)
	}
	return nil
}

// Close sends the final frame. After an error nothing more is sent and
// Close returns that error.
func (m *MessageWriter) Close() error {
	if m.err != nil {
		return m.err
	}
	if !m.open {
		return fmt.Errorf("frame: closing a %v message: %w", m.typ, ErrWriterClosed)
	}
	err := m.flush(true)
	m.abandon()
	return err
}
