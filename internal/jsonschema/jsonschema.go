// Package jsonschema is a JSON Schema (draft 2020-12) validator for
// exactly the keywords this module's schemas use (testvectors/schema and
// cmd/framedump/framedump.schema.json), so that tests check documents
// against their schemas without a dependency. A keyword it does not know
// panics rather than being ignored: a schema cannot silently say more than
// is checked. It is test support, internal so that no package exports it.
package jsonschema

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
	"sync"
)

// Set holds schema documents by their $id, which is their file name, so
// that "$ref": "common.schema.json#/$defs/x" resolves within the set.
type Set map[string]any

// patterns caches compiled "pattern" values: a schema applied to many
// documents (a fuzz target's) would otherwise compile them for every value.
var patterns sync.Map

func compiled(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p)
	patterns.Store(p, re)
	return re
}

var annotationKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true, "$defs": true}

// Load reads schema files; each must declare draft 2020-12 and have its
// file name as $id.
func Load(files ...string) (Set, error) {
	set := Set{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s, err := Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: not a schema object", f)
		}
		if m["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			return nil, fmt.Errorf("%s: not a draft 2020-12 schema", f)
		}
		if m["$id"] != filepath.Base(f) {
			return nil, fmt.Errorf("%s: $id %v is not the file name", f, m["$id"])
		}
		set[filepath.Base(f)] = m
	}
	return set, nil
}

// Decode parses one JSON document keeping numbers exact (json.Number), as
// Validate expects them.
func Decode(data []byte) (any, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Validate checks doc against the schema whose $id is id and returns the
// reasons it does not match, none if it does.
func (s Set) Validate(id string, doc any) []string {
	root, ok := s[id]
	if !ok {
		return []string{fmt.Sprintf("schema %q not loaded", id)}
	}
	v := &validator{set: s}
	v.check(id, root, doc, "$")
	return v.errs
}

type validator struct {
	set  Set
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
		if isStr && !compiled(kv.(string)).MatchString(str) {
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
