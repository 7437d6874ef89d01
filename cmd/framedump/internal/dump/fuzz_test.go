package dump

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/jsonschema"
)

// FuzzDecode feeds arbitrary bytes to every view: one direction as either
// side, the frame and message layers, and the conversation view with the
// input split in two streams. Each must return (the fuzzer's per-input
// timeout catches a hang), never panic, and report every error and end at
// an offset within its stream.
//
// Every NDJSON line is also checked against framedump.schema.json, so the
// documented format holds for any input, not only for the captures.
func FuzzDecode(f *testing.F) {
	schema, err := jsonschema.Load("../../framedump.schema.json")
	if err != nil {
		f.Fatal(err)
	}
	// Under go test the schema is always there (Fatal above). A libFuzzer
	// build (fuzz/oss-fuzz) runs away from the source tree, where its
	// testing shim's Fatal returns: it then checks everything but the
	// schema.
	haveSchema := err == nil
	files, _ := filepath.Glob("../../../../testvectors/captures/*.bin")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(len(b)/2))
	}
	f.Add([]byte{0x02, 0x00, 3, 0, 0, 0, 'a', 'b', 'c', 0x02}, uint16(0))
	f.Add([]byte{0x01, 0x01, 0x01, 0x10, 0, 0}, uint16(6))
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		opts := Options{JSON: true, Sum: true, Hex: true, Width: 16}
		check := func(view string, out *bytes.Buffer, lens map[string]int) {
			t.Helper()
			for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				doc, err := jsonschema.Decode([]byte(line))
				if err != nil {
					t.Fatalf("%s: not JSON: %v: %q", view, err, line)
				}
				if errs := schema.Validate("framedump.schema.json", doc); haveSchema && len(errs) > 0 {
					t.Fatalf("%s: %q does not match the schema: %v", view, line, errs)
				}
				var ev struct {
					Kind   string `json:"kind"`
					Stream string `json:"stream"`
					Offset int64  `json:"offset"`
				}
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("%s: not JSON: %v: %q", view, err, line)
				}
				if ev.Kind != "error" && ev.Kind != "end" {
					continue
				}
				if n := lens[ev.Stream]; ev.Offset < 0 || ev.Offset > int64(n) {
					t.Fatalf("%s: %s at offset %d outside a stream of %d bytes: %s", view, ev.Kind, ev.Offset, n, line)
				}
			}
		}
		one := map[string]int{"": len(in)}
		for _, side := range []Side{SideAuto, SideClient, SideServer} {
			var out bytes.Buffer
			o := opts
			o.Side = side
			if _, err := Direction(bytes.NewReader(in), &out, o); err != nil {
				t.Fatal(err)
			}
			check("direction "+side.String(), &out, one)
		}
		var out bytes.Buffer
		if _, err := Layers(bytes.NewReader(in), &out, Layer{Frames: true}, opts); err != nil {
			t.Fatal(err)
		}
		check("frames", &out, one)
		out.Reset()
		if _, err := Layers(bytes.NewReader(in), &out, Layer{Expect: expectFrom(in)}, opts); err != nil {
			t.Fatal(err)
		}
		check("messages", &out, one)

		k := min(int(split), len(in))
		out.Reset()
		if _, err := Conversation(bytes.NewReader(in[:k]), bytes.NewReader(in[k:]), &out, opts); err != nil {
			t.Fatal(err)
		}
		check("conversation", &out, map[string]int{"client": k, "server": len(in) - k})
		// The text renderer must not fail either.
		if _, err := Conversation(bytes.NewReader(in[:k]), bytes.NewReader(in[k:]), io.Discard, Options{}); err != nil {
			t.Fatal(err)
		}
	})
}

// expectFrom derives a message type list from the input's first bytes.
func expectFrom(in []byte) []frame.Type {
	var ts []frame.Type
	for _, b := range in[:min(len(in), 4)] {
		ts = append(ts, frame.Type(1+b%3))
	}
	return ts
}
