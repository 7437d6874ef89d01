package testvectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/testvectors/internal/captures"
)

// TestCaptures: every capture listed in captures/index.json exists with its
// length and digest, and is a well-framed stream: it decodes frame by frame
// to a clean end or an RST; only the truncated recording ends inside a
// frame.
func TestCaptures(t *testing.T) {
	var index captures.Index
	data, err := os.ReadFile("captures/index.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonStrict(data, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Captures) == 0 {
		t.Fatal("no captures")
	}
	for _, c := range index.Captures {
		for _, f := range []captures.File{c.Client, c.Server} {
			b, err := os.ReadFile(filepath.Join("captures", f.File))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if len(b) != f.Length || hex.EncodeToString(sum[:]) != f.SHA256 {
				t.Fatalf("%s: length or digest differs from the index", f.File)
			}
			r := frame.NewReader(&source{data: b, sizes: func(int) int { return 7 }, endErr: io.EOF})
			var end error
			for end == nil {
				var h frame.FrameHeader
				h, end = r.ReadHeader()
				if end == nil && h.Type == frame.TypeRST {
					break
				}
			}
			var pe *frame.ProtocolError
			truncated := errors.As(end, &pe) && pe.Class == frame.ClassUnexpectedEOF
			if end != nil && end != io.EOF && !truncated {
				t.Fatalf("%s: %v", f.File, end)
			}
			if truncated != (c.Name == "truncated" && f == c.Server) {
				t.Fatalf("%s: ends inside a frame: %v", f.File, truncated)
			}
		}
	}
}

func jsonStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
