package frame

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"
)

// TestFrameMachine is a rapid state machine over one direction of a
// connection: a Writer on one end of an in-memory pipe, a Reader on the
// other, driven by random interleavings of writes (whole messages, streamed
// messages, any split through WriteFrame, RST, the end of the stream, a
// truncated frame) and reads of random sizes. Every action is checked
// against a model that knows the protocol only at the byte level: the list
// of frames on the wire with their offsets, built from the spec's rules
// rather than from the Writer, and a reader that walks that list as
// sections 3 to 5 of spec/PROTOCOL.md say.
//
// The pipe never blocks: a Reader that asks it for a byte not yet written
// fails the test. The model only lets an action run when the bytes the spec
// says it needs are there, so this also checks that no call reads further
// than it must [FRAME-10].
func TestFrameMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newFrameMachine(t)
		t.Repeat(rapid.StateMachineActions(m))
	})
}

// errWouldBlock is what the pipe answers when a real transport would block.
var errWouldBlock = errors.New("machine pipe: read with nothing written (a real transport blocks here)")

// memPipe is an unbounded in-memory byte stream. It keeps every byte ever
// written, for the model to compare with.
type memPipe struct {
	data   []byte
	rpos   int
	closed bool
	// chunk bounds one Read; zeros is how many (0, nil) answers come before
	// the next real one; eofWithData makes the last Read after the close
	// return its bytes together with io.EOF.
	chunk       int
	zeros       int
	eofWithData bool
	blocked     bool
}

func (p *memPipe) Write(b []byte) (int, error) {
	if p.closed {
		return 0, io.ErrClosedPipe
	}
	p.data = append(p.data, b...)
	return len(b), nil
}

func (p *memPipe) Read(b []byte) (int, error) {
	if p.zeros > 0 {
		p.zeros--
		return 0, nil
	}
	if p.rpos == len(p.data) {
		if p.closed {
			return 0, io.EOF
		}
		p.blocked = true
		return 0, errWouldBlock
	}
	n := copy(b[:min(len(b), p.chunk)], p.data[p.rpos:])
	p.rpos += n
	if p.closed && p.eofWithData && p.rpos == len(p.data) {
		return n, io.EOF
	}
	return n, nil
}

// mFrame is a frame as the model knows it.
type mFrame struct {
	typ     Type
	final   bool
	off     int64 // stream offset of its header
	payload []byte
}

// want is an expected error: io.EOF itself, or a *ProtocolError.
type want struct {
	eof   bool
	class Class
	rule  string
	off   int64
}

func (w *want) String() string {
	if w == nil {
		return "no error"
	}
	if w.eof {
		return "io.EOF"
	}
	return fmt.Sprintf("%v [%s] at %d", w.class, w.rule, w.off)
}

func (w *want) match(err error) bool {
	if w == nil || err == nil {
		return w == nil && err == nil
	}
	if w.eof {
		return err == io.EOF
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Class != w.class || pe.Rule != w.rule || pe.Offset != w.off {
		return false
	}
	// The sentinels agree with the class (section 5).
	switch w.class {
	case ClassUnexpectedEOF:
		return errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrProtocol)
	case ClassReset:
		return errors.Is(err, ErrReset) && !errors.Is(err, ErrProtocol)
	}
	return errors.Is(err, ErrProtocol)
}

// rmodel is the model of the reading side: where the Reader is in the frame
// list and in the current message.
type rmodel struct {
	fi   int   // index of the next frame header to read
	cur  int   // index of the frame being read, -1 before the first
	left int64 // unread payload bytes of frames[cur]
	off  int64 // bytes consumed
	err  *want // the Reader's sticky error

	msg      bool // NextMessage has returned a message
	msgType  Type
	msgN     int64 // body bytes delivered or discarded
	msgFinal bool  // frames[cur] is the message's last frame
	msgDone  bool
	msgErr   *want
}

// step is how the model's simulation of one call ends.
type step int

const (
	stepOK step = iota
	stepBlocked
	stepErr
)

