package dump

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// bodyBuffer is the read size for bodies: large reads of a big payload
// bypass the frame.Reader's buffer and land here directly.
const bodyBuffer = 1 << 20

// counter counts the bytes its source delivered, so that a read error of
// the source (a gap in a reassembled capture, say) is placed at the exact
// stream offset where the bytes stop.
type counter struct {
	r     io.Reader
	n     int64
	err   error
	errAt int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err, c.errAt = err, c.n
	}
	return n, err
}

// span maps a run of a control message's body to where it lay on the
// stream, so that a header error found at a byte of the object is reported
// at that byte's stream offset.
type span struct{ body, stream int64 }

// stream decodes one direction: it drives a frame.Reader, turns the frames
// its hook reports into Frame events, and reads bodies without holding them.
type stream struct {
	name string // "client" or "server" in a conversation; "" alone
	src  *counter
	r    *frame.Reader
	out  *emitter
	opts *Options

	// The frame whose payload is being read, not yet emitted.
	pend     Frame
	hasPend  bool
	pendRead int64
	hexBuf   []byte
	hexCap   int64

	frames int64 // frames of the current message
	buf    []byte
	ctl    []byte // the current Header or Trailer body, at most 4096 bytes
	spans  []span
	sum    hash.Hash
}

// bodyBuffers keeps body buffers between decodes: a caller that decodes
// many small inputs (a fuzzer, a test) would otherwise spend its time
// clearing fresh megabytes.
var bodyBuffers = sync.Pool{New: func() any { return new([bodyBuffer]byte) }}

func newStream(name string, src io.Reader, out *emitter, opts *Options) *stream {
	s := &stream{name: name, src: &counter{r: src}, out: out, opts: opts, hexCap: opts.hexCap(),
		buf: bodyBuffers.Get().(*[bodyBuffer]byte)[:]}
	s.r = frame.NewReader(s.src)
	s.r.SetFrameHook(s.onFrame)
	if opts.Sum {
		s.sum = sha256.New()
	}
	return s
}

// release returns the body buffer; s is not used after.
func (s *stream) release() {
	bodyBuffers.Put((*[bodyBuffer]byte)(s.buf))
	s.buf = nil
}

func (s *stream) onFrame(h frame.FrameHeader, off int64) {
	s.flush()
	s.frames++
	s.pend = Frame{Kind: "frame", Stream: s.name, Offset: off, Type: h.Type.String(), Final: h.Final,
		Length: h.Length, Canonical: h.Canonical()}
	s.hasPend, s.pendRead = true, 0
	s.hexBuf = s.hexBuf[:0]
}

// payload notes n bytes of the pending frame's payload, keeping the capped
// part -x dumps.
func (s *stream) payload(b []byte) {
	s.pendRead += int64(len(b))
	if s.hexCap == 0 {
		return
	}
	room := len(b)
	if s.hexCap > 0 {
		room = min(room, int(s.hexCap)-len(s.hexBuf))
	}
	if room > 0 {
		s.hexBuf = append(s.hexBuf, b[:room]...)
	}
}

// flush emits the pending frame.
func (s *stream) flush() {
	if !s.hasPend {
		return
	}
	s.hasPend = false
	if s.opts.Hex && s.pend.Type != "RST" {
		s.pend.Hex = hexLines(s.hexBuf)
		s.pend.HexOmitted = s.pendRead - int64(len(s.hexBuf))
	}
	f := s.pend
	s.out.emit(&f)
}

// next starts the next message, of type t.
func (s *stream) next(t frame.Type) (*frame.MessageReader, error) {
	s.frames = 0
	return s.r.NextMessage(t)
}

