package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// Streaming paths of the Reader: large Reads straight into the caller's
// slice, WriteTo through a streaming buffer, and what a failing
// destination leaves behind.

// limitedWriter accepts n bytes, then fails; with short set it reports the
// failure as a short write instead of an error.
type limitedWriter struct {
	bytes.Buffer
	n     int
	short bool
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	l.n -= k
	l.Buffer.Write(p[:k])
	if k < len(p) {
		if l.short {
			return k, nil
		}
		return k, errors.New("disk full")
	}
	return k, nil
}

func TestWriteToFailingDestinationLosesNothing(t *testing.T) {
	// A destination that fails half-way leaves the message unfinished
	// but readable: the bytes it did not take, streaming buffer included,
	// are read next, none lost or repeated.
	body := pattern(MaxPayload+200000, 4)
	var wire bytes.Buffer
	w := NewWriter(&wire)
	if err := w.WriteMessage(TypeData, body); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMessage(TypeHeader, []byte("next")); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 1000, 300000, MaxPayload - 3, MaxPayload + 70000} {
		for _, short := range []bool{false, true} {
			for _, tr := range transports {
				if tr.name == "onebyte" {
					// Slow on 4 MiB, and nothing the property
					// tests do not cover.
					continue
				}
				r := NewReader(tr.wrap(bytes.NewReader(wire.Bytes())))
				m, err := r.NextMessage(TypeData)
				if err != nil {
					t.Fatal(err)
				}
				dst := &limitedWriter{n: cut, short: short}
				n, err := m.WriteTo(dst)
				if err == nil || n != int64(cut) || dst.Len() != cut {
					t.Fatalf("cut %d short %v %s: WriteTo %d, %v", cut, short, tr.name, n, err)
				}
				if short && err != io.ErrShortWrite {
					t.Fatalf("short write reported as %v", err)
				}
				rest, err := io.ReadAll(m)
				if err != nil {
					t.Fatal(err)
				}
				got := append(dst.Bytes(), rest...)
				if !bytes.Equal(got, body) {
					t.Fatalf("cut %d short %v %s: body differs at %d", cut, short, tr.name, firstDiff(got, body))
				}
				if next, err := readMessage(r, TypeHeader); err != nil || string(next) != "next" {
					t.Fatalf("next message %q %v", next, err)
				}
			}
		}
	}
}

func TestLargeReadsGoStraightToTheCaller(t *testing.T) {
	// A Read at least as large as the Reader's buffer costs one transport
	// read, into the caller's slice: a 4 MiB frame read in 1 MiB Reads
	// costs the header's read plus one per MiB, as raw copying would.
	body := pattern(MaxPayload, 2)
	var wire bytes.Buffer
	if err := NewWriter(&wire).WriteFrame(TypeData, true, body); err != nil {
		t.Fatal(err)
	}
	src := &countingReader{r: bytes.NewReader(wire.Bytes())}
	r := NewReader(src)
	m, err := r.NextMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	p := make([]byte, 1<<20)
	for {
		n, err := m.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
	if want := 1 + MaxPayload/(1<<20); src.reads > want {
		t.Fatalf("%d transport reads, want at most %d", src.reads, want)
	}
}

func TestWriteToReadsInLargeChunks(t *testing.T) {
	// io.Copy from a message moves a large payload in reads of the
	// streaming buffer's size, not of the Reader's 64 KiB buffer.
	body := pattern(2*MaxPayload, 3)
	var wire bytes.Buffer
	if err := NewWriter(&wire).WriteMessage(TypeData, body); err != nil {
		t.Fatal(err)
	}
	src := &countingReader{r: bytes.NewReader(wire.Bytes())}
	r := NewReader(src)
	m, err := r.NextMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n, err := io.Copy(struct{ io.Writer }{&out}, m); err != nil || n != int64(len(body)) {
		t.Fatalf("%d %v", n, err)
	}
	if !bytes.Equal(out.Bytes(), body) {
		t.Fatal("body differs")
	}
	// Per frame: the header's read, then a MiB at a time; the final
	// empty frame's header arrives with the last read of the buffer.
	if want := 3 * (1 + MaxPayload/bigBufferSize); src.reads > want {
		t.Fatalf("%d transport reads for %d bytes, want at most %d", src.reads, len(body), want)
	}
	if r.bigp != nil {
		t.Fatal("the streaming buffer was not given back")
	}
}