type frameMachine struct {
	pipe     *memPipe
	w        *Writer
	buffered bool
	r        *Reader
	mr       *MessageReader

	// Writer side of the model.
	frames    []mFrame
	stream    []byte // the bytes the frames stand for
	streamLen int64
	wDead     bool // RST written
	ended     bool // the writing end is closed
	checked   int  // pipe bytes already compared with stream
	seq       byte
	// wmsg models the Writer's one MessageWriter (w.msg), reused by every
	// message.
	mw   *MessageWriter
	wmsg struct {
		exists bool
		typ    Type
		open   bool
		err    error // sentinel the next call returns, if any
		body   []byte
		sent   int // body bytes already framed
	}

	rd       rmodel
	deadSeen int
	conns    int
}

func newFrameMachine(t *rapid.T) *frameMachine {
	m := &frameMachine{}
	m.connect(t)
	return m
}

// connect starts the machine over on a fresh connection with a Writer and
// a Reader of random shapes.
func (m *frameMachine) connect(t *rapid.T) {
	*m = frameMachine{pipe: &memPipe{chunk: 1}, conns: m.conns + 1}
	m.pipe.eofWithData = rapid.Bool().Draw(t, "eofWithData")
	if rapid.Bool().Draw(t, "buffered") {
		m.buffered = true
		m.w = NewBufferedWriter(m.pipe, rapid.SampledFrom([]int{16, 100, 4096, 64 << 10}).Draw(t, "wbuf"))
	} else {
		m.w = NewWriter(m.pipe)
	}
	m.r = NewReaderSize(m.pipe, rapid.SampledFrom([]int{HeaderSize, 7, 64, 1000, DefaultBufferSize}).Draw(t, "rbuf"))
	m.rd.cur = -1
}

// over reports whether the reading side has nothing left to check: its
// error (io.EOF included) has been seen twice, so it is sticky. A reader
// action then starts a new connection instead, so that a run goes on
// testing rather than repeating the same error.
func (m *frameMachine) over(t *rapid.T) bool {
	if m.rd.err == nil {
		return false
	}
	if m.deadSeen++; m.deadSeen <= 2 {
		return false
	}
	m.connect(t)
	return true
}

// hdr encodes a frame header as section 3 lays it out, independently of
// FrameHeader.AppendHeader.
func hdr(t Type, final bool, n int) []byte {
	var flag byte
	if final {
		flag = 1
	}
	return fr(t, flag, uint32(n))
}

func (m *frameMachine) emit(t Type, final bool, payload []byte) {
	m.frames = append(m.frames, mFrame{typ: t, final: final, off: m.streamLen, payload: payload})
	m.stream = append(m.stream, hdr(t, final, len(payload))...)
	m.stream = append(m.stream, payload...)
	m.streamLen = int64(len(m.stream))
}

// emitCanonical frames body as [MSG-3] says: floor(n/MaxPayload) full
// frames with final 00, then the rest, possibly nothing, with final 01.
func (m *frameMachine) emitCanonical(t Type, body []byte) {
	for len(body) >= MaxPayload {
		m.emit(t, false, body[:MaxPayload])
		body = body[MaxPayload:]
	}
	m.emit(t, true, body)
}

func (m *frameMachine) body(n int) []byte {
	m.seq++
	return pattern(n, m.seq)
}

// drawLen draws body lengths with weight on the edges the rules are about:
// empty, the control limit [MSG-7], and multiples of MaxPayload [MSG-3].
func drawLen(t *rapid.T, typ Type) int {
	switch rapid.IntRange(0, 19).Draw(t, "lenClass") {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10:
		return rapid.IntRange(0, 100).Draw(t, "small")
	case 11, 12, 13, 14:
		return rapid.IntRange(MaxControlMessage-3, MaxControlMessage+3).Draw(t, "atControlLimit")
	case 15, 16, 17:
		return rapid.IntRange(0, 70000).Draw(t, "medium")
	default:
		if typ != TypeData {
			return rapid.IntRange(0, 2*MaxControlMessage).Draw(t, "control")
		}
		return MaxPayload + rapid.IntRange(-2, 2).Draw(t, "nearMax")
	}
}

