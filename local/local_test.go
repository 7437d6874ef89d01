package local_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/local"
	"github.com/framerpc/framerpc/rpc"
	"pgregory.net/rapid"
)

// Code written against rpc.Caller takes a local client too.
var _ rpc.Caller = (*local.Client)(nil)

type Msg struct {
	Text string
	N    int
	// hidden is dropped by JSON and kept by direct mode.
	hidden int
}

type fataler interface {
	Helper()
	Fatal(args ...any)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// newServer registers one handler of every form.
func newServer(t fataler, opts *rpc.ServerOptions) *rpc.Server {
	t.Helper()
	s := rpc.NewServer(opts)
	reg := func(name string, h any) {
		if err := s.RegisterEndpoint(name, h); err != nil {
			t.Fatal(err)
		}
	}
	reg("Echo", func(in *Msg, out *Msg) error {
		*out = Msg{Text: in.Text, N: in.N + 1, hidden: in.hidden}
		return nil
	})
	reg("Mutate", func(in *Msg, out *Msg) error {
		in.Text = "changed"
		return nil
	})
	reg("Fail", func(ctx context.Context, in *Msg, out *Msg) error { return errors.New("failed: " + in.Text) })
	reg("Status", func(in *Msg, out *Msg) error { return &rpc.Error{Status: rpc.Status(in.N), Message: in.Text} })
	reg("Panic", func(in *Msg, out *Msg) error { panic("boom " + in.Text) })
	reg("Stream", func(in *Msg, out *io.Reader) error {
		*out = strings.NewReader(strings.Repeat(in.Text, in.N))
		return nil
	})
	reg("FailingStream", func(in *Msg, out *io.Reader) error {
		*out = io.MultiReader(strings.NewReader(strings.Repeat("x", in.N)), errReader{errors.New("source died")})
		return nil
	})
	reg("Count", func(in io.Reader, out *Msg) error {
		n, err := io.Copy(io.Discard, in)
		out.N = int(n)
		return err
	})
	reg("Head", func(in io.Reader, out *Msg) error {
		b := make([]byte, 2)
		n, _ := io.ReadFull(in, b)
		out.Text = string(b[:n])
		return nil
	})
	reg("Upper", func(ctx context.Context, in io.Reader, out *io.Reader) error {
		b, err := io.ReadAll(in)
		*out = bytes.NewReader(bytes.ToUpper(b))
		return err
	})
	reg("PushMeta", func(in *Msg, body io.Reader, out *Msg) error {
		b, err := io.ReadAll(body)
		*out = Msg{Text: in.Text + ":" + string(b), N: len(b)}
		return err
	})
	reg("PullMeta", func(in *Msg, out *Msg, body *io.Reader) error {
		*out = *in
		*body = strings.NewReader(strings.Repeat(in.Text, in.N))
		return nil
	})
	return s
}

func socketpair(t fataler) (net.Conn, net.Conn) {
	a, b, err := unixpair.New()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// remote serves s over a socketpair; stop closes it and waits.
func remote(t fataler, s *rpc.Server, opts *rpc.ClientOptions) (c *rpc.Client, stop func()) {
	a, b := socketpair(t)
	done := make(chan struct{})
	go func() {
		s.Serve(b)
		close(done)
	}()
	c = rpc.NewClient(a, opts)
	return c, func() {
		c.Close()
		<-done
	}
}

func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for range 200 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("goroutine leak: %d before, %d after", before, runtime.NumGoroutine())
	})
}

type caller interface {
	Call(ctx context.Context, endpoint string, in, out any) error
}

// outcome renders everything a caller can observe of one call.
func outcome(c caller, endpoint string, in any, outKind int) string {
	var desc string
	describeErr := func(err error) string {
		if err == nil {
			return "<nil>"
		}
		var se *rpc.Error
		if errors.As(err, &se) {
			return fmt.Sprintf("%q [status %v %q]", err.Error(), se.Status, se.Message)
		}
		return fmt.Sprintf("%q", err.Error())
	}
	readAll := func(r io.Reader) string {
		b, err := io.ReadAll(r)
		return fmt.Sprintf("stream %q end %s", b, describeErr(err))
	}
	switch outKind {
	case 0:
		var out Msg
		err := c.Call(context.Background(), endpoint, in, &out)
		desc = fmt.Sprintf("err %s out %+v", describeErr(err), out)
	case 1:
		var r io.Reader
		err := c.Call(context.Background(), endpoint, in, &r)
		desc = "err " + describeErr(err)
		if err == nil {
			desc += " " + readAll(r)
		}
	default:
		var meta Msg
		p := rpc.Pull{Meta: &meta}
		err := c.Call(context.Background(), endpoint, in, &p)
		desc = fmt.Sprintf("err %s meta %+v", describeErr(err), meta)
		if err == nil {
			desc += " " + readAll(p.Body)
		}
	}
	return desc
}

