// Command gen writes the framerpc test vector files (from the Go cases in
// testvectors/internal/cases) and the captures (recorded from the real
// client and server, testvectors/internal/captures).
//
//	go run ./testvectors/internal/gen -out testvectors
//
// It fails (exit status 1) if any case is inconsistent or a recording
// fails, and then writes nothing.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/framerpc/framerpc/testvectors/internal/generate"
)

func main() {
	out := flag.String("out", ".", "directory to write the files into (testvectors/ for the checked-in set)")
	flag.Parse()
	if err := generate.Write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