// drawStreamLen is drawLen for a write to an open message, which also aims
// at the open message's next MaxPayload boundary: ending a write exactly
// there, or one byte either side, is where a streaming writer's split goes
// wrong [MSG-3].
func (m *frameMachine) drawStreamLen(t *rapid.T) int {
	if m.wmsg.typ == TypeData && rapid.Bool().Draw(t, "toBoundary") {
		staged := len(m.wmsg.body) - m.wmsg.sent
		return max(0, MaxPayload-staged+rapid.IntRange(-1, 1).Draw(t, "boundaryDelta"))
	}
	return drawLen(t, m.wmsg.typ)
}

var messageTypes = []Type{TypeHeader, TypeData, TypeTrailer}

func wantSentinel(t *rapid.T, what string, err, sentinel error) {
	if sentinel == nil {
		if err != nil {
			t.Fatalf("%s: %v, want no error", what, err)
		}
		return
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: %v, want %v", what, err, sentinel)
	}
}

// writable tells writer actions whether the stream is still open; once it
// has ended they are no-op steps.
func (m *frameMachine) writable() bool { return !m.ended }

// newMessageErr is what starting a message returns, in NewMessage's order
// of checks.
func (m *frameMachine) newMessageErr() error {
	switch {
	case m.wmsg.exists && m.wmsg.open:
		return ErrMessageOpen
	case m.wDead:
		return ErrWriterClosed
	}
	return nil
}

// WriteMessage writes a whole message: the canonical split [MSG-3], a
// control message over 4096 bytes refused before any byte is written
// [MSG-7], no second message while one is open [MSG-1].
func (m *frameMachine) WriteMessage(t *rapid.T) {
	if !m.writable() {
		return
	}
	typ := rapid.SampledFrom(messageTypes).Draw(t, "type")
	body := m.body(drawLen(t, typ))
	err := m.w.WriteMessage(typ, body)
	sentinel := m.newMessageErr()
	if sentinel == nil {
		m.wmsg.exists, m.wmsg.typ, m.wmsg.open, m.wmsg.err = true, typ, false, nil
		if typ != TypeData && len(body) > MaxControlMessage {
			sentinel = ErrInvalid
			m.wmsg.err = ErrInvalid
		} else {
			m.emitCanonical(typ, body)
		}
	}
	wantSentinel(t, "WriteMessage", err, sentinel)
}

// NewMessage opens a message for streamed writes [MSG-1].
func (m *frameMachine) NewMessage(t *rapid.T) {
	if !m.writable() {
		return
	}
	typ := rapid.SampledFrom(messageTypes).Draw(t, "type")
	mw, err := m.w.NewMessage(typ)
	sentinel := m.newMessageErr()
	wantSentinel(t, "NewMessage", err, sentinel)
	if sentinel == nil {
		m.mw = mw
		m.wmsg.exists, m.wmsg.typ, m.wmsg.open, m.wmsg.err = true, typ, true, nil
		m.wmsg.body, m.wmsg.sent = nil, 0
	}
}

// streamErr is what a write to the open MessageWriter returns before
// looking at its argument.
func (m *frameMachine) streamErr() error {
	switch {
	case m.wmsg.err != nil:
		return m.wmsg.err
	case !m.wmsg.open:
		return ErrWriterClosed
	}
	return nil
}

// accept stages p on the open message; every MaxPayload bytes staged
// leave as a full frame with final 00 [MSG-3]. A control message that would
// exceed 4096 bytes is refused and abandoned, nothing of it sent [MSG-7].
func (m *frameMachine) accept(p []byte) error {
	if m.wmsg.typ != TypeData && len(m.wmsg.body)+len(p) > MaxControlMessage {
		m.wmsg.err, m.wmsg.open = ErrInvalid, false
		return ErrInvalid
	}
	m.wmsg.body = append(m.wmsg.body, p...)
	for len(m.wmsg.body)-m.wmsg.sent >= MaxPayload {
		m.emit(m.wmsg.typ, false, m.wmsg.body[m.wmsg.sent:m.wmsg.sent+MaxPayload])
		m.wmsg.sent += MaxPayload
	}
	return nil
}

