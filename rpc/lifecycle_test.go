package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
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
		time.Sleep(time.Second)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A piece of the stream is a whole frame: the sender sends a frame
	// when it is full, so it is what progress looks like to the reader.
	if err := s.RegisterEndpoint("Slow", func(in *Msg, out *io.Reader) error {
		*out = &slowReader{n: in.N, every: 100 * time.Millisecond}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("SlowCount", func(in io.Reader, out *Msg) error {
		n, err := io.Copy(io.Discard, struct{ io.Reader }{&slowReader{src: in, every: 100 * time.Millisecond, n: 1 << 30}})
		out.N = int(n)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	opts := &ClientOptions{IOTimeout: 150 * time.Millisecond}
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
		err := p.cli.Call(context.Background(), "NoRead", bytes.NewReader(make([]byte, 64<<20)), &out)
		if !errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ErrNotSent) {
			t.Fatalf("got %v, want os.ErrDeadlineExceeded, sent in part", err)
		}
	})
	t.Run("slow reply stream", func(t *testing.T) {
		p := newPair(t, s, opts)
		var body io.Reader
		// 6 pieces 100 ms apart: 0.6 s in all, each within the bound.
		if err := p.cli.Call(context.Background(), "Slow", &Msg{N: 6}, &body); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(body)
		if err != nil || len(b) != 6*slowPiece {
			t.Fatalf("got %d bytes, %v", len(b), err)
		}
		echoOK(t, p.cli)
	})
	t.Run("slow request stream", func(t *testing.T) {
		p := newPair(t, s, opts)
		var out Msg
		// The server takes a piece every 100 ms of a body much larger
		// than the socket buffers: the client's writes progress slowly.
		n := 6 * slowPiece
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
