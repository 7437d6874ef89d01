package peers

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/framerpc/framerpc/internal/benchnet"
	"github.com/framerpc/framerpc/rpc"
)

// tricky are values whose JSON differs between careless encoders: HTML
// characters, escapes, non-ASCII text, the largest uint64, nil and empty
// slices.
var tricky = []Small{
	small,
	{Name: "<a&b>", Snapshot: "tab\tquote\"back\\slash\u2028nl\n", TXG: 1<<64 - 1, Flags: nil},
	{Name: "zürich/日本", Snapshot: "\x01\x7f", Flags: []string{}},
	{Flags: []string{"", " ", "\u00e9"}},
}

// TestSegmentioJSONBytes checks that SegmentioJSON writes what framerpc's
// default codec writes, so that a peer cannot tell them apart.
func TestSegmentioJSONBytes(t *testing.T) {
	for _, v := range tricky {
		want, err := rpc.StdJSON.MarshalAppend([]byte("prefix"), &v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SegmentioJSON.MarshalAppend([]byte("prefix"), &v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%+v:\n got %q\nwant %q", v, got, want)
		}
	}
	// On error, dst comes back as it was.
	got, err := SegmentioJSON.MarshalAppend([]byte("prefix"), map[string]any{"f": func() {}})
	if err == nil || string(got) != "prefix" {
		t.Errorf("unencodable value: got %q, %v; want \"prefix\" and an error", got, err)
	}
}

// TestSegmentioJSONRoundTrip makes calls over a socketpair between a
// client and a server of which one, the other or both use SegmentioJSON,
// the other side framerpc's default codec (encoding/json), and checks that
// every value comes back as it went.
func TestSegmentioJSONRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name        string
		client, srv rpc.JSONCodec
	}{
		{"client", SegmentioJSON, nil},
		{"server", nil, SegmentioJSON},
		{"both", SegmentioJSON, SegmentioJSON},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := rpc.NewServer(&rpc.ServerOptions{Codec: c.srv})
			if err := s.RegisterEndpoint("Echo", func(in *Small, out *Small) error {
				*out = *in
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			a, b, err := benchnet.UnixPair()
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- s.Serve(b) }()
			cli := rpc.NewClient(a, &rpc.ClientOptions{Codec: c.client})
			defer func() {
				cli.Close()
				<-served
			}()
			for _, in := range tricky {
				var out Small
				if err := cli.Call(context.Background(), "Echo", &in, &out); err != nil {
					t.Fatalf("%+v: %v", in, err)
				}
				// encoding/json is the reference: what it decodes from its
				// own encoding of in is what must come back.
				js, err := json.Marshal(&in)
				if err != nil {
					t.Fatal(err)
				}
				var want Small
				if err := json.Unmarshal(js, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(out, want) {
					t.Errorf("sent %+v, got back %+v, want %+v", in, out, want)
				}
			}
		})
	}
}
