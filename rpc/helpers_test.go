package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/unixpair"
)

// socketpair returns the two ends of a Unix stream socketpair as net.Conns.
func socketpair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	a, b, err := unixpair.New()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// checkGoroutines fails the test if goroutines started during it are still
// running once it ends (after a settle period for ones that are exiting).
func checkGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var now int
		for range 200 {
			now = runtime.NumGoroutine()
			if now <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("goroutine leak: %d before, %d after\n%s", before, now, buf[:n])
	})
}

// pair is a server and a client over a socketpair.
type pair struct {
	srv    *Server
	cli    *Client
	cconn  net.Conn
	sconn  net.Conn
	served chan error
}

func newPair(t testing.TB, srv *Server, copts *ClientOptions) *pair {
	t.Helper()
	a, b := socketpair(t)
	p := &pair{srv: srv, cli: NewClient(a, copts), cconn: a, sconn: b, served: make(chan error, 1)}
	go func() { p.served <- srv.Serve(b) }()
	t.Cleanup(func() {
		p.cli.Close()
		<-p.served
	})
	return p
}

// fataler is what the helpers need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

type Msg struct {
	Text string
	N    int
}

// testServer registers handlers of every form.
func testServer(t fataler, opts *ServerOptions) *Server {
	t.Helper()
	s := NewServer(opts)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.RegisterEndpoint("Echo", func(in *Msg, out *Msg) error {
		*out = Msg{Text: in.Text, N: in.N + 1}
		return nil
	}))
	must(s.RegisterEndpoint("Fail", func(in *Msg, out *Msg) error {
		return errors.New("failed: " + in.Text)
	}))
	must(s.RegisterEndpoint("Status", func(in *Msg, out *Msg) error {
		return &Error{Status: Status(in.N), Message: in.Text}
	}))
	must(s.RegisterEndpoint("Panic", func(ctx context.Context, in *Msg, out *Msg) error {
		panic("boom " + in.Text)
	}))
	must(s.RegisterEndpoint("Stream", func(in *Msg, out *io.Reader) error {
		*out = bytes.NewReader(bytes.Repeat([]byte(in.Text), in.N))
		return nil
	}))
	must(s.RegisterEndpoint("FailingStream", func(in *Msg, out *io.Reader) error {
		*out = io.MultiReader(strings.NewReader(strings.Repeat("x", in.N)), errReader{errors.New("source died: " + in.Text)})
		return nil
	}))
	must(s.RegisterEndpoint("Count", func(in io.Reader, out *Msg) error {
		n, err := io.Copy(io.Discard, in)
		out.N = int(n)
		return err
	}))
	must(s.RegisterEndpoint("Head", func(in io.Reader, out *Msg) error {
		b := make([]byte, 3)
		n, err := io.ReadFull(in, b)
		out.Text, out.N = string(b[:n]), n
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
		return err
	}))
	must(s.RegisterEndpoint("Upper", func(in io.Reader, out *io.Reader) error {
		b, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		*out = bytes.NewReader(bytes.ToUpper(b))
		return nil
	}))
	must(s.RegisterEndpoint("PushMeta", func(ctx context.Context, in *Msg, body io.Reader, out *Msg) error {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		*out = Msg{Text: in.Text + ":" + string(b), N: len(b)}
		return nil
	}))
	must(s.RegisterEndpoint("PullMeta", func(in *Msg, out *Msg, body *io.Reader) error {
		*out = Msg{Text: in.Text, N: in.N}
		*body = strings.NewReader(strings.Repeat(in.Text, in.N))
		return nil
	}))
	return s
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func mustStatus(t fataler, err error, st Status, msg string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("got %v (%T), want an *Error with status %v", err, err, st)
	}
	if se.Status != st || (msg != "" && se.Message != msg) {
		t.Fatalf("got status %v message %q, want %v %q", se.Status, se.Message, st, msg)
	}
}

func echoOK(t testing.TB, c *Client) {
	t.Helper()
	var out Msg
	if err := c.Call(context.Background(), "Echo", &Msg{Text: "ok", N: 1}, &out); err != nil {
		t.Fatalf("connection not usable: %v", err)
	}
	if out != (Msg{Text: "ok", N: 2}) {
		t.Fatalf("Echo: got %+v", out)
	}
}
