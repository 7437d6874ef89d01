package testvectors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/testvectors/format"
)

// The runner decodes every vector with package frame and compares the result
// with what the vector says, then encodes the decoded structure with
// frame.Writer and compares the bytes. A failure names the tcId and, for
// bytes, the first differing offset.
//
// Every decode vector runs once per delivery mode below: the outcome must not
// depend on how the transport segments the stream [FRAME-12].

// errTripwire is what a source returns instead of io.EOF when a valid
// vector's input is exhausted: a decoder that completes every frame and
// message without asking for more bytes never sees it before the point
// where the stream is expected to end. A decoder that waits for a byte
// after a zero-length final frame does [FRAME-10].
var errTripwire = errors.New("tripwire: read past the end of a complete stream")

// source hands out the input in a fixed segmentation and counts what it has
// handed out, so the runner can check that a decoder stopped reading where
// the spec says it must ([FRAME-5], [FRAME-8]).
type source struct {
	data   []byte
	pos    int
	sizes  func(pos int) int // size of the next read at offset pos, at least 1
	endErr error
}

func (s *source) Read(p []byte) (int, error) {
	if s.pos == len(s.data) {
		return 0, s.endErr
	}
	n := min(len(p), s.sizes(s.pos), len(s.data)-s.pos)
	copy(p, s.data[s.pos:s.pos+n])
	s.pos += n
	return n, nil
}

// span is a range of input offsets.
type span struct{ from, to int }

// patternSpans returns the ranges of the input written as patterns: the
// payloads too large to spell out.
func patternSpans(b format.Bytes) []span {
	var out []span
	pos := 0
	for _, p := range b.Parts {
		if p.Pat == nil {
			pos += len(p.Lit)
			continue
		}
		out = append(out, span{pos, pos + int(p.Pat.Length)})
		pos += int(p.Pat.Length)
	}
	return out
}

// relaxInterior is the margin kept at one byte per read at both ends of a
// pattern span when the race detector is on.
const relaxInterior = 4096

// oneByte returns the read sizes of the one-byte mode: one byte per read
// everywhere. Under the race detector, where a read costs a hundred times
// more, the interior of each large pattern payload (all but its first and
// last 4096 bytes) is read in 64 KiB pieces instead: every frame header and
// payload boundary is still met one byte at a time, and the plain test run
// still reads every byte alone.
func oneByte(big []span) func(pos int) int {
	return func(pos int) int {
		if raceEnabled {
			for _, sp := range big {
				if pos >= sp.from+relaxInterior && pos < sp.to-relaxInterior {
					return min(64<<10, sp.to-relaxInterior-pos)
				}
			}
		}
		return 1
	}
}

type mode struct {
	name string
	// open returns the reader to decode from and, in the one-byte mode,
	// a count of the bytes it has handed out. Only there is "reading" a
	// byte observable: with larger reads a buffered decoder legitimately
	// holds bytes it has not consumed, which [FRAME-11] recommends.
	open func(in []byte, tcID int, endErr error, big []span) (io.Reader, func() int)
	// body is how a message body is read in this mode, so that each of
	// MessageReader's ways of reading meets every vector.
	body func(m *frame.MessageReader) ([]byte, error)
}

var modes = []mode{
	{"whole",
		func(in []byte, _ int, endErr error, _ []span) (io.Reader, func() int) {
			s := &source{data: in, sizes: func(int) int { return len(in) + 1 }, endErr: endErr}
			return s, nil
		},
		func(m *frame.MessageReader) ([]byte, error) { return m.AppendTo(nil) }},
	{"one-byte",
		func(in []byte, _ int, endErr error, big []span) (io.Reader, func() int) {
			s := &source{data: in, sizes: oneByte(big), endErr: endErr}
			return s, func() int { return s.pos }
		},
		func(m *frame.MessageReader) ([]byte, error) { return readSmall(m, 777) }},
	{"chunks",
		func(in []byte, tcID int, endErr error, _ []span) (io.Reader, func() int) {
			// Irregular sizes from 1 to 23 (plus, now and then, a
			// large one), seeded by the tcId so a failure reproduces.
			x := uint32(tcID)*2654435761 + 1
			next := func(int) int {
				x = x*1664525 + 1013904223
				if x>>28 == 0 {
					return 1 << 16
				}
				return 1 + int(x>>24)%23
			}
			s := &source{data: in, sizes: next, endErr: endErr}
			return s, nil
		},
		func(m *frame.MessageReader) ([]byte, error) {
			var buf bytes.Buffer
			_, err := m.WriteTo(&buf)
			return buf.Bytes(), err
		}},
	{"eof-with-data",
		// The last bytes and io.EOF arrive in the same Read call.
		func(in []byte, _ int, endErr error, _ []span) (io.Reader, func() int) {
			if endErr != io.EOF {
				return &source{data: in, sizes: func(int) int { return 4096 }, endErr: endErr}, nil
			}
			return iotest.DataErrReader(bytes.NewReader(in)), nil
		},
		func(m *frame.MessageReader) ([]byte, error) { return readSmall(m, 4096) }},
}

