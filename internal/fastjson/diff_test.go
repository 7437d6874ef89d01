package fastjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/framerpc/framerpc/internal/fastjson"
)

// The tests below hold the fast path to its one promise: wherever it
// answers, the answer is encoding/json's. encoding/json is the oracle; a
// difference is a bug in fastjson unless encoding/json's source says the
// test misread it.

type (
	Level   int8
	Count   uint16
	Celsius float64
	Ratio   float32
	Name    string
	Flag    bool
	Names   []Name
	IntPtr  *int
	Inners  []Inner
)

// Scalars has every basic kind, so that every range check is reachable:
// 128 into int8, -1 into uint16, 1e39 into float32.
type Scalars struct {
	I   int
	I8  int8
	I16 int16
	I32 int32
	I64 int64
	U   uint
	U8  uint8
	U16 uint16
	U32 uint32
	U64 uint64
	UP  uintptr
	F32 float32
	F64 float64
	S   string
	B   bool
}

type Named struct {
	L  Level
	C  Count
	T  Celsius
	R  Ratio
	N  Name
	F  Flag
	NS Names
	PL *Level
	SL []Level
	SC []Count
	NP IntPtr
	NI Inners
}

type Inner struct {
	A int16
	B string
	C []int8
	D *bool
}

// Tagged covers the tag forms. Foo, foo and FOO fold to the same key, so
// a key matching none of them exactly must pick Foo, the first in field
// order; Kiss matches keys spelled with the Kelvin sign or the long s.
type Tagged struct {
	Renamed  int32    `json:"r"`
	Omit     string   `json:"omit,omitempty"`
	OmitF    float64  `json:",omitempty"`
	OmitZero float64  `json:",omitzero"`
	OmitBoth []int    `json:"both,omitempty,omitzero"`
	OmitPtr  *Inner   `json:",omitempty"`
	OmitIn   Inner    `json:"in,omitzero"`
	OmitEIn  Inner    `json:",omitempty"`
	OmitS    []string `json:",omitempty"`
	OmitB    bool     `json:"ob,omitempty"`
	OmitU    uint8    `json:",omitempty"`
	Skip     int      `json:"-"`
	Foo      int
	Foo2     uint8 `json:"foo"`
	FOO      string
	Kiss     bool
	Snake    int8 `json:"snake_case_9"`
	//lint:ignore U1000 given values through reflection, to see that decoding leaves them alone
	hidden map[string]int
	//lint:ignore U1000 given values through reflection, to see that decoding leaves them alone
	count int
	//lint:ignore U1000 given values through reflection, to see that decoding leaves them alone
	note string
}

type Ptrs struct {
	P   *int
	PP  **string
	PPP ***uint32
	PF  *float32
	PI  *Inner
	PS  *[]int64
	SP  []*Inner
	SPP []**int8
}

type Slices struct {
	Ints   []int
	Strs   []string
	Bools  []bool
	F64s   []float64
	Inners []Inner
	Nested [][]int8
	Deep   [][][]string
	PtrEls []*Inner
	U16s   []uint16
}

// Node is recursive through both a slice and a pointer.
type Node struct {
	Name string
	Val  int16
	Kids []Node
	Next *Node
}

// Ping and Pong are mutually recursive.
type Ping struct {
	N    uint8
	Pong *Pong
}

type Pong struct {
	S     string
	Pings []Ping
}

type Outer struct {
	ID   uint32
	In   Inner
	InP  *Inner
	Tag  Tagged
	Anon struct {
		X float32
		Y []struct{ Z *string }
	}
	Nodes []Node
}

// supported are the types the property tests run on.
var supported = []reflect.Type{
	reflect.TypeFor[Scalars](),
	reflect.TypeFor[Named](),
	reflect.TypeFor[Inner](),
	reflect.TypeFor[Tagged](),
	reflect.TypeFor[Ptrs](),
	reflect.TypeFor[Slices](),
	reflect.TypeFor[Node](),
	reflect.TypeFor[Ping](),
	reflect.TypeFor[Outer](),
	reflect.TypeFor[*Tagged](),
	reflect.TypeFor[[]Node](),
	reflect.TypeFor[[]*Inner](),
	reflect.TypeFor[int8](),
	reflect.TypeFor[uint64](),
	reflect.TypeFor[float32](),
	reflect.TypeFor[float64](),
	reflect.TypeFor[string](),
	reflect.TypeFor[bool](),
	reflect.TypeFor[Level](),
	reflect.TypeFor[[]int](),
	reflect.TypeFor[**string](),
	reflect.TypeFor[[][]float32](),
	reflect.TypeFor[Names](),
}

type (
	inner       struct{ X int }
	myByte      uint8
	ptrMarshal  struct{ A int }
	valMarshal  struct{ A int }
	ptrUnmarsh  struct{ A int }
	textUnmarsh struct{ A int }
	textMarshal struct{ A int }
	zeroer      struct{ A int }
	ptrZeroer   struct{ A int }
	badNode     struct {
		Next *badNode
		M    map[string]int
	}
)

func (*ptrMarshal) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }
func (valMarshal) MarshalJSON() ([]byte, error)  { return []byte(`1`), nil }
func (*ptrUnmarsh) UnmarshalJSON([]byte) error   { return nil }
func (*textUnmarsh) UnmarshalText([]byte) error  { return nil }
func (textMarshal) MarshalText() ([]byte, error) { return []byte(`t`), nil }
func (zeroer) IsZero() bool                      { return true }
func (*ptrZeroer) IsZero() bool                  { return true }

// String is no marshaling method: it must not make Name unsupported.
func (n Name) String() string { return string(n) }

