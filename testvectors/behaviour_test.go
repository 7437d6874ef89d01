package testvectors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/testvectors/format"
)

// The tests in this file check rules that are about how a receiver or a
// sender behaves across calls rather than about one input's outcome, using
// the vectors as their inputs. coverage_test.go lists these rules as
// test-only.

func expectTypes(t *testing.T, tc format.MessageTest) []frame.Type {
	t.Helper()
	out := make([]frame.Type, len(tc.Expect))
	for i, e := range tc.Expect {
		out[i] = parseType(t, tc.TcID, e)
	}
	return out
}

func oneByteSource(t *testing.T, tc format.Common, in format.Bytes, o format.Outcome) (*source, []byte) {
	t.Helper()
	data := expand(t, tc.TcID, "input", in)
	return &source{data: data, sizes: oneByte(patternSpans(in)), endErr: endErrFor(o)}, data
}

// TestStickyAfterError [ERR-1]: once a message decoder has reported an
// error, every later call reports the same error, no further byte is read
// from the stream, and the unfinished body never reads as complete.
func TestStickyAfterError(t *testing.T) {
	f := loadMessageFile(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if tc.ErrorClass == "" {
				continue
			}
			t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
				t.Parallel()
				src, _ := oneByteSource(t, tc.Common, tc.Input, tc.Outcome)
				r := frame.NewReader(src)
				var first error
				var open *frame.MessageReader
				for _, typ := range expectTypes(t, tc) {
					m, err := r.NextMessage(typ)
					if err != nil {
						first = err
						break
					}
					if _, err := m.AppendTo(nil); err != nil {
						first, open = err, m
						break
					}
				}
				if first == nil {
					t.Fatalf("tcId %d: no error where the vector has %s", tc.TcID, tc.ErrorClass)
				}
				handed := src.pos
				again := []error{}
				if open != nil {
					n, err := open.Read(make([]byte, 16))
					if n != 0 || err == io.EOF {
						t.Fatalf("tcId %d: after %v, the unfinished body reads (%d, %v)", tc.TcID, first, n, err)
					}
					again = append(again, err)
					_, err = open.Discard()
					again = append(again, err)
				}
				_, err := r.NextMessage(frame.TypeData)
				again = append(again, err)
				_, err = r.ReadHeader()
				again = append(again, err)
				for i, err := range again {
					if err != first {
						t.Fatalf("tcId %d: call %d after the error returned %v, want the same %v", tc.TcID, i, err, first)
					}
				}
				if src.pos != handed {
					t.Fatalf("tcId %d: %d more bytes read after %v", tc.TcID, src.pos-handed, first)
				}
			})
		}
	}
}