func readSmall(m *frame.MessageReader, size int) ([]byte, error) {
	var out []byte
	buf := make([]byte, size)
	for {
		n, err := m.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// outcome is what a decoder run produced, in the vectors' terms.
type outcome struct {
	class   string // "" for a clean end
	offset  int64
	emitted int64
	// handed is how many input bytes the source had handed out when the
	// outcome was reached (-1: unknown).
	handed int
}

func (o outcome) String() string {
	if o.class == "" {
		return "clean end"
	}
	return fmt.Sprintf("%s at %d (emitted %d)", o.class, o.offset, o.emitted)
}

// classify turns the error that ended a run into an outcome. Only a
// *frame.ProtocolError is a protocol outcome; anything else is a bug in the
// decoder or the runner and fails the test.
func classify(t *testing.T, tcID int, err error) outcome {
	t.Helper()
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("tcId %d: decoder returned %v, not a *frame.ProtocolError", tcID, err)
	}
	return outcome{class: pe.Class.String(), offset: pe.Offset}
}

// headerDelta is how far into a frame header the offset of each class
// points (spec section 5), so the frame start is offset - delta.
var headerDelta = map[string]int64{
	"unknown-type": 0, "type-mismatch": 0, "reset": 0,
	"bad-flag": 1, "frame-too-large": 2, "message-too-large": 2,
}

type decodedFrame struct {
	typ     frame.Type
	final   bool
	payload []byte
}

// decodeFrames reads frames until the stream ends or fails.
func decodeFrames(t *testing.T, tcID int, r *frame.Reader, handed func() int) ([]decodedFrame, outcome) {
	t.Helper()
	var frames []decodedFrame
	var emitted int64
	at := func() int {
		if handed == nil {
			return -1
		}
		return handed()
	}
	for {
		h, err := r.ReadHeader()
		if err == io.EOF || errors.Is(err, errTripwire) {
			return frames, outcome{handed: at()}
		}
		if err != nil {
			o := classify(t, tcID, err)
			o.emitted, o.handed = emitted, at()
			return frames, o
		}
		if h.Type == frame.TypeRST {
			// The frame layer hands RST to its caller, which reports it
			// as reset at the RST's offset [FRAME-8].
			return frames, outcome{class: "reset", offset: r.Offset() - frame.HeaderSize, emitted: emitted, handed: at()}
		}
		var payload []byte
		buf := make([]byte, 1000)
		for {
			n, err := r.ReadPayload(buf)
			payload = append(payload, buf[:n]...)
			emitted += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				o := classify(t, tcID, err)
				o.emitted, o.handed = emitted, at()
				return frames, o
			}
		}
		if int64(len(payload)) != int64(h.Length) {
			t.Fatalf("tcId %d: frame at %d: %d payload bytes read, header says %d", tcID, r.Offset()-int64(len(payload))-frame.HeaderSize, len(payload), h.Length)
		}
		frames = append(frames, decodedFrame{h.Type, h.Final, payload})
	}
}

type decodedMessage struct {
	typ  frame.Type
	body []byte
}

// decodeMessages reads the expected messages, then expects the stream to
// end.
func decodeMessages(t *testing.T, tcID int, expect []frame.Type, r *frame.Reader, handed func() int, body func(*frame.MessageReader) ([]byte, error)) ([]decodedMessage, outcome) {
	t.Helper()
	var msgs []decodedMessage
	at := func() int {
		if handed == nil {
			return -1
		}
		return handed()
	}
	for _, typ := range expect {
		m, err := r.NextMessage(typ)
		if err == io.EOF || errors.Is(err, errTripwire) {
			return msgs, outcome{handed: at()}
		}
		if err != nil {
			o := classify(t, tcID, err)
			o.handed = at()
			return msgs, o
		}
		b, err := body(m)
		if err != nil {
			o := classify(t, tcID, err)
			o.emitted, o.handed = int64(len(b)), at()
			return msgs, o
		}
		if !m.Done() {
			t.Fatalf("tcId %d: body read to its end but the message is not done", tcID)
		}
		msgs = append(msgs, decodedMessage{typ, b})
	}
	// Every expected message is complete: the stream must end here, at a
	// message boundary.
	h, err := r.ReadHeader()
	if err == io.EOF || errors.Is(err, errTripwire) {
		return msgs, outcome{handed: at()}
	}
	t.Fatalf("tcId %d: after the expected messages the stream goes on: %v %v", tcID, h, err)
	return nil, outcome{}
}

