package conform

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Outcomes of a vector.
const (
	Pass   = "PASS"
	Fail   = "FAIL"
	NotRun = "NOTRUN"
)

// Result is the outcome of one vector in one role; it is also the -json
// record, one object per line.
type Result struct {
	Outcome   string   `json:"outcome"`
	Role      string   `json:"role"`
	Transport string   `json:"transport"`
	File      string   `json:"file"`
	TcID      int      `json:"tcId"`
	Rules     []string `json:"rules"`
	Comment   string   `json:"comment"`
	Detail    string   `json:"detail,omitempty"`
	// Offset, Got and Want (FAIL on bytes): the first differing byte of
	// the implementation's stream, and both sides' byte there as two hex
	// digits or "end".
	Offset  *int64   `json:"offset,omitempty"`
	Got     string   `json:"got,omitempty"`
	Want    string   `json:"want,omitempty"`
	Context []string `json:"context,omitempty"`
}

// Summary is the last record of a run.
type Summary struct {
	Summary bool `json:"summary"`
	Passed  int  `json:"passed"`
	Failed  int  `json:"failed"`
	NotRun  int  `json:"notRun"`
}

// OK reports whether everything that was asked for passed.
func (s Summary) OK() bool { return s.Failed == 0 && s.NotRun == 0 && s.Passed > 0 }

func (s Summary) String() string {
	line := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.NotRun > 0 {
		line += fmt.Sprintf(", %d not run", s.NotRun)
	}
	return line
}

// Reporter writes results as they come, as text or as JSON lines.
type Reporter struct {
	W    io.Writer
	JSON bool
	sum  Summary
}

// Add records and writes one result.
func (r *Reporter) Add(res Result) {
	switch res.Outcome {
	case Pass:
		r.sum.Passed++
	case Fail:
		r.sum.Failed++
	default:
		r.sum.NotRun++
	}
	if r.JSON {
		b, _ := json.Marshal(res)
		fmt.Fprintf(r.W, "%s\n", b)
		return
	}
	fmt.Fprintln(r.W, res.Line())
	for _, c := range res.Context {
		fmt.Fprintf(r.W, "    %s\n", c)
	}
}

// Summary writes and returns the summary.
func (r *Reporter) Summary() Summary {
	s := r.sum
	s.Summary = true
	if r.JSON {
		b, _ := json.Marshal(s)
		fmt.Fprintf(r.W, "%s\n", b)
	} else {
		fmt.Fprintln(r.W, s.String())
	}
	return s
}

// Line is the result's one-line text form.
func (res Result) Line() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s/%s %s tcId=%d", res.Outcome, res.Role, res.Transport, res.File, res.TcID)
	if res.Outcome != Pass {
		fmt.Fprintf(&sb, " rules=[%s]", strings.Join(res.Rules, " "))
		fmt.Fprintf(&sb, " %q: %s", res.Comment, res.Detail)
	} else {
		fmt.Fprintf(&sb, " %s", res.Comment)
	}
	return sb.String()
}

func newResult(role, transport string, c Case) Result {
	return Result{Role: role, Transport: transport, File: c.File, TcID: c.TcID, Rules: c.Rules, Comment: c.Comment}
}

func (res *Result) setFailure(f *Failure) {
	res.Outcome = Fail
	res.Detail = f.Detail
	res.Context = f.Context
	if f.Offset >= 0 {
		off := f.Offset
		res.Offset = &off
		res.Got, res.Want = byteName(f.Got), byteName(f.Want)
	}
}
