// Package cases holds the framerpc test vectors as readable Go data and
// writes them as the JSON files of testvectors/.
//
// Every test case is written here by hand: its input is built with a
// Stream, and its expected outcome (error class and offset, or a clean end)
// is stated in the case, with a comment giving the spec's reasoning. What
// follows mechanically from the spec's definitions is computed rather than
// repeated: the frames and messages decoded before the end (every complete
// frame before the error offset, grouped into messages by their final flag,
// [FRAME-1], [MSG-1]), the payload bytes that precede the error (spec section
// 5: a streaming decoder has delivered every payload byte before the
// offending header and none after), and the canonical encoding [MSG-3].
// Nothing here runs the frame package: the vectors are the spec's answer,
// which the runner in testvectors/ then compares with the implementation.
//
// tcIds are written in the source and never renumbered; a removed case
// leaves its number unused.
package cases

import (
	"encoding/binary"
	"fmt"

	"github.com/framerpc/framerpc/testvectors/format"
)

// Protocol constants, restated from spec/PROTOCOL.md section 3 rather than
// imported from package frame, so that a wrong constant there cannot leak
// into the expected values.
const (
	headerSize = 6
	maxPayload = 4194304
	maxControl = 4096
)

// Frame types [FRAME-2].
const (
	tHeader  byte = 0x01
	tData    byte = 0x02
	tTrailer byte = 0x03
	tRST     byte = 0xff
)

// frameRec is a frame the stream contains, complete or cut short.
type frameRec struct {
	typ      byte
	final    bool
	off, end int64 // end: offset after the last byte present
	payload  format.Bytes
	complete bool
}

type span struct{ off, n int64 }

// Stream builds the input of a test, tracking what the spec needs to state
// its outcome: where each frame starts and ends, and which bytes are
// payload.
type Stream struct {
	in       format.Bytes
	off      int64
	pat      int64 // position in the running mod251 pattern
	frames   []frameRec
	payloads []span
}

func header(t, flag byte, length uint32) []byte {
	b := []byte{t, flag, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[2:], length)
	return b
}

func flagByte(final bool) byte {
	if final {
		return 1
	}
	return 0
}

// Len is the stream's length so far: the offset of the next byte.
func (s *Stream) Len() int64 { return s.off }

func (s *Stream) lit(b []byte, payload bool) {
	if payload && len(b) > 0 {
		s.payloads = append(s.payloads, span{s.off, int64(len(b))})
	}
	s.in.AppendLit(b)
	s.off += int64(len(b))
}

// literalMax is the longest run of pattern bytes written out in hex: a
// pattern object costs more than that, and hex is easier to read.
const literalMax = 512

func (s *Stream) pattern(n int64) format.Bytes {
	var v format.Bytes
	p := format.NewPattern(int(s.pat%251), n)
	if n <= literalMax {
		b, err := p.Generate()
		if err != nil {
			panic(err)
		}
		v.AppendLit(b)
	} else {
		v.AppendPattern(p)
	}
	s.pat += n
	if n > 0 {
		s.payloads = append(s.payloads, span{s.off, n})
	}
	s.in.Append(v)
	s.off += n
	return v
}

// Frame appends a complete, well-formed frame and returns its offset.
func (s *Stream) Frame(t byte, final bool, payload []byte) int64 {
	start := s.off
	s.lit(header(t, flagByte(final), uint32(len(payload))), false)
	s.lit(payload, true)
	var p format.Bytes
	p.AppendLit(payload)
	s.frames = append(s.frames, frameRec{typ: t, final: final, off: start, end: s.off, payload: p, complete: true})
	return start
}

// FramePat appends a complete frame whose n-byte payload continues the
// stream's running mod251 pattern, and returns its offset. Consecutive
// pattern payloads therefore concatenate into one pattern, which is how a
// large body spread over frames is described.
func (s *Stream) FramePat(t byte, final bool, n int64) int64 {
	start := s.off
	s.lit(header(t, flagByte(final), uint32(n)), false)
	p := s.pattern(n)
	s.frames = append(s.frames, frameRec{typ: t, final: final, off: start, end: s.off, payload: p, complete: true})
	return start
}

// Cut appends a frame header declaring length bytes of payload followed by
// only the given part of it: the stream is meant to end there.
func (s *Stream) Cut(t byte, final bool, length uint32, present []byte) int64 {
	if int64(len(present)) >= int64(length) {
		panic("cases: Cut with a complete payload")
	}
	start := s.off
	s.lit(header(t, flagByte(final), length), false)
	s.lit(present, true)
	s.frames = append(s.frames, frameRec{typ: t, final: final, off: start, end: s.off})
	return start
}