// unsupported are types the fast path must decline whole.
var unsupported = []reflect.Type{
	reflect.TypeFor[map[string]int](),
	reflect.TypeFor[any](),
	reflect.TypeFor[[]byte](),
	reflect.TypeFor[[]myByte](),
	reflect.TypeFor[[2]int](),
	reflect.TypeFor[[]any](),
	reflect.TypeFor[json.Number](),
	reflect.TypeFor[json.RawMessage](),
	reflect.TypeFor[complex128](),
	reflect.TypeFor[chan int](),
	reflect.TypeFor[func()](),
	reflect.TypeFor[time.Time](),
	reflect.TypeFor[ptrMarshal](),
	reflect.TypeFor[valMarshal](),
	reflect.TypeFor[ptrUnmarsh](),
	reflect.TypeFor[textUnmarsh](),
	reflect.TypeFor[textMarshal](),
	reflect.TypeFor[struct{ M map[string]int }](),
	reflect.TypeFor[struct{ I any }](),
	reflect.TypeFor[struct{ E error }](),
	reflect.TypeFor[struct{ Inner }](),
	reflect.TypeFor[struct{ *Inner }](),
	reflect.TypeFor[struct{ inner }](),
	reflect.TypeFor[struct{ B []byte }](),
	reflect.TypeFor[struct{ B []myByte }](),
	reflect.TypeFor[struct{ N json.Number }](),
	reflect.TypeFor[struct{ R json.RawMessage }](),
	reflect.TypeFor[struct{ T time.Time }](),
	reflect.TypeFor[struct{ P ptrMarshal }](),
	reflect.TypeFor[struct{ P *ptrMarshal }](),
	reflect.TypeFor[struct{ P valMarshal }](),
	reflect.TypeFor[struct{ P ptrUnmarsh }](),
	reflect.TypeFor[struct{ P []textUnmarsh }](),
	reflect.TypeFor[struct{ P textMarshal }](),
	reflect.TypeFor[struct {
		N int `json:",string"`
	}](),
	reflect.TypeFor[struct {
		S string `json:"s,string"`
	}](),
	reflect.TypeFor[struct {
		A int
		B int `json:"A"`
	}](),
	// Built at run time: go vet rejects the repeated tag in source.
	reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
		{Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
	}),
	reflect.TypeFor[struct {
		E int `json:"é"`
	}](),
	reflect.TypeFor[struct {
		E int `json:"a-b"`
	}](),
	reflect.TypeFor[struct{ Ä int }](),
	reflect.TypeFor[struct {
		Z zeroer `json:",omitzero"`
	}](),
	reflect.TypeFor[struct {
		Z ptrZeroer `json:",omitzero"`
	}](),
	reflect.TypeFor[struct{ A [2]int }](),
	reflect.TypeFor[struct{ C complex64 }](),
	reflect.TypeFor[struct{ C chan int }](),
	reflect.TypeFor[struct{ F func() }](),
	reflect.TypeFor[struct{ P *map[string]int }](),
	reflect.TypeFor[struct{ S [][]byte }](),
	reflect.TypeFor[badNode](),
	reflect.TypeFor[struct {
		Kids []struct{ In *struct{ X any } }
	}](),
}

func TestSupported(t *testing.T) {
	extra := []reflect.Type{
		reflect.TypeFor[uintptr](),
		reflect.TypeFor[int16](),
		reflect.TypeFor[Count](),
		reflect.TypeFor[Flag](),
		reflect.TypeFor[Ratio](),
		reflect.TypeFor[Celsius](),
		reflect.TypeFor[*[]*int](),
		reflect.TypeFor[[]**int](),
		reflect.TypeFor[struct{}](),
		reflect.TypeFor[struct {
			m map[string]int
			c chan int
			f func()
			i any
			b []byte
			N int
		}](),
		reflect.TypeFor[struct {
			Z inner `json:",omitzero"`
		}](),
	}
	for _, typ := range append(supported, extra...) {
		for _, tt := range []reflect.Type{typ, reflect.PointerTo(typ), reflect.SliceOf(typ)} {
			if !fastjson.Supported(tt) {
				t.Errorf("Supported(%v) = false, want true", tt)
			}
		}
	}
	for _, typ := range unsupported {
		for _, tt := range []reflect.Type{typ, reflect.PointerTo(typ), reflect.SliceOf(typ)} {
			if fastjson.Supported(tt) {
				t.Errorf("Supported(%v) = true, want false", tt)
			}
		}
		p := reflect.New(typ)
		for _, in := range []string{`{}`, `null`, `[]`, `0`, `""`, `{"A":1}`} {
			if fastjson.Unmarshal([]byte(in), p.Interface()) {
				t.Errorf("Unmarshal(%#q, *%v) = true, want false", in, typ)
			}
		}
		for _, v := range []any{p.Elem().Interface(), p.Interface()} {
			dst := []byte("pre")
			if out, ok := fastjson.AppendEncode(dst, v); ok || len(out) != len(dst) {
				t.Errorf("AppendEncode(%T) = %q, %v; want it declined", v, out, ok)
			}
		}
	}
}

// fataler is what rapid.T and testing.T share for the checks.
type fataler interface {
	Fatalf(format string, args ...any)
}

// checkDecode decodes data into two deep copies of prior, one with
// json.Unmarshal and one with the fast path falling back to
// json.Unmarshal, and fails unless both end the same. It reports whether
// the fast path answered.
func checkDecode(t fataler, data []byte, prior reflect.Value) bool {
	a, b := deepCopy(prior), deepCopy(prior)
	preA, preB := map[string]uintptr{}, map[string]uintptr{}
	addrs(a, "v", preA)
	addrs(b, "v", preB)

	errA := json.Unmarshal(data, a.Addr().Interface())

	in := bytes.Clone(data)
	ok := fastjson.Unmarshal(in, b.Addr().Interface())
	if !bytes.Equal(in, data) {
		t.Fatalf("Unmarshal changed its input %q to %q", data, in)
	}
	var errB error
	if ok {
		if errA != nil {
			t.Fatalf("%v: fast path accepted %q, encoding/json fails: %v", prior.Type(), data, errA)
		}
		// Decoded strings must not share memory with the input.
		for i := range in {
			in[i] = '#'
		}
	} else {
		errB = json.Unmarshal(data, b.Addr().Interface())
	}
	if fmt.Sprint(errA) != fmt.Sprint(errB) {
		t.Fatalf("%v: input %q, prior %s\nencoding/json error: %v\nfast path (answered %v) error: %v",
			prior.Type(), data, dump(prior), errA, ok, errB)
	}
	if d := diff(a, b, "v", preA, preB); d != "" {
		t.Fatalf("%v: input %q, prior %s\nfast path answered: %v\nencoding/json: %s\nfast path:     %s\nfirst difference: %s",
			prior.Type(), data, dump(prior), ok, dump(a), dump(b), d)
	}
	return ok
}

