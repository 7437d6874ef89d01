package fuzz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/local"
	"github.com/framerpc/framerpc/rpc"
)

// The limits FuzzLocalRemote's calls run into: a request's JSON over the
// server's, a reply's over the client's.
const (
	lrServerJSON = 1 << 10
	lrClientJSON = 2 << 10
)

// lrServer has one endpoint per handler behaviour that package local
// promises to report as a connection does: success, a handler error, a
// chosen status, a panic, a reply stream failing half-way, a pushed
// stream read, left unread or refused, and a reply over the client's
// JSON limit.
func lrServer(tb *testing.F) *rpc.Server {
	s := rpc.NewServer(&rpc.ServerOptions{MaxJSON: lrServerJSON, IOTimeout: rpcDeadline})
	reg := func(name string, h any) {
		if err := s.RegisterEndpoint(name, h); err != nil {
			tb.Fatal(err)
		}
	}
	reg("Echo", func(in *meta, out *meta) error {
		*out = meta{Text: in.Text, N: in.N + 1}
		return nil
	})
	reg("Fail", func(ctx context.Context, in *meta, out *meta) error { return errors.New("failed: " + in.Text) })
	reg("Status", func(in *meta, out *meta) error {
		return &rpc.Error{Status: rpc.Status(2 + in.N%3), Message: in.Text}
	})
	reg("Panic", func(in *meta, out *meta) error { panic("boom " + in.Text) })
	reg("Big", func(in *meta, out *meta) error {
		out.Text = strings.Repeat("b", in.N%(2*lrClientJSON))
		return nil
	})
	reg("Stream", func(in *meta, out *io.Reader) error {
		p := &pattern{n: in.N % 5000, fail: -1}
		switch in.Text {
		case "fail":
			p.fail = p.n / 2
		case "panic":
			p.fail, p.panics = p.n/2, true
		}
		*out = p
		return nil
	})
	reg("Count", func(in io.Reader, out *meta) error {
		n, err := io.Copy(io.Discard, in)
		out.N = int(n)
		return err
	})
	reg("Head", func(in io.Reader, out *meta) error {
		var b [3]byte
		n, _ := io.ReadFull(in, b[:])
		out.Text = string(b[:n])
		return nil
	})
	reg("Refuse", func(in io.Reader, out *meta) error {
		return &rpc.Error{Status: rpc.StatusRequestError, Message: "not now"}
	})
	reg("Push", func(ctx context.Context, in *meta, body io.Reader, out *meta, rb *io.Reader) error {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		out.N = len(b)
		*rb = bytes.NewReader(bytes.ToUpper(b))
		return nil
	})
	return s
}

// lrCall is one call decoded from 4 bytes of the input: what to call, its
// argument, the size of its body, and how the caller behaves.
type lrCall struct {
	op    byte
	n     int
	flags byte
}

var lrEndpoints = []string{"Echo", "Fail", "Status", "Panic", "Big", "Stream", "Count", "Head", "Refuse", "Push", "Nope"}

func decodeCalls(in []byte) []lrCall {
	var calls []lrCall
	for len(in) >= 4 && len(calls) < 32 {
		calls = append(calls, lrCall{op: in[0], n: int(in[1]) | int(in[2])<<8, flags: in[3]})
		in = in[4:]
	}
	return calls
}

// lrOutcome is everything a caller can observe of a call.
type lrOutcome struct {
	err     string // the error's text, "" for success
	class   string // the sentinels and *rpc.Error it matches
	out     meta
	body    string
	bodyEnd string // how reading the streamed reply ended
}

