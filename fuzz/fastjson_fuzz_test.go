package fuzz

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/internal/fastjson"
)

type fjScalars struct {
	I   int
	I8  int8
	U16 uint16
	U64 uint64
	F32 float32
	F64 float64
	S   string
	B   bool
}

// fjNode is recursive and has fields whose names fold together.
type fjNode struct {
	Name string `json:"name"`
	Tags []string
	Kids []fjNode
	Next *fjNode
	PP   **int8 `json:"pp,omitempty"`
	Foo  int
	Foo2 int `json:"foo"`
}

// fjTargets make the destinations every input is decoded into, twice:
// zero values, and values with non-nil pointers and slices whose spare
// capacity holds stale elements, which encoding/json decodes into.
var fjTargets = []func() any{
	func() any { return new(fjScalars) },
	func() any { return &fjScalars{I: 1, I8: -2, U16: 3, U64: 4, F32: 5.5, F64: -0.25, S: "old", B: true} },
	func() any { return new(fjNode) },
	func() any {
		x := int8(7)
		px := &x
		kids := []fjNode{{Name: "stale", Tags: []string{"t"}, Next: &fjNode{Foo: 9}}, {Foo2: 3}, {}}
		return &fjNode{Name: "old", Tags: []string{"a", "b", "c"}[:1], Kids: kids[:1], Next: &fjNode{Name: "next"}, PP: &px, Foo: 1}
	},
	func() any {
		s := []fjScalars{{S: "a", I: 1}, {B: true}, {F32: 2}}
		s = s[:0]
		return &s
	},
	func() any {
		s := "old"
		p := &s
		return &p
	},
	func() any { return new([][]float32) },
}

var fjSeeds = []string{
	`{"I":1,"I8":-128,"U16":65535,"U64":18446744073709551615,"F32":3.4028235e38,"F64":-0,"S":"x","B":true}`,
	`{"name":"n","Tags":["a"],"Kids":[{"name":"k","Kids":[]}],"Next":{"Next":null},"pp":5,"FOO":1,"foo":2}`,
	`[{"S":"a"},null,{"I":2}]`,
	`[[1.5,-0],[],null]`,
	`"str"`,
	`null`,
	`{}`,
	`[]`,
	`{"I":1.0}`,
	`{"U16":-0}`,
	`{"F32":1e39}`,
	`{"F32":1.000000059604644776}`,
	`{"name":"\ud800\u0041\ud83d\ude00\"\\"}`,
	"{\"name\":\"\xff\xc3\"}",
	"{\"\u212aids\":[{}]}",
	`{"\u004eame":"esc"}`,
	`{"zzz":{"a":[1,{"b":"]}"}]},"name":"after"}`,
	`{"Tags":["a","b"],"Tags":["c"]}`,
	" \t\r\n{ \"I\" : 1 } \n",
	`{"I":1,}`,
	`{"I":1} x`,
	`{"name":"x"`,
	`{"Next":` + strings.Repeat(`{"Next":`, 600) + `{}` + strings.Repeat(`}`, 601),
}

// FuzzFastJSONDecode decodes arbitrary bytes through the fast path,
// falling back to encoding/json when it declines, and checks the outcome
// is exactly encoding/json's: the same error text and the same value,
// down to slice capacities and the stale elements past each length.
func FuzzFastJSONDecode(f *testing.F) {
	for _, s := range fjSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range fjTargets {
			want, got := mk(), mk()
			errWant := json.Unmarshal(data, want)
			var errGot error
			ok := fastjson.Unmarshal(data, got)
			if ok && errWant != nil {
				t.Fatalf("%T: fast path accepted %q, encoding/json fails: %v", want, data, errWant)
			}
			if !ok {
				errGot = json.Unmarshal(data, got)
			}
			if fmt.Sprint(errWant) != fmt.Sprint(errGot) {
				t.Fatalf("%T: input %q\nencoding/json error: %v\nfast path (answered %v) error: %v", want, data, errWant, ok, errGot)
			}
			if d := fjDiff(reflect.ValueOf(want), reflect.ValueOf(got), "v"); d != "" {
				t.Fatalf("%T: input %q, fast path answered %v: %s", want, data, ok, d)
			}
		}
	})
}

// fjDiff returns the first difference between a and b. Unlike
// reflect.DeepEqual it tells -0 from 0 and compares slice capacities and
// the elements between length and capacity.
func fjDiff(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v != nil %v", path, a.IsNil(), b.IsNil())
		}
		if !a.IsNil() {
			return fjDiff(a.Elem(), b.Elem(), path+".*")
		}
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() || a.Cap() != b.Cap() {
			return fmt.Sprintf("%s: nil %v len %d cap %d != nil %v len %d cap %d",
				path, a.IsNil(), a.Len(), a.Cap(), b.IsNil(), b.Len(), b.Cap())
		}
		fa, fb := a.Slice(0, a.Cap()), b.Slice(0, b.Cap())
		for i := range a.Cap() {
			if d := fjDiff(fa.Index(i), fb.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if d := fjDiff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: map differs", path)
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Sprintf("%s: %v != %v", path, a.Float(), b.Float())
		}
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Sprintf("%s: %q != %q", path, a.String(), b.String())
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Sprintf("%s: %v != %v", path, a.Bool(), b.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Sprintf("%s: %d != %d", path, a.Int(), b.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return fmt.Sprintf("%s: %d != %d", path, a.Uint(), b.Uint())
		}
	}
	return ""
}
