package main

import (
	"strings"
	"testing"
)

// Usage errors exit 2 with a message and the usage on stderr, and print
// nothing on stdout; -h prints the usage and exits 0.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-h"}, exitClean, "usage:"},
		{nil, exitUsage, "one FILE, - or PREFIX expected"},
		{[]string{"a", "b"}, exitUsage, "one FILE, - or PREFIX expected"},
		{[]string{"-nosuchflag", "x"}, exitUsage, "flag provided but not defined"},
		{[]string{"-side", "middle", "x"}, exitUsage, "-side is client or server"},
		{[]string{"-client", "x"}, exitUsage, "-client and -server go together"},
		{[]string{"-client", "x", "-server", "y", "z"}, exitUsage, "take no FILE"},
		{[]string{"-frames", "-expect", "01", "-"}, exitUsage, "exclude each other"},
		{[]string{"-expect", "01,ff", "-"}, exitUsage, "not a message type"},
		{[]string{"-width", "0", "-"}, exitUsage, "positive number or -1"},
		{[]string{"testdata/no-such-file"}, exitUsage, "no such file"},
		{[]string{"-client", "testdata/no-such-file", "-server", "testdata/no-such-file"}, exitUsage, "no such file"},
		{[]string{"tap", "-h"}, exitClean, "framedump tap -listen ADDR"},
		{[]string{"tap", "-listen", "127.0.0.1:0", "-connect", "127.0.0.1:1"}, exitUsage, "-o PREFIX is required"},
		{[]string{"tap", "-o", "x"}, exitUsage, "-listen and -connect, or -- CMD, are required"},
		{[]string{"tap", "-o", "x", "-listen", "127.0.0.1:0"}, exitUsage, "-listen and -connect, or -- CMD, are required"},
		{[]string{"tap", "-o", "x", "-listen", "127.0.0.1:0", "--", "true"}, exitUsage, "take no command"},
	} {
		out, errOut, code := framedump(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) || out != "" {
			t.Errorf("framedump %q: exit %d, stdout %q, stderr %q; want exit %d and %q on stderr", tc.args, code, out, errOut, tc.code, tc.msg)
		}
	}
}

// The exit status says how the input ended: 0 clean, 1 violation or
// truncation.
func TestExitStatus(t *testing.T) {
	for name, want := range map[string]int{
		"json-call":         exitClean,
		"failed-source-rst": exitClean,
		"truncated":         exitViolation,
	} {
		if _, _, code := framedump(captures + "/" + name); code != want {
			t.Errorf("%s: exit %d, want %d", name, code, want)
		}
	}
}