func classify(err error) string {
	if err == nil {
		return "ok"
	}
	var c []string
	for _, s := range []struct {
		name string
		err  error
	}{{"canceled", context.Canceled}, {"bad-call", rpc.ErrBadCall}, {"unsupported", rpc.ErrUnsupported},
		{"too-large", rpc.ErrBodyTooLarge}, {"decode", rpc.ErrDecode}, {"stream-failed", rpc.ErrStreamFailed},
		{"closed", rpc.ErrClosed}, {"reset", rpc.ErrReset}, {"protocol", rpc.ErrProtocol}, {"eof", io.EOF}} {
		if errors.Is(err, s.err) {
			c = append(c, s.name)
		}
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		c = append(c, fmt.Sprintf("status %d %q", re.Status, re.Message))
	}
	return strings.Join(c, ",")
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// sourcePanics: the call's reply source panics (in Read, after half its
// bytes).
func (c lrCall) sourcePanics() bool {
	return lrEndpoints[int(c.op)%len(lrEndpoints)] == "Stream" && c.flags&4 == 0 && c.flags&3 == 2
}

// run makes call c on caller and returns what it saw.
func (c lrCall) run(caller rpc.Caller) lrOutcome {
	ep := lrEndpoints[int(c.op)%len(lrEndpoints)]
	text := []string{"", "fail", "panic", strings.Repeat("t", lrServerJSON)}[c.flags&3]
	req := &meta{Text: text, N: c.n}
	ctx := context.Background()
	if c.flags&4 != 0 {
		// The caller gave up before the call: nothing may be sent
		// [RPC-33].
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ctx = cctx
	}
	var pushed io.Reader = bytes.NewReader(bytes.Repeat([]byte("p"), c.n%3000))
	if c.flags&8 != 0 {
		// The caller's stream source fails at its end [RPC-23].
		pushed = &failingReader{r: pushed, err: errors.New("pushed source died")}
	}
	var o lrOutcome
	var stream io.ReadCloser
	var err error
	switch ep {
	case "Stream":
		err = caller.Call(ctx, ep, req, &stream)
	case "Count", "Head", "Refuse":
		err = caller.Call(ctx, ep, pushed, &o.out)
	case "Push":
		pull := rpc.Pull{Meta: &o.out}
		err = caller.Call(ctx, ep, rpc.Push{Meta: req, Body: pushed}, &pull)
		stream = pull.Body
	default:
		err = caller.Call(ctx, ep, req, &o.out)
	}
	if err != nil {
		o.err = err.Error()
	}
	o.class = classify(err)
	if err == nil && stream != nil {
		b, rerr := io.ReadAll(stream)
		stream.Close()
		o.body, o.bodyEnd = string(b), classify(rerr)
		if rerr != nil {
			o.bodyEnd += ": " + rerr.Error()
		}
	}
	return o
}

// FuzzLocalRemote runs a call sequence decoded from the input on package
// local's in-process client and on an rpc.Client over a socketpair to the
// same Server, and requires the same outcome of every call: the values,
// the error's text and class (sentinels, status and message), the streamed
// bodies and how they end. Package local promises it for a connection
// with both extensions (its package documentation; spec sections 7 to 10:
// [RPC-13], [RPC-16], [RPC-19], [RPC-22], [RPC-23], [RPC-33], [RPC-43]).
// The calls cover every handler behaviour lrServer has, requests over the
// server's JSON limit, replies over the client's, failing pushed streams
// and calls whose context was cancelled before they started.
func FuzzLocalRemote(f *testing.F) {
	for op := range lrEndpoints {
		f.Add([]byte{byte(op), 10, 0, 0, byte(op), 200, 1, 2, byte(op), 5, 0, 3, byte(op), 7, 0, 8, byte(op), 1, 0, 4})
	}
	f.Add([]byte{4, 0, 8, 0, 5, 0x88, 0x13, 2, 9, 0xff, 0x0f, 8, 6, 0, 0, 8, 0, 1, 0, 0})
	// A reply source that panics, then calls on the next connection.
	f.Add([]byte{5, 0x88, 0x13, 2, 0, 1, 0, 0, 5, 0, 0, 2, 5, 1, 0, 1})
	srv := lrServer(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		goroutines := runtime.NumGoroutine()
		calls := decodeCalls(in)
		lc := local.New(srv, &local.Options{MaxJSON: lrClientJSON})
		a, b, err := unixpair.New()
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(b) }()
		rc := rpc.NewClient(a, &rpc.ClientOptions{MaxJSON: lrClientJSON, IOTimeout: rpcDeadline})
		for i, c := range calls {
			lo := c.run(lc)
			ro := c.run(rc)
			if c.sourcePanics() {
				// [RPC-19] the server resets the connection when a reply
				// source panics after the reply header went out: the
				// remote call or its reader fails with the reset, after
				// the bytes of the frames sent before it. Local has no
				// connection: its reader gets a ServerError instead,
				// after every byte the source gave. Neither reader sees
				// an end, and no panic reaches the caller.
				remoteReset := strings.Contains(ro.class, "reset") || strings.Contains(ro.bodyEnd, "reset")
				if lo.err != "" || !remoteReset || !strings.HasPrefix(lo.body, ro.body) ||
					!strings.HasPrefix(lo.bodyEnd, `status 3 "reading the stream source panicked`) {
					t.Fatalf("call %d (Stream, n %d) whose source panics:\nlocal  %+v\nremote %+v", i, c.n, lo, ro)
				}
				rc.Close()
				<-served
				a, b, err = unixpair.New()
				if err != nil {
					t.Fatal(err)
				}
				served = make(chan error, 1)
				go func() { served <- srv.Serve(b) }()
				rc = rpc.NewClient(a, &rpc.ClientOptions{MaxJSON: lrClientJSON, IOTimeout: rpcDeadline})
				continue
			}
			if lo != ro {
				t.Fatalf("call %d (%s, n %d, flags %#x):\nlocal  %+v\nremote %+v", i, lrEndpoints[int(c.op)%len(lrEndpoints)], c.n, c.flags, lo, ro)
			}
			if err := rc.Err(); err != nil {
				t.Fatalf("call %d (%s) left the connection unusable: %v", i, lrEndpoints[int(c.op)%len(lrEndpoints)], err)
			}
		}
		rc.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Fatalf("the connection ended with %v", err)
			}
		case <-time.After(rpcDeadline):
			t.Fatalf("Serve did not return %v after the client closed", rpcDeadline)
		}
		settleGoroutines(t, goroutines)
	})
}