// readBody reads m to its end, handing each run of bytes to use.
func (s *stream) readBody(m *frame.MessageReader, use func([]byte)) (int64, error) {
	var n int64
	for s.out.err == nil {
		k, err := m.Read(s.buf)
		if k > 0 {
			b := s.buf[:k]
			s.payload(b)
			use(b)
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, s.out.err
}

// readControl reads a Header or Trailer message body (at most 4096 bytes,
// [MSG-7], which the Reader enforces before reading it).
func (s *stream) readControl(m *frame.MessageReader) error {
	s.ctl, s.spans = s.ctl[:0], s.spans[:0]
	_, err := s.readBody(m, func(b []byte) {
		s.spans = append(s.spans, span{int64(len(s.ctl)), s.r.Offset() - int64(len(b))})
		s.ctl = append(s.ctl, b...)
	})
	return err
}

// ctlOffset is the stream offset of byte i of the control body just read.
func (s *stream) ctlOffset(msgOff int64, i int) int64 {
	at := msgOff
	for _, sp := range s.spans {
		if sp.body > int64(i) {
			break
		}
		at = sp.stream + int64(i) - sp.body
	}
	return at
}

// message emits the Message event for m once its body is read.
func (s *stream) message(m *frame.MessageReader, ex int, role string, n int64) *Message {
	s.flush()
	ev := &Message{Kind: "message", Stream: s.name, Exchange: ex, Offset: m.Offset(), Type: m.Type().String(),
		Length: n, Frames: s.frames, Role: role}
	return ev
}

// header reads a Header or Trailer message and decodes its object with the
// library's strict decoder; class is bad-header or bad-trailer. The message
// event is returned unemitted, with Header set when the object decoded.
func (s *stream) header(m *frame.MessageReader, ex int, role, class string) (*wire.Header, *Message, error) {
	if err := s.readControl(m); err != nil {
		return nil, nil, err
	}
	ev := s.message(m, ex, role, int64(len(s.ctl)))
	var h wire.Header
	if err := wire.ParseHeader(s.ctl, &h, ""); err != nil {
		f := &Fault{Kind: "error", Stream: s.name, Offset: m.Offset(), Class: class, Detail: err.Error(), Exchange: ex}
		var pe *wire.ParseError
		if errors.As(err, &pe) {
			f.Offset, f.Rule = s.ctlOffset(m.Offset(), pe.Offset), pe.Rule
			f.Detail = fmt.Sprintf("%s (byte %d of the object)", pe.Detail, pe.Offset)
		}
		return nil, ev, f
	}
	ev.Header = viewHeader(&h)
	return &h, ev, nil
}

func viewHeader(h *wire.Header) *Header {
	v := &Header{Endpoint: h.Endpoint, DataType: uint32(h.DataType), Accept: uint32(h.Accept), Error: uint32(h.Error),
		ErrorMessage: h.ErrorMessage, HasExtensions: h.HasExtensions}
	if h.HasExtensions {
		v.Extensions = append([]string{}, h.Extensions...)
	}
	if h.HasTimeout {
		t := h.Timeout
		v.Timeout = &t
	}
	for _, u := range h.Unknown {
		v.Unknown = append(v.Unknown, Member{Name: u.Name, Value: u.Value})
	}
	return v
}

// jsonBody reads a JSON Data message, keeping a compacted preview.
func (s *stream) jsonBody(m *frame.MessageReader, ex int, role string) (*Message, error) {
	p := preview{max: s.opts.width()}
	n, err := s.readBody(m, p.write)
	if err != nil {
		return nil, err
	}
	ev := s.message(m, ex, role, n)
	text := p.text()
	ev.JSON, ev.JSONCut = &text, p.cut
	return ev, nil
}

// octets reads an octets Data message, hashing it with -sum.
func (s *stream) octets(m *frame.MessageReader, ex int, role string) (*Message, error) {
	use := func([]byte) {}
	if s.sum != nil {
		s.sum.Reset()
		use = func(b []byte) { s.sum.Write(b) }
	}
	n, err := s.readBody(m, use)
	if err != nil {
		return nil, err
	}
	ev := s.message(m, ex, role, n)
	if s.sum != nil {
		ev.SHA256 = hex.EncodeToString(s.sum.Sum(nil))
	}
	return ev, nil
}

// fault turns what stopped the Reader into the Fault it reports, computing
// how much of a truncated frame is missing, and emits the pending frame
// first so that the fault line follows everything decoded before it.
func (s *stream) fault(err error, ex int) *Fault {
	f := &Fault{Kind: "error", Stream: s.name, Exchange: ex}
	var pe *frame.ProtocolError
	switch {
	case errors.As(err, &pe):
		f.Class, f.Rule, f.Offset, f.Detail = pe.Class.String(), pe.Rule, pe.Offset, pe.Detail
		if pe.Class == frame.ClassUnexpectedEOF {
			s.truncation(f)
		}
	case s.src.err != nil:
		f.Class, f.Offset, f.Detail = "read-error", s.src.errAt, s.src.err.Error()
	default:
		f.Class, f.Offset, f.Detail = "read-error", s.src.n, err.Error()
	}
	s.flush()
	return f
}

func (s *stream) truncation(f *Fault) {
	frameStart := s.r.Offset()
	end := s.pend.Offset + frame.HeaderSize + int64(s.pend.Length)
	if s.hasPend && s.pend.Type != "RST" && f.Offset >= s.pend.Offset+frame.HeaderSize && f.Offset < end {
		f.Missing = end - f.Offset
		f.Detail = fmt.Sprintf("truncated: %d bytes of the frame missing (the stream ends %d bytes into the %d-byte payload of the %s frame at offset %d)",
			f.Missing, s.pendRead, s.pend.Length, s.pend.Type, s.pend.Offset)
		return
	}
	if f.Rule == "FRAME-6" && f.Offset > frameStart {
		have := f.Offset - frameStart
		f.Missing = frame.HeaderSize - have
		f.Detail = fmt.Sprintf("truncated: %d bytes of the frame missing from its header alone (the stream ends after %d of the 6 header bytes of the frame at offset %d)",
			f.Missing, have, frameStart)
		return
	}
	f.Detail = "truncated: " + f.Detail + "; the message's final frame is missing"
}

// isReset reports whether err is the reset of an RST the Reader read.
func isReset(err error) (*frame.ProtocolError, bool) {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) && pe.Class == frame.ClassReset {
		return pe, true
	}
	return nil, false
}

// end emits the pending frame and the End of a stream.
func (s *stream) end(how string, pe *frame.ProtocolError, side Side, meaning string) *End {
	s.flush()
	e := &End{Kind: "end", Stream: s.name, Offset: s.r.Offset(), How: how, Meaning: meaning}
	if pe != nil {
		e.Offset, e.Class, e.Rule = pe.Offset, pe.Class.String(), pe.Rule
	}
	if s.name == "" {
		e.Side = side.String()
	}
	s.out.emit(e)
	return e
}
