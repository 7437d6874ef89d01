package format

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// expandBudget is how many bytes the fuzz target lets one value expand to
// (the vectors' multi-MiB patterns are checked for length only):
// MaxExpand is for real runners; a fuzzer that allocated a GiB per input
// would measure the allocator, not the decoder.
const expandBudget = 1 << 20

// eachBytes calls f with every Bytes value inside v, through pointers,
// slices, maps and struct fields.
func eachBytes(v reflect.Value, f func(Bytes)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachBytes(v.Elem(), f)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			eachBytes(v.Index(i), f)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			eachBytes(it.Value(), f)
		}
	case reflect.Struct:
		if b, ok := v.Interface().(Bytes); ok {
			f(b)
			return
		}
		for i := range v.NumField() {
			eachBytes(v.Field(i), f)
		}
	}
}

// checkFile decodes data as a vector file of one kind and, if it decodes,
// runs what a runner does first: expand every byte string (an error is
// fine, a crash or a wrong length is not), and re-encode the file, which
// must decode to the same value and encode to the same bytes again.
func checkFile[T any](t *testing.T, data []byte) {
	f, err := Decode[T](data, "fuzz")
	if err != nil {
		return
	}
	eachBytes(reflect.ValueOf(f), func(b Bytes) {
		n, err := b.checkedLen()
		if err != nil || n > expandBudget {
			if _, err := b.Expand(); err == nil && n > MaxExpand {
				t.Fatalf("a byte string of %d bytes expanded", n)
			}
			return
		}
		out, err := b.Expand()
		if err == nil && int64(len(out)) != n {
			t.Fatalf("expanded to %d bytes, Len says %d", len(out), n)
		}
	})
	enc, err := Marshal(f)
	if err != nil {
		t.Fatalf("a decoded file does not encode: %v", err)
	}
	g, err := Decode[T](enc, "re-encoded")
	if err != nil {
		t.Fatalf("a re-encoded file does not decode: %v\n%s", err, enc)
	}
	if !reflect.DeepEqual(normalised(t, f), normalised(t, g)) {
		t.Fatalf("re-encoding changed the file:\n%s", enc)
	}
	if enc2, err := Marshal(g); err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable: %v\n%s\n%s", err, enc, enc2)
	}
}

// normalised re-encodes and decodes through any: the comparison is of what
// the file says, not of how Go holds it (nil and empty slices, a single
// literal part and its bytes).
func normalised(t *testing.T, v any) any {
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzVectorFile feeds arbitrary bytes to the vectors' own decoder as a file
// of each of the four kinds: it must refuse or accept them, never crash,
// never expand a byte string past MaxExpand, and what it accepts must
// survive re-encoding.
func FuzzVectorFile(f *testing.F) {
	f.Add([]byte(`{"algorithm":"framerpc","testGroups":[{"type":"x","tests":[{"tcId":1,"input":"0201000000"}]}]}`))
	f.Add([]byte(`{"testGroups":[{"tests":[{"input":[{"pattern":"mod251","start":0,"length":4611686018427387904,"sha256":""},{"pattern":"mod251","start":0,"length":4611686018427387904,"sha256":""}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFile[FrameTest](t, data)
		checkFile[MessageTest](t, data)
		checkFile[HeaderTest](t, data)
		checkFile[ConversationTest](t, data)
	})
}