// checkEncode compares AppendEncode(prefix, v) with json.Encoder. Unless
// v's type is unsupported, the fast path must answer whenever
// encoding/json succeeds.
func checkEncode(t fataler, v any, prefix []byte) {
	var want bytes.Buffer
	errJ := json.NewEncoder(&want).Encode(v)

	dst := append(make([]byte, 0, cap(prefix)), prefix...)
	out, ok := fastjson.AppendEncode(dst, v)
	if len(out) < len(prefix) || !bytes.Equal(out[:len(prefix)], prefix) || !bytes.Equal(dst, prefix) {
		t.Fatalf("%T: AppendEncode(%q) = %q: prefix changed", v, prefix, out)
	}
	if !ok {
		if len(out) != len(prefix) {
			t.Fatalf("%T: declined but returned %q after prefix %q", v, out, prefix)
		}
		if errJ == nil && finite(reflect.ValueOf(v)) && fastjson.Supported(reflect.TypeOf(v)) {
			t.Fatalf("%T: declined a value encoding/json writes as %q: %s", v, want.Bytes(), dumpAny(v))
		}
		return
	}
	if errJ != nil {
		t.Fatalf("%T: encoded %q, encoding/json fails: %v", v, out[len(prefix):], errJ)
	}
	if got := out[len(prefix):]; !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%T: %s\nencoding/json: %q\nfast path:     %q", v, dumpAny(v), want.Bytes(), got)
	}
}

// TestDecodeMatchesStdlib is the main differential property: random and
// often broken inputs into zero or stale destinations.
func TestDecodeMatchesStdlib(t *testing.T) {
	for _, typ := range supported {
		var answered, declined int
		t.Run(typ.String(), rapid.MakeCheck(func(rt *rapid.T) {
			for range 5 {
				g := newGen(rt)
				data := g.input(typ)
				prior := reflect.New(typ).Elem()
				if !g.chance(30) {
					prior = g.value(typ, 0)
				}
				if checkDecode(rt, data, prior) {
					answered++
				} else {
					declined++
				}
			}
		}))
		t.Logf("%v: fast path answered %d, declined %d", typ, answered, declined)
	}
}

// TestDecodeAnswersMarshalOutput keeps the decoding property honest: a
// fast path that declined everything would pass it.
func TestDecodeAnswersMarshalOutput(t *testing.T) {
	for _, typ := range supported {
		t.Run(typ.String(), rapid.MakeCheck(func(rt *rapid.T) {
			g := &gen{t: rt}
			g.wild = g.chance(30)
			v := g.value(typ, 0)
			data, err := json.Marshal(v.Interface())
			if err != nil {
				if tame(v) {
					rt.Fatalf("json.Marshal(%s): %v", dump(v), err)
				}
				return
			}
			if !checkDecode(rt, data, reflect.New(typ).Elem()) && tame(v) {
				rt.Fatalf("%v: declined json.Marshal output %q", typ, data)
			}
		}))
	}
}

// TestEncodeMatchesStdlib compares the bytes of both encoders on random
// values, pointers to them and nil pointers, after a random prefix.
func TestEncodeMatchesStdlib(t *testing.T) {
	for _, typ := range supported {
		t.Run(typ.String(), rapid.MakeCheck(func(rt *rapid.T) {
			g := &gen{t: rt}
			g.wild = g.chance(50)
			g.stale = g.chance(30)
			v := g.value(typ, 0)
			prefix := rapid.SliceOfN(rapid.Byte(), 1, 16).Draw(rt, "prefix")
			if g.chance(50) {
				// Spare capacity lets a wrong implementation write past
				// len(dst) without reallocating.
				prefix = append(make([]byte, 0, len(prefix)+g.intn(64)), prefix...)
			}
			checkEncode(rt, v.Interface(), prefix)
			checkEncode(rt, v.Addr().Interface(), prefix)
			if g.chance(10) {
				checkEncode(rt, reflect.Zero(reflect.PointerTo(typ)).Interface(), prefix)
			}
		}))
	}
}

type fold struct {
	A  int
	A2 int `json:"a"`
}

type folds struct {
	Foo  int
	Foo2 int `json:"foo"`
	FOO  int
	Fo_o int `json:"fo_O"`
}

