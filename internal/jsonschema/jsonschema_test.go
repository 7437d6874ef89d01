package jsonschema

import (
	"os"
	"path/filepath"
	"testing"
)

func load(t *testing.T, schema string) Set {
	t.Helper()
	f := filepath.Join(t.TempDir(), "s.schema.json")
	if err := os.WriteFile(f, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func doc(t *testing.T, s string) any {
	t.Helper()
	d, err := Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A keyword the validator does not implement must stop the check, never be
// skipped: otherwise a schema could promise what no test checks.
func TestUnknownKeywordFails(t *testing.T) {
	set := load(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"s.schema.json","type":"object","propertyNames":{"pattern":"^a"}}`)
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown keyword was ignored")
		}
	}()
	set.Validate("s.schema.json", doc(t, `{"b":1}`))
}

func TestValidateRejectsAndAccepts(t *testing.T) {
	set := load(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"s.schema.json",
		"type":"object","required":["n"],"additionalProperties":false,
		"properties":{"n":{"type":"integer","minimum":0},"s":{"enum":["a","b"]}}}`)
	for in, ok := range map[string]bool{
		`{"n":1}`:         true,
		`{"n":1,"s":"a"}`: true,
		`{"n":-1}`:        false,
		`{"n":1.5}`:       false,
		`{}`:              false,
		`{"n":1,"x":0}`:   false,
		`{"n":1,"s":"c"}`: false,
	} {
		if errs := set.Validate("s.schema.json", doc(t, in)); (len(errs) == 0) != ok {
			t.Errorf("%s: errors %v, want valid=%v", in, errs, ok)
		}
	}
}
