package rpc

import (
	"strings"
	"testing"

	"github.com/framerpc/framerpc/internal/wire"
)

// [RPC-11] A long error text is cut so that the header fits one Header
// message.
func TestClampMessage(t *testing.T) {
	for _, m := range []string{strings.Repeat("x", 5000), strings.Repeat("<", 2000), strings.Repeat("é", 3000), strings.Repeat("\x01", 900)} {
		c := clampMessage(m)
		h := header{DataType: dataNone, Error: wire.StatusError, ErrorMessage: c}
		if n := len(wire.AppendHeader(nil, &h)); n > 4096 {
			t.Fatalf("header of %d bytes", n)
		}
		if !strings.HasSuffix(c, " [truncated]") || !strings.HasPrefix(m, strings.TrimSuffix(c, " [truncated]")) {
			t.Fatalf("bad cut %q", c[len(c)-20:])
		}
	}
	if clampMessage("short") != "short" {
		t.Fatal("short message changed")
	}
}
