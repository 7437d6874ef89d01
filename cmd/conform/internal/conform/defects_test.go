package conform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func loadCases(t *testing.T) (server, client Cases) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	server, client, err := Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "testvectors"))
	if err != nil {
		t.Fatal(err)
	}
	return server, client
}

// selectCases picks vectors by file and tcId, failing if one is missing:
// a test that silently played fewer vectors could not fail.
func selectCases(t *testing.T, cases []Case, conv, msg, hdr []int) []Case {
	t.Helper()
	var out []Case
	for _, c := range cases {
		if (c.File == ConversationsFile && slices.Contains(conv, c.TcID)) ||
			(c.File == MessagesFile && slices.Contains(msg, c.TcID)) ||
			(c.File == HeadersFile && slices.Contains(hdr, c.TcID)) {
			out = append(out, c)
		}
	}
	if len(out) != len(conv)+len(msg)+len(hdr) {
		t.Fatalf("found %d of the vectors conv %v msg %v header %v", len(out), conv, msg, hdr)
	}
	return out
}

// results runs play and decodes the -json records it writes.
func results(t *testing.T, play func(*Reporter)) (map[string]Result, Summary) {
	t.Helper()
	var buf bytes.Buffer
	r := &Reporter{W: &buf, JSON: true}
	play(r)
	r.Summary()
	out := map[string]Result{}
	var sum Summary
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		var res Result
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.Outcome == "" {
			if err := json.Unmarshal(raw, &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		out[fmt.Sprintf("%s:%d", res.File, res.TcID)] = res
	}
	return out, sum
}

// toyServerVectors are vectors the correct toy server passes: enough to
// reach each planted defect and show the toy is otherwise right.
var (
	toyServerConv = []int{1, 2, 3, 4, 8, 9, 20, 21, 100, 106, 107, 108}
	toyServerMsg  = []int{400, 407, 413, 414}
	toyServerHdr  = []int{110, 300}
	toyGrantSets  = []string{"trailer,multipart", "trailer", "none"}
)

// TestPlantedServerDefects: each defect of issue 15 point 7, planted in an
// otherwise correct server, fails the vector that exists to catch it, with
// that vector's rule; without the defect the same server passes them all.
func TestPlantedServerDefects(t *testing.T) {
	server, _ := loadCases(t)
	cases := selectCases(t, server.Play, toyServerConv, toyServerMsg, toyServerHdr)
	opts := Options{Timeout: 2 * time.Second}
	play := func(s toyServer) (map[string]Result, Summary) {
		target := toyTarget(t, s, toyGrantSets...)
		return results(t, func(r *Reporter) { RunServer(r, opts, "tcp", cases, target) })
	}

	t.Run("correct", func(t *testing.T) {
		t.Parallel()
		res, sum := play(toyServer{})
		if sum.Failed != 0 || sum.NotRun != 0 || sum.Passed != len(cases) {
			for _, r := range res {
				if r.Outcome != Pass {
					t.Errorf("%s", r.Line())
				}
			}
			t.Fatalf("the correct toy server: %v", sum)
		}
	})
	for _, d := range []struct {
		name   string
		server toyServer
		// the vector that must fail, and a rule it must cite
		file string
		tcID int
		rule string
	}{
		{"answers an unknown endpoint without consuming its body", toyServer{noDrainUnknown: true}, ConversationsFile, 4, "RPC-15"},
		{"reads a JSON body only up to its closing brace", toyServer{jsonToBrace: true}, ConversationsFile, 20, "RPC-16"},
		{"takes a Data frame for a request header", toyServer{anyFrameType: true}, MessagesFile, 400, "MSG-4"},
		{"takes a Header frame inside a Data message", toyServer{anyFrameType: true}, MessagesFile, 414, "MSG-4"},
		{"grants an extension the client did not ask for", toyServer{grantUnasked: true}, ConversationsFile, 106, "RPC-25"},
		{"sends a Trailer on a connection that negotiated none", toyServer{trailerAlways: true}, ConversationsFile, 107, "RPC-26"},
		{"lets a repeated header member through", toyServer{lenientHeader: true}, HeadersFile, 300, "RPC-5"},
		// The checks that leave a server room must not leave it more.
		{"ends the connection after a RequestError", toyServer{closeAfterFail: true}, ConversationsFile, 4, "RPC-36"},
		{"writes its free error text unlike [RPC-1]", toyServer{rawErrorText: true}, ConversationsFile, 4, "RPC-13"},
	} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			res, sum := play(d.server)
			r, ok := res[fmt.Sprintf("%s:%d", d.file, d.tcID)]
			if !ok {
				t.Fatalf("%s tcId %d was not played", d.file, d.tcID)
			}
			if r.Outcome != Fail {
				t.Fatalf("%s tcId %d: %s, want FAIL", d.file, d.tcID, r.Outcome)
			}
			if !slices.Contains(r.Rules, d.rule) {
				t.Fatalf("the FAIL cites %v, not %s", r.Rules, d.rule)
			}
			if r.Detail == "" {
				t.Fatalf("the FAIL says nothing: %+v", r)
			}
			if sum.Failed == 0 {
				t.Fatalf("summary %v counts no failure", sum)
			}
			t.Logf("%s", r.Line())
			for _, c := range r.Context {
				t.Logf("    %s", c)
			}
		})
	}
}

// TestPlantedClientDefects: a client that takes a stream cut inside its
// body for a complete one fails the truncation vector, one that closes
// without RST the hang-up vector; the same client without the defects
// passes those and the others it is run with.
func TestPlantedClientDefects(t *testing.T) {
	_, client := loadCases(t)
	cases := selectCases(t, client.Play, []int{1, 3, 8, 15, 16}, nil, nil)
	opts := Options{Timeout: 2 * time.Second}

	res, sum := results(t, func(r *Reporter) { RunClient(r, opts, "tcp", cases, toyClient{}) })
	if sum.Failed != 0 || sum.Passed != len(cases) {
		for _, r := range res {
			if r.Outcome != Pass {
				t.Errorf("%s %v", r.Line(), r.Context)
			}
		}
		t.Fatalf("the correct toy client: %v", sum)
	}
	for _, d := range []struct {
		name   string
		client toyClient
		tcID   int
		rule   string
		others []int // vectors the defect must not fail
	}{
		{"takes a truncated stream for a complete one", toyClient{truncatedIsComplete: true}, 15, "ERR-2", []int{1, 3, 8, 16}},
		{"hangs up without RST", toyClient{noHangUp: true}, 1, "RPC-34", []int{15, 16}},
	} {
		t.Run(d.name, func(t *testing.T) {
			res, _ := results(t, func(r *Reporter) { RunClient(r, opts, "tcp", cases, d.client) })
			r := res[fmt.Sprintf("%s:%d", ConversationsFile, d.tcID)]
			if r.Outcome != Fail || !slices.Contains(r.Rules, d.rule) {
				t.Fatalf("tcId %d: %s, want a FAIL citing %s", d.tcID, r.Line(), d.rule)
			}
			for _, id := range d.others {
				if r := res[fmt.Sprintf("%s:%d", ConversationsFile, id)]; r.Outcome != Pass {
					t.Errorf("tcId %d has nothing to do with the defect: %s", id, r.Line())
				}
			}
			t.Logf("%s", r.Line())
			for _, c := range r.Context {
				t.Logf("    %s", c)
			}
		})
	}
}
