package rpc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The calling interface is shared by the clients of this package.
var (
	_ Caller = (*Client)(nil)
	_ Caller = (*Pool)(nil)
)

// gate is a handler that holds calls until released.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 64), release: make(chan struct{})}
}

func (g *gate) handler(ctx context.Context, in *Msg, out *Msg) error {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		*out = *in
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// poolServer serves testServer's handlers and "Gate" on a unix socket
// and returns its address.
func poolServer(t testing.TB, opts *ServerOptions, g *gate) string {
	t.Helper()
	srv := testServer(t, opts)
	if g != nil {
		if err := srv.RegisterEndpoint("Gate", g.handler); err != nil {
			t.Fatal(err)
		}
	}
	addr := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeListener(l)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return addr
}

// openFDs counts this process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// checkFDs fails the test if it leaves descriptors open (after a settle
// period for ones being closed). Register it before the resources it
// watches, so that its check runs after their cleanups.
func checkFDs(t *testing.T) {
	before := openFDs(t)
	t.Cleanup(func() {
		var now int
		for range 200 {
			if now = openFDs(t); now <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("descriptor leak: %d open before, %d after", before, now)
	})
}

func wantStats(t *testing.T, p *Pool, want PoolStats) {
	t.Helper()
	// Connections are given back just after a call returns to its caller
	// only for streams; calls give theirs back before returning.
	if got := p.Stats(); got != want {
		t.Fatalf("stats: got %+v, want %+v", got, want)
	}
}

func TestPoolParallel(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	g := newGate()
	addr := poolServer(t, nil, g)
	p := NewPool(DialNet("unix", addr), &PoolOptions{MaxConns: 3})
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 {
		wg.Go(func() {
			var out Msg
			errs <- p.Call(context.Background(), "Gate", &Msg{N: i}, &out)
		})
	}
	// All three handlers run at once: one call per connection.
	for range 3 {
		select {
		case <-g.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("calls did not run in parallel: %+v", p.Stats())
		}
	}
	wantStats(t, p, PoolStats{Open: 3, InUse: 3, Dials: 3})
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantStats(t, p, PoolStats{Open: 3, Idle: 3, Dials: 3})
	// Idle connections are reused, not redialed.
	var out Msg
	if err := p.Call(context.Background(), "Echo", &Msg{Text: "x"}, &out); err != nil || out.N != 1 {
		t.Fatal(out, err)
	}
	wantStats(t, p, PoolStats{Open: 3, Idle: 3, Dials: 3})
}

func TestPoolWaitBoundedByContext(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	g := newGate()
	addr := poolServer(t, nil, g)
	p := NewPool(DialNet("unix", addr), &PoolOptions{MaxConns: 1})
	defer p.Close()
	first := make(chan error, 1)
	go func() {
		var out Msg
		first <- p.Call(context.Background(), "Gate", &Msg{}, &out)
	}()
	<-g.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out Msg
	err := p.Call(ctx, "Echo", &Msg{}, &out)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "for a connection") {
		t.Fatalf("got %v, want an error saying the call waited for a connection", err)
	}
	wantStats(t, p, PoolStats{Open: 1, InUse: 1, Dials: 1})
	// A caller still waiting gets the connection when it is given back.
	second := make(chan error, 1)
	go func() { second <- p.Call(context.Background(), "Echo", &Msg{}, &out) }()
	waitFor(t, func() bool { return p.Stats().Waiting == 1 })
	close(g.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 1})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5 s")
}

