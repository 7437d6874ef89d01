package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/internal/jsonschema"
)

// Golden output of every mode on every shipped capture. `go test
// ./cmd/framedump -run Golden -update` rewrites testdata/golden; with
// -goldendir DIR it writes there instead, which .ci/run diffs against the
// checked-in files so that a stale golden file fails CI.
var (
	update    = flag.Bool("update", false, "rewrite the golden files")
	goldenDir = flag.String("goldendir", "testdata/golden", "where -update writes the golden files")
)

const captures = "../../testvectors/captures"

// goldenModes: the file suffix and the arguments, NAME standing for the
// capture's path without .client.bin / .server.bin.
var goldenModes = []struct {
	suffix string
	args   []string
}{
	{"conv.txt", []string{"NAME"}},
	{"conv.ndjson", []string{"-json", "-sum", "NAME"}},
	{"hex.txt", []string{"-x", "NAME"}},
	{"client.txt", []string{"-sum", "NAME.client.bin"}},
	{"server.txt", []string{"-sum", "NAME.server.bin"}},
	{"server.ndjson", []string{"-json", "NAME.server.bin"}},
}

type captureIndex struct {
	Captures []struct {
		Name string `json:"name"`
	} `json:"captures"`
}

func captureNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(captures, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx captureIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Captures) == 0 {
		t.Fatal("no captures in index.json")
	}
	var names []string
	for _, c := range idx.Captures {
		names = append(names, c.Name)
	}
	return names
}

// framedump runs the command in-process.
func framedump(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func loadSchema(t *testing.T) jsonschema.Set {
	t.Helper()
	return vectorSchema
}

func mustSchema() jsonschema.Set {
	set, err := jsonschema.Load("framedump.schema.json")
	if err != nil {
		panic(err)
	}
	return set
}

// checkNDJSON validates every line of out against the schema and returns
// the decoded objects.
func checkNDJSON(t *testing.T, set jsonschema.Set, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		doc, err := jsonschema.Decode([]byte(line))
		if err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, line)
		}
		if errs := set.Validate("framedump.schema.json", doc); len(errs) > 0 {
			t.Fatalf("line %d does not match the schema: %v\n%s", i+1, errs, line)
		}
		objs = append(objs, doc.(map[string]any))
	}
	return objs
}

func TestGolden(t *testing.T) {
	set := loadSchema(t)
	for _, name := range captureNames(t) {
		for _, m := range goldenModes {
			file := name + "." + m.suffix
			t.Run(file, func(t *testing.T) {
				args := make([]string, len(m.args))
				for i, a := range m.args {
					args[i] = strings.Replace(a, "NAME", filepath.Join(captures, name), 1)
				}
				out, errOut, code := framedump(args...)
				if errOut != "" || code > 1 {
					t.Fatalf("framedump %v: exit %d, stderr %s", args, code, errOut)
				}
				if strings.HasSuffix(file, ".ndjson") {
					checkNDJSON(t, set, out)
				}
				got := fmt.Sprintf("$ framedump %s\n%s(exit %d)\n", strings.Join(m.args, " "), out, code)
				path := filepath.Join(*goldenDir, file)
				if *update {
					if err := os.MkdirAll(*goldenDir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test ./cmd/framedump -run Golden -update writes it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from framedump's output (-update rewrites it):\n%s", path, firstDiffLine(string(want), got))
				}
			})
		}
	}
}

func firstDiffLine(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, a, b)
		}
	}
	return ""
}
