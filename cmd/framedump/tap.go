package main

import (
	"fmt"
	"io"
)

func runTap(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "framedump tap: not yet")
	return exitUsage
}