func TestPoolReplacesFailedConnection(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	g := newGate()
	addr := poolServer(t, nil, g)
	p := NewPool(DialNet("unix", addr), &PoolOptions{MaxConns: 1})
	defer p.Close()

	// A cancelled call ends its connection: closed, not reused.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-g.entered
		cancel()
	}()
	var out Msg
	if err := p.Call(ctx, "Gate", &Msg{}, &out); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	wantStats(t, p, PoolStats{Dials: 1, Failures: 1})
	echo(t, p)
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 2, Failures: 1})

	// So does a stream closed before its end.
	var rc io.ReadCloser
	if err := p.Call(context.Background(), "Stream", &Msg{Text: "abc", N: 1 << 20}, &rc); err != nil {
		t.Fatal(err)
	}
	wantStats(t, p, PoolStats{Open: 1, InUse: 1, Dials: 2, Failures: 1})
	rc.Close()
	wantStats(t, p, PoolStats{Dials: 2, Failures: 2})
	echo(t, p)

	// A stream read to its end gives its connection back for reuse.
	var r io.Reader
	if err := p.Call(context.Background(), "Stream", &Msg{Text: "abc", N: 1 << 20}, &r); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, r); err != nil || n != 3<<20 {
		t.Fatal(n, err)
	}
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 3, Failures: 2})

	// An error reply leaves the connection usable.
	if err := p.Call(context.Background(), "Fail", &Msg{Text: "x"}, &out); err == nil {
		t.Fatal("Fail succeeded")
	}
	echo(t, p)
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 3, Failures: 2})

	// So does a stream whose source failed, reported in its trailer: the
	// connection is in sync.
	if err := p.Call(context.Background(), "FailingStream", &Msg{Text: "x", N: 1000}, &r); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err == nil || !strings.Contains(err.Error(), "source died") {
		t.Fatalf("got %v, want the source's failure", err)
	}
	echo(t, p)
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 3, Failures: 2})
}

func echo(t *testing.T, c Caller) {
	t.Helper()
	var out Msg
	if err := c.Call(context.Background(), "Echo", &Msg{Text: "ok", N: 1}, &out); err != nil {
		t.Fatalf("Echo: %v", err)
	}
	if out != (Msg{Text: "ok", N: 2}) {
		t.Fatalf("Echo: got %+v", out)
	}
}

// A stream holds its connection; other calls meanwhile use others.
func TestPoolStreamHoldsItsConnection(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	addr := poolServer(t, nil, nil)
	p := NewPool(DialNet("unix", addr), nil)
	defer p.Close()
	pull := Pull{Meta: new(Msg)}
	if err := p.Call(context.Background(), "PullMeta", &Msg{Text: "ab", N: 1 << 20}, &pull); err != nil {
		t.Fatal(err)
	}
	echo(t, p)
	wantStats(t, p, PoolStats{Open: 2, Idle: 1, InUse: 1, Dials: 2})
	var sb strings.Builder
	if _, err := io.Copy(&sb, pull.Body); err != nil || sb.Len() != 2<<20 {
		t.Fatal(sb.Len(), err)
	}
	pull.Body.Close()
	wantStats(t, p, PoolStats{Open: 2, Idle: 2, Dials: 2})
}

func TestPoolClose(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	g := newGate()
	addr := poolServer(t, nil, g)
	p := NewPool(DialNet("unix", addr), &PoolOptions{MaxConns: 2})
	echo(t, p)
	busy := make(chan error, 1)
	go func() {
		var out Msg
		busy <- p.Call(context.Background(), "Gate", &Msg{}, &out)
	}()
	<-g.entered
	go func() {
		var out Msg
		p.Call(context.Background(), "Gate", &Msg{}, &out)
	}()
	<-g.entered
	waiting := make(chan error, 1)
	go func() {
		var out Msg
		waiting <- p.Call(context.Background(), "Echo", &Msg{}, &out)
	}()
	waitFor(t, func() bool { return p.Stats().Waiting == 1 })
	p.Close()
	p.Close()
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting call: got %v, want ErrClosed", err)
	}
	// The busy connections end with their calls, which finish.
	wantStats(t, p, PoolStats{Open: 2, InUse: 2, Dials: 2})
	close(g.release)
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return p.Stats().Open == 0 })
	var out Msg
	if err := p.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: got %v, want ErrClosed", err)
	}
}

func TestPoolIdleTimeout(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	addr := poolServer(t, nil, nil)
	p := NewPool(DialNet("unix", addr), &PoolOptions{IdleTimeout: 30 * time.Millisecond})
	defer p.Close()
	echo(t, p)
	waitFor(t, func() bool { return p.Stats().Open == 0 })
	echo(t, p)
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 2})
}

func TestPoolDialFailure(t *testing.T) {
	checkGoroutines(t)
	p := NewPool(DialNet("unix", filepath.Join(t.TempDir(), "nobody")), nil)
	defer p.Close()
	var out Msg
	err := p.Call(context.Background(), "Echo", &Msg{}, &out)
	if err == nil || !strings.Contains(err.Error(), "dialing a connection") {
		t.Fatalf("got %v", err)
	}
	wantStats(t, p, PoolStats{Dials: 1, DialFailures: 1})
}