func TestDecodeCases(t *testing.T) {
	stale := func() []Inner {
		s := []Inner{{A: 9, B: "old", C: []int8{1, 2}}, {A: 8, D: new(bool)}, {B: "x"}, {A: 7}}
		return s[:0]
	}
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	cases := []struct {
		name string
		in   string
		dst  func() any // a pointer to the prior value
	}{
		{"exact then fold", `{"a":1,"A":2}`, func() any { return new(struct{ A int }) }},
		{"fold then exact", `{"A":2,"a":1}`, func() any { return new(struct{ A int }) }},
		{"exact beats fold", `{"a":1,"A":2}`, func() any { return new(fold) }},
		{"fold picks first field", `{"fOO":5}`, func() any { return &Tagged{Foo: 1, Foo2: 2, FOO: "3"} }},
		{"fold picks first of three", `{"fOO":5,"FO_O":6}`, func() any { return new(folds) }},
		{"exact lower tag", `{"foo":5,"FOO":"x","Foo":6}`, func() any { return new(Tagged) }},
		{"fold on tag name", `{"R":1,"SNAKE_CASE_9":2,"OB":true}`, func() any { return new(Tagged) }},
		{"kelvin sign", "{\"\u212aiss\":true}", func() any { return new(Tagged) }},
		{"long s", "{\"Ki\u017f\u017f\":true}", func() any { return new(Tagged) }},
		{"escaped key", `{"\u0053":"x","\u004b\u0069ss":true}`, func() any { return new(Scalars) }},
		{"skipped and unexported keys", `{"Skip":1,"-":2,"count":3,"hidden":{},"note":"n"}`, func() any { return new(Tagged) }},
		{"empty array into nil slice", `{"Ints":[]}`, func() any { return new(Slices) }},
		{"empty array into stale slice", `{"Ints":[]}`, func() any { return &Slices{Ints: make([]int, 2, 4)} }},
		{"null into slice", `{"Ints":null}`, func() any { return &Slices{Ints: []int{1}} }},
		{"null into pointer", `{"P":null,"PP":null}`, func() any { p, s := 1, "s"; ps := &s; return &Ptrs{P: &p, PP: &ps} }},
		{"null into scalars", `{"S":null,"I":null,"B":null,"F32":null}`, func() any { return &Scalars{S: "keep", I: 1, B: true, F32: 2} }},
		{"null into struct", `{"In":null}`, func() any { return &Outer{In: Inner{A: 1}} }},
		{"top-level null into pointer", `null`, func() any { s := "s"; p := &s; return &p }},
		{"top-level null into string", `null`, func() any { s := "keep"; return &s }},
		{"merge into stale elements", `[{"A":1},{"B":"new"}]`, func() any { s := stale(); return &s }},
		{"null element keeps stale", `[null,{}]`, func() any { s := stale(); return &s }},
		{"grow past stale", `[{},{},{},{},{"A":5}]`, func() any { s := stale(); return &s }},
		{"stale pointer reused", `{"PP":"x","SP":[{"A":1}]}`, func() any {
			s := "old"
			ps := &s
			sp := []*Inner{{B: "keep"}}
			return &Ptrs{PP: &ps, SP: sp[:0]}
		}},
		{"duplicate keys", `{"Ints":[1,2,3],"Ints":[4],"Strs":["a"],"Strs":null}`, func() any { return new(Slices) }},
		{"int from 1.0", `{"I":1.0}`, func() any { return new(Scalars) }},
		{"int from 1e2", `{"I":1e2}`, func() any { return new(Scalars) }},
		{"uint from -0", `{"U":-0}`, func() any { return new(Scalars) }},
		{"int from -0", `{"I":-0}`, func() any { return &Scalars{I: 5} }},
		{"float -0", `{"F64":-0,"F32":-0.0}`, func() any { return new(Scalars) }},
		{"int8 overflow", `{"I8":128}`, func() any { return new(Scalars) }},
		{"int8 min", `{"I8":-128}`, func() any { return new(Scalars) }},
		{"uint64 max", `{"U64":18446744073709551615,"I64":-9223372036854775808}`, func() any { return new(Scalars) }},
		{"uint64 overflow", `{"U64":18446744073709551616}`, func() any { return new(Scalars) }},
		{"float32 overflow", `{"F32":1e39}`, func() any { return new(Scalars) }},
		{"float32 max rounds down", `{"F32":3.4028235677973362e38}`, func() any { return new(Scalars) }},
		{"float32 max rounds up", `{"F32":3.4028235677973366e38}`, func() any { return new(Scalars) }},
		{"float32 double rounding", `{"F32":1.000000059604644776,"F64":1.000000059604644776}`, func() any { return new(Scalars) }},
		{"float64 overflow", `{"F64":1e400}`, func() any { return new(Scalars) }},
		{"float64 underflow", `{"F64":1e-400,"F32":1e-50}`, func() any { return &Scalars{F64: 1, F32: 1} }},
		{"type error after a write", `{"S":"new","I":"x","B":true}`, func() any { return &Scalars{S: "old"} }},
		{"type error allocates pointer", `{"P":"x"}`, func() any { return new(Ptrs) }},
		{"string escapes", `{"S":"\n\"\\\/\b\f\r\t\u00e9\ud83d\ude00"}`, func() any { return new(Scalars) }},
		{"lone surrogates", `{"Strs":["\ud800","\udc00","\ud800\u0041","\ud800\ud800","\ud800\udc00"]}`, func() any { return new(Slices) }},
		{"invalid UTF-8", "{\"S\":\"a\xffb\xc3\xed\xa0\x80\"}", func() any { return new(Scalars) }},
		{"raw U+2028", "{\"S\":\"\u2028\u2029\"}", func() any { return new(Scalars) }},
		{"control byte in string", "{\"S\":\"a\x01\"}", func() any { return &Scalars{S: "old"} }},
		{"whitespace", " \t\r\n{ \"S\" :\t\"x\"\r,\n\"Ints\" : [ 1 , 2 ] } \n", func() any { return new(Scalars) }},
		{"trailing garbage", `{"S":"x"} x`, func() any { return &Scalars{S: "old"} }},
		{"trailing comma", `{"S":"x",}`, func() any { return &Scalars{S: "old"} }},
		{"truncated", `{"S":"x","I":1`, func() any { return &Scalars{S: "old"} }},
		{"empty input", ``, func() any { return new(Scalars) }},
		{"deep unknown value", `{"zzz":` + deep(1000, "[", "]") + `,"S":"x"}`, func() any { return new(Scalars) }},
		{"deep unknown object", `{"zzz":` + strings.Repeat(`{"a":`, 1000) + `1` + strings.Repeat(`}`, 1000) + `}`, func() any { return new(Scalars) }},
		{"too deep for encoding/json", `{"zzz":` + deep(10001, "[", "]") + `}`, func() any { return &Scalars{S: "old"} }},
		{"deep recursive type", strings.Repeat(`{"Next":`, 700) + `{"Name":"x"}` + strings.Repeat(`}`, 700), func() any { return new(Node) }},
		{"deep recursive kids", strings.Repeat(`{"Kids":[`, 600) + `{}` + strings.Repeat(`]}`, 600), func() any { return new(Node) }},
		{"recursive", `{"Kids":[{"Kids":[{}]}],"Next":{"Name":"n","Next":null}}`, func() any { return new(Node) }},
		{"named types", `{"L":-5,"C":7,"T":1.5,"R":2.5,"N":"n","F":true,"NS":["a"],"PL":1,"SL":[1],"SC":[2]}`, func() any { return new(Named) }},
		{"omit tags decode", `{"omit":"o","both":[1],"in":{"A":1},"OmitZero":-0}`, func() any { return new(Tagged) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkDecode(t, []byte(c.in), reflect.ValueOf(c.dst()).Elem())
		})
	}

	// json.Unmarshal reports these destinations as errors.
	for _, dst := range []any{nil, (*Scalars)(nil), Scalars{}, 0} {
		if fastjson.Unmarshal([]byte(`{}`), dst) {
			t.Errorf("Unmarshal into %#v answered; encoding/json fails", dst)
		}
	}
}