// StreamWrite writes part of the open message's body with Write.
func (m *frameMachine) StreamWrite(t *rapid.T) {
	if !m.writable() {
		return
	}
	if m.mw == nil {
		return // no-op step: no message started yet
	}
	p := m.body(m.drawStreamLen(t))
	n, err := m.mw.Write(p)
	sentinel := m.streamErr()
	if sentinel == nil {
		sentinel = m.accept(p)
	}
	wantSentinel(t, "MessageWriter.Write", err, sentinel)
	if sentinel == nil && n != len(p) {
		t.Fatalf("MessageWriter.Write: %d of %d bytes", n, len(p))
	}
}

// StreamReadFrom writes part of the open message's body through ReadFrom,
// from a source that gives a few bytes per read, or its last bytes
// together with io.EOF.
func (m *frameMachine) StreamReadFrom(t *rapid.T) {
	if !m.writable() {
		return
	}
	if m.mw == nil {
		return // no-op step: no message started yet
	}
	p := m.body(m.drawStreamLen(t))
	var src io.Reader = iotest.HalfReader(bytes.NewReader(p))
	if rapid.Bool().Draw(t, "dataWithEOF") {
		src = iotest.DataErrReader(bytes.NewReader(p))
	}
	n, err := m.mw.ReadFrom(src)
	sentinel := m.streamErr()
	if sentinel == nil {
		sentinel = m.accept(p)
	}
	wantSentinel(t, "MessageWriter.ReadFrom", err, sentinel)
	if sentinel == nil && n != int64(len(p)) {
		t.Fatalf("MessageWriter.ReadFrom: %d of %d bytes", n, len(p))
	}
}

// StreamClose ends the open message: what is staged, possibly nothing,
// leaves as the final frame [MSG-3].
func (m *frameMachine) StreamClose(t *rapid.T) {
	if !m.writable() {
		return
	}
	if m.mw == nil {
		return // no-op step: no message started yet
	}
	err := m.mw.Close()
	sentinel := m.streamErr()
	if sentinel == nil {
		m.emit(m.wmsg.typ, true, m.wmsg.body[m.wmsg.sent:])
		m.wmsg.open = false
	}
	wantSentinel(t, "MessageWriter.Close", err, sentinel)
}

// WriteSplit writes a message frame by frame through WriteFrame, in any
// split the frame rules allow, empty frames included: the reader must
// deliver the same body [MSG-2]. Sometimes the message is left without its
// final frame, or a control message goes past 4096 bytes, which the
// Writer's frame level does not police and the reader must refuse [MSG-7].
func (m *frameMachine) WriteSplit(t *rapid.T) {
	if !m.writable() {
		return
	}
	typ := rapid.SampledFrom(messageTypes).Draw(t, "type")
	body := m.body(drawLen(t, typ))
	unfinished := rapid.IntRange(0, 9).Draw(t, "unfinished") == 0
	var sentinel error
	switch {
	case m.wmsg.exists && m.wmsg.open:
		sentinel = ErrMessageOpen
	case m.wDead:
		sentinel = ErrWriterClosed
	}
	for rest := body; ; {
		var k int
		switch rapid.IntRange(0, 3).Draw(t, "frameKind") {
		case 0:
			k = 0
		case 1:
			k = rapid.IntRange(1, 16).Draw(t, "tiny")
		default:
			k = rapid.IntRange(0, len(rest)).Draw(t, "part")
		}
		k = min(k, len(rest), MaxPayload)
		final := k == len(rest) && !unfinished && rapid.IntRange(0, 3).Draw(t, "stop") > 0
		err := m.w.WriteFrame(typ, final, rest[:k])
		wantSentinel(t, "WriteFrame", err, sentinel)
		if sentinel != nil {
			return
		}
		m.emit(typ, final, rest[:k])
		rest = rest[k:]
		if final || (unfinished && len(rest) == 0) {
			return
		}
	}
}

// writeRST resets the stream: exactly ff 01 00 00 00 00 [FRAME-7], an open
// message abandoned with whatever of it is staged, every later write
// refused.
func (m *frameMachine) writeRST(t *rapid.T) {
	err := m.w.WriteRST()
	if m.wDead {
		wantSentinel(t, "WriteRST", err, ErrWriterClosed)
		return
	}
	wantSentinel(t, "WriteRST", err, nil)
	m.emit(TypeRST, true, nil)
	m.wDead = true
	if m.wmsg.exists {
		m.wmsg.open = false
	}
}

