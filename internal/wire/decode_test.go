package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// specQuote is [RPC-1]'s string rule written out character by character,
// as plainly as the spec states it: the oracle AppendString is checked
// against. (encoding/json is no oracle: its v2 implementation writes
// invalid UTF-8 as a raw U+FFFD, not as the \ufffd the rule fixes.)
func specQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\ufffd`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// [RPC-1] Strings are written as the rule says, byte for byte; the
// examples are the spec's own.
func TestAppendStringRule(t *testing.T) {
	for in, want := range map[string]string{
		"":             `""`,
		"Ping":         `"Ping"`,
		`a"b\c`:        `"a\"b\\c"`,
		"\b\f\n\r\t":   `"\b\f\n\r\t"`,
		"\x00\x1f\x7f": `"\u0000\u001f` + "\x7f" + `"`,
		"<a&b>":        `"\u003ca\u0026b\u003e"`,
		"\u2028\u2029": `"\u2028\u2029"`,
		"é😀\ufffd":     `"é😀` + "\ufffd" + `"`,
		"\xff":         `"\ufffd"`,
		"a\xc3":        `"a\ufffd"`,
		"\xed\xa0\x80": `"\ufffd\ufffd\ufffd"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), rapid.StringOf(rapid.RuneFrom([]rune{'<', '>', '&', '"', '\\', '\n', '\b', '\f', 0, 0x1f, 0x7f, '\u2028', '\u2029', 'é', '\ufffd'})),
			rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) })).Draw(t, "s")
		if got, want := string(AppendString(nil, s)), specQuote(s); got != want {
			t.Fatalf("AppendString(%q) = %s, the rule says %s", s, got, want)
		}
	})
}

// [RPC-1] A header is its five members in order, without whitespace,
// integers in plain decimal, then "\n"; [RPC-3] the strict decoder reads
// back what was written (invalid UTF-8 having become U+FFFD on the way).
func TestAppendHeaderRule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		str := rapid.OneOf(rapid.String(), rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) }))
		h := Header{
			Endpoint:     str.Draw(t, "endpoint"),
			DataType:     DataType(rapid.Uint32().Draw(t, "dt")),
			Accept:       DataType(rapid.Uint32().Draw(t, "acc")),
			Error:        Status(rapid.Uint32().Draw(t, "st")),
			ErrorMessage: str.Draw(t, "msg"),
		}
		want := fmt.Sprintf(`{"Endpoint":%s,"DataType":%d,"Accept":%d,"Error":%d,"ErrorMessage":%s}`+"\n",
			specQuote(h.Endpoint), h.DataType, h.Accept, h.Error, specQuote(h.ErrorMessage))
		got := AppendHeader(nil, &h)
		if string(got) != want {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
		var back Header
		if err := ParseHeader(got, &back, ""); err != nil {
			t.Fatalf("decoding %q: %v", got, err)
		}
		if back.Endpoint != string([]rune(h.Endpoint)) || back.ErrorMessage != string([]rune(h.ErrorMessage)) ||
			back.DataType != h.DataType || back.Accept != h.Accept || back.Error != h.Error {
			t.Fatalf("round trip: got %+v from %q", back, got)
		}
	})
}

