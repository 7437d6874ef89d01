package frame

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// canonicalFrames is the [MSG-3] split of an n-byte body as (final, length)
// pairs.
func canonicalFrames(n int) [][2]int {
	var out [][2]int
	for ; n >= MaxPayload; n -= MaxPayload {
		out = append(out, [2]int{0, MaxPayload})
	}
	return append(out, [2]int{1, n})
}

func TestCanonicalSplit(t *testing.T) {
	// [MSG-1] [MSG-3] the writer's output is the original's, byte for byte,
	// whether the body arrives in one Write, in small Writes or via
	// ReadFrom.
	sizes := []int{0, 1, 100, 4096, MaxPayload - 1, MaxPayload, MaxPayload + 1, 2*MaxPayload + 10}
	feeds := map[string]func(m *MessageWriter, body []byte) error{
		"write": func(m *MessageWriter, body []byte) error { _, err := m.Write(body); return err },
		"chunks": func(m *MessageWriter, body []byte) error {
			for len(body) > 0 {
				k := min(len(body), 1<<20+7)
				if _, err := m.Write(body[:k]); err != nil {
					return err
				}
				body = body[k:]
			}
			return nil
		},
		"readfrom": func(m *MessageWriter, body []byte) error {
			_, err := m.ReadFrom(iotest.HalfReader(bytes.NewReader(body)))
			return err
		},
	}
	for _, n := range sizes {
		body := pattern(n, 7)
		var want []byte
		off := 0
		for _, f := range canonicalFrames(n) {
			want = append(want, fr(TypeData, byte(f[0]), uint32(f[1]))...)
			want = append(want, body[off:off+f[1]]...)
			off += f[1]
		}
		for name, feed := range feeds {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			m, err := w.NewMessage(TypeData)
			if err != nil {
				t.Fatal(err)
			}
			if err := feed(m, body); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("n=%d %s: output differs from the canonical split at byte %d", n, name, firstDiff(buf.Bytes(), want))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestAnySplitIsAccepted(t *testing.T) {
	// [MSG-2] zero-length frames anywhere, odd sizes, all give one body.
	in := cat(
		fr(TypeData, 0, 0),
		fr(TypeData, 0, 2, 'a', 'b'),
		fr(TypeData, 0, 0),
		fr(TypeData, 0, 1, 'c'),
		fr(TypeData, 1, 0),
		fr(TypeHeader, 1, 1, '{'),
	)
	for _, tr := range transports {
		r := NewReaderSize(tr.wrap(bytes.NewReader(in)), 8)
		body, err := readMessage(r, TypeData)
		if err != nil || string(body) != "abc" {
			t.Fatalf("%s: %q %v", tr.name, body, err)
		}
		if body, err := readMessage(r, TypeHeader); err != nil || string(body) != "{" {
			t.Fatalf("%s: next message %q %v", tr.name, body, err)
		}
		if _, err := r.NextMessage(TypeData); err != io.EOF {
			t.Fatalf("%s: end %v", tr.name, err)
		}
	}
}

func TestMessageErrors(t *testing.T) {
	cases := []struct {
		name  string
		in    []byte
		want  Type
		class Class
		rule  string
		off   int64
		body  string // bytes a streaming reader may have delivered
	}{
		// [MSG-4] type mismatch inside and at the start of a message.
		{"mismatch-inside", cat(fr(TypeData, 0, 3, 'a', 'b', 'c'), fr(TypeHeader, 1, 1, 'x')), TypeData, ClassTypeMismatch, "MSG-4", 9, "abc"},
		{"mismatch-trailer-inside", cat(fr(TypeData, 0, 0), fr(TypeTrailer, 1, 0)), TypeData, ClassTypeMismatch, "MSG-4", 6, ""},
		{"mismatch-first", fr(TypeData, 1, 1, 'x'), TypeHeader, ClassTypeMismatch, "MSG-4", 0, ""},
		// [MSG-5] RST inside a message and in place of one.
		{"rst-inside", cat(fr(TypeData, 0, 2, 'a', 'b'), fr(TypeRST, 1, 0)), TypeData, ClassReset, "MSG-5", 8, "ab"},
		{"rst-first", fr(TypeRST, 1, 0), TypeHeader, ClassReset, "MSG-5", 0, ""},
		{"rst-noncanonical-inside", cat(fr(TypeData, 0, 1, 'a'), fr(TypeRST, 0, 3)), TypeData, ClassReset, "MSG-5", 7, "a"},
		// [MSG-6] the stream ends between frames of a message.
		{"eof-between", fr(TypeData, 0, 3, 'a', 'b', 'c'), TypeData, ClassUnexpectedEOF, "MSG-6", 9, "abc"},
		{"eof-between-empty", fr(TypeHeader, 0, 0), TypeHeader, ClassUnexpectedEOF, "MSG-6", 6, ""},
		// [MSG-7] control messages over 4096 bytes, in one frame or across
		// frames; detected at the length field before the payload.
		{"header-4097", fr(TypeHeader, 1, 4097), TypeHeader, ClassMessageTooLarge, "MSG-7", 2, ""},
		{"trailer-4097", fr(TypeTrailer, 1, 4097), TypeTrailer, ClassMessageTooLarge, "MSG-7", 2, ""},
		{"header-split-4097", cat(fr(TypeHeader, 0, 4000, make([]byte, 4000)...), fr(TypeHeader, 1, 97)), TypeHeader, ClassMessageTooLarge, "MSG-7", 4008, strings.Repeat("\x00", 4000)},
		// Frame-level errors surface unchanged inside a message.
		{"badflag-inside", cat(fr(TypeData, 0, 1, 'a'), fr(TypeData, 2, 0)), TypeData, ClassBadFlag, "FRAME-3", 8, "a"},
		{"eof-in-payload", cat(fr(TypeData, 0, 1, 'a'), fr(TypeData, 1, 4, 'b')), TypeData, ClassUnexpectedEOF, "FRAME-6", 14, "ab"},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr.name, func(t *testing.T) {
				src := &countingReader{r: tr.wrap(bytes.NewReader(c.in))}
				r := NewReaderSize(src, 16)
				body, err := readMessage(r, c.want)
				wantProtoErr(t, err, c.class, c.rule, c.off)
				if string(body) != c.body {
					t.Errorf("delivered %q before the error, want %q", body, c.body)
				}
				// [ERR-1] sticky: every later call reports the same error
				// and reads nothing more from the transport.
				reads := src.reads
				if _, err2 := r.NextMessage(c.want); err2 != err {
					t.Errorf("later NextMessage: %v, want %v", err2, err)
				}
				if _, err2 := r.ReadHeader(); err2 != err {
					t.Errorf("later ReadHeader: %v, want %v", err2, err)
				}
				if src.reads != reads {
					t.Errorf("the transport was read after the error")
				}
				// [ERR-2] never a clean end.
				if errors.Is(err, io.EOF) {
					t.Errorf("%v matches io.EOF", err)
				}
			})
		}
	}
}

func TestControlMessageLimitExact(t *testing.T) {
	// [MSG-7] exactly 4096 bytes is one frame; 4097 is refused with
	// nothing written, and the writer stays usable.
	for _, typ := range []Type{TypeHeader, TypeTrailer} {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if err := w.WriteMessage(typ, pattern(4096, 1)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes()[:HeaderSize], fr(typ, 1, 4096)) || buf.Len() != HeaderSize+4096 {
			t.Fatalf("%v: 4096-byte message is not one final frame: % x", typ, buf.Bytes()[:HeaderSize])
		}
		buf.Reset()
		if err := w.WriteMessage(typ, pattern(4097, 1)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%v: 4097 bytes: %v", typ, err)
		}
		m, _ := w.NewMessage(typ)
		_, _ = m.Write(pattern(4000, 1))
		if _, err := m.ReadFrom(bytes.NewReader(make([]byte, 97))); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%v: ReadFrom past the limit: %v", typ, err)
		}
		if err := m.Close(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%v: Close after refusal: %v", typ, err)
		}
		if buf.Len() != 0 {
			t.Fatalf("%v: %d bytes written for a refused message", typ, buf.Len())
		}
		if err := w.WriteMessage(typ, []byte("ok")); err != nil {
			t.Fatalf("%v: writer unusable after a refused message: %v", typ, err)
		}
		r := NewReader(bytes.NewReader(buf.Bytes()))
		if body, err := readMessage(r, typ); err != nil || string(body) != "ok" {
			t.Fatalf("%v: %q %v", typ, body, err)
		}
	}
	// Reading: 4096 in several frames is fine.
	in := cat(fr(TypeHeader, 0, 4000, make([]byte, 4000)...), fr(TypeHeader, 1, 96, make([]byte, 96)...))
	if body, err := readMessage(NewReader(bytes.NewReader(in)), TypeHeader); err != nil || len(body) != 4096 {
		t.Fatalf("4096 across two frames: %d %v", len(body), err)
	}
}