// firstDiff is the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func diffBytes(what string, got, want []byte) string {
	i := firstDiff(got, want)
	if i < 0 {
		return ""
	}
	g, w := "end", "end"
	if i < len(got) {
		g = fmt.Sprintf("%02x", got[i])
	}
	if i < len(want) {
		w = fmt.Sprintf("%02x", want[i])
	}
	return fmt.Sprintf("%s differ at offset %d: got %s, want %s (lengths %d and %d)", what, i, g, w, len(got), len(want))
}

// patternCache holds the expansion of every large pattern part met, checked
// against its digest once: the same 4 MiB pattern appears in a vector's
// input, decoded structure and encoding.
var patternCache sync.Map // format.Pattern -> []byte

func expand(t *testing.T, tcID int, what string, b format.Bytes) []byte {
	t.Helper()
	out := make([]byte, 0, b.Len())
	for _, p := range b.Parts {
		if p.Pat == nil {
			out = append(out, p.Lit...)
			continue
		}
		if v, ok := patternCache.Load(*p.Pat); ok {
			out = append(out, v.([]byte)...)
			continue
		}
		v, err := format.Bytes{Parts: []format.Part{p}}.Expand()
		if err != nil {
			t.Fatalf("tcId %d: %s: %v", tcID, what, err)
		}
		patternCache.Store(*p.Pat, v)
		out = append(out, v...)
	}
	return out
}

func parseType(t *testing.T, tcID int, h string) frame.Type {
	t.Helper()
	var b byte
	if _, err := fmt.Sscanf(h, "%02x", &b); err != nil || len(h) != 2 {
		t.Fatalf("tcId %d: bad type %q", tcID, h)
	}
	return frame.Type(b)
}

// checkOutcome compares an outcome with the vector's, and checks in modes
// that count the bytes handed out that the decoder read no further than the
// spec allows: nothing past a bad or RST frame header [FRAME-5] [FRAME-8].
func checkOutcome(t *testing.T, c format.Common, want format.Outcome, got outcome, inputLen int) {
	t.Helper()
	if got.class != want.ErrorClass {
		t.Fatalf("tcId %d: outcome %v, want %q", c.TcID, got, want.ErrorClass)
	}
	if want.ErrorClass == "" {
		return
	}
	if got.offset != *want.ErrorOffset {
		t.Fatalf("tcId %d: %s at offset %d, want offset %d", c.TcID, got.class, got.offset, *want.ErrorOffset)
	}
	// frame.Reader delivers payload bytes as they arrive, so it emits
	// exactly as many as the vector allows at most.
	if got.emitted != *want.EmittedBytes {
		t.Fatalf("tcId %d: %d bytes emitted before %s, want %d", c.TcID, got.emitted, got.class, *want.EmittedBytes)
	}
	if d, ok := headerDelta[got.class]; ok && got.handed >= 0 {
		if limit := got.offset - d + frame.HeaderSize; int64(got.handed) > limit {
			t.Fatalf("tcId %d: %s detected after reading %d bytes; nothing past the frame header ending at %d may be read", c.TcID, got.class, got.handed, limit)
		}
	}
	if got.class == "unexpected-eof" && got.handed >= 0 && got.handed != inputLen {
		t.Fatalf("tcId %d: unexpected-eof after reading %d of %d bytes", c.TcID, got.handed, inputLen)
	}
}

func endErrFor(o format.Outcome) error {
	if o.ErrorClass == "" {
		return errTripwire
	}
	return io.EOF
}

