// Package generate renders every generated file of testvectors/: the vector
// files from package cases and the recordings from package captures.
package generate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/framerpc/framerpc/testvectors/internal/captures"
	"github.com/framerpc/framerpc/testvectors/internal/cases"
)

// Render returns every generated file by its path relative to testvectors/.
// An inconsistent case (which package cases reports by panicking) is
// returned as an error.
func Render() (files map[string][]byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			files, err = nil, fmt.Errorf("%v", r)
		}
	}()
	files, err = cases.Render()
	if err != nil {
		return nil, err
	}
	caps, err := captures.Render()
	if err != nil {
		return nil, err
	}
	for name, b := range caps {
		files[name] = b
	}
	return files, nil
}

// Write renders every file into dir. Nothing is written if rendering fails.
func Write(dir string) error {
	files, err := Render()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
