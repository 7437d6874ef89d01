package frame

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"
)

// bodyLen draws body lengths with weight on the boundaries that matter: tiny
// bodies, the control limit, and multiples of MaxPayload.
func bodyLen(t *rapid.T) int {
	switch rapid.IntRange(0, 9).Draw(t, "lenClass") {
	case 0, 1, 2, 3:
		return rapid.IntRange(0, 300).Draw(t, "small")
	case 4, 5:
		return rapid.IntRange(4000, 70000).Draw(t, "medium")
	case 6, 7:
		k := rapid.IntRange(1, 2).Draw(t, "k")
		return k*MaxPayload + rapid.IntRange(-3, 3).Draw(t, "delta")
	default:
		return rapid.IntRange(0, 3*MaxPayload).Draw(t, "large")
	}
}

// encodeSplit writes body as one message with a random split: either the
// canonical writer fed in random chunks, or arbitrary frames (zero-length
// ones included) through WriteFrame [MSG-2].
func encodeSplit(t *rapid.T, typ Type, body []byte) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if rapid.Bool().Draw(t, "canonical") {
		m, err := w.NewMessage(typ)
		if err != nil {
			t.Fatal(err)
		}
		for rest := body; len(rest) > 0; {
			k := min(len(rest), rapid.IntRange(1, 2*MaxPayload).Draw(t, "chunk"))
			if _, err := m.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for rest := body; ; {
		var k int
		switch rapid.IntRange(0, 3).Draw(t, "frameKind") {
		case 0:
			k = 0
		case 1:
			k = rapid.IntRange(0, 64).Draw(t, "tiny")
		default:
			k = rapid.IntRange(0, MaxPayload).Draw(t, "frame")
		}
		k = min(k, len(rest))
		final := k == len(rest) && rapid.IntRange(0, 3).Draw(t, "stop") > 0
		if err := w.WriteFrame(typ, final, rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
		if final {
			return buf.Bytes()
		}
	}
}

func TestPropertyRoundTrip(t *testing.T) {
	// Write-then-read is the identity for every split, reader buffer size
	// and read size [MSG-2] [MSG-3] [FRAME-12].
	rapid.Check(t, func(t *rapid.T) {
		typ := rapid.SampledFrom([]Type{TypeData, TypeHeader, TypeTrailer}).Draw(t, "type")
		n := bodyLen(t)
		if typ != TypeData {
			n = rapid.IntRange(0, MaxControlMessage).Draw(t, "controlLen")
		}
		body := pattern(n, rapid.Byte().Draw(t, "seed"))
		wire := encodeSplit(t, typ, body)
		wire = append(wire, fr(TypeHeader, 1, 1, '!')...)

		var src io.Reader = bytes.NewReader(wire)
		if len(wire) < 1<<16 && rapid.Bool().Draw(t, "oneByte") {
			src = iotest.OneByteReader(src)
		}
		r := NewReaderSize(src, rapid.IntRange(HeaderSize, 1<<20).Draw(t, "bufSize"))
		m, err := r.NextMessage(typ)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 0:
			p := make([]byte, rapid.IntRange(1, 1<<21).Draw(t, "readSize"))
			for {
				k, err := m.Read(p)
				got = append(got, p[:k]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		case 1:
			var out bytes.Buffer
			if _, err := m.WriteTo(&out); err != nil {
				t.Fatal(err)
			}
			got = out.Bytes()
		default:
			got, err = m.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("body of %d bytes read back as %d bytes, first difference at %d", len(body), len(got), firstDiff(got, body))
		}
		if !m.Done() {
			t.Fatal("message not done after its final frame")
		}
		if next, err := readMessage(r, TypeHeader); err != nil || string(next) != "!" {
			t.Fatalf("next message %q %v: reader out of sync", next, err)
		}
	})
}

func TestPropertyReencode(t *testing.T) {
	// Every frame a Reader accepts re-encodes to exactly its input bytes,
	// except a non-canonical RST, which is honoured but not reproduced
	// [FRAME-1] [FRAME-8].
	rapid.Check(t, func(t *rapid.T) {
		hdr := rapid.SliceOfN(rapid.Byte(), HeaderSize, HeaderSize).Draw(t, "header")
		if rapid.Bool().Draw(t, "plausible") {
			// Bias towards accepted headers.
			hdr[0] = rapid.SampledFrom([]byte{1, 2, 3, 0xff}).Draw(t, "type")
			hdr[1] = rapid.ByteRange(0, 1).Draw(t, "flag")
			hdr[4], hdr[5] = 0, 0
		}
		h, err := ParseFrameHeader(hdr, 0)
		if err != nil {
			return
		}
		if !h.Canonical() {
			if h.Type != TypeRST {
				t.Fatalf("non-canonical %v accepted", h)
			}
			return
		}
		if got := h.AppendHeader(nil); !bytes.Equal(got, hdr) {
			t.Fatalf("% x re-encodes as % x", hdr, got)
		}
		if h.Type == TypeRST {
			return
		}
		payload := pattern(int(h.Length), hdr[2])
		in := append(bytes.Clone(hdr), payload...)
		hs, ps, err := decodeFrames(bytes.NewReader(in))
		if err != io.EOF && !(h.Type.IsMessage() && err == nil) {
			t.Fatalf("decode: %v", err)
		}
		var out bytes.Buffer
		if err := NewWriter(&out).WriteFrame(hs[0].Type, hs[0].Final, ps[0]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("frame re-encodes differently at byte %d", firstDiff(out.Bytes(), in))
		}
	})
}