func TestEncodeCases(t *testing.T) {
	s := "p"
	cases := []any{
		nil,
		(*Scalars)(nil),
		Scalars{S: "<a&b>\u2028\u2029\x00\x1f\x7f\"\\/é\xff\xc3", F32: 1e21, F64: 1e-7, UP: math.MaxUint64 >> 1},
		Scalars{F64: 1e21, F32: 1e-7},
		Scalars{F64: negZero, F32: float32(negZero)},
		Scalars{F64: math.NaN()},
		Scalars{F32: float32(math.Inf(-1))},
		Tagged{OmitZero: negZero, OmitF: negZero, OmitBoth: []int{}, OmitS: []string{}, OmitIn: Inner{C: []int8{}}},
		Tagged{OmitPtr: &Inner{}, OmitU: 1, OmitB: true, Skip: 7},
		Ptrs{PP: new(*string), PPP: new(**uint32), PS: new([]int64), SP: []*Inner{nil, {}}},
		&Ptrs{PP: func() **string { p := &s; return &p }()},
		Slices{Ints: []int{}, Nested: [][]int8{nil, {}}, Deep: [][][]string{{nil}}},
		[]Node{{Kids: []Node{{}}, Next: &Node{Name: "n"}}},
		Named{NS: Names{"x"}, SL: []Level{-1}},
		"\xed\xa0\x80",
		float32(0.1),
		3.0,
		1e20,
		uintptr(7),
		Level(-3),
	}
	for _, v := range cases {
		checkEncode(t, v, []byte("prefix"))
	}

	// encoding/json reports the cycle after 1000 levels; the fast path
	// must decline rather than recurse without bound.
	n := &Node{Name: "loop"}
	n.Next = n
	checkEncode(t, n, []byte("prefix"))
}

// TestConcurrentFirstUse builds the codec of fresh types from several
// goroutines at once; run it under -race.
func TestConcurrentFirstUse(t *testing.T) {
	type raceB struct {
		S string
		A []struct{ B *raceB }
	}
	type raceA struct {
		N []int
		B *raceB
	}
	in := []byte(`{"N":[1,2],"B":{"S":"s","A":[{"B":{"S":"t","A":[]}}]}}`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var want, got raceA
			if err := json.Unmarshal(in, &want); err != nil {
				t.Error(err)
				return
			}
			if !fastjson.Unmarshal(in, &got) {
				if err := json.Unmarshal(in, &got); err != nil {
					t.Error(err)
					return
				}
			}
			if d := diff(reflect.ValueOf(want), reflect.ValueOf(got), "v", nil, nil); d != "" {
				t.Errorf("decode: %s", d)
			}
			wantOut, _ := json.Marshal(&want)
			if out, ok := fastjson.AppendEncode(nil, &got); ok && !bytes.Equal(out, append(wantOut, '\n')) {
				t.Errorf("encode: %q, want %q\n", out, wantOut)
			}
		})
	}
	wg.Wait()
}

// gen draws values and JSON texts from rapid. Its modes are drawn once,
// so a case is tame throughout (the fast path should answer) or wild.
type gen struct {
	t     *rapid.T
	wild  bool // any string bytes, non-finite floats, invalid and out-of-range inputs
	stale bool // slices get spare capacity holding non-zero elements
	ws    bool // whitespace between JSON tokens
}

func newGen(t *rapid.T) *gen {
	g := &gen{t: t}
	g.wild = g.chance(50)
	g.stale = g.chance(70)
	g.ws = g.chance(30)
	return g
}

// maxGenDepth bounds recursive types.
const maxGenDepth = 3

func (g *gen) intn(n int) int { return rapid.IntRange(0, n-1).Draw(g.t, "n") }

// chance is true with about pct percent; it shrinks towards false.
func (g *gen) chance(pct int) bool { return g.intn(100) >= 100-pct }

func pick[E any](g *gen, xs []E) E { return xs[g.intn(len(xs))] }

func (g *gen) value(typ reflect.Type, depth int) reflect.Value {
	v := reflect.New(typ).Elem()
	g.fill(v, depth)
	return v
}

func (g *gen) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(g.chance(50))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		v.SetInt(rapid.Int64Range(-1<<(bits-1), 1<<(bits-1)-1).Draw(g.t, "int"))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(rapid.Uint64Range(0, 1<<v.Type().Bits()-1).Draw(g.t, "uint"))
	case reflect.Float32:
		v.SetFloat(float64(g.float32()))
	case reflect.Float64:
		v.SetFloat(g.float64())
	case reflect.String:
		v.SetString(g.str())
	case reflect.Pointer:
		if depth >= maxGenDepth || g.chance(25) {
			return
		}
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if g.chance(15) {
			return
		}
		n := 0
		if depth < maxGenDepth {
			n = g.intn(4)
		}
		c := n
		if g.stale {
			c += g.intn(3)
		}
		s := reflect.MakeSlice(v.Type(), c, c)
		for i := range c {
			g.fill(s.Index(i), depth+1)
		}
		v.Set(s.Slice(0, n))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				g.fill(v.Field(i), depth)
			} else if g.stale {
				g.fillUnexported(v.Field(i))
			}
		}
	}
}

// fillUnexported gives unexported fields values the fast path must keep.
func (g *gen) fillUnexported(f reflect.Value) {
	f = writable(f)
	switch f.Kind() {
	case reflect.Int:
		f.SetInt(int64(g.intn(100) + 1))
	case reflect.String:
		f.SetString("unexported")
	case reflect.Map:
		f.Set(reflect.MakeMap(f.Type()))
	}
}

