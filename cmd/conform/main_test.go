package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// asMain makes the test binary act as the conform command when it is
// spawned by `conform self` (os.Executable is the test binary here), so
// that the test runs the real exec paths: `serve -stdio` and `driver`.
const asMain = "CONFORM_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	// A race-enabled binary sleeps a second when it exits (GORACE
	// atexit_sleep_ms); self spawns one per vector.
	if err := os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")); err != nil {
		panic(err)
	}
	if os.Getenv(asMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSelf: framerpc's own server and client pass every vector they are
// given, in both roles, over TCP, a Unix socket and stdio (issue 15: `conform
// self` passes 100%).
func TestSelf(t *testing.T) {
	t.Setenv(asMain, "1")
	var out, errOut bytes.Buffer
	status := run([]string{"self", "-json", "-timeout", "20s"}, &out, &errOut)
	var sum struct {
		Summary                bool
		Passed, Failed, NotRun int
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec struct {
			Outcome, Role, Transport, Detail string
			TcID                             int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if rec.Outcome == "" {
			_ = json.Unmarshal([]byte(line), &sum)
			continue
		}
		seen[rec.Role+"/"+rec.Transport]++
		if rec.Outcome != "PASS" {
			t.Errorf("%s", line)
		}
	}
	if status != 0 || !sum.Summary || sum.Failed != 0 || sum.NotRun != 0 {
		t.Fatalf("status %d, summary %+v; stderr:\n%s", status, sum, errOut.String())
	}
	// Every role over every transport, each with all of its vectors.
	for _, rt := range []string{"server/tcp", "server/unix", "server/stdio", "client/tcp", "client/unix"} {
		if seen[rt] == 0 || seen[rt] != seen[rt[:strings.Index(rt, "/")]+"/tcp"] {
			t.Errorf("%s played %d vectors (%v)", rt, seen[rt], seen)
		}
	}
}

// TestFailureReport: a real server set up wrongly (it grants nothing) run
// through `conform server -exec` exits 1 and names, for a vector that needs
// the grants, the tcId, the rules and the first differing byte with both
// sides' bytes; a usage error exits 2.
func TestFailureReport(t *testing.T) {
	t.Setenv(asMain, "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	status := run([]string{"server", "-timeout", "2s", "-tc", "conv:100,conv:1", "-exec", shellQuote(exe) + " serve -stdio -grant none"}, &out, &errOut)
	if status != 1 {
		t.Fatalf("status %d, want 1; output:\n%s%s", status, out.String(), errOut.String())
	}
	text := out.String()
	for _, re := range []string{
		`(?m)^PASS server/stdio conversations\.json tcId=1 `,
		`(?m)^FAIL server/stdio conversations\.json tcId=100 rules=\[RPC-25 RPC-40 RPC-22 RPC-21\] ".*": server bytes: first differing byte at offset \d+: got [0-9a-f]{2} want [0-9a-f]{2} \(the length field of frame 1, Header, at offset 0\)$`,
		`(?m)^    got  @\d+:( [0-9a-f]{2}| \[[0-9a-f]{2}\])+`,
		`(?m)^    want @\d+:`,
		`(?m)^1 passed, 1 failed$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("no line matches %s in:\n%s", re, text)
		}
	}
	// A race the race detector reports in a spawned implementation fails
	// the vector even though the bytes are right.
	out.Reset()
	// The report's first line, then stacks longer than the kept tail.
	racy := `printf 'WARNING: DATA' >&2; printf ' RACE\n%05000d\n' 0 >&2; exec ` + shellQuote(exe) + " serve -stdio"
	if status := run([]string{"server", "-tc", "conv:1", "-exec", racy}, &out, &errOut); status != 1 ||
		!strings.Contains(out.String(), "tcId=1 ") || !strings.Contains(out.String(), "reported a data race") {
		t.Fatalf("status %d for an implementation reporting a race:\n%s", status, out.String())
	}
	if status := run([]string{"server"}, &out, &errOut); status != exitUsage {
		t.Fatalf("no target: status %d, want %d", status, exitUsage)
	}
	if status := run([]string{"server", "-vectors", t.TempDir(), "-exec", "true"}, &out, &errOut); status != exitUsage {
		t.Fatalf("no vectors: status %d, want %d", status, exitUsage)
	}
}

// TestConnect: with -connect the main address serves the vectors of the
// full grant list; a vector that needs another list is NOTRUN, with the flag
// that would run it, and fails the run until -connect-grant gives it a
// server.
func TestConnect(t *testing.T) {
	var errOut bytes.Buffer
	full, err := startServing(nil, "127.0.0.1:0", &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer full.stop()
	none, err := startServing([]string{}, "127.0.0.1:0", &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer none.stop()

	var out bytes.Buffer
	args := []string{"server", "-tc", "conv:1,conv:107,hdr:300", "-connect", full.ln.Addr().String()}
	if status := run(args, &out, &errOut); status != 1 {
		t.Fatalf("status %d, want 1:\n%s%s", status, out.String(), errOut.String())
	}
	for _, re := range []string{
		`(?m)^PASS server/tcp conversations\.json tcId=1 `,
		`(?m)^PASS server/tcp header_decode\.json tcId=300 `,
		`(?m)^NOTRUN server/tcp conversations\.json tcId=107 .*: needs a server granting none: give -connect-grant none=ADDR$`,
		`(?m)^2 passed, 0 failed, 1 not run$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("no line matches %s in:\n%s", re, out.String())
		}
	}
	out.Reset()
	args = append(args, "-connect-grant", "none="+none.ln.Addr().String())
	if status := run(args, &out, &errOut); status != 0 {
		t.Fatalf("with -connect-grant: status %d, want 0:\n%s%s", status, out.String(), errOut.String())
	}
}
