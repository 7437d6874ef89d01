package frame

import (
	"encoding/binary"
	"fmt"
)

// Type is the first byte of a frame header [FRAME-2].
type Type uint8

// The frame types. TypeTrailer was reserved and never sent by the original;
// framerpc gives it a meaning at the RPC layer.
const (
	TypeHeader  Type = 0x01
	TypeData    Type = 0x02
	TypeTrailer Type = 0x03
	TypeRST     Type = 0xff
)

// Sizes fixed by the protocol.
const (
	// HeaderSize is the length of a frame header [FRAME-1].
	HeaderSize = 6
	// MaxPayload is the largest payload a frame may carry [FRAME-4].
	MaxPayload = 4194304
	// MaxControlMessage is the largest total payload of a Header or Trailer
	// message [MSG-7].
	MaxControlMessage = 4096
)

func (t Type) String() string {
	switch t {
	case TypeHeader:
		return "Header"
	case TypeData:
		return "Data"
	case TypeTrailer:
		return "Trailer"
	case TypeRST:
		return "RST"
	}
	return fmt.Sprintf("Type(0x%02x)", uint8(t))
}

// Known reports whether t is one of the four frame types.
func (t Type) Known() bool {
	return t.IsMessage() || t == TypeRST
}

// IsMessage reports whether frames of type t form messages (every type but RST).
func (t Type) IsMessage() bool {
	return t == TypeHeader || t == TypeData || t == TypeTrailer
}

// messageLimit is the largest total payload a message of type t may carry, or
// -1 for no limit.
func (t Type) messageLimit() int64 {
	if t == TypeHeader || t == TypeTrailer {
		return MaxControlMessage
	}
	return -1
}

// FrameHeader is a decoded frame header.
type FrameHeader struct {
	Type Type
	// Final is the final flag: this frame ends its message. (The original
	// called it no-more-frames.)
	Final bool
	// Length is the payload length. For an RST it is what the peer declared;
	// no payload is read for an RST whatever it says [FRAME-8].
	Length uint32
}

// canonicalRST is the only RST a sender may send [FRAME-7].
var canonicalRST = FrameHeader{Type: TypeRST, Final: true}

// Canonical reports whether h is exactly what a conforming sender writes:
// every header a Reader accepts is canonical except an RST with a flag other
// than 0x01 or a non-zero length, which is still honoured as a reset.
func (h FrameHeader) Canonical() bool {
	return h.Type != TypeRST || h == canonicalRST
}

// AppendHeader appends the 6-byte encoding of h to b, whatever its fields
// say. It is a low-level call for tools that build streams frame by frame
// (test vectors, conformance tests); a Writer encodes the frames it sends
// itself.
func (h FrameHeader) AppendHeader(b []byte) []byte {
	var flag byte
	if h.Final {
		flag = 1
	}
	b = append(b, byte(h.Type), flag)
	return binary.LittleEndian.AppendUint32(b, h.Length)
}

func (h FrameHeader) put(b []byte) {
	b[0] = byte(h.Type)
	b[1] = 0
	if h.Final {
		b[1] = 1
	}
	binary.LittleEndian.PutUint32(b[2:], h.Length)
}

func (h FrameHeader) String() string {
	return fmt.Sprintf("%v final=%v len=%d", h.Type, h.Final, h.Length)
}

// ParseFrameHeader decodes and validates a 6-byte frame header found at
// stream offset off. It is a low-level call for tools that decode frame
// headers on their own; a Reader uses it for every frame. The checks run in the order the spec fixes [FRAME-9]:
// an RST is accepted whatever its other fields say [FRAME-8]; otherwise the
// type [FRAME-2], then the flag [FRAME-3], then the length [FRAME-4]. The
// error, if any, is a *ProtocolError whose Offset is that of the offending
// field.
func ParseFrameHeader(b []byte, off int64) (FrameHeader, error) {
	_ = b[HeaderSize-1]
	h := FrameHeader{Type: Type(b[0]), Final: b[1] == 1, Length: binary.LittleEndian.Uint32(b[2:])}
	if h.Type == TypeRST {
		return h, nil
	}
	if !h.Type.Known() {
		return FrameHeader{}, &ProtocolError{Class: ClassUnknownType, Rule: "FRAME-2", Offset: off,
			Detail: fmt.Sprintf("type byte 0x%02x", b[0])}
	}
	if b[1] > 1 {
		return FrameHeader{}, &ProtocolError{Class: ClassBadFlag, Rule: "FRAME-3", Offset: off + 1,
			Detail: fmt.Sprintf("final byte 0x%02x", b[1])}
	}
	if h.Length > MaxPayload {
		return FrameHeader{}, &ProtocolError{Class: ClassFrameTooLarge, Rule: "FRAME-4", Offset: off + 2,
			Detail: fmt.Sprintf("payload length %d", h.Length)}
	}
	return h, nil
}