func writable(f reflect.Value) reflect.Value {
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

var (
	negZero    = math.Copysign(0, -1)
	float64s   = []float64{0, negZero, 1e-7, -1e-7, 1e-6, 9.999999e-7, 1e20, 1e21, -1e21, 1e300, 5e-324, math.MaxFloat64, 0.1, 1.0 / 3, 123456789.125, 1 << 53, 1<<53 + 2, -1, 2.5e-8, 1e-300}
	float32s   = []float32{0, float32(negZero), 1e-7, 1e21, 1e20, math.MaxFloat32, math.SmallestNonzeroFloat32, 0.1, 16777216, 3.4e38, 1e-6, 123.456, -1e-7}
	nonFinites = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
)

func (g *gen) float64() float64 {
	switch g.intn(5) {
	case 0:
		return float64(rapid.Int64Range(-1e9, 1e9).Draw(g.t, "f64"))
	case 1:
		return rapid.Float64Range(-1e6, 1e6).Draw(g.t, "f64")
	case 2:
		return rapid.Float64().Draw(g.t, "f64")
	case 3:
		if g.wild && g.chance(30) {
			return pick(g, nonFinites)
		}
	}
	return pick(g, float64s)
}

func (g *gen) float32() float32 {
	switch g.intn(4) {
	case 0:
		return float32(rapid.Int32Range(-1e6, 1e6).Draw(g.t, "f32"))
	case 1:
		return rapid.Float32().Draw(g.t, "f32")
	case 2:
		if g.wild && g.chance(30) {
			return float32(pick(g, nonFinites))
		}
	}
	return pick(g, float32s)
}

var (
	// tamePieces are printable ASCII without \ " < > &: strings made of
	// them encode verbatim.
	tamePieces = func() []string {
		var p []string
		for c := byte(' '); c < 0x7f; c++ {
			if !strings.ContainsRune(`\"<>&`, rune(c)) {
				p = append(p, string(c))
			}
		}
		return append(p, "hello", "a b", "0123456789abcdef")
	}()
	wildPieces = []string{"<", ">", "&", `"`, `\`, "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f", "/",
		"é", "日本", "\u2028", "\u2029", "\U0001F600", "\ufffd", "\u00a0", "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "</script>"}
)

func (g *gen) str() string {
	n := g.intn(6)
	if g.chance(10) {
		n = g.intn(40)
	}
	var b strings.Builder
	for range n {
		if g.wild && g.chance(40) {
			b.WriteString(pick(g, wildPieces))
		} else {
			b.WriteString(pick(g, tamePieces))
		}
	}
	return b.String()
}

var (
	// numbers sit at the edges of Go's numeric types and of strconv.
	numbers = []string{"0", "-0", "1", "-1", "0.0", "-0.0", "1.0", "1.5", "-1.5", "1e2", "1E2", "1e+2", "1e-2", "-1e-2", "0e0",
		"127", "128", "-128", "-129", "255", "256", "32767", "32768", "-32769", "65535", "65536",
		"2147483647", "2147483648", "-2147483649", "4294967295", "4294967296",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
		"1e39", "-1e39", "3.4028235e38", "3.4028235677973362e38", "3.4028235677973366e38", "1e-46", "1.401298464324817e-45",
		"1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e400", "-1e400", "1e-400", "5e-324", "2.4e-324",
		"0.1", "0.30000000000000004", "100000000000000000000000", "1e21", "1e20", "0.000001", "1e-7",
		"0.1000000000000000055511151231257827021181583404541015625"}
	// badNumbers are not JSON.
	badNumbers = []string{"-", "01", "-01", "+1", ".5", "1.", "1e", "1e+", "--1", "0x10", "NaN", "Infinity", "-Infinity", "1_0", "tru", "nul"}
	// tameFloats are valid for float32 and float64 alike.
	// 1.000000059604644776 is just above a float32 midpoint that its
	// nearest float64 sits exactly on: parsing it at 64 bits and then
	// converting rounds the wrong way.
	tameFloats = []string{"0", "-0", "1e2", "1E-2", "0.0", "12345678901234567890", "-1.5e+3", "1.000000059604644776"}
	// stringPieces are JSON string contents, escapes included.
	stringPieces = []string{`\n`, `\"`, `\\`, `\/`, `\b`, `\f`, `\r`, `\t`, `\u00e9`, `\u00E9`, `\u0041`, `\u0000`, `\u001f`,
		`\u003c`, `\u2028`, `\ud83d\ude00`, `\uD83D\uDE00`, `\ud800`, `\udc00`, `\ud800\u0041`, `\ud800\ud800`, `\udbff\udfff`,
		"é", "日本", "\u2028", "\x7f", "\xff", "\xc3", "\xed\xa0\x80", "<>&"}
	badStringPieces = []string{"\x01", "\n", "\x00", `\x`, `\u12`, `\u12G4`, `\U0041`, `\'`}
	unknownKeys     = []string{"zzz", "Skip", "hidden", "count", "", "é", "-", `x\"y`, `\u00e9`, `\ud800`, "Fooo", "Fo", "A_", "Name ", "nodes", "KIDS"}
	fieldishKeys    = []string{"A", "B", "S", "Name", "Kids", "Next", "I", "F32", "Ints", "r", "foo"}
	garbage         = []string{"x", "}", "]", ",", " 1", "{}", "\x00", " ", "\n", "null", `"`}
	mutationBytes   = []byte("\"\\{}[],:0-e.n \x00\x80\xff\t")
	spaces          = []string{" ", "\t", "\n", "\r", "\r\n", "  \t\n "}
)

// input draws a JSON text for typ: mostly shaped like typ, in wild mode
// also off-schema and syntactically broken.
func (g *gen) input(typ reflect.Type) []byte {
	var b bytes.Buffer
	g.space(&b)
	if g.wild && g.chance(10) {
		g.anyJSON(&b, 0)
	} else {
		g.json(&b, typ, 0)
	}
	g.space(&b)
	data := b.Bytes()
	if g.wild && g.chance(40) {
		for range 1 + g.intn(2) {
			data = g.mutate(data)
		}
	}
	return data
}

func (g *gen) mutate(data []byte) []byte {
	pos := 0
	if len(data) > 0 {
		pos = g.intn(len(data))
	}
	switch g.intn(5) {
	case 0:
		return append(data, pick(g, garbage)...)
	case 1:
		return data[:pos]
	case 2:
		return append(data[:pos], append([]byte{pick(g, mutationBytes)}, data[pos:]...)...)
	case 3:
		if len(data) > 0 {
			return append(data[:pos], data[pos+1:]...)
		}
	case 4:
		if len(data) > 0 {
			data[pos] = pick(g, mutationBytes)
		}
	}
	return data
}

func (g *gen) space(b *bytes.Buffer) {
	if g.ws && g.chance(50) {
		b.WriteString(pick(g, spaces))
	}
}

func (g *gen) json(b *bytes.Buffer, typ reflect.Type, depth int) {
	if g.wild && g.chance(8) {
		g.anyJSON(b, depth)
		return
	}
	if g.chance(6) {
		b.WriteString("null")
		return
	}
	switch typ.Kind() {
	case reflect.Bool:
		b.WriteString(pick(g, []string{"false", "true"}))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if g.wild && g.chance(40) {
			b.WriteString(g.number())
			return
		}
		b.WriteString(fmt.Sprint(g.value(typ, depth).Interface()))
	case reflect.Float32, reflect.Float64:
		g.floatJSON(b, typ)
	case reflect.String:
		g.stringJSON(b)
	case reflect.Pointer:
		if depth > maxGenDepth+2 || g.chance(15) {
			b.WriteString("null")
			return
		}
		g.json(b, typ.Elem(), depth+1)
	case reflect.Slice:
		n := 0
		if depth < maxGenDepth {
			n = g.intn(5)
		}
		b.WriteByte('[')
		g.space(b)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
				g.space(b)
			}
			g.json(b, typ.Elem(), depth+1)
			g.space(b)
		}
		b.WriteByte(']')
	case reflect.Struct:
		g.object(b, typ, depth)
	default:
		g.anyJSON(b, depth)
	}
}