// CutPat is Cut with n bytes of pattern present.
func (s *Stream) CutPat(t byte, final bool, length uint32, n int64) int64 {
	if n >= int64(length) {
		panic("cases: CutPat with a complete payload")
	}
	start := s.off
	s.lit(header(t, flagByte(final), length), false)
	s.pattern(n)
	s.frames = append(s.frames, frameRec{typ: t, final: final, off: start, end: s.off})
	return start
}

// Head appends a raw 6-byte frame header, any field values allowed, and no
// payload; it returns the header's offset. It is how invalid headers and
// RSTs are written.
func (s *Stream) Head(t, flag byte, length uint32) int64 {
	start := s.off
	s.lit(header(t, flag, length), false)
	return start
}

// RST appends the canonical RST ff 01 00 00 00 00 [FRAME-7].
func (s *Stream) RST() int64 { return s.Head(tRST, 1, 0) }

// Raw appends bytes that are not payload (a partial header, or bytes after
// the point where a receiver must stop) and returns their offset.
func (s *Stream) Raw(b []byte) int64 {
	start := s.off
	s.lit(b, false)
	return start
}

// Pay appends bytes that a frame header written with Head declared as its
// payload, without recording a frame (the frame is invalid or the receiver
// must not read them). It returns their offset.
func (s *Stream) Pay(b []byte) int64 {
	start := s.off
	s.lit(b, true)
	return start
}

// PayPat is Pay with n bytes continuing the running pattern.
func (s *Stream) PayPat(n int64) int64 {
	start := s.off
	s.pattern(n)
	return start
}

// payloadBefore counts the payload bytes at offsets in [from, to).
func (s *Stream) payloadBefore(from, to int64) int64 {
	var n int64
	for _, sp := range s.payloads {
		lo, hi := max(sp.off, from), min(sp.off+sp.n, to)
		if hi > lo {
			n += hi - lo
		}
	}
	return n
}

// completeBefore returns the complete frames that end at or before off.
func (s *Stream) completeBefore(off int64) []frameRec {
	var out []frameRec
	for _, f := range s.frames {
		if f.complete && f.end <= off {
			out = append(out, f)
		}
	}
	return out
}

// End says how a decoder's run over a test input ends.
type End struct {
	Class string // "" for a clean end of stream
	Off   int64
}

// Clean is the end of a stream at a boundary.
func Clean() End { return End{} }

// Fail is an error of class at offset off (spec section 5).
func Fail(class string, off int64) End {
	switch class {
	case "unknown-type", "bad-flag", "frame-too-large", "message-too-large", "type-mismatch", "reset", "unexpected-eof":
	default:
		panic(fmt.Sprintf("cases: %q is not an error class of spec section 5", class))
	}
	return End{Class: class, Off: off}
}

// Reset is the class "reset" at the offset of an RST.
func Reset(off int64) End { return Fail("reset", off) }

// EOF is the class "unexpected-eof" at the stream's end.
func EOF(s *Stream) End { return Fail("unexpected-eof", s.Len()) }

// canonicalRST is the only RST a sender writes [FRAME-7].
var canonicalRST = header(tRST, 1, 0)

// encodeFrame is the spec's frame layout [FRAME-1].
func encodeFrame(dst *format.Bytes, t byte, final bool, payload format.Bytes) {
	dst.AppendLit(header(t, flagByte(final), uint32(payload.Len())))
	dst.Append(payload)
}

// canonicalSplit writes body as a message of type t the way [MSG-3] says:
// floor(n/4194304) full frames with final 00, then one final frame with the
// remaining n mod 4194304 bytes, possibly none. A body that is one pattern
// is split into pattern parts continuing it.
func canonicalSplit(dst *format.Bytes, t byte, body format.Bytes) {
	n := body.Len()
	full := n / maxPayload
	var off int64
	for range full {
		encodeFrame(dst, t, false, slice(body, off, maxPayload))
		off += maxPayload
	}
	encodeFrame(dst, t, true, slice(body, off, n-off))
}

// slice returns n bytes of v from offset off, keeping patterns as patterns.
func slice(v format.Bytes, off, n int64) format.Bytes {
	var out format.Bytes
	var pos int64
	for _, p := range v.Parts {
		plen := int64(len(p.Lit))
		if p.Pat != nil {
			plen = p.Pat.Length
		}
		lo, hi := max(off, pos), min(off+n, pos+plen)
		if hi > lo {
			if p.Pat != nil {
				out.AppendPattern(format.NewPattern(p.Pat.Start+int((lo-pos)%251), hi-lo))
			} else {
				out.AppendLit(p.Lit[lo-pos : hi-pos])
			}
		}
		pos += plen
	}
	return out
}

func typeHex(t byte) string { return fmt.Sprintf("%02x", t) }

func ptr[T any](v T) *T { return &v }

func typeByte(h string) byte {
	var b byte
	if _, err := fmt.Sscanf(h, "%02x", &b); err != nil || typeHex(b) != h {
		panic(fmt.Sprintf("cases: bad type %q", h))
	}
	return b
}