// Hangup ends the writing side: an RST, the end of the stream, or both, as
// a peer that gives up does. One action for all three keeps a run from
// ending in its first steps.
func (m *frameMachine) Hangup(t *rapid.T) {
	if !m.writable() {
		return
	}
	switch rapid.IntRange(0, 2).Draw(t, "hangup") {
	case 0:
		m.writeRST(t)
	case 1:
		m.writeRST(t)
		m.endStream(t)
	default:
		m.endStream(t)
	}
}

// Flush hands what a buffered Writer holds to the transport.
func (m *frameMachine) Flush(t *rapid.T) {
	if !m.writable() {
		return
	}
	if !m.buffered {
		return // no-op step: unbuffered writer
	}
	if err := m.w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if len(m.pipe.data) != len(m.stream) {
		t.Fatalf("after Flush the transport has %d bytes, the model %d", len(m.pipe.data), len(m.stream))
	}
}

// endStream closes the writing end, sometimes after a frame cut short (1 to
// 5 bytes of its header, or its header and part of its payload): the reader
// must then report unexpected-eof at the stream's length [FRAME-6], [MSG-6],
// and a clean end only at a message boundary.
func (m *frameMachine) endStream(t *rapid.T) {
	if err := m.w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if rapid.Bool().Draw(t, "cut") {
		typ := rapid.SampledFrom(messageTypes).Draw(t, "cutType")
		n := rapid.IntRange(0, 300).Draw(t, "cutLen")
		full := append(hdr(typ, rapid.Bool().Draw(t, "cutFinal"), n), m.body(n)...)
		keep := rapid.IntRange(1, len(full)-1).Draw(t, "keep")
		if _, err := m.pipe.Write(full[:keep]); err != nil {
			t.Fatal(err)
		}
		// The model keeps the whole frame: the reader's walk meets the
		// end of the stream inside it.
		m.frames = append(m.frames, mFrame{typ: typ, final: full[1] == 1, off: m.streamLen, payload: full[HeaderSize:]})
		m.stream = append(m.stream, full[:keep]...)
		m.streamLen = int64(len(m.stream))
	}
	m.pipe.closed = true
	m.ended = true
}

// avail reports whether the stream bytes before offset upTo can be read:
// stepOK, stepBlocked (not written yet: the action must wait), or stepErr
// (the stream ended before them).
func (m *frameMachine) avail(upTo int64) step {
	switch {
	case upTo <= int64(len(m.pipe.data)):
		return stepOK
	case m.ended:
		return stepErr
	}
	return stepBlocked
}

func (s *rmodel) fail(w *want) *want {
	if s.err == nil {
		s.err = w
	}
	return s.err
}

// truncated is the error for a stream that ends inside a frame [FRAME-6].
func (m *frameMachine) truncated() *want {
	return &want{class: ClassUnexpectedEOF, rule: "FRAME-6", off: m.streamLen}
}

// readHeader is ReadHeader in the model: skip the rest of the current
// payload, then take the next header; an RST ends everything [FRAME-8].
func (m *frameMachine) readHeader(s *rmodel) (*mFrame, step, *want) {
	if s.err != nil {
		return nil, stepErr, s.err
	}
	if s.left > 0 {
		switch m.avail(s.off + s.left) {
		case stepBlocked:
			return nil, stepBlocked, nil
		case stepErr:
			return nil, stepErr, m.truncatedPayload(s)
		}
		s.off += s.left
		s.left = 0
	}
	if s.fi == len(m.frames) {
		if !m.ended {
			return nil, stepBlocked, nil
		}
		return nil, stepErr, s.fail(&want{eof: true})
	}
	f := &m.frames[s.fi]
	switch m.avail(f.off + HeaderSize) {
	case stepBlocked:
		return nil, stepBlocked, nil
	case stepErr:
		return nil, stepErr, s.fail(m.truncated())
	}
	s.cur = s.fi
	s.fi++
	s.off = f.off + HeaderSize
	s.left = int64(len(f.payload))
	if f.typ == TypeRST {
		s.left = 0
		s.err = &want{class: ClassReset, rule: "FRAME-8", off: f.off}
	}
	return f, stepOK, nil
}

