package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/rpc"
)

// conn is a connection whose peer's bytes are fixed in advance: reads come
// from in, then end of stream; writes are recorded.
type conn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *conn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *conn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *conn) Close() error                { return nil }

// captures returns the recorded streams of one direction of the
// conversations in testvectors/captures, as fuzz seeds.
func captures(tb *testing.F, side string) [][]byte {
	paths, err := filepath.Glob(filepath.Join("..", "testvectors", "captures", "*."+side+".bin"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type meta struct {
	Text string
	N    int
}

func newServer(tb *testing.F) *rpc.Server {
	s := rpc.NewServer(&rpc.ServerOptions{MaxJSON: 1 << 12, MaxDiscard: 1 << 16})
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(s.RegisterEndpoint("Echo", func(in *meta, out *meta) error { *out = *in; return nil }))
	must(s.RegisterEndpoint("Fail", func(in *meta, out *meta) error { return errors.New("failed") }))
	must(s.RegisterEndpoint("Panic", func(in *meta, out *meta) error { panic("boom") }))
	must(s.RegisterEndpoint("Count", func(in io.Reader, out *meta) error {
		n, err := io.Copy(io.Discard, in)
		out.N = int(n)
		return err
	}))
	must(s.RegisterEndpoint("Stream", func(in *meta, out *io.Reader) error {
		*out = strings.NewReader(strings.Repeat("x", in.N%100000))
		return nil
	}))
	must(s.RegisterEndpoint("Push", func(ctx context.Context, in *meta, body io.Reader, out *meta, rb *io.Reader) error {
		b, err := io.ReadAll(io.LimitReader(body, 1000))
		out.Text = string(b)
		*rb = bytes.NewReader(b)
		return err
	}))
	return s
}

// FuzzServer feeds arbitrary client bytes to a real Server. It must return
// once the bytes run out, never panic, and write only well-formed frames:
// every message complete, ending at a message boundary or with RST
// ([RPC-35], [RPC-41]).
func FuzzServer(f *testing.F) {
	for _, s := range captures(f, "client") {
		f.Add(s)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s := newServer(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &conn{in: bytes.NewReader(in)}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.Serve(c)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after the input ended")
		}
		checkStream(t, c.out.Bytes())
	})
}

// checkStream reads what a side wrote as frames and messages: every frame
// valid, nothing but RST at the end of a message.
func checkStream(t *testing.T, out []byte) {
	t.Helper()
	r := frame.NewReader(bytes.NewReader(out))
	inMsg := false
	for {
		h, err := r.ReadHeader()
		if err == io.EOF {
			if inMsg {
				t.Fatalf("output ends inside a message: % x", out)
			}
			return
		}
		var pe *frame.ProtocolError
		if errors.As(err, &pe) && pe.Class == frame.ClassReset {
			return
		}
		if err != nil {
			t.Fatalf("output is not a valid frame stream: %v", err)
		}
		if h.Type == frame.TypeRST {
			if !h.Canonical() {
				t.Fatalf("non-canonical RST written")
			}
			if off := r.Offset(); off != int64(len(out)) {
				t.Fatalf("%d bytes written after RST", int64(len(out))-off)
			}
			continue
		}
		if h.Type == frame.TypeHeader && h.Length > frame.MaxControlMessage {
			t.Fatalf("header frame of %d bytes written", h.Length)
		}
		inMsg = !h.Final
	}
}

// FuzzClient feeds arbitrary server bytes to a real Client making one call
// of each kind in turn. Every call must return (no hang, no panic), a
// stream must end in its end or an error, and what the client wrote must
// be well-formed frames.
func FuzzClient(f *testing.F) {
	for _, s := range captures(f, "server") {
		f.Add(s, uint8(0))
	}
	for _, s := range seeds {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, opts uint8) {
		c := &conn{in: bytes.NewReader(in)}
		var copts rpc.ClientOptions
		if opts&1 != 0 {
			copts.Extensions = []string{}
		}
		cli := rpc.NewClient(c, &copts)
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx := context.Background()
			var out meta
			_ = cli.Call(ctx, "Echo", &meta{Text: "a"}, &out)
			var stream io.Reader
			if err := cli.Call(ctx, "Stream", &meta{N: 3}, &stream); err == nil {
				_, _ = io.Copy(io.Discard, stream)
				if rc, ok := stream.(io.Closer); ok {
					rc.Close()
				}
			}
			_ = cli.Call(ctx, "Count", strings.NewReader("12345"), &out)
			pull := rpc.Pull{Meta: &out}
			if err := cli.Call(ctx, "Push", rpc.Push{Meta: &meta{Text: "m"}, Body: strings.NewReader("body")}, &pull); err == nil {
				_, _ = io.Copy(io.Discard, pull.Body)
				pull.Body.Close()
			}
			_ = cli.Close()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a call did not return after the input ended")
		}
		checkStream(t, c.out.Bytes())
	})
}