func TestHeaderDecoding(t *testing.T) {
	accept := []struct {
		name, in string
		want     Header
	}{
		{"RPC-3 original request", `{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n", Header{Endpoint: "Ping", DataType: 2, Accept: 2}},
		{"RPC-3 no final newline", `{"Endpoint":"Ping"}`, Header{Endpoint: "Ping"}},
		{"RPC-3 surrounding whitespace", " \t\r\n{ \"Error\" : 1 , \"ErrorMessage\" : \"x\" }\r\n\n ", Header{Error: 1, ErrorMessage: "x"}},
		{"RPC-4 escaped name", `{"Endp\u006fint":"a"}`, Header{Endpoint: "a"}},
		{"RPC-4 other case is unknown", `{"endpoint":"a","ENDPOINT":"b"}`, Header{}},
		{"RPC-6 unknown members skipped", `{"X":[1,{"a":null,"b":[true,false,-1.5e3]}],"DataType":3,"Y":"s"}`, Header{DataType: 3,
			Unknown: []Member{{"X", `[1,{"a":null,"b":[true,false,-1.5e3]}]`}, {"Y", `"s"`}}}},
		{"RPC-6 any order", `{"ErrorMessage":"m","Error":4,"Accept":0,"DataType":1,"Endpoint":""}`, Header{DataType: 1, Error: 4, ErrorMessage: "m"}},
		{"RPC-7 missing members are zero", `{}`, Header{}},
		{"RPC-7 largest number", `{"Error":4294967295}`, Header{Error: 4294967295}},
		{"RPC-8 escapes", `{"ErrorMessage":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, Header{ErrorMessage: "\"\\/\b\f\n\r\té😀"}},
		{"RPC-25 extensions", `{"Extensions":["trailer","x"]}`, Header{Extensions: []string{"trailer", "x"}, HasExtensions: true}},
		{"RPC-6 64 levels around a scalar", `{"X":` + strings.Repeat("[", 64) + "1" + strings.Repeat("]", 64) + `}`, Header{}},
		{"RPC-6 64 empty levels", `{"X":` + strings.Repeat(`{"a":`, 63) + "{}" + strings.Repeat("}", 63) + `}`, Header{}},
	}
	for _, c := range accept {
		t.Run(c.name, func(t *testing.T) {
			var h Header
			if err := ParseHeader([]byte(c.in), &h, ""); err != nil {
				t.Fatalf("%q: %v", c.in, err)
			}
			if h.Endpoint != c.want.Endpoint || h.DataType != c.want.DataType || h.Accept != c.want.Accept ||
				h.Error != c.want.Error || h.ErrorMessage != c.want.ErrorMessage || h.HasExtensions != c.want.HasExtensions ||
				strings.Join(h.Extensions, ",") != strings.Join(c.want.Extensions, ",") ||
				(c.want.Unknown != nil && fmt.Sprint(h.Unknown) != fmt.Sprint(c.want.Unknown)) {
				t.Fatalf("%q: got %+v, want %+v", c.in, h, c.want)
			}
		})
	}
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	reject := []struct{ name, in string }{
		{"RPC-3 empty", ``},
		{"RPC-3 whitespace only", " \n"},
		{"RPC-3 array", `[]`},
		{"RPC-3 two objects", `{}{}`},
		{"RPC-3 trailing garbage", `{} x`},
		{"RPC-3 unclosed", `{"Endpoint":"a"`},
		{"RPC-3 trailing comma", `{"Endpoint":"a",}`},
		{"RPC-3 nul after", "{}\x00"},
		{"RPC-5 duplicate known", `{"Endpoint":"a","Endpoint":"b"}`},
		{"RPC-5 duplicate after unescaping", `{"Endpoint":"a","Endp\u006fint":"b"}`},
		{"RPC-5 duplicate unknown", `{"X":1,"X":2}`},
		{"RPC-6 invalid unknown value", `{"X":tru}`},
		{"RPC-6 too deep", `{"X":` + deep + `}`},
		{"RPC-6 65 empty arrays", `{"X":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`},
		{"RPC-6 65 empty objects", `{"X":` + strings.Repeat(`{"a":`, 64) + "{}" + strings.Repeat("}", 64) + `}`},
		{"RPC-6 bad unknown number", `{"X":01}`},
		{"RPC-7 string for number", `{"DataType":"2"}`},
		{"RPC-7 number for string", `{"Endpoint":2}`},
		{"RPC-7 null", `{"Endpoint":null}`},
		{"RPC-7 negative", `{"Error":-1}`},
		{"RPC-7 fraction", `{"Error":1.0}`},
		{"RPC-7 exponent", `{"Error":1e0}`},
		{"RPC-7 leading zero", `{"Error":01}`},
		{"RPC-7 out of range", `{"Error":4294967296}`},
		{"RPC-7 extensions not strings", `{"Extensions":[1]}`},
		{"RPC-8 invalid UTF-8", "{\"Endpoint\":\"\xff\"}"},
		{"RPC-8 raw control character", "{\"Endpoint\":\"a\nb\"}"},
		{"RPC-8 bad escape", `{"Endpoint":"\x"}`},
		{"RPC-8 lone high surrogate", `{"Endpoint":"\ud83d"}`},
		{"RPC-8 lone low surrogate", `{"Endpoint":"\ude00"}`},
		{"RPC-8 short unicode escape", `{"Endpoint":"\u12"}`},
	}
	for _, c := range reject {
		t.Run(c.name, func(t *testing.T) {
			var h Header
			err := ParseHeader([]byte(c.in), &h, "")
			rule, _, _ := strings.Cut(c.name, " ")
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Rule != rule {
				t.Fatalf("%q: got %v, want a ParseError citing %s", c.in, err, rule)
			}
			if pe.Offset < 0 || pe.Offset > len(c.in) {
				t.Fatalf("%q: offset %d outside the input", c.in, pe.Offset)
			}
		})
	}
}

// The fast path agrees with the strict parser on everything it accepts, and
// accepts the canonical headers of ordinary calls.
func TestCanonicalAgrees(t *testing.T) {
	agree := func(t *rapid.T, b []byte) bool {
		var fast, slow Header
		ok := parseCanonical(b, &fast, "Ping")
		if !ok {
			return false
		}
		if err := parseStrict(b, &slow, ""); err != nil {
			t.Fatalf("fast path accepted %q, strict parser: %v", b, err)
		}
		if fast.Endpoint != slow.Endpoint || fast.DataType != slow.DataType || fast.Accept != slow.Accept ||
			fast.Error != slow.Error || fast.ErrorMessage != slow.ErrorMessage || fast.HasExtensions || slow.HasExtensions {
			t.Fatalf("%q: fast %+v, strict %+v", b, fast, slow)
		}
		return true
	}
	t.Run("canonical", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			h := Header{
				Endpoint:     rapid.StringMatching(`[ -~]{0,20}`).Draw(t, "endpoint"),
				DataType:     DataType(rapid.Uint32().Draw(t, "dt")),
				Accept:       DataType(rapid.Uint32().Draw(t, "acc")),
				Error:        Status(rapid.Uint32().Draw(t, "st")),
				ErrorMessage: rapid.StringMatching(`[ -~]{0,40}`).Draw(t, "msg"),
			}
			b := AppendHeader(nil, &h)
			if rapid.Bool().Draw(t, "no newline") {
				b = b[:len(b)-1]
			}
			plain := !bytes.ContainsAny([]byte(h.Endpoint+h.ErrorMessage), "\"\\<>&\x7f")
			if got := agree(t, b); got != plain {
				t.Fatalf("%q: fast path taken %v, want %v", b, got, plain)
			}
		})
	})
	t.Run("mutated", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			b := []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n")
			for range rapid.IntRange(1, 4).Draw(t, "edits") {
				i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
				switch rapid.IntRange(0, 2).Draw(t, "op") {
				case 0:
					b[i] = rapid.Byte().Draw(t, "byte")
				case 1:
					b = append(b[:i], b[i+1:]...)
				default:
					b = append(b[:i], append([]byte{rapid.SampledFrom([]byte(`0123456789"\ {}:,`+"\n\x00\xff")).Draw(t, "ins")}, b[i:]...)...)
				}
				if len(b) == 0 {
					return
				}
			}
			agree(t, b)
		})
	})
}