// Every outcome of a local call is that of the remote call.
func TestSameOutcomes(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, &rpc.ServerOptions{MaxJSON: 200})
	rc, stop := remote(t, s, &rpc.ClientOptions{MaxJSON: 300})
	defer stop()
	lc := local.New(s, &local.Options{MaxJSON: 300})
	long := strings.Repeat("y", 250)
	cases := []struct {
		name     string
		endpoint string
		in       func() any
		outKind  int
	}{
		{"ok", "Echo", func() any { return &Msg{Text: "a<&>", N: 1} }, 0},
		{"unknown endpoint", "Nope", func() any { return &Msg{} }, 0},
		{"wrong request kind", "Echo", func() any { return strings.NewReader("x") }, 0},
		{"wrong reply kind", "Echo", func() any { return &Msg{} }, 1},
		{"handler error", "Fail", func() any { return &Msg{Text: "t"} }, 0},
		{"handler status", "Status", func() any { return &Msg{Text: "bad", N: 2} }, 0},
		{"long message", "Fail", func() any { return &Msg{Text: strings.Repeat("<", 150)} }, 0},
		{"panic", "Panic", func() any { return &Msg{Text: "p"} }, 0},
		{"request over the JSON limit", "Echo", func() any { return &Msg{Text: long} }, 0},
		{"undecodable request", "Echo", func() any { return map[string]string{"N": "x"} }, 0},
		{"stream", "Stream", func() any { return &Msg{Text: "ab", N: 3} }, 1},
		{"failing stream", "FailingStream", func() any { return &Msg{N: 5} }, 1},
		{"push", "Count", func() any { return strings.NewReader("12345") }, 0},
		{"push unread", "Head", func() any { return strings.NewReader("12345") }, 0},
		{"push failing", "Count", func() any { return io.MultiReader(strings.NewReader("12"), errReader{errors.New("src broke")}) }, 0},
		{"push failing unread", "Head", func() any { return io.MultiReader(strings.NewReader("12345"), errReader{errors.New("late")}) }, 0},
		{"octets both ways", "Upper", func() any { return strings.NewReader("abc") }, 1},
		{"multipart push", "PushMeta", func() any { return rpc.Push{Meta: &Msg{Text: "m"}, Body: strings.NewReader("b")} }, 0},
		{"multipart reply", "PullMeta", func() any { return &Msg{Text: "q", N: 2} }, 2},
		{"bad call", "Echo", func() any { return rpc.Push{} }, 0},
		{"reserved", "framerpc:hello", func() any { return &Msg{} }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := outcome(rc, c.endpoint, c.in(), c.outKind)
			got := outcome(lc, c.endpoint, c.in(), c.outKind)
			if got != want {
				t.Fatalf("local:  %s\nremote: %s", got, want)
			}
		})
	}
	// The reply limit is the client's.
	var out Msg
	s2 := newServer(t, nil)
	rc2, stop2 := remote(t, s2, &rpc.ClientOptions{MaxJSON: 30})
	defer stop2()
	want := rc2.Call(context.Background(), "Echo", &Msg{Text: long}, &out)
	got := local.New(s2, &local.Options{MaxJSON: 30}).Call(context.Background(), "Echo", &Msg{Text: long}, &out)
	if !errors.Is(got, rpc.ErrBodyTooLarge) || got.Error() != want.Error() {
		t.Fatalf("local %v, remote %v", got, want)
	}
}