// nextFrame is the message layer's look at the next frame: an RST is a
// reset [MSG-5], another type a mismatch [MSG-4], a control body past 4096
// bytes too large [MSG-7], a clean end between frames a truncation [MSG-6].
func (m *frameMachine) nextFrame(s *rmodel, first bool) (step, *want) {
	f, st, w := m.readHeader(s)
	if st == stepBlocked {
		return st, nil
	}
	if st == stepErr {
		if w.eof && !first {
			w = &want{class: ClassUnexpectedEOF, rule: "MSG-6", off: s.off}
			s.err = w
		}
		s.msgErr = w
		return stepErr, w
	}
	switch {
	case f.typ == TypeRST:
		w = &want{class: ClassReset, rule: "MSG-5", off: f.off}
	case f.typ != s.msgType:
		w = &want{class: ClassTypeMismatch, rule: "MSG-4", off: f.off}
	case s.msgType != TypeData && s.msgN+int64(len(f.payload)) > MaxControlMessage:
		w = &want{class: ClassMessageTooLarge, rule: "MSG-7", off: f.off + 2}
	}
	if w != nil {
		s.err, s.msgErr = w, w
		return stepErr, w
	}
	s.msgFinal = f.final
	if f.final && len(f.payload) == 0 {
		s.msgDone = true
	}
	return stepOK, nil
}

// advance moves to the next frame with payload left; false at the end of
// the message.
func (m *frameMachine) advance(s *rmodel) (bool, step, *want) {
	for s.left == 0 {
		if s.msgFinal {
			s.msgDone = true
			return false, stepOK, nil
		}
		if st, w := m.nextFrame(s, false); st != stepOK {
			return false, st, w
		}
	}
	return true, stepOK, nil
}

// truncatedPayload is the stream ending inside the current payload: the
// Reader consumes what there is, then reports unexpected-eof [FRAME-6].
func (m *frameMachine) truncatedPayload(s *rmodel) *want {
	s.left -= m.streamLen - s.off
	s.off = m.streamLen
	return s.fail(m.truncated())
}

// rest is DiscardAtMost in the model (limit < 0: no limit), which also
// stands for WriteTo and AppendTo: the rest of the body frame by frame,
// collected when body is not nil; a frame that would take the total past
// the limit stops it with its header read and its payload left [MSG-9].
func (m *frameMachine) rest(s *rmodel, limit int64, body *[]byte) (int64, bool, step, *want) {
	var total int64
	for {
		if s.msgErr != nil {
			return total, false, stepErr, s.msgErr
		}
		if s.msgDone {
			return total, false, stepOK, nil
		}
		more, st, w := m.advance(s)
		if st != stepOK || !more {
			return total, false, st, w
		}
		if limit >= 0 && total+s.left > limit {
			return total, true, stepOK, nil
		}
		switch m.avail(s.off + s.left) {
		case stepBlocked:
			return total, false, stepBlocked, nil
		case stepErr:
			if body != nil {
				p := m.curPayload(s)
				*body = append(*body, p[:m.streamLen-s.off]...)
			}
			w := m.truncatedPayload(s)
			s.msgErr = w
			return total, false, stepErr, w
		}
		if body != nil {
			*body = append(*body, m.curPayload(s)...)
		}
		total += s.left
		s.msgN += s.left
		s.off += s.left
		s.left = 0
	}
}

// curPayload is the unread rest of the current frame's payload.
func (m *frameMachine) curPayload(s *rmodel) []byte {
	p := m.frames[s.cur].payload
	return p[int64(len(p))-s.left:]
}

