package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
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

// countingCodec wraps StdJSON and counts its calls; indent makes its
// bodies differ from the default's bytes, still JSON.
type countingCodec struct {
	marshal, unmarshal atomic.Int64
	indent             bool
}

func (c *countingCodec) MarshalAppend(dst []byte, v any) ([]byte, error) {
	c.marshal.Add(1)
	if c.indent {
		b, err := json.MarshalIndent(v, "", "  ")
		return append(dst, b...), err
	}
	return StdJSON.MarshalAppend(dst, v)
}

func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.unmarshal.Add(1)
	return StdJSON.Unmarshal(data, v)
}

func (c *countingCodec) counts() [2]int64 { return [2]int64{c.marshal.Load(), c.unmarshal.Load()} }

// [RPC-18] A codec set in the options encodes and decodes every JSON body
// of its side, and only those: request and reply, metadata of pushes and
// pulls; headers are never its. Its bytes are what the peer decodes.
func TestCodecOption(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	for _, indent := range []bool{false, true} {
		sc, cc := &countingCodec{indent: indent}, &countingCodec{indent: indent}
		p := newPair(t, testServer(t, &ServerOptions{Codec: sc}), &ClientOptions{Codec: cc})
		var out Msg
		if err := p.cli.Call(ctx, "Echo", &Msg{Text: "a", N: 1}, &out); err != nil || out != (Msg{Text: "a", N: 2}) {
			t.Fatalf("Echo: %v %+v", err, out)
		}
		if err := p.cli.Call(ctx, "PushMeta", Push{Meta: &Msg{Text: "m"}, Body: strings.NewReader("xy")}, &out); err != nil || out.Text != "m:xy" {
			t.Fatalf("PushMeta: %v %+v", err, out)
		}
		pull := Pull{Meta: &out}
		if err := p.cli.Call(ctx, "PullMeta", &Msg{Text: "q", N: 2}, &pull); err != nil {
			t.Fatalf("PullMeta: %v", err)
		}
		if b, err := io.ReadAll(pull.Body); err != nil || string(b) != "qq" {
			t.Fatalf("PullMeta stream: %q %v", b, err)
		}
		// No JSON either way: the codecs are not called.
		var r io.Reader
		if err := p.cli.Call(ctx, "Upper", strings.NewReader("x"), &r); err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, r)
		// Three JSON requests, three JSON replies.
		if got, want := cc.counts(), [2]int64{3, 3}; got != want {
			t.Errorf("indent %v: client codec marshal/unmarshal %v, want %v", indent, got, want)
		}
		if got, want := sc.counts(), [2]int64{3, 3}; got != want {
			t.Errorf("indent %v: server codec marshal/unmarshal %v, want %v", indent, got, want)
		}
	}
	// A codec's JSON interoperates with the default codec on the other side.
	cc := &countingCodec{indent: true}
	p := newPair(t, testServer(t, nil), &ClientOptions{Codec: cc})
	var out Msg
	if err := p.cli.Call(ctx, "Echo", &Msg{Text: "b", N: 5}, &out); err != nil || out != (Msg{Text: "b", N: 6}) {
		t.Fatalf("Echo to a default server: %v %+v", err, out)
	}
}

// The codec's bytes are the body's bytes on the wire.
func TestCodecBytesOnTheWire(t *testing.T) {
	checkGoroutines(t)
	r := newRawClient(t, &ClientOptions{Codec: &countingCodec{indent: true}})
	var out Msg
	wait := r.call(func(cl *Client) error { return cl.Call(context.Background(), "Echo", &Msg{Text: "t"}, &out) })
	expectBytes(t, r.conn, cat(hdr(reqHeader("Echo", 2, 2)), data("{\n  \"Text\": \"t\",\n  \"N\": 0\n}")))
	r.send(t, hdr(repHeader(2, 1, "")), data(`{"Text":"u"}`))
	if err := wait(); err != nil || out.Text != "u" {
		t.Fatalf("%v %+v", err, out)
	}
}
