package wire

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// normalise is what [RPC-1] makes of a string on the wire: every byte that
// is not part of valid UTF-8 becomes U+FFFD, one for each byte (a Go
// conversion to runes does exactly that), and everything else stays.
func normalise(s string) string { return string([]rune(s)) }

func valid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// FuzzHeaderRoundTrip encodes arbitrary header values with AppendHeader and
// decodes them with ParseHeader: the values come back, strings normalised
// as [RPC-1] says, through the canonical fast path and the strict parser
// alike; the encoding of what was decoded is the same bytes (for valid
// UTF-8) and decodes to the same values; and the bytes are what [RPC-1] fixes around
// the strings (member order, no whitespace, one final 0a).
func FuzzHeaderRoundTrip(f *testing.F) {
	f.Add("Ping", uint32(2), uint32(2), uint32(0), "", "", false)
	f.Add("framerpc:hello", uint32(1), uint32(1), uint32(0), "", "trailer\x00multipart", true)
	f.Add("Echo", uint32(4294967295), uint32(0), uint32(3), "bad \xff\"<&>\u2028\n", "", true)
	f.Fuzz(func(t *testing.T, ep string, dt, acc, st uint32, msg, exts string, hasExt bool) {
		h := Header{Endpoint: ep, DataType: DataType(dt), Accept: DataType(acc), Error: Status(st), ErrorMessage: msg}
		if hasExt {
			h.HasExtensions = true
			h.Extensions = []string{}
			if exts != "" {
				h.Extensions = strings.Split(exts, "\x00")
			}
		}
		b := AppendHeader(nil, &h)
		if !bytes.HasPrefix(b, []byte(`{"Endpoint":"`)) || !bytes.HasSuffix(b, []byte("}\n")) || bytes.Count(b, []byte("\n")) != 1 {
			t.Fatalf("%+v encodes as %q", h, b)
		}
		for _, prev := range []string{"", normalise(ep)} {
			var got Header
			if err := ParseHeader(b, &got, prev); err != nil {
				t.Fatalf("%+v encodes as %q, which does not decode: %v", h, b, err)
			}
			var strict Header
			if err := parseStrict(b, &strict, prev); err != nil {
				t.Fatalf("%q: strict parser: %v", b, err)
			}
			for _, d := range []*Header{&got, &strict} {
				if d.Endpoint != normalise(ep) || d.ErrorMessage != normalise(msg) ||
					d.DataType != h.DataType || d.Accept != h.Accept || d.Error != h.Error ||
					d.HasExtensions != h.HasExtensions || len(d.Unknown) != 0 {
					t.Fatalf("%+v encodes as %q, decodes as %+v", h, b, d)
				}
				want := make([]string, len(h.Extensions))
				for i, e := range h.Extensions {
					want[i] = normalise(e)
				}
				if !slices.Equal(d.Extensions, want) {
					t.Fatalf("extensions %q decode as %q", want, d.Extensions)
				}
			}
			// An invalid byte went out as the escape \ufffd and comes back
			// as U+FFFD, which [RPC-1] writes as itself: the bytes are a
			// fixed point only for valid UTF-8, the values always.
			again := AppendHeader(nil, &got)
			if valid(ep, msg, exts) && !bytes.Equal(again, b) {
				t.Fatalf("%q decodes to a header that encodes as %q", b, again)
			}
			var third Header
			if err := ParseHeader(again, &third, ""); err != nil || !reflect.DeepEqual(third, got) {
				t.Fatalf("%q re-encodes as %q, which decodes as %+v, %v", b, again, third, err)
			}
		}
	})
}
