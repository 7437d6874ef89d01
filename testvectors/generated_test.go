package testvectors

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/framerpc/framerpc/testvectors/internal/generate"
)

// TestGeneratedFilesCurrent: the checked-in vector files are exactly what
// the generator writes from the Go cases, and there is no stray file the
// generator does not write. check-generated.sh does the same from the shell
// for CI, with a diff.
func TestGeneratedFilesCurrent(t *testing.T) {
	files, err := generate.Render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v (run go generate ./testvectors)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			line := 1 + bytes.Count(want[:min(firstDiff(got, want), len(want))], []byte("\n"))
			t.Errorf("%s differs from the generator's output from line %d on (run go generate ./testvectors)", name, line)
		}
	}
	onDisk, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	caps, err := filepath.Glob("captures/*")
	if err != nil {
		t.Fatal(err)
	}
	onDisk = append(onDisk, caps...)
	sort.Strings(onDisk)
	for _, name := range onDisk {
		if _, ok := files[name]; !ok {
			t.Errorf("%s is not written by the generator", name)
		}
	}
}
