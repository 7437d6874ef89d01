package testvectors

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The spec's own shape: its rule index (Appendix B) lists exactly the
// rules the text defines, in their order, each once and with its section;
// every bracketed reference names a rule the text defines; and the text
// stands alone, naming no Go identifier and no file outside the
// repository. Each rule being cited by a vector or a test is
// TestRuleCoverage's job.

// specText returns spec/PROTOCOL.md.
func specText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "spec", "PROTOCOL.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	// sectionHeading is a numbered heading: "## 3. Frame layer", "### 3.1 RST".
	sectionHeading = regexp.MustCompile(`^#{2,3} (\d+(?:\.\d+)?)\.? `)
	// ruleDefinition is a rule stated in the text: a list item, bulleted or
	// numbered, that begins with its ID.
	ruleDefinition = regexp.MustCompile(`^\s*(?:-|\d+\.)\s+\[([A-Z]+-\d+)\]`)
	// indexRow is a row of the rule index.
	indexRow = regexp.MustCompile(`^\| \[([A-Z]+-\d+)\] \| ([^|]+) \| ([0-9.]+) \|$`)
)

type ruleAt struct{ id, section string }

// definedRules returns the rules the text defines, in order, with the
// section each is defined in, and the index rows; the index is Appendix B.
func definedRules(spec string) (defined, index []ruleAt, summaries map[string]string) {
	const indexHeading = "## Appendix B. Rule index"
	body, appendix, _ := strings.Cut(spec, indexHeading)
	section := ""
	for _, line := range strings.Split(body, "\n") {
		if m := sectionHeading.FindStringSubmatch(line); m != nil {
			section = m[1]
		}
		if m := ruleDefinition.FindStringSubmatch(line); m != nil {
			defined = append(defined, ruleAt{m[1], section})
		}
	}
	summaries = map[string]string{}
	for _, line := range strings.Split(appendix, "\n") {
		if m := indexRow.FindStringSubmatch(line); m != nil {
			index = append(index, ruleAt{m[1], m[3]})
			summaries[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return defined, index, summaries
}

// TestRuleIndex: Appendix B lists every rule the text defines, in the
// order of the text, each once, with the section that defines it and a
// summary; no rule is defined twice; every [ID] the spec mentions is
// defined.
func TestRuleIndex(t *testing.T) {
	spec := specText(t)
	defined, index, summaries := definedRules(spec)
	if len(defined) == 0 {
		t.Fatal("no rule definitions found in spec/PROTOCOL.md")
	}
	if len(index) == 0 {
		t.Fatal("spec/PROTOCOL.md has no rule index (Appendix B)")
	}
	seen := map[string]bool{}
	for _, r := range defined {
		if seen[r.id] {
			t.Errorf("%s is defined more than once", r.id)
		}
		seen[r.id] = true
	}
	inIndex := map[string]int{}
	for _, r := range index {
		inIndex[r.id]++
		if inIndex[r.id] == 2 {
			t.Errorf("the rule index lists %s more than once", r.id)
		}
		if !seen[r.id] {
			t.Errorf("the rule index lists %s, which the text does not define", r.id)
		}
		if summaries[r.id] == "" {
			t.Errorf("the rule index has no summary for %s", r.id)
		}
	}
	for _, r := range defined {
		if inIndex[r.id] == 0 {
			t.Errorf("the rule index does not list %s (section %s)", r.id, r.section)
		}
	}
	if !t.Failed() && !slices.Equal(defined, index) {
		for i := range defined {
			if defined[i] != index[i] {
				t.Errorf("rule index row %d is %s (section %s); the text defines %s in section %s at that place", i+1, index[i].id, index[i].section, defined[i].id, defined[i].section)
				break
			}
		}
	}
	for _, m := range ruleRef.FindAllStringSubmatch(spec, -1) {
		if !seen[m[1]] {
			t.Errorf("the spec refers to [%s], which it does not define", m[1])
			seen[m[1]] = true // report once
		}
	}
}

// goIdentifier is a code span naming a Go identifier: a package-qualified
// name (`rpc.ErrReset`, `json.Encoder`), optionally behind a pointer star
// (`*rpc.Error`). Hex bytes, JSON texts and class names never take that
// form.
var goIdentifier = regexp.MustCompile("`\\*?[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*`")

// fileName is a word that names a file by its extension.
var fileName = regexp.MustCompile(`[A-Za-z0-9_./-]+\.(?:md|go|json|sh|bin|lua)\b`)

// TestSpecStandsAlone: the spec names no Go identifier, and no file that
// is not in the repository (the original's notes included).
func TestSpecStandsAlone(t *testing.T) {
	spec := specText(t)
	root := repoRoot(t)
	for _, m := range goIdentifier.FindAllString(spec, -1) {
		t.Errorf("the spec names the Go identifier %s; state the rule in words", m)
	}
	for _, f := range fileName.FindAllString(spec, -1) {
		f = strings.TrimRight(f, ".")
		found := false
		for _, dir := range []string{root, filepath.Join(root, "spec")} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				found = true
			}
		}
		if !found {
			t.Errorf("the spec names the file %s, which is not in the repository", f)
		}
	}
}