// NextMessage starts the next message of a type the layer above expects:
// an unfinished previous message is drained first [MSG-9]; an RST, another
// type or an oversized control frame fails it ([MSG-5], [MSG-4], [MSG-7]);
// a clean end at a boundary is io.EOF and nothing else [FRAME-6].
func (m *frameMachine) NextMessage(t *rapid.T) {
	if m.over(t) {
		return
	}
	typ := rapid.SampledFrom(messageTypes).Draw(t, "want")
	if m.rd.fi < len(m.frames) && m.frames[m.rd.fi].typ != TypeRST && rapid.IntRange(0, 3).Draw(t, "expectRight") > 0 {
		typ = m.frames[m.rd.fi].typ
	}
	s := m.rd
	var st step
	var w *want
	if s.msg && !s.msgDone && s.msgErr == nil {
		_, _, st, w = m.rest(&s, -1, nil)
	}
	if st == stepOK {
		s.msg, s.msgType, s.msgN, s.msgFinal, s.msgDone, s.msgErr = true, typ, 0, false, false, nil
		st, w = m.nextFrame(&s, true)
		if st == stepErr {
			s.msg = false
		}
	}
	if st == stepBlocked {
		return // no-op step: the bytes NextMessage needs are not written yet
	}
	m.setReadShape(t)
	mr, err := m.r.NextMessage(typ)
	if !w.match(err) {
		t.Fatalf("NextMessage(%v): %v, model says %v", typ, err, w)
	}
	if (err == nil) != (mr != nil) {
		t.Fatalf("NextMessage(%v): message %v with error %v", typ, mr, err)
	}
	m.mr = mr
	m.rd = s
}

// setReadShape draws how the transport hands over bytes for the next read
// action: any segmentation must give the same result [FRAME-12].
func (m *frameMachine) setReadShape(t *rapid.T) {
	m.pipe.chunk = rapid.SampledFrom([]int{1, 2, 5, 6, 7, 100, 1 << 20}).Draw(t, "chunk")
	m.pipe.zeros = rapid.SampledFrom([]int{0, 0, 0, 1, 3}).Draw(t, "zeroReads")
}

// reading tells body actions whether a message is being read; when none
// is they are no-op steps.
func (m *frameMachine) reading() bool { return m.mr != nil && m.rd.msg }

// Read reads the body with a buffer of random size: every byte delivered is
// the body's next byte, whatever the split [MSG-2], and a truncated or
// reset body never ends in io.EOF ([MSG-5], [MSG-6]).
func (m *frameMachine) Read(t *rapid.T) {
	if m.over(t) {
		return
	}
	if !m.reading() {
		return
	}
	k := rapid.SampledFrom([]int{1, 3, 6, 100, 4096, 70000}).Draw(t, "readSize")
	s := m.rd
	var w *want
	st := stepOK
	eof := false
	switch {
	case s.msgErr != nil:
		st, w = stepErr, s.msgErr
	case s.msgDone:
		eof = true
	default:
		var more bool
		more, st, w = m.advance(&s)
		if st == stepOK && !more {
			eof = true
		}
		if st == stepOK && more {
			st = m.avail(s.off + 1)
			if st == stepErr {
				w = s.fail(m.truncated())
				s.msgErr = w
			}
		}
	}
	if st == stepBlocked {
		return // no-op step: the bytes Read needs are not written yet
	}
	m.setReadShape(t)
	p := make([]byte, k)
	n, err := m.mr.Read(p)
	switch {
	case eof:
		if n != 0 || err != io.EOF {
			t.Fatalf("Read at the end of the body: %d, %v; want 0, io.EOF", n, err)
		}
	case w != nil:
		if n != 0 || !w.match(err) {
			t.Fatalf("Read: %d, %v; model says 0, %v", n, err, w)
		}
	default:
		if err != nil || n < 1 || int64(n) > min(int64(k), s.left) {
			t.Fatalf("Read(%d): %d, %v; want 1 to %d bytes", k, n, err, min(int64(k), s.left))
		}
		if want := m.curPayload(&s)[:n]; !bytes.Equal(p[:n], want) {
			t.Fatalf("Read: bytes differ from the body at %d", firstDiff(p[:n], want))
		}
		s.off += int64(n)
		s.left -= int64(n)
		s.msgN += int64(n)
		if s.left == 0 && s.msgFinal {
			s.msgDone = true
		}
	}
	m.rd = s
}

