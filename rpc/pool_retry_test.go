package rpc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pairDialer serves every connection it dials on one side of a
// socketpair, and keeps the server sides so a test can close them.
type pairDialer struct {
	t     *testing.T
	srv   *Server
	mu    sync.Mutex
	ends  []net.Conn
	wg    sync.WaitGroup
	calls atomic.Int32 // calls of "Counted"
}

func newPairDialer(t *testing.T) *pairDialer {
	d := &pairDialer{t: t, srv: testServer(t, nil)}
	if err := d.srv.RegisterEndpoint("Counted", func(in *Msg, out *Msg) error {
		d.calls.Add(1)
		*out = *in
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.srv.Shutdown(context.Background())
		d.wg.Wait()
	})
	return d
}

func (d *pairDialer) dial(ctx context.Context) (io.ReadWriteCloser, error) {
	a, b := socketpair(d.t)
	d.mu.Lock()
	d.ends = append(d.ends, b)
	d.mu.Unlock()
	d.wg.Go(func() { d.srv.Serve(b) })
	return a, nil
}

// hangUp closes the server's side of connection i, as a server ending an
// idle connection does.
func (d *pairDialer) hangUp(i int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ends[i].Close()
}

// hookCalls sets testHookPoolCall for the test.
func hookCalls(t *testing.T, f func(*Client)) {
	testHookPoolCall = f
	t.Cleanup(func() { testHookPoolCall = nil })
}

// The server closes an idle connection just as a call takes it: the call
// is sent again, once, on a fresh connection, and runs once.
func TestPoolRetriesIdleClose(t *testing.T) {
	checkGoroutines(t)
	d := newPairDialer(t)
	p := NewPool(d.dial, &PoolOptions{MaxConns: 1})
	defer p.Close()
	echo(t, p)
	n := 0
	hookCalls(t, func(c *Client) {
		if n++; n == 1 {
			d.hangUp(0)
			<-c.Done()
		}
	})
	var out Msg
	if err := p.Call(context.Background(), "Counted", &Msg{Text: "x"}, &out); err != nil || out.Text != "x" {
		t.Fatal(out, err)
	}
	if got := d.calls.Load(); got != 1 {
		t.Fatalf("handler ran %d times", got)
	}
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 2, Failures: 1, Retries: 1})
}

// Once only: when the fresh connection fails too, the call fails.
func TestPoolRetriesOnce(t *testing.T) {
	checkGoroutines(t)
	d := newPairDialer(t)
	p := NewPool(d.dial, &PoolOptions{MaxConns: 1})
	defer p.Close()
	echo(t, p)
	n := 0
	hookCalls(t, func(c *Client) {
		d.hangUp(n)
		n++
		<-c.Done()
	})
	var out Msg
	err := p.Call(context.Background(), "Counted", &Msg{}, &out)
	if !errors.Is(err, ErrNotSent) || !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want the second connection's ErrNotSent", err)
	}
	if n != 2 || d.calls.Load() != 0 {
		t.Fatalf("%d attempts, %d handler runs", n, d.calls.Load())
	}
	wantStats(t, p, PoolStats{Dials: 2, Failures: 2, Retries: 1})
}

// A request that may have reached a handler is never sent again.
func TestPoolNeverRetriesSentRequest(t *testing.T) {
	checkGoroutines(t)
	d := newPairDialer(t)
	g := newGate()
	d.srv.RegisterEndpoint("Gate", g.handler)
	defer close(g.release)
	p := NewPool(d.dial, &PoolOptions{MaxConns: 1})
	defer p.Close()
	echo(t, p)
	go func() {
		<-g.entered
		d.hangUp(0)
	}()
	var out Msg
	err := p.Call(context.Background(), "Gate", &Msg{}, &out)
	if !errors.Is(err, ErrClosed) || errors.Is(err, ErrNotSent) {
		t.Fatalf("got %v, want ErrClosed without ErrNotSent", err)
	}
	wantStats(t, p, PoolStats{Dials: 1, Failures: 1})
}

// Nor is a request whose body is a stream, which may have been read.
func TestPoolNeverRetriesStreamRequest(t *testing.T) {
	checkGoroutines(t)
	d := newPairDialer(t)
	p := NewPool(d.dial, &PoolOptions{MaxConns: 1})
	defer p.Close()
	echo(t, p)
	n := 0
	hookCalls(t, func(c *Client) {
		if n++; n == 1 {
			d.hangUp(0)
			<-c.Done()
		}
	})
	var out Msg
	err := p.Call(context.Background(), "Count", strings.NewReader("abc"), &out)
	if !errors.Is(err, ErrNotSent) {
		t.Fatalf("got %v, want ErrNotSent", err)
	}
	wantStats(t, p, PoolStats{Dials: 1, Failures: 1})
}

// A connection the server closed while it sat idle in the pool is
// noticed and replaced; the caller sees nothing of it.
func TestPoolReplacesConnectionClosedWhileIdle(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	addr := poolServer(t, &ServerOptions{IdleTimeout: 30 * time.Millisecond}, nil)
	p := NewPool(DialNet("unix", addr), &PoolOptions{IdleTimeout: time.Minute})
	defer p.Close()
	echo(t, p)
	waitFor(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.idle) == 1 && !p.idle[0].alive()
	})
	echo(t, p)
	wantStats(t, p, PoolStats{Open: 1, Idle: 1, Dials: 2, Failures: 1})
}

// ClientOptions.IOTimeout reaches the pool's connections: a server that
// stalls fails the call, and the connection is not reused.
func TestPoolIOTimeout(t *testing.T) {
	checkFDs(t)
	checkGoroutines(t)
	g := newGate()
	defer close(g.release)
	addr := poolServer(t, nil, g)
	p := NewPool(DialNet("unix", addr), &PoolOptions{Client: ClientOptions{IOTimeout: 50 * time.Millisecond}})
	defer p.Close()
	var out Msg
	err := p.Call(context.Background(), "Gate", &Msg{}, &out)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want the stall timeout", err)
	}
	wantStats(t, p, PoolStats{Dials: 1, Failures: 1})
}
