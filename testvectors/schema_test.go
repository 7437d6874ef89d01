package testvectors

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/framerpc/framerpc/internal/jsonschema"
)

// The schemas are checked against the files in every `go test` with the
// module's small validator (internal/jsonschema), which fails on a keyword
// it does not know.

func loadSchemas(t *testing.T) jsonschema.Set {
	t.Helper()
	files, err := filepath.Glob("schema/*.schema.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas: %v", err)
	}
	set, err := jsonschema.Load(files...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func validateFile(set jsonschema.Set, data []byte) ([]string, error) {
	doc, err := jsonschema.Decode(data)
	if err != nil {
		return nil, err
	}
	obj, _ := doc.(map[string]any)
	name, _ := obj["schema"].(string)
	if _, ok := set[name]; !ok {
		return nil, fmt.Errorf("schema %q not found", name)
	}
	return set.Validate(name, doc), nil
}

// TestFilesMatchSchemas: every vector file validates against the schema it
// names; and the schemas do reject what they must (so a lax schema fails
// here too).
func TestFilesMatchSchemas(t *testing.T) {
	set := loadSchemas(t)
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		errs, err := validateFile(set, data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range errs[:min(len(errs), 10)] {
			t.Errorf("%s: %s", f, e)
		}
	}

	// Broken copies of frame_decode.json that the schema must reject.
	data, err := os.ReadFile("frame_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	mutations := map[string]func(test map[string]any){
		"upper-case hex":             func(m map[string]any) { m["input"] = "0A" },
		"unknown error class":        func(m map[string]any) { m["errorClass"] = "oops"; m["errorOffset"] = 0; m["emittedBytes"] = 0 },
		"valid test without encoded": func(m map[string]any) { delete(m, "encoded") },
		"unknown member":             func(m map[string]any) { m["extra"] = true },
		"errorClass without offset":  func(m map[string]any) { m["errorClass"] = "reset" },
		"bad rule ID":                func(m map[string]any) { m["rules"] = []any{"frame-1"} },
		"pattern with a short sha256": func(m map[string]any) {
			m["input"] = []any{map[string]any{"pattern": "mod251", "start": 0, "length": 1, "sha256": "00"}}
		},
		"result outside the enum":      func(m map[string]any) { m["result"] = "maybe" },
		"acceptable without any error": func(m map[string]any) { m["result"] = "acceptable" },
	}
	for name, mutate := range mutations {
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		// tcId 2 of the first group: a valid, clean-ending test.
		test := doc["testGroups"].([]any)[0].(map[string]any)["tests"].([]any)[1].(map[string]any)
		mutate(test)
		b, _ := json.Marshal(doc)
		errs, err := validateFile(set, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) == 0 {
			t.Errorf("schema accepts a test with %s", name)
		}
	}
}
