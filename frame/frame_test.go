package frame

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// decodeFrames reads frames until an error and returns headers, payloads
// and the final error.
func decodeFrames(src io.Reader) ([]FrameHeader, [][]byte, error) {
	r := NewReaderSize(src, 64)
	var hs []FrameHeader
	var ps [][]byte
	for {
		h, err := r.ReadHeader()
		if err != nil {
			return hs, ps, err
		}
		p, err := io.ReadAll(readerFunc(r.ReadPayload))
		hs, ps = append(hs, h), append(ps, p)
		if err != nil {
			return hs, ps, err
		}
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestFrameDecodeValid(t *testing.T) {
	// [FRAME-1] layout and [FRAME-12] segmentation.
	in := cat(
		fr(TypeHeader, 1, 3, 'a', 'b', 'c'),
		fr(TypeData, 0, 0),
		fr(TypeData, 1, 1, 'x'),
		fr(TypeTrailer, 1, 2, 'o', 'k'),
	)
	want := []FrameHeader{{TypeHeader, true, 3}, {TypeData, false, 0}, {TypeData, true, 1}, {TypeTrailer, true, 2}}
	wantP := []string{"abc", "", "x", "ok"}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			hs, ps, err := decodeFrames(tr.wrap(bytes.NewReader(in)))
			if err != io.EOF {
				t.Fatalf("end: %v, want io.EOF", err)
			}
			if len(hs) != len(want) {
				t.Fatalf("got %d frames, want %d", len(hs), len(want))
			}
			for i := range want {
				if hs[i] != want[i] || string(ps[i]) != wantP[i] {
					t.Errorf("frame %d: %v %q, want %v %q", i, hs[i], ps[i], want[i], wantP[i])
				}
			}
		})
	}
}

func TestFrameHeaderErrors(t *testing.T) {
	prefix := fr(TypeData, 1, 2, 'h', 'i') // a valid frame first: offsets are stream offsets
	cases := []struct {
		name  string
		hdr   []byte
		class Class
		rule  string
		field int64
	}{
		// [FRAME-2] unknown types, checked from the header alone.
		{"type00", fr(0x00, 1, 0), ClassUnknownType, "FRAME-2", 0},
		{"type04", fr(0x04, 1, 0), ClassUnknownType, "FRAME-2", 0},
		{"type7f", fr(0x7f, 0, 5), ClassUnknownType, "FRAME-2", 0},
		{"typefe", fr(0xfe, 1, 0), ClassUnknownType, "FRAME-2", 0},
		// [FRAME-3] flag byte classes: 0x02, a middle value, 0xff.
		{"flag02", fr(TypeData, 0x02, 0), ClassBadFlag, "FRAME-3", 1},
		{"flag80", fr(TypeHeader, 0x80, 0), ClassBadFlag, "FRAME-3", 1},
		{"flagff", fr(TypeTrailer, 0xff, 0), ClassBadFlag, "FRAME-3", 1},
		// [FRAME-4] lengths above MaxPayload.
		{"len4194305", fr(TypeData, 1, MaxPayload+1), ClassFrameTooLarge, "FRAME-4", 2},
		{"lenmax", fr(TypeData, 0, 0xffffffff), ClassFrameTooLarge, "FRAME-4", 2},
		// [FRAME-9] validation order.
		{"order-type-first", fr(0x07, 0x05, 0xffffffff), ClassUnknownType, "FRAME-2", 0},
		{"order-flag-before-length", fr(TypeHeader, 0x05, 0xffffffff), ClassBadFlag, "FRAME-3", 1},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr.name, func(t *testing.T) {
				// [FRAME-5]: nothing follows the bad header, yet the
				// header error is what is reported, not a truncation.
				src := &countingReader{r: tr.wrap(bytes.NewReader(cat(prefix, c.hdr)))}
				_, _, err := decodeFrames(src)
				wantProtoErr(t, err, c.class, c.rule, int64(len(prefix))+c.field)
				if !errors.Is(err, ErrProtocol) {
					t.Errorf("errors.Is(%v, ErrProtocol) = false", err)
				}
			})
		}
	}
}

