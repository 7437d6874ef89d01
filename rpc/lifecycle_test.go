package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of a client's life: when it stops being usable and what it then
// says (Err, Done, ErrClosed, ErrNotSent), and its I/O bound.

// waitDone fails the test if c does not become unusable.
func waitDone(t testing.TB, c *Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(hangupWait):
		t.Fatal("Done not closed")
	}
}

// After a call that ended the connection, Err and every later call say
// so with ErrClosed and the cause's text, without matching the cause:
// a later call's own context is fine and must not look exceeded.
func TestErrAfterDeath(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	release := make(chan struct{})
	if err := s.RegisterEndpoint("Block", func(ctx context.Context, in *Msg, out *Msg) error {
		<-release
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer close(release)
	p := newPair(t, s, nil)
	if err := p.cli.Err(); err != nil {
		t.Fatalf("Err of a usable client: %v", err)
	}
	select {
	case <-p.cli.Done():
		t.Fatal("Done closed on a usable client")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out Msg
	if err := p.cli.Call(ctx, "Block", &Msg{}, &out); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrNotSent) {
		t.Fatalf("timed-out call: %v", err)
	}
	waitDone(t, p.cli)
	dead := p.cli.Err()
	for _, err := range []error{dead, p.cli.Call(context.Background(), "Echo", &Msg{}, &out)} {
		if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrNotSent) || errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "deadline exceeded") {
			t.Fatalf("after the timed-out call: %v; want ErrClosed and ErrNotSent naming the deadline without matching it", err)
		}
	}

	// Close: Done, and Err says the client was closed.
	p2 := newPair(t, testServer(t, nil), nil)
	echoOK(t, p2.cli)
	p2.cli.Close()
	waitDone(t, p2.cli)
	if err := p2.cli.Err(); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "closed by Close") {
		t.Fatalf("Err after Close: %v", err)
	}
}