// TestDiscardKeepsSync [MSG-9]: a receiver that reads none or only part of
// a body still finds the next message where it starts; and a bounded
// discard that meets a longer body refuses rather than reading on.
func TestDiscardKeepsSync(t *testing.T) {
	f := loadMessageFile(t)
	n := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if len(tc.Messages) < 2 {
				continue
			}
			n++
			for skip := range len(tc.Messages) - 1 {
				for _, partial := range []int{0, 1} {
					src, _ := oneByteSource(t, tc.Common, tc.Input, tc.Outcome)
					r := frame.NewReader(src)
					exp := expectTypes(t, tc)
					for i, want := range tc.Messages {
						m, err := r.NextMessage(exp[i])
						if err != nil {
							t.Fatalf("tcId %d: message %d: %v", tc.TcID, i, err)
						}
						if i == skip {
							// Read at most one byte and leave the rest:
							// NextMessage must discard it.
							if _, err := io.ReadFull(m, make([]byte, min(partial, int(want.Length)))); err != nil {
								t.Fatalf("tcId %d: %v", tc.TcID, err)
							}
							continue
						}
						got, err := m.AppendTo(nil)
						if err != nil {
							t.Fatalf("tcId %d: message %d after skipping %d: %v", tc.TcID, i, skip, err)
						}
						if d := diffBytes("bodies", got, expand(t, tc.TcID, "body", want.Body)); d != "" {
							t.Fatalf("tcId %d: message %d after skipping message %d: %s", tc.TcID, i, skip, d)
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no multi-message vector to check")
	}

	// Bounded discard: a 6-byte body with a limit of 5 must fail with
	// ErrDiscardLimit (the caller then resets the stream).
	var buf bytes.Buffer
	w := frame.NewWriter(&buf)
	if err := w.WriteMessage(frame.TypeData, []byte("abcdef")); err != nil {
		t.Fatal(err)
	}
	m, err := frame.NewReader(&buf).NextMessage(frame.TypeData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.DiscardAtMost(5); !errors.Is(err, frame.ErrDiscardLimit) {
		t.Fatalf("DiscardAtMost(5) on a 6-byte body: %v, want ErrDiscardLimit", err)
	}
}

// writeLog records the size of every Write.
type writeLog struct {
	buf   bytes.Buffer
	sizes []int
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.buf.Write(p)
}

// TestOneWritePerSmallFrame [FRAME-11]: the writer hands each frame of up to
// 4096 payload bytes to the transport in exactly one Write, header and
// payload together. (Larger frames may be a vectored write, which a plain
// io.Writer sees as two.)
func TestOneWritePerSmallFrame(t *testing.T) {
	f := loadMessageFile(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if tc.Result == format.Invalid {
				continue
			}
			var log writeLog
			w := frame.NewWriter(&log)
			for _, m := range tc.Messages {
				if err := w.WriteMessage(parseType(t, tc.TcID, m.Type), expand(t, tc.TcID, "body", m.Body)); err != nil {
					t.Fatalf("tcId %d: %v", tc.TcID, err)
				}
			}
			out := log.buf.Bytes()
			pos, wi := 0, 0
			for pos < len(out) {
				size := frame.HeaderSize + int(binary.LittleEndian.Uint32(out[pos+2:]))
				if size-frame.HeaderSize <= frame.MaxControlMessage {
					if wi >= len(log.sizes) || log.sizes[wi] != size {
						t.Fatalf("tcId %d: the %d-byte frame at %d was not one Write (writes: %v)", tc.TcID, size, pos, log.sizes)
					}
					wi++
				} else {
					// Skip the writes that make up this large frame.
					for covered := 0; covered < size; wi++ {
						covered += log.sizes[wi]
					}
				}
				pos += size
			}
		}
	}
}

// countingSource counts Read calls.
type countingSource struct {
	source
	reads int
}

func (c *countingSource) Read(p []byte) (int, error) {
	c.reads++
	return c.source.Read(p)
}

// TestOneReadPerSmallStream [FRAME-11]: when the transport has a whole small
// stream ready, the reader takes it in one Read (plus the one that finds the
// end), not one per header field or per frame.
func TestOneReadPerSmallStream(t *testing.T) {
	f := loadMessageFile(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if tc.ErrorClass != "" || tc.Input.Len() > 8192 {
				continue
			}
			data := expand(t, tc.TcID, "input", tc.Input)
			src := &countingSource{source: source{data: data, sizes: func(int) int { return len(data) + 1 }, endErr: io.EOF}}
			_, o := decodeMessages(t, tc.TcID, expectTypes(t, tc), frame.NewReader(src), nil, func(m *frame.MessageReader) ([]byte, error) { return m.AppendTo(nil) })
			if o.class != "" {
				t.Fatalf("tcId %d: %v", tc.TcID, o)
			}
			if src.reads > 2 {
				t.Fatalf("tcId %d: %d Read calls for a %d-byte stream", tc.TcID, src.reads, len(data))
			}
		}
	}
}

// TestWriterRefuses: a sender refuses what it must not send before writing
// anything: a payload over 4194304 bytes [FRAME-4], a Header or Trailer body
// over 4096 bytes [MSG-7], and anything after RST [FRAME-7]. A 4096-byte
// Header goes out as exactly one final frame (spec 11.1 row 5).
func TestWriterRefuses(t *testing.T) {
	var buf bytes.Buffer
	w := frame.NewWriter(&buf)
	if err := w.WriteFrame(frame.TypeData, true, make([]byte, frame.MaxPayload+1)); err == nil || buf.Len() != 0 {
		t.Fatalf("WriteFrame of 4194305 bytes: err %v, %d bytes written", err, buf.Len())
	}
	for _, typ := range []frame.Type{frame.TypeHeader, frame.TypeTrailer} {
		if err := w.WriteMessage(typ, make([]byte, 4097)); err == nil || buf.Len() != 0 {
			t.Fatalf("%v message of 4097 bytes: err %v, %d bytes written", typ, err, buf.Len())
		}
		// Streamed in pieces, the refusal still comes before any frame.
		m, err := w.NewMessage(typ)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Write(make([]byte, 4000)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Write(make([]byte, 97)); err == nil || buf.Len() != 0 {
			t.Fatalf("%v message growing to 4097 bytes: err %v, %d bytes written", typ, err, buf.Len())
		}
	}
	body := bytes.Repeat([]byte{'x'}, 4096)
	if err := w.WriteMessage(frame.TypeHeader, body); err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x01, 0x01, 0x00, 0x10, 0x00, 0x00}, body...)
	if d := diffBytes("4096-byte Header message", buf.Bytes(), want); d != "" {
		t.Fatal(d)
	}
	buf.Reset()
	if err := w.WriteRST(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMessage(frame.TypeData, nil); err == nil {
		t.Fatal("WriteMessage after WriteRST succeeded")
	}
	if d := diffBytes("RST", buf.Bytes(), []byte{0xff, 0x01, 0, 0, 0, 0}); d != "" {
		t.Fatal(d)
	}
}