func (g *gen) number() string {
	if g.chance(10) {
		return pick(g, badNumbers)
	}
	return pick(g, numbers)
}

func (g *gen) floatJSON(b *bytes.Buffer, typ reflect.Type) {
	if g.wild && g.chance(40) {
		b.WriteString(g.number())
		return
	}
	if g.chance(20) {
		b.WriteString(pick(g, tameFloats))
		return
	}
	var f float64
	if typ.Bits() == 32 {
		f = float64(g.float32())
	} else {
		f = g.float64()
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b.WriteString("1e999")
		return
	}
	b.WriteString(strconv.FormatFloat(f, pick(g, []byte("gefE")), -1, typ.Bits()))
}

func (g *gen) stringJSON(b *bytes.Buffer) {
	b.WriteByte('"')
	for range g.intn(6) {
		switch {
		case g.wild && g.chance(5):
			b.WriteString(pick(g, badStringPieces))
		case g.wild && g.chance(50):
			b.WriteString(pick(g, stringPieces))
		default:
			b.WriteString(pick(g, tamePieces))
		}
	}
	b.WriteByte('"')
}

func (g *gen) object(b *bytes.Buffer, typ reflect.Type, depth int) {
	fields := jsonFields(typ)
	n := g.intn(len(fields) + 3)
	b.WriteByte('{')
	g.space(b)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
			g.space(b)
		}
		if len(fields) > 0 && !g.chance(15) {
			f := pick(g, fields)
			g.key(b, f.name)
			g.space(b)
			b.WriteByte(':')
			g.space(b)
			g.json(b, f.typ, depth)
		} else {
			fmt.Fprintf(b, `"%s"`, pick(g, unknownKeys))
			g.space(b)
			b.WriteByte(':')
			g.space(b)
			g.anyJSON(b, depth+1)
		}
		g.space(b)
	}
	b.WriteByte('}')
}

// key writes name as an object key, often in another letter case and in
// wild mode escaped or spelled with non-ASCII runes that fold to it.
func (g *gen) key(b *bytes.Buffer, name string) {
	k := name
	switch g.intn(8) {
	case 4:
		k = strings.ToLower(name)
	case 5:
		k = strings.ToUpper(name)
	case 6:
		i := g.intn(len(k))
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		k = k[:i] + string(c) + k[i+1:]
	case 7:
		if !g.wild {
			break
		}
		switch g.intn(3) {
		case 0:
			i := g.intn(len(k))
			k = fmt.Sprintf(`%s\u%04x%s`, k[:i], k[i], k[i+1:])
		case 1:
			k = strings.NewReplacer("k", "\u212a", "K", "\u212a", "s", "\u017f", "S", "\u017f").Replace(k)
		case 2:
			k += pick(g, []string{" ", "é", "_", `\u0000`})
		}
	}
	b.WriteByte('"')
	b.WriteString(k)
	b.WriteByte('"')
}

// anyJSON writes an arbitrary JSON value.
func (g *gen) anyJSON(b *bytes.Buffer, depth int) {
	k := g.intn(8)
	if depth > maxGenDepth {
		k = g.intn(5)
	}
	switch k {
	case 0:
		b.WriteString("null")
	case 1:
		b.WriteString("true")
	case 2:
		b.WriteString("false")
	case 3:
		b.WriteString(g.number())
	case 4:
		g.stringJSON(b)
	case 5, 6:
		b.WriteByte('[')
		for i := range g.intn(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			g.space(b)
			g.anyJSON(b, depth+1)
		}
		b.WriteByte(']')
	case 7:
		b.WriteByte('{')
		for i := range g.intn(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			g.space(b)
			key := pick(g, unknownKeys)
			if g.chance(50) {
				key = pick(g, fieldishKeys)
			}
			fmt.Fprintf(b, `"%s":`, key)
			g.anyJSON(b, depth+1)
		}
		b.WriteByte('}')
	}
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the fields encoding/json decodes into, by JSON name.
// It does not handle embedding: no supported type has any.
func jsonFields(typ reflect.Type) []jsonField {
	var fs []jsonField
	for i := range typ.NumField() {
		sf := typ.Field(i)
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, jsonField{name, sf.Type})
	}
	return fs
}

