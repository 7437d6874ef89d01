package frame

import (
	"bytes"
	"errors"
	"testing"
)

type seen struct {
	h   FrameHeader
	off int64
}

// The hook sees every frame the Reader accepts, empty ones inside a message
// included, and the frame the message layer then rejects [MSG-4], but not a
// header the frame layer rejects [FRAME-2].
func TestFrameHook(t *testing.T) {
	in := []byte{
		0x02, 0x00, 3, 0, 0, 0, 'a', 'b', 'c',
		0x02, 0x00, 0, 0, 0, 0,
		0x02, 0x01, 1, 0, 0, 0, 'd',
		0x01, 0x01, 0, 0, 0, 0, // a Header where a Data message is expected
	}
	r := NewReader(bytes.NewReader(in))
	var got []seen
	r.SetFrameHook(func(h FrameHeader, off int64) { got = append(got, seen{h, off}) })
	m, err := r.NextMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Discard(); err != nil {
		t.Fatal(err)
	}
	_, err = r.NextMessage(TypeData)
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Class != ClassTypeMismatch || pe.Offset != 22 {
		t.Fatalf("got %v, want type-mismatch at 22", err)
	}
	want := []seen{
		{FrameHeader{TypeData, false, 3}, 0},
		{FrameHeader{TypeData, false, 0}, 9},
		{FrameHeader{TypeData, true, 1}, 15},
		{FrameHeader{TypeHeader, true, 0}, 22},
	}
	if len(got) != len(want) {
		t.Fatalf("hook saw %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hook call %d: %v, want %v", i, got[i], want[i])
		}
	}

	r = NewReader(bytes.NewReader([]byte{0x07, 0x01, 0, 0, 0, 0}))
	r.SetFrameHook(func(h FrameHeader, off int64) { t.Fatalf("hook called for an invalid header %v", h) })
	if _, err := r.ReadHeader(); !errors.As(err, &pe) || pe.Class != ClassUnknownType {
		t.Fatalf("got %v, want unknown-type", err)
	}
}

// PeekType shows the next frame's type without consuming it, and declines
// inside a frame and at the end of the stream.
func TestPeekType(t *testing.T) {
	in := []byte{0x02, 0x01, 1, 0, 0, 0, 'x', 0x03, 0x01, 0, 0, 0, 0}
	r := NewReader(bytes.NewReader(in))
	if typ, ok := r.PeekType(); !ok || typ != TypeData {
		t.Fatalf("PeekType at the start: %v %v", typ, ok)
	}
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.PeekType(); ok {
		t.Fatal("PeekType inside a payload")
	}
	if _, err := r.ReadPayload(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if typ, ok := r.PeekType(); !ok || typ != TypeTrailer || r.Offset() != 7 {
		t.Fatalf("PeekType at 7: %v %v, offset %d", typ, ok, r.Offset())
	}
	if m, err := r.NextMessage(TypeTrailer); err != nil || m.Offset() != 7 {
		t.Fatalf("the peeked frame is not the next one: %v", err)
	}
	if _, err := r.ReadHeader(); err.Error() != "EOF" {
		t.Fatalf("got %v", err)
	}
	if _, ok := r.PeekType(); ok {
		t.Fatal("PeekType at the end")
	}
}
