package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/testvectors/format"
)

// Every frame and message vector through framedump (-frames and -expect,
// the views shaped like the vectors), checking that framedump reports the
// library's outcome: the class and offset the vector gives, a rule the
// vector cites, the exit status, and, for an input that ends cleanly, a
// clean end. framedump must agree because it decodes with package frame;
// this test is what shows it does [FRAME-9].

// vectorRun runs framedump on in and returns the last NDJSON object (the
// stream's end or error) and the exit status.
func vectorRun(t *testing.T, args []string, in []byte) (map[string]any, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append(args, "-json", "-"), bytes.NewReader(in), &out, &errb)
	if errb.Len() > 0 {
		t.Fatalf("stderr: %s", errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	objs := checkNDJSON(t, vectorSchema, lines[len(lines)-1]+"\n")
	return objs[0], code
}

var vectorSchema = mustSchema()

func checkVectorOutcome(t *testing.T, c format.Common, o format.Outcome, last map[string]any, code int, inLen int) {
	t.Helper()
	kind, class := last["kind"], last["class"]
	if o.ErrorClass == "" {
		if kind != "end" || last["how"] != "eof" || code != exitClean {
			t.Fatalf("tcId %d: want a clean end, got %v (exit %d)", c.TcID, last, code)
		}
		if off := fmt.Sprint(last["offset"]); off != fmt.Sprint(inLen) {
			t.Fatalf("tcId %d: clean end at offset %s, want %d", c.TcID, off, inLen)
		}
		return
	}
	if class != o.ErrorClass {
		t.Fatalf("tcId %d: class %v, want %s (%v)", c.TcID, class, o.ErrorClass, last)
	}
	if off := fmt.Sprint(last["offset"]); off != fmt.Sprint(*o.ErrorOffset) {
		t.Fatalf("tcId %d: %s at offset %s, want %d", c.TcID, o.ErrorClass, off, *o.ErrorOffset)
	}
	rule, _ := last["rule"].(string)
	if !slices.Contains(c.Rules, rule) {
		t.Fatalf("tcId %d: rule %q is not among the vector's %v", c.TcID, rule, c.Rules)
	}
	wantCode, wantKind := exitViolation, "error"
	if o.ErrorClass == "reset" {
		// An RST is a legitimate end, not a violation.
		wantCode, wantKind = exitClean, "end"
	}
	if code != wantCode || kind != wantKind {
		t.Fatalf("tcId %d: %s reported as %v with exit %d, want %s and exit %d", c.TcID, o.ErrorClass, kind, code, wantKind, wantCode)
	}
}

func TestFrameVectors(t *testing.T) {
	f, err := format.Load[format.FrameTest]("../../testvectors/frame_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			in := tc.Input.MustExpand()
			last, code := vectorRun(t, []string{"-frames"}, in)
			checkVectorOutcome(t, tc.Common, tc.Outcome, last, code, len(in))
			n++
		}
	}
	if n != f.NumberOfTests {
		t.Fatalf("%d vectors run, the file has %d", n, f.NumberOfTests)
	}
}

func TestMessageVectors(t *testing.T) {
	f, err := format.Load[format.MessageTest]("../../testvectors/message_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			in := tc.Input.MustExpand()
			last, code := vectorRun(t, []string{"-expect", strings.Join(tc.Expect, ",")}, in)
			checkVectorOutcome(t, tc.Common, tc.Outcome, last, code, len(in))
			n++
		}
	}
	if n != f.NumberOfTests {
		t.Fatalf("%d vectors run, the file has %d", n, f.NumberOfTests)
	}
}