// deepCopy copies v including the elements of every slice between its
// length and capacity, which json.Unmarshal decodes into when it grows
// a slice in place.
func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	copyInto(out, v)
	return out
}

func copyInto(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			copyInto(p.Elem(), src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(src.Type(), src.Cap(), src.Cap())
			full := src.Slice(0, src.Cap())
			for i := range src.Cap() {
				copyInto(s.Index(i), full.Index(i))
			}
			dst.Set(s.Slice(0, src.Len()))
		}
	case reflect.Struct:
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				copyInto(dst.Field(i), src.Field(i))
			} else {
				writable(dst.Field(i)).Set(writable(src.Field(i)))
			}
		}
	default:
		dst.Set(src)
	}
}

// addrs records the address every pointer and slice holds, by path, so
// that diff can tell whether a decoder reused or replaced it.
func addrs(v reflect.Value, path string, m map[string]uintptr) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			m[path] = v.Pointer()
			addrs(v.Elem(), path+".*", m)
		}
	case reflect.Slice:
		if v.Cap() > 0 {
			m[path] = v.Pointer()
			full := v.Slice(0, v.Cap())
			for i := range v.Cap() {
				addrs(full.Index(i), fmt.Sprintf("%s[%d]", path, i), m)
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			addrs(v.Field(i), path+"."+v.Type().Field(i).Name, m)
		}
	}
}

// diff returns the first difference between a and b, comparing floats
// bitwise (-0 is not 0), slices up to capacity, and whether each pointer
// and slice array is the one the destination held before (preA, preB).
func diff(a, b reflect.Value, path string, preA, preB map[string]uintptr) string {
	differ := func(x, y any) string { return fmt.Sprintf("%s: %#v != %#v", path, x, y) }
	switch a.Kind() {
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return differ(a.Bool(), b.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return differ(a.Int(), b.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return differ(a.Uint(), b.Uint())
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return differ(a.Float(), b.Float())
		}
	case reflect.String:
		if a.String() != b.String() {
			return differ(a.String(), b.String())
		}
	case reflect.Pointer:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v != nil %v", path, a.IsNil(), b.IsNil())
		}
		if a.IsNil() {
			return ""
		}
		if d := reused(a, b, path, preA, preB); d != "" {
			return d
		}
		return diff(a.Elem(), b.Elem(), path+".*", preA, preB)
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v != nil %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() || a.Cap() != b.Cap() {
			return fmt.Sprintf("%s: len %d cap %d != len %d cap %d", path, a.Len(), a.Cap(), b.Len(), b.Cap())
		}
		if a.Cap() == 0 {
			return ""
		}
		if d := reused(a, b, path, preA, preB); d != "" {
			return d
		}
		fa, fb := a.Slice(0, a.Cap()), b.Slice(0, b.Cap())
		for i := range a.Cap() {
			if d := diff(fa.Index(i), fb.Index(i), fmt.Sprintf("%s[%d]", path, i), preA, preB); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if d := diff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name, preA, preB); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: map nil %v len %d != nil %v len %d", path, a.IsNil(), a.Len(), b.IsNil(), b.Len())
		}
	}
	return ""
}

func reused(a, b reflect.Value, path string, preA, preB map[string]uintptr) string {
	pa, okA := preA[path]
	pb, okB := preB[path]
	ra, rb := okA && pa == a.Pointer(), okB && pb == b.Pointer()
	if ra != rb {
		return fmt.Sprintf("%s: encoding/json kept the destination's own pointer or array: %v, fast path: %v", path, ra, rb)
	}
	return ""
}

// tame reports whether v is made only of strings that encode verbatim and
// finite floats: the fast path must answer its json.Marshal output.
func tame(v reflect.Value) bool {
	ok := true
	walk(v, func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			for _, c := range []byte(v.String()) {
				if c < ' ' || c > '~' || strings.IndexByte(`\"<>&`, c) >= 0 {
					ok = false
				}
			}
		case reflect.Float32, reflect.Float64:
			ok = ok && !math.IsNaN(v.Float()) && !math.IsInf(v.Float(), 0)
		}
	})
	return ok
}

func finite(v reflect.Value) bool {
	ok := true
	walk(v, func(v reflect.Value) {
		if k := v.Kind(); k == reflect.Float32 || k == reflect.Float64 {
			ok = ok && !math.IsNaN(v.Float()) && !math.IsInf(v.Float(), 0)
		}
	})
	return ok
}

// walk calls f on v and every value reachable from it, up to slice length.
func walk(v reflect.Value, f func(reflect.Value)) {
	if !v.IsValid() {
		return
	}
	f(v)
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), f)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walk(v.Index(i), f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i), f)
			}
		}
	}
}

func dumpAny(v any) string { return dump(reflect.ValueOf(v)) }

// dump prints v with pointers followed and, after a "|", the elements
// past each slice's length.
func dump(v reflect.Value) string {
	var b strings.Builder
	var rec func(v reflect.Value)
	rec = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Invalid:
			b.WriteString("<nil>")
		case reflect.Pointer:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			b.WriteByte('&')
			rec(v.Elem())
		case reflect.Slice:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			b.WriteByte('[')
			full := v.Slice(0, v.Cap())
			for i := range v.Cap() {
				switch {
				case i == v.Len():
					b.WriteString(" | ")
				case i > 0:
					b.WriteByte(' ')
				}
				rec(full.Index(i))
			}
			b.WriteByte(']')
		case reflect.Struct:
			b.WriteByte('{')
			n := 0
			for i := range v.NumField() {
				if !v.Type().Field(i).IsExported() {
					continue
				}
				if n > 0 {
					b.WriteByte(' ')
				}
				n++
				b.WriteString(v.Type().Field(i).Name + ":")
				rec(v.Field(i))
			}
			b.WriteByte('}')
		case reflect.String:
			b.WriteString(strconv.Quote(v.String()))
		case reflect.Float32, reflect.Float64:
			b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits()))
		case reflect.Map, reflect.Interface, reflect.Chan, reflect.Func:
			fmt.Fprintf(&b, "<%v>", v.Type())
		default:
			fmt.Fprint(&b, v)
		}
	}
	rec(v)
	return b.String()
}