// TestDifferential runs the same random call sequence against local and
// remote and requires identical observations.
func TestDifferential(t *testing.T) {
	checkGoroutines(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := newServer(rt, &rpc.ServerOptions{MaxJSON: 100})
		rc, stop := remote(rt, s, &rpc.ClientOptions{MaxJSON: 120})
		defer stop()
		lc := local.New(s, &local.Options{MaxJSON: 120})
		text := rapid.StringMatching(`[a-z<>&"\\é]{0,8}`)
		for i := range rapid.IntRange(1, 30).Draw(rt, "calls") {
			endpoint := rapid.SampledFrom([]string{"Echo", "Fail", "Status", "Panic", "Stream", "FailingStream", "Count", "Head", "Upper", "PushMeta", "PullMeta", "Nope"}).Draw(rt, "endpoint")
			inKind := rapid.IntRange(0, 2).Draw(rt, "in kind")
			outKind := rapid.IntRange(0, 2).Draw(rt, "out kind")
			txt := text.Draw(rt, "text")
			n := rapid.IntRange(0, 40).Draw(rt, "n")
			fail := rapid.Bool().Draw(rt, "source fails")
			mk := func() any {
				var src io.Reader = strings.NewReader(strings.Repeat(txt, n))
				if fail {
					src = io.MultiReader(src, errReader{errors.New("src " + txt)})
				}
				switch inKind {
				case 0:
					return &Msg{Text: txt, N: n}
				case 1:
					return src
				}
				return rpc.Push{Meta: &Msg{Text: txt, N: n}, Body: src}
			}
			want := outcome(rc, endpoint, mk(), outKind)
			got := outcome(lc, endpoint, mk(), outKind)
			if got != want {
				rt.Fatalf("call %d %s: local and remote differ\nlocal:  %s\nremote: %s", i, endpoint, got, want)
			}
		}
	})
}

// Direct mode passes pointers through; its documented differences hold.
func TestDirectMode(t *testing.T) {
	s := newServer(t, nil)
	lc := local.New(s, &local.Options{Direct: true})
	ctx := context.Background()
	in := &Msg{Text: "a", N: 1, hidden: 7}
	var out Msg
	if err := lc.Call(ctx, "Echo", in, &out); err != nil || out.hidden != 7 || out.N != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	// The handler shares the caller's value.
	if err := lc.Call(ctx, "Mutate", in, &out); err != nil || in.Text != "changed" {
		t.Fatalf("%v %+v", err, in)
	}
	// Other types are refused, where JSON would have converted them.
	err := lc.Call(ctx, "Echo", &struct{ Text string }{"x"}, &out)
	var se *rpc.Error
	if !errors.As(err, &se) || se.Status != rpc.StatusRequestError {
		t.Fatalf("got %v", err)
	}
	var other struct{ Text string }
	if err := lc.Call(ctx, "Echo", in, &other); err == nil || !strings.Contains(err.Error(), "direct mode") {
		t.Fatalf("got %v", err)
	}
	// The default mode goes through JSON: hidden is lost, as remotely.
	if err := local.New(s, nil).Call(ctx, "Echo", &Msg{hidden: 7}, &out); err != nil || out.hidden != 0 {
		t.Fatalf("%v %+v", err, out)
	}
}

func TestLocalClose(t *testing.T) {
	lc := local.New(newServer(t, nil), nil)
	lc.Close()
	var out Msg
	if err := lc.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := local.New(newServer(t, nil), nil).Call(ctx, "Echo", &Msg{}, &out); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// countingCodec wraps rpc.StdJSON and counts its calls.
type countingCodec struct{ marshal, unmarshal atomic.Int64 }

func (c *countingCodec) MarshalAppend(dst []byte, v any) ([]byte, error) {
	c.marshal.Add(1)
	return rpc.StdJSON.MarshalAppend(dst, v)
}

func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.unmarshal.Add(1)
	return rpc.StdJSON.Unmarshal(data, v)
}

// The local client's codec encodes requests and decodes replies; the
// server's codec takes the other half, as over a connection. Direct mode
// uses neither.
func TestCodec(t *testing.T) {
	sc, lc := &countingCodec{}, &countingCodec{}
	s := newServer(t, &rpc.ServerOptions{Codec: sc})
	c := local.New(s, &local.Options{Codec: lc})
	ctx := context.Background()
	var out Msg
	if err := c.Call(ctx, "Echo", &Msg{Text: "a"}, &out); err != nil || out.N != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	if err := c.Call(ctx, "PushMeta", rpc.Push{Meta: &Msg{Text: "m"}, Body: strings.NewReader("b")}, &out); err != nil || out.Text != "m:b" {
		t.Fatalf("%v %+v", err, out)
	}
	if l, s := [2]int64{lc.marshal.Load(), lc.unmarshal.Load()}, [2]int64{sc.marshal.Load(), sc.unmarshal.Load()}; l != [2]int64{2, 2} || s != [2]int64{2, 2} {
		t.Fatalf("local codec marshal/unmarshal %v, server codec %v, want 2/2 each", l, s)
	}
	d := local.New(s, &local.Options{Codec: lc, Direct: true})
	if err := d.Call(ctx, "Echo", &Msg{Text: "a"}, &out); err != nil {
		t.Fatal(err)
	}
	if lc.marshal.Load() != 2 || sc.unmarshal.Load() != 2 {
		t.Fatal("direct mode went through a codec")
	}
}