// [RPC-38] The client's IOTimeout: a server that stops answering fails
// the call and the connection; a slow but live stream, each way, does not.
func TestClientIOTimeout(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	// The stalled handlers end when the client goes away.
	if err := s.RegisterEndpoint("Stall", func(ctx context.Context, in *Msg, out *Msg) error {
		<-ctx.Done()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("NoRead", func(in io.Reader, out *Msg) error {
		time.Sleep(3 * time.Second)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A piece of the stream is a whole frame: the sender sends a frame
	// when it is full, so it is what progress looks like to the reader.
	if err := s.RegisterEndpoint("Slow", func(in *Msg, out *io.Reader) error {
		*out = &slowReader{n: in.N, every: 500 * time.Millisecond}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("SlowCount", func(in io.Reader, out *Msg) error {
		n, err := io.Copy(io.Discard, struct{ io.Reader }{&slowReader{src: in, every: 500 * time.Millisecond, n: 1 << 30}})
		out.N = int(n)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	opts := &ClientOptions{IOTimeout: 2 * time.Second}
	t.Run("no reply", func(t *testing.T) {
		p := newPair(t, s, opts)
		var out Msg
		start := time.Now()
		err := p.cli.Call(context.Background(), "Stall", &Msg{}, &out)
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want os.ErrDeadlineExceeded and ErrClosed", err)
		}
		if d := time.Since(start); d > hangupWait/2 {
			t.Fatalf("took %v", d)
		}
		waitDone(t, p.cli)
	})
	t.Run("request not read", func(t *testing.T) {
		p := newPair(t, s, opts)
		var out Msg
		err := p.cli.Call(context.Background(), "NoRead", bytes.NewReader(make([]byte, 16<<20)), &out)
		if !errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ErrNotSent) {
			t.Fatalf("got %v, want os.ErrDeadlineExceeded, sent in part", err)
		}
	})
	t.Run("slow reply stream", func(t *testing.T) {
		p := newPair(t, s, opts)
		var body io.Reader
		// 5 pieces 500 ms apart: 2.5 s in all, each within the bound.
		if err := p.cli.Call(context.Background(), "Slow", &Msg{N: 5}, &body); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(body)
		if err != nil || len(b) != 5*slowPiece {
			t.Fatalf("got %d bytes, %v", len(b), err)
		}
		echoOK(t, p.cli)
	})
	t.Run("slow request stream", func(t *testing.T) {
		p := newPair(t, s, opts)
		var out Msg
		// The server takes a piece every 500 ms of a body much larger
		// than the socket buffers: the client's writes progress slowly.
		n := 5 * slowPiece
		if err := p.cli.Call(context.Background(), "SlowCount", bytes.NewReader(make([]byte, n)), &out); err != nil || out.N != n {
			t.Fatalf("got %+v, %v", out, err)
		}
		echoOK(t, p.cli)
	})
}

// slowPiece is a frame's worth.
const slowPiece = 4 << 20

// slowReader gives n pieces of slowPiece bytes (of src, or zeros), each
// after a pause.
type slowReader struct {
	src   io.Reader
	n     int
	every time.Duration
	left  int // of the current piece
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		if r.n == 0 {
			return 0, io.EOF
		}
		time.Sleep(r.every)
		r.n--
		r.left = slowPiece
	}
	p = p[:min(len(p), r.left)]
	var n int
	var err error
	if r.src != nil {
		n, err = r.src.Read(p)
	} else {
		n = len(clear0(p))
	}
	r.left -= n
	return n, err
}

func clear0(p []byte) []byte { clear(p); return p }

// [RPC-37] [RPC-42] A server closing an idle connection sends RST first;
// the idle client notices at once, and a call made afterwards fails
// without writing anything, saying so.
func TestIdleClose(t *testing.T) {
	checkGoroutines(t)
	t.Run("reference server", func(t *testing.T) {
		p := newPair(t, testServer(t, &ServerOptions{IdleTimeout: 100 * time.Millisecond}), nil)
		echoOK(t, p.cli)
		waitDone(t, p.cli)
		err := p.cli.Err()
		if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrReset) || !errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "closed by the server while idle") {
			t.Fatalf("Err: %v", err)
		}
		var out Msg
		if err := p.cli.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrNotSent) {
			t.Fatalf("call after the idle close: %v", err)
		}
	})
	for _, reset := range []bool{true, false} {
		name := "RST"
		if !reset {
			name = "plain close"
		}
		t.Run(name, func(t *testing.T) {
			r := newRawClient(t, nil)
			ctx := context.Background()
			var out Msg
			wait := r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{}, &out) })
			readN(t, r.conn, len(cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n"))))
			r.send(t, hdr(repHeader(2, 1, "")), data(`{}`))
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if reset {
				r.send(t, rst)
			}
			r.conn.Close()
			waitDone(t, r.cli)
			err := r.cli.Call(ctx, "Echo", &Msg{}, &out)
			if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "closed by the server while idle") {
				t.Fatalf("got %v", err)
			}
			if errors.Is(r.cli.Err(), ErrReset) != reset || errors.Is(err, ErrReset) != reset {
				t.Fatalf("Err %v, call %v: ErrReset should hold exactly when RST was read", r.cli.Err(), err)
			}
		})
	}
	// The first call after the close may find it before the idle read
	// does: either way nothing is written and the reason is the same.
	t.Run("call races the close", func(t *testing.T) {
		for range 20 {
			r := newRawClient(t, nil)
			r.send(t, rst)
			r.conn.Close()
			var out Msg
			err := r.cli.Call(context.Background(), "Echo", &Msg{}, &out)
			if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrReset) || !errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "closed by the server while idle") {
				t.Fatalf("got %v", err)
			}
		}
	})
	// The close comes right after a reply, before the client has started
	// its idle read (idleWatchDelay): the next call's write fails before
	// any byte leaves, and the read it then makes says why.
	t.Run("close right after a reply", func(t *testing.T) {
		for range 20 {
			r := newRawClient(t, nil)
			ctx := context.Background()
			var out Msg
			// Past the idle read NewClient starts: the reply arrives through
			// it, and the call ends with none pending.
			wait := r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{}, &out) })
			readN(t, r.conn, len(cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n"))))
			r.send(t, hdr(repHeader(2, 1, "")), data(`{}`))
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			r.send(t, rst)
			r.conn.Close()
			err := r.cli.Call(ctx, "Echo", &Msg{}, &out)
			if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrReset) || !errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "closed by the server while idle") {
				t.Fatalf("got %v", err)
			}
		}
	})
	// The server read the request, then reset: the request may have
	// reached a handler, never ErrNotSent.
	t.Run("reset after the request", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		wait := r.call(func(c *Client) error { return c.Call(context.Background(), "Echo", &Msg{}, &out) })
		readN(t, r.conn, len(cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n"))))
		r.send(t, rst)
		err := wait()
		if !errors.Is(err, ErrReset) || errors.Is(err, ErrNotSent) {
			t.Fatalf("got %v", err)
		}
	})
}

// recorder is a plain byte stream (no net.Conn methods) that keeps what
// is written to it.
type recorder struct {
	io.ReadWriteCloser
	mu  sync.Mutex
	out []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	n, err := r.ReadWriteCloser.Write(p)
	r.mu.Lock()
	r.out = append(r.out, p[:n]...)
	r.mu.Unlock()
	return n, err
}

func (r *recorder) written() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.out)
}

