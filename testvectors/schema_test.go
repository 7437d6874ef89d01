package testvectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// A JSON Schema (draft 2020-12) validator for exactly the keywords
// schema/*.schema.json use, so that the schemas are checked against the
// files in every `go test` without a dependency. A keyword it does not know
// fails the test rather than being ignored: a schema cannot silently say
// more than is checked.

type schemaSet map[string]any // by $id (file name)

var annotationKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true, "$defs": true}

func loadSchemas(t *testing.T) schemaSet {
	t.Helper()
	files, err := filepath.Glob("schema/*.schema.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas: %v", err)
	}
	set := schemaSet{}
	for _, f := range files {
		var s map[string]any
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Fatalf("%s: not a draft 2020-12 schema", f)
		}
		if s["$id"] != filepath.Base(f) {
			t.Fatalf("%s: $id %v is not the file name", f, s["$id"])
		}
		set[filepath.Base(f)] = s
	}
	return set
}

type validator struct {
	set  schemaSet
	errs []string
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

// resolve follows a $ref relative to the schema document doc.
func (v *validator) resolve(doc, ref string) (string, any) {
	file, frag, _ := strings.Cut(ref, "#")
	if file == "" {
		file = doc
	}
	node, ok := v.set[file]
	if !ok {
		panic("schema: unknown $ref file " + ref)
	}
	for _, p := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if p == "" {
			continue
		}
		node = node.(map[string]any)[p]
		if node == nil {
			panic("schema: dangling $ref " + ref)
		}
	}
	return file, node
}

func jsonType(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !strings.ContainsAny(x.String(), ".eE") {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", x)
}

func num(x any) (float64, bool) {
	n, ok := x.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func equalJSON(a, b any) bool {
	if na, ok := a.(json.Number); ok {
		nb, ok := b.(json.Number)
		fa, _ := na.Float64()
		fb, _ := nb.Float64()
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

// valid reports whether x matches schema s (of document doc), recording
// the reasons when record is set.
func (v *validator) valid(doc string, s any, x any, path string, record bool) bool {
	sub := &validator{set: v.set}
	sub.check(doc, s, x, path)
	if record {
		v.errs = append(v.errs, sub.errs...)
	}
	return len(sub.errs) == 0
}

func (v *validator) check(doc string, s any, x any, path string) {
	switch s := s.(type) {
	case bool:
		if !s {
			v.fail(path, "false schema")
		}
		return
	case map[string]any:
		for k, kv := range s {
			if annotationKeywords[k] {
				continue
			}
			v.keyword(doc, s, k, kv, x, path)
		}
	default:
		panic(fmt.Sprintf("schema: %T is not a schema", s))
	}
}

func (v *validator) keyword(doc string, s map[string]any, k string, kv any, x any, path string) {
	obj, isObj := x.(map[string]any)
	arr, isArr := x.([]any)
	str, isStr := x.(string)
	switch k {
	case "$ref":
		d, node := v.resolve(doc, kv.(string))
		v.check(d, node, x, path)
	case "type":
		if got := jsonType(x); got != kv && !(kv == "number" && got == "integer") {
			v.fail(path, "type %s, want %v", got, kv)
		}
	case "enum":
		for _, e := range kv.([]any) {
			if equalJSON(e, x) {
				return
			}
		}
		v.fail(path, "%v not in %v", x, kv)
	case "const":
		if !equalJSON(kv, x) {
			v.fail(path, "%v is not %v", x, kv)
		}
	case "pattern":
		if isStr && !regexp.MustCompile(kv.(string)).MatchString(str) {
			v.fail(path, "%.40q does not match %s", str, kv)
		}
	case "minLength":
		if n, _ := num(kv); isStr && float64(len([]rune(str))) < n {
			v.fail(path, "shorter than %v", kv)
		}
	case "minimum", "maximum":
		if f, ok := num(x); ok {
			lim, _ := num(kv)
			if (k == "minimum" && f < lim) || (k == "maximum" && f > lim) {
				v.fail(path, "%v beyond %s %v", x, k, kv)
			}
		}
	case "minItems":
		if n, _ := num(kv); isArr && float64(len(arr)) < n {
			v.fail(path, "fewer than %v items", kv)
		}
	case "uniqueItems":
		if isArr && kv == true {
			for i := range arr {
				for j := range i {
					if equalJSON(arr[i], arr[j]) {
						v.fail(path, "items %d and %d are equal", j, i)
					}
				}
			}
		}
	case "items":
		for i, e := range arr {
			v.check(doc, kv, e, fmt.Sprintf("%s[%d]", path, i))
		}
	case "properties":
		for name, ps := range kv.(map[string]any) {
			if val, ok := obj[name]; isObj && ok {
				v.check(doc, ps, val, path+"."+name)
			}
		}
	case "additionalProperties":
		if !isObj {
			return
		}
		props, _ := s["properties"].(map[string]any)
		for name, val := range obj {
			if _, ok := props[name]; !ok {
				v.check(doc, kv, val, path+"."+name)
			}
		}
	case "required":
		for _, r := range kv.([]any) {
			if _, ok := obj[r.(string)]; isObj && !ok {
				v.fail(path, "missing %s", r)
			}
		}
	case "dependentRequired":
		for name, deps := range kv.(map[string]any) {
			if _, ok := obj[name]; !isObj || !ok {
				continue
			}
			for _, d := range deps.([]any) {
				if _, ok := obj[d.(string)]; !ok {
					v.fail(path, "%s requires %s", name, d)
				}
			}
		}
	case "allOf":
		for _, sub := range kv.([]any) {
			v.check(doc, sub, x, path)
		}
	case "anyOf", "oneOf":
		n := 0
		for _, sub := range kv.([]any) {
			if v.valid(doc, sub, x, path, false) {
				n++
			}
		}
		if n == 0 || (k == "oneOf" && n > 1) {
			v.fail(path, "%d of the %s alternatives match", n, k)
		}
	case "not":
		if v.valid(doc, kv, x, path, false) {
			v.fail(path, "matches a schema it must not")
		}
	case "if":
		branch := "else"
		if v.valid(doc, kv, x, path, false) {
			branch = "then"
		}
		if b, ok := s[branch]; ok {
			v.check(doc, b, x, path)
		}
	case "then", "else":
		// Handled with "if".
	default:
		panic("schema: keyword " + k + " is not supported by this validator")
	}
}

func validateFile(set schemaSet, data []byte) ([]string, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	name, _ := doc.(map[string]any)["schema"].(string)
	s, ok := set[name]
	if !ok {
		return nil, fmt.Errorf("schema %q not found", name)
	}
	v := &validator{set: set}
	v.check(name, s, doc, "$")
	return v.errs, nil
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
