package rpc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestConnJSONMatchesUnmarshal: a connection's reused decoder gives,
// body after body, exactly json.Unmarshal's value and error text, whatever
// came before (garbage, truncations, type errors, empty bodies), so that
// remote and local calls cannot differ [RPC-18].
func TestConnJSONMatchesUnmarshal(t *testing.T) {
	fixed := []string{
		"{}\n", "", "\n", "{", "{}}", "{} x", "[1]\n", "null\n", `"s"` + "\n", "5", "5 6",
		`{"Name":1}` + "\n", `{"Flags":"x"}`, `{"TXG":-1}`, `{"Name":"a\u00e9\ud800"}`,
		"{\"Name\":\"\xff\"}\n", `{"name":"case"}`, `{"Name":"x","Name":"y"}`,
		strings.Repeat(" ", 600) + "{}" + strings.Repeat(" ", 600),
		`{"Name":"` + strings.Repeat("z", maxReusedBody) + `"}`,
	}
	rapid.Check(t, func(t *rapid.T) {
		d := newConnJSON()
		n := rapid.IntRange(1, 12).Draw(t, "n")
		for i := range n {
			var body string
			if rapid.Bool().Draw(t, "fixed") {
				body = rapid.SampledFrom(fixed).Draw(t, "body")
			} else {
				v := Small{
					Name:  rapid.String().Draw(t, "name"),
					TXG:   rapid.Uint64().Draw(t, "txg"),
					Flags: rapid.SliceOfN(rapid.StringN(0, 3, -1), 0, 3).Draw(t, "flags"),
				}
				js, _ := json.Marshal(v)
				body = string(js) + rapid.SampledFrom([]string{"\n", "", " \r\n\t", "x", "}", "{}"}).Draw(t, "tail")
				if cut := rapid.IntRange(0, len(body)).Draw(t, "cut"); rapid.IntRange(0, 4).Draw(t, "truncate") == 0 {
					body = body[:cut]
				}
			}
			for _, target := range []func() any{func() any { return new(Small) }, func() any { return new(map[string]any) }, func() any { return new([]int) }} {
				got, want := target(), target()
				gotErr := d.Unmarshal([]byte(body), got)
				wantErr := json.Unmarshal([]byte(body), want)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Fatalf("body %d %q: error %v, json.Unmarshal says %v", i, body, gotErr, wantErr)
				}
				if wantErr == nil && !reflect.DeepEqual(got, want) {
					t.Fatalf("body %d %q: decoded %#v, json.Unmarshal gives %#v", i, body, got, want)
				}
			}
		}
	})
}
