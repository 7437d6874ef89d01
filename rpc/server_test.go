package rpc

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegistrationErrors(t *testing.T) {
	s := NewServer(nil)
	cases := []struct {
		name string
		fn   any
		want string
	}{
		{"not a func", 42, "not a func"},
		{"nil func", (func(*Msg, *Msg) error)(nil), "nil func"},
		{"no error result", func(*Msg, *Msg) {}, "exactly one result, of type error"},
		{"two results", func(*Msg, *Msg) (int, error) { return 0, nil }, "exactly one result"},
		{"no parameters", func() error { return nil }, "missing the request parameter"},
		{"only ctx", func(context.Context) error { return nil }, "missing the request parameter"},
		{"no reply", func(*Msg) error { return nil }, "missing the reply parameter"},
		{"value request", func(Msg, *Msg) error { return nil }, "parameter 1 is rpc.Msg: the request must be"},
		{"value reply", func(*Msg, Msg) error { return nil }, "parameter 2 is rpc.Msg: the reply must be"},
		{"reader pointer as request", func(*io.Reader, *Msg) error { return nil }, "parameter 1 is *io.Reader"},
		{"reader as reply", func(*Msg, io.Reader) error { return nil }, "missing the reply parameter"},
		{"reader as reply after ctx", func(context.Context, io.Reader, io.Reader) error { return nil }, "parameter 3 is io.Reader"},
		{"extra parameter", func(*Msg, *Msg, int) error { return nil }, "unexpected parameter 3 of type int"},
		{"ctx not first", func(*Msg, context.Context, *Msg) error { return nil }, "parameter 2 is context.Context"},
		{"variadic", func(*Msg, ...*Msg) error { return nil }, "variadic"},
		{"unencodable request", func(*struct{ C chan int }, *Msg) error { return nil }, "cannot be encoded as JSON"},
		{"func pointer", func(*func(), *Msg) error { return nil }, "parameter 1 is *func()"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.RegisterEndpoint("X", c.fn)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"X"`) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	if err := s.RegisterEndpoint("X", func(*Msg, *Msg) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("X", func(*Msg, *Msg) error { return nil }); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("duplicate: %v", err)
	}
}

// Arith's exported methods of handler forms become endpoints; the others
// are skipped.
type Arith struct{ calls int }

func (a *Arith) Add(in *[2]int, out *int) error { a.calls++; *out = in[0] + in[1]; return nil }
func (a *Arith) Div(ctx context.Context, in *[2]int, out *int) error {
	if in[1] == 0 {
		return &Error{Status: StatusRequestError, Message: "division by zero"}
	}
	*out = in[0] / in[1]
	return nil
}
func (a *Arith) Calls() int { return a.calls }
func (a *Arith) sub(in *[2]int, out *int) error {
	*out = in[0] - in[1]
	return nil
}

type Nothing struct{}

func (Nothing) String() string { return "" }

func TestRegisterReceiver(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(nil)
	a := &Arith{}
	_ = a.sub
	if err := s.Register(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(Nothing{}); err == nil || !strings.Contains(err.Error(), "no exported method of a handler form") || !strings.Contains(err.Error(), "Nothing.String") {
		t.Fatalf("got %v", err)
	}
	if err := s.Register(a); err == nil {
		t.Fatal("registered twice")
	}
	p := newPair(t, s, nil)
	var n int
	if err := p.cli.Call(context.Background(), "Arith.Add", &[2]int{2, 3}, &n); err != nil || n != 5 {
		t.Fatal(err, n)
	}
	mustStatus(t, p.cli.Call(context.Background(), "Arith.Div", &[2]int{2, 0}, &n), StatusRequestError, "division by zero")
	mustStatus(t, p.cli.Call(context.Background(), "Arith.sub", &[2]int{2, 0}, &n), StatusRequestError, `unknown endpoint "Arith.sub"`)
	mustStatus(t, p.cli.Call(context.Background(), "Arith.Calls", &[2]int{2, 0}, &n), StatusRequestError, `unknown endpoint "Arith.Calls"`)
	if a.calls != 1 {
		t.Fatalf("calls %d", a.calls)
	}
}

func TestBadCalls(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), nil)
	ctx := context.Background()
	var m Msg
	var nilReader *io.Reader
	for _, c := range []struct {
		name    string
		in, out any
	}{
		{"nil out", &m, nil},
		{"non-pointer out", &m, m},
		{"nil reader pointer", &m, nilReader},
		{"nil pull", &m, (*Pull)(nil)},
		{"pull without meta", &m, &Pull{}},
		{"push without body", Push{Meta: &m}, &m},
		{"unencodable in", func() {}, &m},
	} {
		if err := p.cli.Call(ctx, "Echo", c.in, c.out); !errors.Is(err, ErrBadCall) {
			t.Fatalf("%s: got %v", c.name, err)
		}
	}
	echoOK(t, p.cli)
}

// Shutdown stops the listener, closes idle connections, lets a running call
// finish, and leaves no goroutine behind.
func TestShutdown(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	if err := s.RegisterEndpoint("Block", func(in *Msg, out *Msg) error {
		entered <- struct{}{}
		<-release
		out.Text = "finished"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.ServeListener(l) }()
	dial := func() *Client {
		c, err := net.Dial("unix", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cl := NewClient(c, nil)
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	idle, busy := dial(), dial()
	echoOK(t, idle)
	result := make(chan error, 1)
	var out Msg
	go func() { result <- busy.Call(context.Background(), "Block", &Msg{}, &out) }()
	<-entered
	down := make(chan error, 1)
	go func() { down <- s.Shutdown(context.Background()) }()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("ServeListener: %v", err)
	}
	// The idle connection is closed: its next call fails.
	var m Msg
	if err := idle.Call(context.Background(), "Echo", &Msg{}, &m); err == nil {
		t.Fatal("idle connection still served")
	}
	close(release)
	if err := <-result; err != nil || out.Text != "finished" {
		t.Fatalf("running call: %v %+v", err, out)
	}
	if err := <-down; err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("unix", l.Addr().String()); err == nil {
		t.Fatal("still accepting")
	}
	if err := s.Serve(nopConn{}); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
}

// A forced Shutdown: ctx ends while a handler runs; its context is
// cancelled and the connection closed.
func TestShutdownForced(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(nil)
	entered := make(chan struct{})
	if err := s.RegisterEndpoint("Wait", func(ctx context.Context, in *Msg, out *Msg) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	res := make(chan error, 1)
	go func() {
		var out Msg
		res <- p.cli.Call(context.Background(), "Wait", &Msg{}, &out)
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-res; err == nil {
		t.Fatal("call succeeded on a closed server")
	}
}

type nopConn struct{}

func (nopConn) Read([]byte) (int, error)  { return 0, io.EOF }
func (nopConn) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
func (nopConn) Close() error              { return nil }

// Almost is a receiver with a method that almost fits: its request is a
// value, not a pointer.
type Almost struct{}

func (Almost) Get(in *string, out *string) error { return nil }
func (Almost) Put(in string, out *string) error  { return nil }
func (Almost) Push(in *string, body io.Reader, out *string) error {
	return nil
}

// Register reports every exported method it skips, with the reason, and
// Endpoints lists what is registered with its body kinds.
func TestRegisterReportsSkipped(t *testing.T) {
	log := &logBuf{}
	s := NewServer(&ServerOptions{Logf: log.logf})
	if err := s.Register(Almost{}); err != nil {
		t.Fatal(err)
	}
	if l := log.String(); !strings.Contains(l, `"Almost.Put"`) || !strings.Contains(l, "parameter 1 is string") || strings.Contains(l, "Almost.Get") {
		t.Fatalf("log:\n%s", l)
	}
	if err := s.RegisterEndpoint("Down", func(in *Msg, out *io.Reader) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want := []Endpoint{
		{Name: "Almost.Get", Request: "JSON", Reply: "JSON"},
		{Name: "Almost.Push", Request: "JSON+Octets", Reply: "JSON"},
		{Name: "Down", Request: "JSON", Reply: "Octets"},
	}
	if got := s.Endpoints(); !slices.Equal(got, want) {
		t.Fatalf("Endpoints: got %+v, want %+v", got, want)
	}
}