func TestFrameVectors(t *testing.T) {
	f := loadFrameFile(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
				t.Parallel()
				in := expand(t, tc.TcID, "input", tc.Input)
				want := make([]decodedFrame, len(tc.Frames))
				for i, fr := range tc.Frames {
					want[i] = decodedFrame{parseType(t, tc.TcID, fr.Type), fr.Final, expand(t, tc.TcID, "payload", fr.Payload)}
					if int64(len(want[i].payload)) != fr.Length {
						t.Fatalf("tcId %d: frame %d: length %d but %d payload bytes", tc.TcID, i, fr.Length, len(want[i].payload))
					}
				}
				for _, m := range modes {
					src, handed := m.open(in, tc.TcID, endErrFor(tc.Outcome), patternSpans(tc.Input))
					got, o := decodeFrames(t, tc.TcID, frame.NewReader(src), handed)
					if len(got) != len(want) {
						t.Fatalf("tcId %d (%s): %d frames decoded, want %d; outcome %v", tc.TcID, m.name, len(got), len(want), o)
					}
					for i := range want {
						if got[i].typ != want[i].typ || got[i].final != want[i].final {
							t.Fatalf("tcId %d (%s): frame %d is %v final=%v, want %v final=%v", tc.TcID, m.name, i, got[i].typ, got[i].final, want[i].typ, want[i].final)
						}
						if d := diffBytes(fmt.Sprintf("frame %d payloads", i), got[i].payload, want[i].payload); d != "" {
							t.Fatalf("tcId %d (%s): %s", tc.TcID, m.name, d)
						}
					}
					checkOutcome(t, tc.Common, tc.Outcome, o, len(in))
				}
				if tc.Result == format.Invalid {
					return
				}
				// Encode: the decoded frames through frame.Writer.
				var buf bytes.Buffer
				w := frame.NewWriter(&buf)
				for _, fr := range want {
					if err := w.WriteFrame(fr.typ, fr.final, fr.payload); err != nil {
						t.Fatalf("tcId %d: WriteFrame: %v", tc.TcID, err)
					}
				}
				if tc.ErrorClass == "reset" {
					if err := w.WriteRST(); err != nil {
						t.Fatalf("tcId %d: WriteRST: %v", tc.TcID, err)
					}
				}
				if d := diffBytes("encoded bytes", buf.Bytes(), expand(t, tc.TcID, "encoded", *tc.Encoded)); d != "" {
					t.Fatalf("tcId %d: %s", tc.TcID, d)
				}
			})
		}
	}
}

func TestMessageVectors(t *testing.T) {
	f := loadMessageFile(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
				t.Parallel()
				in := expand(t, tc.TcID, "input", tc.Input)
				expect := make([]frame.Type, len(tc.Expect))
				for i, e := range tc.Expect {
					expect[i] = parseType(t, tc.TcID, e)
				}
				want := make([]decodedMessage, len(tc.Messages))
				for i, m := range tc.Messages {
					want[i] = decodedMessage{parseType(t, tc.TcID, m.Type), expand(t, tc.TcID, "body", m.Body)}
					if int64(len(want[i].body)) != m.Length {
						t.Fatalf("tcId %d: message %d: length %d but %d body bytes", tc.TcID, i, m.Length, len(want[i].body))
					}
				}
				for _, m := range modes {
					src, handed := m.open(in, tc.TcID, endErrFor(tc.Outcome), patternSpans(tc.Input))
					got, o := decodeMessages(t, tc.TcID, expect, frame.NewReader(src), handed, m.body)
					if len(got) != len(want) {
						t.Fatalf("tcId %d (%s): %d messages decoded, want %d; outcome %v", tc.TcID, m.name, len(got), len(want), o)
					}
					for i := range want {
						if got[i].typ != want[i].typ {
							t.Fatalf("tcId %d (%s): message %d is %v, want %v", tc.TcID, m.name, i, got[i].typ, want[i].typ)
						}
						if d := diffBytes(fmt.Sprintf("message %d bodies", i), got[i].body, want[i].body); d != "" {
							t.Fatalf("tcId %d (%s): %s", tc.TcID, m.name, d)
						}
					}
					checkOutcome(t, tc.Common, tc.Outcome, o, len(in))
				}
				if tc.Result == format.Invalid {
					return
				}
				wantEnc := expand(t, tc.TcID, "encoded", *tc.Encoded)
				// Encode twice: whole bodies with WriteMessage, and in
				// 1000-byte writes through a MessageWriter; the split must
				// be the canonical one either way [MSG-3].
				for _, chunked := range []bool{false, true} {
					var buf bytes.Buffer
					w := frame.NewWriter(&buf)
					for _, m := range want {
						if err := writeMessage(w, m, chunked); err != nil {
							t.Fatalf("tcId %d: writing message: %v", tc.TcID, err)
						}
					}
					if tc.ErrorClass == "reset" {
						if err := w.WriteRST(); err != nil {
							t.Fatalf("tcId %d: WriteRST: %v", tc.TcID, err)
						}
					}
					if d := diffBytes(fmt.Sprintf("encoded bytes (chunked writes: %v)", chunked), buf.Bytes(), wantEnc); d != "" {
						t.Fatalf("tcId %d: %s", tc.TcID, d)
					}
				}
			})
		}
	}
}

func writeMessage(w *frame.Writer, m decodedMessage, chunked bool) error {
	if !chunked {
		return w.WriteMessage(m.typ, m.body)
	}
	mw, err := w.NewMessage(m.typ)
	if err != nil {
		return err
	}
	for b := m.body; len(b) > 0; {
		n := min(len(b), 1000)
		if _, err := mw.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return mw.Close()
}

func loadFrameFile(t *testing.T) *format.File[format.FrameTest] {
	t.Helper()
	f, err := format.Load[format.FrameTest]("frame_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func loadMessageFile(t *testing.T) *format.File[format.MessageTest] {
	t.Helper()
	f, err := format.Load[format.MessageTest]("message_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}