// [RPC-33] Over a plain stream a cancelled call sends RST before closing
// when its writer is at a frame boundary (waiting for the reply), and
// closes without it while it may be inside a frame (writing a request).
func TestCancelRSTPlainStream(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(nil)
	entered := make(chan struct{}, 1)
	if err := s.RegisterEndpoint("Wait", func(ctx context.Context, in *Msg, out *Msg) error {
		entered <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("Sink", func(in io.Reader, out *Msg) error {
		entered <- struct{}{}
		_, err := io.Copy(io.Discard, in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, endpoint string, in any) []byte {
		a, b := socketpair(t)
		served := make(chan error, 1)
		go func() { served <- s.Serve(rwc{b}) }()
		rec := &recorder{ReadWriteCloser: a}
		c := NewClient(rec, &ClientOptions{Extensions: []string{}})
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan error, 1)
		go func() {
			var out Msg
			res <- c.Call(ctx, endpoint, in, &out)
		}()
		<-entered
		time.Sleep(50 * time.Millisecond) // the client blocks where it is going
		cancel()
		if err := <-res; !errors.Is(err, context.Canceled) {
			t.Fatalf("call: %v", err)
		}
		<-served
		return rec.written()
	}
	t.Run("waiting for the reply", func(t *testing.T) {
		w := run(t, "Wait", &Msg{})
		if !bytes.HasSuffix(w, rst) {
			t.Fatalf("the client's last bytes are %x, want RST", w[max(0, len(w)-12):])
		}
	})
	t.Run("writing the request", func(t *testing.T) {
		// A body the server reads slower than the client writes: the
		// client is blocked inside a frame when it is cancelled.
		w := run(t, "Sink", struct{ io.Reader }{&slowReader{n: 1 << 20, every: time.Millisecond}})
		if bytes.HasSuffix(w, rst) {
			t.Fatalf("RST sent from inside a frame")
		}
	})
}

// A connection's buffers return to their steady size after any request,
// an over-limit JSON body included [RPC-16].
func TestBuffersAfterLargeBodies(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	p := newPair(t, s, nil)
	ctx := context.Background()
	var out Msg
	big := &Msg{Text: strings.Repeat("x", DefaultMaxJSON+10)}
	mustStatus(t, p.cli.Call(ctx, "Echo", big, &out), StatusRequestError, "")
	// The connection waits for the next request (setIdle, under s.mu,
	// after the exchange: what it holds now it holds while idle).
	for {
		s.mu.Lock()
		idle := false
		for c := range s.conns {
			idle = c.idle
		}
		if idle {
			break
		}
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	defer s.mu.Unlock()
	for c := range s.conns {
		for name, b := range map[string][]byte{"header": c.hbuf, "request": c.jbuf, "reply": c.rbuf} {
			if cap(b) > maxKeptBuffer {
				t.Errorf("%s buffer kept at %d bytes", name, cap(b))
			}
		}
	}
	if cap(p.cli.jbuf) > maxKeptBuffer || cap(p.cli.ebuf) > maxKeptBuffer {
		t.Errorf("client buffers kept at %d and %d bytes", cap(p.cli.jbuf), cap(p.cli.ebuf))
	}
}

// A call that gives up waiting for its turn says who holds it and for
// how long; a stream left unread is named as such.
func TestTurnWaitError(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), nil)
	var body io.ReadCloser
	if err := p.cli.Call(context.Background(), "Stream", &Msg{Text: "x", N: 10 << 20}, &body); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out Msg
	err := p.cli.Call(ctx, "Echo", &Msg{}, &out)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `held by the unread streamed reply of "Stream" for `) {
		t.Fatalf("got %v", err)
	}
	// The waiting call sent nothing: the stream and the connection are
	// intact.
	if _, err := io.Copy(io.Discard, body); err != nil {
		t.Fatal(err)
	}
	echoOK(t, p.cli)
}

// [RPC-44] [RPC-45] With the deadline extension the handler's context
// ends when the caller's does, as an exceeded deadline.
func TestDeadlineReachesHandler(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	seen := make(chan error, 1)
	deadlines := make(chan time.Time, 1)
	// An octets handler: nothing watches the connection while it runs,
	// so only the deadline can end its context.
	if err := s.RegisterEndpoint("Expire", func(ctx context.Context, in io.Reader, out *Msg) error {
		d, _ := ctx.Deadline()
		deadlines <- d
		<-ctx.Done()
		seen <- ctx.Err()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, &ClientOptions{Extensions: []string{ExtTrailer, ExtMultipart, ExtDeadline}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	want, _ := ctx.Deadline()
	var out Msg
	// The caller's context and the handler's end together: the call
	// fails with its own deadline, or with the handler's reply if that
	// came first.
	err := p.cli.Call(ctx, "Expire", strings.NewReader("x"), &out)
	var se *Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &se) && se.Message == "context deadline exceeded") {
		t.Fatalf("call: %v", err)
	}
	if d := <-deadlines; d.Before(want.Add(-50*time.Millisecond)) || d.After(want.Add(time.Second)) {
		t.Fatalf("handler's deadline %v, caller's %v", d, want)
	}
	if err := <-seen; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handler saw %v, want the deadline exceeded", err)
	}
	// A JSON call with a deadline is what triggers the hello then, and
	// the handler's reply status says what it returned.
	p2 := newPair(t, s, &ClientOptions{Extensions: []string{ExtDeadline}})
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if err := s.RegisterEndpoint("Deadline", func(ctx context.Context, in *Msg, out *Msg) error {
		d, ok := ctx.Deadline()
		if !ok || time.Until(d) < 50*time.Second {
			return fmt.Errorf("deadline %v %v", d, ok)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := p2.cli.Call(ctx2, "Deadline", &Msg{}, &out); err != nil {
		t.Fatal(err)
	}
	if !p2.cli.ext.deadline {
		t.Fatal("deadline not negotiated")
	}
}