// ReadRest reads the rest of the body in one call (WriteTo, AppendTo,
// Discard or DiscardAtMost): the same body, or the same error, as reading
// it piecewise; DiscardAtMost stops before the frame that would take it
// past its limit and leaves the message readable [MSG-9].
func (m *frameMachine) ReadRest(t *rapid.T) {
	if m.over(t) {
		return
	}
	if !m.reading() {
		return
	}
	how := rapid.SampledFrom([]string{"WriteTo", "AppendTo", "Discard", "DiscardAtMost"}).Draw(t, "how")
	limit := int64(-1)
	if how == "DiscardAtMost" {
		limit = rapid.Int64Range(0, 10000).Draw(t, "limit")
	}
	s := m.rd
	var expect []byte
	collect := &expect
	if how == "Discard" || how == "DiscardAtMost" {
		collect = nil
	}
	total, overLimit, st, w := m.rest(&s, limit, collect)
	if st == stepBlocked {
		return // no-op step: the bytes ReadRest needs are not written yet
	}
	m.setReadShape(t)
	var got []byte
	var n int64
	var err error
	switch how {
	case "WriteTo":
		var out bytes.Buffer
		n, err = m.mr.WriteTo(&out)
		got = out.Bytes()
	case "AppendTo":
		got, err = m.mr.AppendTo([]byte("prefix"))
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("AppendTo lost what dst held")
		}
		got = got[len("prefix"):]
		n = int64(len(got))
	case "Discard":
		n, err = m.mr.Discard()
	case "DiscardAtMost":
		n, err = m.mr.DiscardAtMost(limit)
	}
	if overLimit {
		if !errors.Is(err, ErrDiscardLimit) || n != total {
			t.Fatalf("DiscardAtMost(%d): %d, %v; want %d, ErrDiscardLimit", limit, n, err, total)
		}
		m.rd = s
		return
	}
	if !w.match(err) {
		t.Fatalf("%s: %v, model says %v", how, err, w)
	}
	if how == "WriteTo" || how == "AppendTo" {
		if w == nil && !bytes.Equal(got, expect) {
			t.Fatalf("%s: %d bytes, want %d; first difference at %d", how, len(got), len(expect), firstDiff(got, expect))
		}
		if w != nil && (!bytes.HasPrefix(expect, got) || n != int64(len(got))) {
			t.Fatalf("%s before %v: %d bytes that are not a prefix of the body", how, w, len(got))
		}
	} else if w == nil && n != total {
		t.Fatalf("%s: %d bytes, model says %d", how, n, total)
	}
	m.rd = s
}

// PeekType looks at the next frame's type byte at a boundary without
// consuming it.
func (m *frameMachine) PeekType(t *rapid.T) {
	if m.over(t) {
		return
	}
	s := m.rd
	wantOK := false
	var typ Type
	if s.err == nil && s.left == 0 {
		if s.fi == len(m.frames) {
			if !m.ended {
				return // no-op step: nothing written to peek at
			}
		} else {
			f := m.frames[s.fi]
			switch m.avail(f.off + 1) {
			case stepBlocked:
				return // no-op step: nothing written to peek at
			case stepOK:
				wantOK, typ = true, f.typ
			}
		}
	}
	m.setReadShape(t)
	got, ok := m.r.PeekType()
	if ok != wantOK || (ok && got != typ) {
		t.Fatalf("PeekType: %v, %v; model says %v, %v", got, ok, typ, wantOK)
	}
}

// Check: the transport carries exactly the model's bytes (a buffered
// Writer may hold back a suffix), the Reader never asked for a byte that
// was not needed, its offset is the model's, and its sticky error too.
func (m *frameMachine) Check(t *rapid.T) {
	if m.pipe.blocked {
		t.Fatalf("the Reader read past what it needed (offset %d, %d bytes written)", m.r.Offset(), len(m.pipe.data))
	}
	got := m.pipe.data
	if len(got) > len(m.stream) || (!m.buffered && len(got) != len(m.stream)) || (m.ended && len(got) != len(m.stream)) {
		t.Fatalf("transport has %d bytes, the model %d", len(got), len(m.stream))
	}
	if !bytes.Equal(got[m.checked:], m.stream[m.checked:len(got)]) {
		t.Fatalf("transport bytes differ from the model at offset %d", m.checked+firstDiff(got[m.checked:], m.stream[m.checked:len(got)]))
	}
	m.checked = len(got)
	if m.r.Offset() != m.rd.off {
		t.Fatalf("Reader offset %d, model %d", m.r.Offset(), m.rd.off)
	}
	if !m.rd.err.match(m.r.Err()) {
		t.Fatalf("Reader error %v, model %v", m.r.Err(), m.rd.err)
	}
}