func TestHugeLengthAllocatesNothing(t *testing.T) {
	// [FRAME-4] a 4 GiB length costs nothing: the reader fails before any
	// payload work, so the bytes allocated do not depend on the length.
	in := fr(TypeData, 1, 0xffffffff)
	src := bytes.NewReader(in)
	r := NewReaderSize(src, 16)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 100
	for range runs {
		src.Reset(in)
		*r = Reader{src: src, buf: r.buf}
		var pe *ProtocolError
		if _, err := r.ReadHeader(); !errors.As(err, &pe) || pe.Class != ClassFrameTooLarge {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 1024 {
		t.Fatalf("%d bytes allocated to reject a 4 GiB header", per)
	}
}

func TestTruncation(t *testing.T) {
	// [FRAME-6] and [ERR-2]: EOF inside a header or payload is
	// unexpected-eof at the stream length, never io.EOF.
	full := cat(fr(TypeData, 1, 5, 'h', 'e', 'l', 'l', 'o'))
	for cut := 1; cut < len(full); cut++ {
		for _, tr := range transports {
			_, _, err := decodeFrames(tr.wrap(bytes.NewReader(full[:cut])))
			wantProtoErr(t, err, ClassUnexpectedEOF, "FRAME-6", int64(cut))
			if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, ErrProtocol) {
				t.Fatalf("cut %d: %v must be io.ErrUnexpectedEOF only", cut, err)
			}
		}
	}
	// A stream ending at a frame boundary ends cleanly.
	if _, _, err := decodeFrames(bytes.NewReader(full)); err != io.EOF {
		t.Fatalf("clean end: %v", err)
	}
	if _, _, err := decodeFrames(bytes.NewReader(nil)); err != io.EOF {
		t.Fatalf("empty stream: %v", err)
	}
}

func TestRSTWriter(t *testing.T) {
	// [FRAME-7] exactly ff 01 00 00 00 00, and nothing after it.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteRST(); err != nil {
		t.Fatal(err)
	}
	if got := buf.Bytes(); !bytes.Equal(got, []byte{0xff, 1, 0, 0, 0, 0}) {
		t.Fatalf("RST = % x", got)
	}
	if err := w.WriteMessage(TypeData, []byte("x")); !errors.Is(err, ErrWriterClosed) {
		t.Fatalf("write after RST: %v", err)
	}
	if err := w.WriteRST(); !errors.Is(err, ErrWriterClosed) {
		t.Fatalf("second RST: %v", err)
	}
	if buf.Len() != HeaderSize {
		t.Fatalf("%d bytes after RST", buf.Len()-HeaderSize)
	}
}

func TestRSTReader(t *testing.T) {
	// [FRAME-8] every 0xff frame is RST, its length is never read and
	// nothing after it is read.
	tail := []byte("never read")
	cases := map[string][]byte{
		"canonical":  fr(TypeRST, 1, 0),
		"flag00":     fr(TypeRST, 0, 0),
		"flag7f":     fr(TypeRST, 0x7f, 0),
		"length9":    fr(TypeRST, 1, 9),
		"lengthhuge": fr(TypeRST, 0xff, 0xffffffff),
	}
	for name, rst := range cases {
		t.Run(name, func(t *testing.T) {
			src := bytes.NewReader(cat(fr(TypeData, 1, 1, 'a'), rst, tail))
			r := NewReaderSize(iotestOneByte(src), 16)
			if _, err := readMessage(r, TypeData); err != nil {
				t.Fatal(err)
			}
			h, err := r.ReadHeader()
			if err != nil || h.Type != TypeRST {
				t.Fatalf("got %v, %v; want the RST", h, err)
			}
			if h.Canonical() != (name == "canonical") {
				t.Errorf("Canonical() = %v", h.Canonical())
			}
			consumed := r.Offset()
			_, err = r.ReadHeader()
			wantProtoErr(t, err, ClassReset, "FRAME-8", 7)
			if !errors.Is(err, ErrReset) || errors.Is(err, ErrProtocol) {
				t.Fatalf("%v: want ErrReset and not ErrProtocol", err)
			}
			if r.Offset() != consumed || consumed != 13 {
				t.Fatalf("read past the RST: offset %d then %d", consumed, r.Offset())
			}
			if src.Len() < len(tail) {
				t.Fatalf("the transport was read past the RST")
			}
		})
	}
}

func iotestOneByte(r io.Reader) io.Reader { return transports[1].wrap(r) }

func TestZeroLengthFrameNeedsNoFurtherRead(t *testing.T) {
	// [FRAME-10] on net.Pipe a read blocks until the other side writes: a
	// reader that waits for more than the 6 bytes of an empty final frame
	// hangs here.
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		w := NewWriter(a)
		_ = w.WriteMessage(TypeData, nil)
		_ = w.WriteMessage(TypeData, bytes.Repeat([]byte{1}, MaxPayload))
	}()
	r := NewReader(b)
	done := make(chan error, 1)
	go func() {
		for _, n := range []int{0, MaxPayload} {
			body, err := readMessage(r, TypeData)
			if err == nil && len(body) != n {
				err = errors.New("wrong body length")
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("reader hangs on a zero-length final frame")
	}
}

func TestSmallFrameOneWriteOneRead(t *testing.T) {
	// [FRAME-11] a small message costs one write and one read.
	var cw countingWriter
	w := NewWriter(&cw)
	body := pattern(100, 1)
	if err := w.WriteMessage(TypeData, body); err != nil {
		t.Fatal(err)
	}
	if cw.writes != 1 {
		t.Fatalf("%d writes for one frame", cw.writes)
	}
	cr := &countingReader{r: bytes.NewReader(cw.Bytes())}
	r := NewReader(cr)
	got, err := readMessage(r, TypeData)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back: %v", err)
	}
	if cr.reads != 1 {
		t.Fatalf("%d transport reads for a 106-byte frame", cr.reads)
	}
}
