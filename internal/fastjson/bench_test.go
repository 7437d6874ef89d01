package fastjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

// benchSmall is the ~100-byte body of rpc's BenchmarkSmallCall.
type benchSmall struct {
	Name     string
	Snapshot string
	TXG      uint64
	Flags    []string
}

var benchValue = benchSmall{Name: "pool/data/home", Snapshot: "zrepl_20171006_1000", TXG: 123456789, Flags: []string{"a", "bc"}}

// BenchmarkDecode and BenchmarkEncode put the fast path next to
// encoding/json on the same value, in the same run.
func BenchmarkDecode(b *testing.B) {
	js, _ := json.Marshal(&benchValue)
	b.Run("fastjson", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var v benchSmall
			if !Unmarshal(js, &v) {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var v benchSmall
			if err := json.Unmarshal(js, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	b.Run("fastjson", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for range b.N {
			var ok bool
			if buf, ok = AppendEncode(buf[:0], &benchValue); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		for range b.N {
			buf.Reset()
			if err := e.Encode(&benchValue); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzString checks string quoting and unquoting, the most intricate part
// of both directions, on arbitrary bytes: encoding as encoding/json does,
// and decoding any JSON string literal to the same Go string.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a&b>", "\"\\/\b\f\n\r\t\x00\x1f", "é\u2028\u2029", "\xff\xfe", "\xed\xa0\x80", `\ud800\udc00`, `\ud800x`, `\u00e9`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(s); err != nil {
			t.Fatal(err)
		}
		got, ok := AppendEncode(nil, s)
		if !ok || string(got) != want.String() {
			t.Fatalf("AppendEncode(%q) = %q, %v; encoding/json: %q", s, got, ok, want.String())
		}
		// s taken as the inside of a JSON string literal, escapes included.
		lit := []byte(`"` + s + `"`)
		var a, b string
		errA := json.Unmarshal(lit, &a)
		if Unmarshal(lit, &b) {
			if errA != nil || a != b {
				t.Fatalf("Unmarshal(%q) = %q; encoding/json: %q, %v", lit, b, a, errA)
			}
		} else if errA == nil {
			t.Fatalf("Unmarshal(%q) declined a valid string literal", lit)
		}
	})
}
