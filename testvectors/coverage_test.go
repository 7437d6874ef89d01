package testvectors

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// testOnly names the spec rules that no vector can exercise, and why. A rule
// listed here must still be cited by a test (a *_test.go file other than
// this one naming its ID), and every rule not listed here must be cited by a
// vector. This file is excluded from the search for citations, so listing a
// rule here never counts as covering it.
var testOnly = map[string]string{
	// How a receiver behaves after an error (sticky error, no further read,
	// no partial body) is a property of the decoder across calls, not of
	// one input: TestStickyAfterError checks it on every invalid vector.
	"ERR-1": "behaviour after an error, checked across calls",
	// One write per frame and one read per small frame are system-call
	// counts, invisible in the bytes: TestOneWritePerSmallFrame and
	// TestOneReadPerSmallStream count them on every valid vector.
	"FRAME-11": "system-call economy, invisible in the bytes",
	// Segmentation is how the runner delivers every vector (modes in
	// runner_test.go), not a property of one input.
	"FRAME-12": "segmentation applies to every vector",
	// Discarding an unwanted body is a choice of the layer above:
	// TestDiscardKeepsSync skips bodies of the multi-message vectors.
	"MSG-9": "discarding is a receiver's choice, not an input",
	// A handler reading its request body after it returned is behaviour
	// inside a server, not bytes on the wire (rpc tests cover it).
	"RPC-20": "handler behaviour inside the server",
	// Cancellation, idle and progress timeouts depend on timing, which a
	// byte-exact vector cannot express (rpc tests cover them).
	"RPC-33": "cancellation depends on timing",
	"RPC-37": "idle timeout depends on timing",
	"RPC-38": "progress timeout depends on timing",
	"RPC-42": "what a client does when the server closes an idle connection depends on timing",
	// Resource bounds against a hostile peer (section 10.1) are memory
	// and work, invisible in the bytes: frame/bounds_test.go and
	// rpc/bounds_test.go measure them.
	"MSG-10": "memory for a frame's length, measured by allocation",
	"MSG-11": "work per empty frame, measured by allocation and reads",
	"RPC-46": "memory for bodies, measured by allocation",
	"RPC-47": "resources after connections end, measured by goroutines and heap",
}

var ruleRef = regexp.MustCompile(`\[([A-Z]+-[0-9]+)\]`)

// sortRules orders rule IDs by prefix, then number: FRAME-2 before FRAME-10.
func sortRules(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		pi, ni := splitRule(ids[i])
		pj, nj := splitRule(ids[j])
		if pi != pj {
			return pi < pj
		}
		return ni < nj
	})
}

func splitRule(id string) (string, int) {
	k := strings.LastIndexByte(id, '-')
	n, _ := strconv.Atoi(id[k+1:])
	return id[:k], n
}

// repoRoot is the module root: this package is testvectors/ inside it.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above testvectors/: %v", err)
	}
	return root
}

// specRules returns every rule ID written in brackets in the spec.
func specRules(t *testing.T, root string) []string {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join(root, "spec", "PROTOCOL.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range ruleRef.FindAllStringSubmatch(string(spec), -1) {
		seen[m[1]] = true
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sortRules(ids)
	if len(ids) == 0 {
		t.Fatal("no rule IDs found in spec/PROTOCOL.md")
	}
	return ids
}

// vectorRules returns the rule IDs cited by the "rules" arrays of every
// vector file in this directory, whatever its kind.
func vectorRules(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vector files: %v", err)
	}
	cited := map[string][]string{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if rs, ok := x["rules"].([]any); ok {
					for _, r := range rs {
						if s, ok := r.(string); ok && !slices.Contains(cited[s], name) {
							cited[s] = append(cited[s], name)
						}
					}
				}
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	}
	return cited
}

// testSources returns the contents of every *_test.go file of the module
// except this one, by path.
func testSources(t *testing.T, root string) map[string]string {
	t.Helper()
	self, err := filepath.Abs("coverage_test.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" && p != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") || p == self {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ruleWord matches a rule ID as a whole word: FRAME-1 is not cited by a
// mention of FRAME-12.
var ruleWord = regexp.MustCompile(`\b[A-Z]+-[0-9]+\b`)

// citations maps every rule ID the test sources name to the files naming it.
func citations(sources map[string]string) map[string][]string {
	out := map[string][]string{}
	for p, src := range sources {
		seen := map[string]bool{}
		for _, id := range ruleWord.FindAllString(src, -1) {
			if !seen[id] {
				seen[id] = true
				out[id] = append(out[id], p)
			}
		}
	}
	return out
}

// TestRuleCoverage: every rule of the spec is cited by a vector, or is on
// the testOnly list and cited by a test; no vector cites a rule the spec
// does not have.
func TestRuleCoverage(t *testing.T) {
	root := repoRoot(t)
	rules := specRules(t, root)
	vec := vectorRules(t)
	tests := citations(testSources(t, root))

	var uncited, notInVectors, staleAllow, testOnlyUncited []string
	for _, id := range rules {
		inVec := len(vec[id]) > 0
		inTests := len(tests[id]) > 0
		_, allowed := testOnly[id]
		switch {
		case !inVec && !inTests:
			uncited = append(uncited, id)
		case !inVec && !allowed:
			notInVectors = append(notInVectors, id)
		case allowed && !inTests:
			testOnlyUncited = append(testOnlyUncited, id)
		}
	}
	for id := range testOnly {
		if !slices.Contains(rules, id) {
			staleAllow = append(staleAllow, id)
		}
	}
	var unknown []string
	for id := range vec {
		if !slices.Contains(rules, id) {
			unknown = append(unknown, id+" (in "+strings.Join(vec[id], ", ")+")")
		}
	}
	sortRules(staleAllow)
	sort.Strings(unknown)
	report := func(what string, ids []string) {
		if len(ids) > 0 {
			t.Errorf("%s (%d): %s", what, len(ids), strings.Join(ids, " "))
		}
	}
	report("rules of spec/PROTOCOL.md cited by no vector and no test", uncited)
	report("rules cited only by tests: add a vector, or list them in testOnly (coverage_test.go) with the reason", notInVectors)
	report("testOnly rules that no test cites", testOnlyUncited)
	report("testOnly rules that are not in the spec", staleAllow)
	report("rules cited by vectors that are not in the spec", unknown)
	t.Logf("%d spec rules; %d cited by vectors", len(rules), len(vec))
}
