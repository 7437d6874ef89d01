package fuzz

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/framerpc/framerpc/frame"
)

// seeds are streams the targets start from: the spec's examples.
var seeds = [][]byte{
	{},
	{0x02, 0x01, 0, 0, 0, 0},
	{0xff, 0x01, 0, 0, 0, 0},
	{0xff, 0x00, 9, 0, 0, 0},
	{0x02, 0x00, 3, 0, 0, 0, 'a', 'b', 'c', 0x02, 0x01, 0, 0, 0, 0},
	{0x02, 0x00, 3, 0, 0, 0, 'a', 'b', 'c', 0x01, 0x01, 0, 0, 0, 0},
	{0x01, 0x01, 0x01, 0x10, 0, 0},
	{0x02, 0x02, 0, 0, 0, 0},
	{0x02, 0x01, 0x01, 0x00, 0x40, 0x00},
	append([]byte{0x01, 0x01, 0x48, 0, 0, 0}, []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}`+"\n")...),
}

// checkErr asserts an error from a Reader is one the spec allows.
func checkErr(t *testing.T, err error, inputLen int) {
	t.Helper()
	if err == io.EOF {
		return
	}
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error outside the closed list: %v (%T)", err, err)
	}
	if pe.Offset < 0 || pe.Offset > int64(inputLen) {
		t.Fatalf("offset %d outside an input of %d bytes: %v", pe.Offset, inputLen, err)
	}
	if pe.Class.String() == "" || pe.Rule == "" {
		t.Fatalf("error without class or rule: %#v", pe)
	}
}

// FuzzFrameStream decodes arbitrary bytes as frames. Every canonical frame
// accepted must re-encode to exactly the bytes it came from.
func FuzzFrameStream(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := frame.NewReaderSize(bytes.NewReader(in), 64)
		for {
			start := r.Offset()
			h, err := r.ReadHeader()
			if err != nil {
				checkErr(t, err, len(in))
				return
			}
			payload, err := io.ReadAll(payloadReader{r})
			if err != nil {
				checkErr(t, err, len(in))
				return
			}
			if !h.Canonical() {
				continue
			}
			var out bytes.Buffer
			if h.Type == frame.TypeRST {
				err = frame.NewWriter(&out).WriteRST()
			} else {
				err = frame.NewWriter(&out).WriteFrame(h.Type, h.Final, payload)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), in[start:r.Offset()]) {
				t.Fatalf("frame at %d re-encodes as % x, input % x", start, out.Bytes(), in[start:r.Offset()])
			}
		}
	})
}

type payloadReader struct{ r *frame.Reader }

func (p payloadReader) Read(b []byte) (int, error) { return p.r.ReadPayload(b) }

// FuzzMessageStream reads arbitrary bytes as a sequence of messages whose
// expected types come from the fuzzer too. The body delivered must be the
// concatenation of the payloads of the frames read, and after an error
// nothing more may be read.
func FuzzMessageStream(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, []byte{2, 1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, in []byte, types []byte) {
		r := frame.NewReaderSize(bytes.NewReader(in), 32)
		for i := 0; ; i++ {
			want := frame.TypeData
			if len(types) > 0 {
				want = frame.Type(types[i%len(types)]%3 + 1)
			}
			m, err := r.NextMessage(want)
			if err != nil {
				checkErr(t, err, len(in))
				if _, err2 := r.NextMessage(want); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			body, err := io.ReadAll(m)
			if err != nil {
				checkErr(t, err, len(in))
				if errors.Is(err, io.EOF) {
					t.Fatalf("truncation reported as io.EOF: %v", err)
				}
				return
			}
			if want != frame.TypeData && len(body) > frame.MaxControlMessage {
				t.Fatalf("%v message of %d bytes accepted", want, len(body))
			}
			if !m.Done() {
				t.Fatal("message not done at io.EOF")
			}
		}
	})
}

// FuzzRoundTrip writes a fuzzer-chosen body split by fuzzer-chosen frame
// sizes and checks it reads back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), []byte{1, 0, 3})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, body []byte, splits []byte) {
		var buf bytes.Buffer
		w := frame.NewWriter(&buf)
		rest := body
		for _, s := range splits {
			k := min(int(s), len(rest))
			if err := w.WriteFrame(frame.TypeData, false, rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := w.WriteFrame(frame.TypeData, true, rest); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(mustMessage(t, frame.NewReaderSize(&buf, 16)))
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read back %q, %v; want %q", got, err, body)
		}
	})
}

func mustMessage(t *testing.T, r *frame.Reader) *frame.MessageReader {
	m, err := r.NextMessage(frame.TypeData)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