func TestDataMessagesAreUnbounded(t *testing.T) {
	// [MSG-8] a Data message larger than any control limit and larger than
	// one frame.
	body := pattern(MaxPayload+4097, 3)
	var buf bytes.Buffer
	if err := NewWriter(&buf).WriteMessage(TypeData, body); err != nil {
		t.Fatal(err)
	}
	got, err := readMessage(NewReader(&buf), TypeData)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
}

func TestDiscardKeepsSync(t *testing.T) {
	// [MSG-9] a body left unread is discarded, never read as the next
	// message; the bounded variant refuses rather than reading on.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	big := pattern(MaxPayload+100, 5)
	for _, m := range []struct {
		t Type
		b []byte
	}{{TypeData, big}, {TypeHeader, []byte("h1")}, {TypeData, big}, {TypeHeader, []byte("h2")}, {TypeData, big}, {TypeHeader, []byte("h3")}} {
		if err := w.WriteMessage(m.t, m.b); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReaderSize(&buf, 1024)
	// Explicit Discard after a partial read.
	m, err := r.NextMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(m, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Discard(); err != nil || n != int64(len(big)-10) {
		t.Fatalf("Discard: %d %v", n, err)
	}
	if body, err := readMessage(r, TypeHeader); err != nil || string(body) != "h1" {
		t.Fatalf("after Discard: %q %v", body, err)
	}
	// NextMessage drains an unfinished message itself.
	if _, err := r.NextMessage(TypeData); err != nil {
		t.Fatal(err)
	}
	if body, err := readMessage(r, TypeHeader); err != nil || string(body) != "h2" {
		t.Fatalf("after implicit drain: %q %v", body, err)
	}
	// The bounded variant stops at its bound and says so.
	m, err = r.NextMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.DiscardAtMost(1000); !errors.Is(err, ErrDiscardLimit) {
		t.Fatalf("DiscardAtMost: %v", err)
	}
	if m.Done() {
		t.Fatal("message reported done after a refused discard")
	}
	if n, err := m.DiscardAtMost(int64(len(big))); err != nil || n != int64(len(big)) {
		t.Fatalf("DiscardAtMost within bound: %d %v", n, err)
	}
	if body, err := readMessage(r, TypeHeader); err != nil || string(body) != "h3" {
		t.Fatalf("after bounded discard: %q %v", body, err)
	}
}

func TestWriterRefusesBeforeWriting(t *testing.T) {
	// [FRAME-4] [FRAME-2] a bad frame is refused with nothing written.
	var cw countingWriter
	w := NewWriter(&cw)
	if err := w.WriteFrame(TypeData, true, make([]byte, MaxPayload+1)); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := w.WriteFrame(Type(9), true, nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := w.WriteFrame(TypeRST, true, nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := w.NewMessage(TypeRST); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if cw.writes != 0 {
		t.Fatalf("%d writes", cw.writes)
	}
	// [MSG-1] frames of two messages never interleave.
	m, _ := w.NewMessage(TypeData)
	if _, err := w.NewMessage(TypeHeader); !errors.Is(err, ErrMessageOpen) {
		t.Fatal(err)
	}
	if err := w.WriteFrame(TypeHeader, true, nil); !errors.Is(err, ErrMessageOpen) {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); !errors.Is(err, ErrWriterClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("broken pipe")
	}
	f.after--
	return len(p), nil
}

func TestWriteErrorsAreSticky(t *testing.T) {
	// The original dropped write errors while flushing; here the first
	// one is returned and every later write returns it too.
	w := NewWriter(&failWriter{after: 1})
	if err := w.WriteMessage(TypeHeader, []byte("a")); err != nil {
		t.Fatal(err)
	}
	err := w.WriteMessage(TypeData, pattern(MaxPayload+1, 1))
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("got %v", err)
	}
	if err2 := w.WriteMessage(TypeHeader, nil); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("later write: %v", err2)
	}
	if w.Err() == nil {
		t.Fatal("Err() is nil after a failed write")
	}
}

func TestWriteToAndAppendTo(t *testing.T) {
	body := pattern(3*MaxPayload/2, 9)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.WriteMessage(TypeData, body)
	_ = w.WriteMessage(TypeHeader, []byte("tail"))
	r := NewReaderSize(iotest.HalfReader(&buf), 4096)
	m, _ := r.NextMessage(TypeData)
	var out bytes.Buffer
	if n, err := io.Copy(&out, m); err != nil || n != int64(len(body)) || !bytes.Equal(out.Bytes(), body) {
		t.Fatalf("WriteTo: %d %v", n, err)
	}
	m, _ = r.NextMessage(TypeHeader)
	if got, err := m.AppendTo([]byte("x:")); err != nil || string(got) != "x:tail" {
		t.Fatalf("AppendTo: %q %v", got, err)
	}
}

func TestEOFAtBoundaryIsSticky(t *testing.T) {
	// Found by FuzzMessageStream: a second NextMessage after a clean end
	// must report the clean end again, not a truncation [FRAME-6].
	r := NewReader(bytes.NewReader(fr(TypeData, 1, 1, 'a')))
	if _, err := readMessage(r, TypeData); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.NextMessage(TypeData); err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	}
}

// [MSG-3] A source that hands over its last bytes together with io.EOF
// still gets the canonical split: a body that ends on a frame boundary is
// full frames then an empty final one, never a full final frame.
func TestReadFromDataWithEOF(t *testing.T) {
	for _, n := range []int{0, 1, MaxPayload - 1, MaxPayload, MaxPayload + 1, 2 * MaxPayload} {
		var out bytes.Buffer
		m, err := NewWriter(&out).NewMessage(TypeData)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.ReadFrom(iotest.DataErrReader(bytes.NewReader(make([]byte, n)))); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		r := NewReader(&out)
		var got [][2]int
		for {
			h, err := r.ReadHeader()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			final := 0
			if h.Final {
				final = 1
			}
			got = append(got, [2]int{final, int(h.Length)})
			if _, err := io.Copy(io.Discard, payloadReader{r}); err != nil {
				t.Fatal(err)
			}
		}
		if want := canonicalFrames(n); !slices.Equal(got, want) {
			t.Errorf("%d bytes: frames %v, want %v", n, got, want)
		}
	}
}

// payloadReader reads the payload of the frame its Reader is in.
type payloadReader struct{ r *Reader }

func (p payloadReader) Read(b []byte) (int, error) { return p.r.ReadPayload(b) }
