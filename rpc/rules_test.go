package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// Behaviour tests, one or more per rule of spec sections 6 to 10.

func TestBadRequestHeaderResets(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	cases := []struct {
		name string
		req  []byte
	}{
		{"RPC-3 RPC-35 not JSON", hdr("nope")},
		{"RPC-5 RPC-35 duplicate member", hdr(`{"Endpoint":"Echo","Endpoint":"Echo","DataType":2,"Accept":2}`)},
		{"RPC-9 unknown DataType", hdr(reqHeader("Echo", 7, 2))},
		{"RPC-9 DataType 0", hdr(reqHeader("Echo", 0, 2))},
		{"RPC-9 RPC-26 DataType 4 without multipart", hdr(reqHeader("PushMeta", 4, 2))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRawServer(t, s)
			r.send(t, c.req)
			expectBytes(t, r.conn, rst)
			expectEnd(t, r.conn)
			err := r.result(t)
			rule, _, _ := strings.Cut(c.name, " ")
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Class != ClassBadHeader || pe.Rule != rule || !errors.Is(err, ErrProtocol) {
				t.Fatalf("Serve: got %v, want bad-header citing %s", err, rule)
			}
		})
	}
	// [RPC-14] [RPC-35] A message of the wrong type where the body is due.
	t.Run("RPC-14 trailer where the body is due", func(t *testing.T) {
		r := newRawServer(t, s)
		r.send(t, hdr(reqHeader("Echo", 2, 2)), trl("{}"))
		expectBytes(t, r.conn, rst)
		var fe *frame.ProtocolError
		if err := r.result(t); !errors.As(err, &fe) || fe.Class != frame.ClassTypeMismatch || fe.Rule != "MSG-4" {
			t.Fatalf("got %v, want type-mismatch citing MSG-4", err)
		}
	})
	// [RPC-29] End of stream where a header is due is the client going away.
	t.Run("RPC-29 clean end", func(t *testing.T) {
		r := newRawServer(t, s)
		r.conn.Close()
		if err := r.result(t); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBadReplies(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		reply []byte
		class Class
	}{
		{"RPC-10 status 0", hdr(repHeader(1, 0, "")), ClassBadReply},
		{"RPC-10 status 5", hdr(repHeader(1, 5, "")), ClassBadReply},
		{"RPC-17 DataType not the Accept", cat(hdr(repHeader(3, 1, "")), data("x")), ClassBadReply},
		{"RPC-3 not JSON", hdr("{"), ClassBadHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRawClient(t, nil)
			var out Msg
			wait := r.call(func(cl *Client) error { return cl.Call(ctx, "Echo", &Msg{}, &out) })
			readN(t, r.conn, len(cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n"))))
			r.send(t, c.reply)
			err := wait()
			rule, _, _ := strings.Cut(c.name, " ")
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Class != c.class || pe.Rule != rule {
				t.Fatalf("got %v, want %s citing %s", err, c.class, rule)
			}
			// [RPC-35] The client resets and closes; later calls fail.
			expectBytes(t, r.conn, rst)
			expectEnd(t, r.conn)
			// Later calls: ErrClosed naming the violation, which they
			// do not match: it was another call's.
			if err := r.cli.Call(ctx, "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) || errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), c.class.String()) {
				t.Fatalf("later call: %v", err)
			}
		})
	}
	t.Run("RPC-25 hello reply grants what was not asked", func(t *testing.T) {
		r := newRawClient(t, &ClientOptions{Extensions: []string{ExtTrailer}})
		var body io.Reader
		wait := r.call(func(cl *Client) error { return cl.Call(ctx, "Stream", &Msg{}, &body) })
		readN(t, r.conn, len(hdr(`{"Endpoint":"framerpc:hello","DataType":1,"Accept":1,"Error":0,"ErrorMessage":"","Extensions":["trailer"]}`+"\n")))
		r.send(t, hdr(helloRep))
		var pe *ProtocolError
		if err := wait(); !errors.As(err, &pe) || pe.Class != ClassBadReply || pe.Rule != "RPC-25" {
			t.Fatalf("got %v, want bad-reply citing RPC-25", err)
		}
	})
	t.Run("RPC-22 RPC-48 bad trailer", func(t *testing.T) {
		r := newRawClient(t, nil)
		var body io.Reader
		wait := r.call(func(cl *Client) error { return cl.Call(ctx, "Stream", &Msg{}, &body) })
		readN(t, r.conn, len(hdr(helloReq)))
		r.send(t, hdr(helloRep))
		readN(t, r.conn, len(cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"","N":0}`+"\n"))))
		r.send(t, hdr(repHeader(3, 1, "")), data("abc"), trl(`{"Error":9}`))
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(body)
		var pe *ProtocolError
		if string(b) != "abc" || !errors.As(err, &pe) || pe.Class != ClassBadTrailer || pe.Rule != "RPC-48" {
			t.Fatalf("got %q %v, want bad-trailer citing RPC-48", b, err)
		}
		expectBytes(t, r.conn, rst)
	})
	t.Run("RPC-30 end of stream instead of a reply", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		wait := r.call(func(cl *Client) error { return cl.Call(ctx, "Echo", &Msg{}, &out) })
		readN(t, r.conn, len(cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n"))))
		r.conn.Close()
		if err := wait(); !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF and ErrClosed", err)
		}
	})
}

// [RPC-21] A stream that ends or is reset inside a body is an error to the
// reader, never io.EOF.
func TestTruncatedStream(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		tail []byte
		want error
	}{
		{"RPC-21 end inside the message", frame.FrameHeader{Type: frame.TypeData, Length: 3}.AppendHeader(nil), io.ErrUnexpectedEOF},
		{"RPC-21 end inside a payload", append(frame.FrameHeader{Type: frame.TypeData, Final: true, Length: 10}.AppendHeader(nil), "abc"...), io.ErrUnexpectedEOF},
		{"RPC-21 RST inside the message", cat(frame.FrameHeader{Type: frame.TypeData, Length: 3}.AppendHeader(nil), []byte("abc"), rst), ErrReset},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRawClient(t, &ClientOptions{Extensions: []string{}})
			var body io.Reader
			wait := r.call(func(cl *Client) error { return cl.Call(ctx, "Stream", &Msg{}, &body) })
			readN(t, r.conn, len(cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"","N":0}`+"\n"))))
			r.send(t, hdr(repHeader(3, 1, "")), c.tail)
			r.conn.Close()
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			_, err := io.ReadAll(body)
			if err == nil || !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// [RPC-23] Without the trailer extension a failing source can only reset.
func TestFailingSourceWithoutTrailer(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), &ClientOptions{Extensions: []string{}})
	// More than one frame, so that the body has started when the source
	// fails.
	var body io.Reader
	if err := p.cli.Call(context.Background(), "FailingStream", &Msg{Text: "q", N: frame.MaxPayload + 10}, &body); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(body)
	if !errors.Is(err, ErrReset) || len(b) != frame.MaxPayload {
		// The final frame never went out: the reader sees the full frames
		// and then the reset, never a short body ending in io.EOF.
		t.Fatalf("got %d bytes, %v; want a reset", len(b), err)
	}
	if err := <-p.served; err == nil || !strings.Contains(err.Error(), "source died") {
		t.Fatalf("Serve: %v", err)
	}
	p.served <- nil
	var out Msg
	if err := p.cli.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) {
		t.Fatalf("later call: %v", err)
	}
}

// [RPC-15] Error replies leave the connection in sync: the body is consumed
// first, within the bound; past the bound the connection is reset.
func TestDrainBeforeReply(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("z"), 5<<20)
	t.Run("RPC-15 RPC-36 unknown endpoint with a large body", func(t *testing.T) {
		p := newPair(t, testServer(t, nil), nil)
		var out Msg
		for range 3 {
			err := p.cli.Call(ctx, "Nope", bytes.NewReader(big), &out)
			mustStatus(t, err, StatusRequestError, `unknown endpoint "Nope"`)
			echoOK(t, p.cli)
		}
		// The same with a JSON body and a wrong Accept.
		var r io.Reader
		err := p.cli.Call(ctx, "Echo", &Msg{Text: string(big[:100000])}, &r)
		mustStatus(t, err, StatusRequestError, `endpoint "Echo" replies with a JSON body, not an octets body`)
		echoOK(t, p.cli)
	})
	t.Run("RPC-15 past the bound the server resets", func(t *testing.T) {
		p := newPair(t, testServer(t, &ServerOptions{MaxDiscard: 1000}), &ClientOptions{Extensions: []string{}})
		var out Msg
		err := p.cli.Call(ctx, "Nope", bytes.NewReader(big), &out)
		// The client's write fails on the refused stream (or it reads the
		// RST): either way a documented sentinel says the connection is over.
		if !errors.Is(err, ErrReset) && !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want ErrReset or ErrClosed", err)
		}
		if err := <-p.served; !errors.Is(err, frame.ErrDiscardLimit) {
			t.Fatalf("Serve: %v", err)
		}
		p.served <- nil
	})
	t.Run("RPC-15 RPC-20 handler that stops reading", func(t *testing.T) {
		p := newPair(t, testServer(t, nil), nil)
		var out Msg
		if err := p.cli.Call(ctx, "Head", bytes.NewReader(big), &out); err != nil || out.Text != "zzz" {
			t.Fatal(err, out)
		}
		echoOK(t, p.cli)
	})
}

// [RPC-16] JSON bodies are read to the end of their message and bounded.
func TestJSONBodies(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	t.Run("RPC-16 bodies of the sizes that desynced the original", func(t *testing.T) {
		p := newPair(t, testServer(t, nil), nil)
		for _, n := range []int{480, 511, 512, 513, 1024, 1536, 2048, 4096} {
			// The encoded body is {"Text":"...","N":0} plus "\n": pad it
			// to exactly n bytes before the newline.
			text := strings.Repeat("a", n-len(`{"Text":"","N":0}`))
			var out Msg
			if err := p.cli.Call(ctx, "Echo", &Msg{Text: text}, &out); err != nil || out.Text != text {
				t.Fatalf("size %d: %v", n, err)
			}
			echoOK(t, p.cli)
		}
	})
	t.Run("RPC-16 request over the server's limit", func(t *testing.T) {
		p := newPair(t, testServer(t, &ServerOptions{MaxJSON: 100}), nil)
		var out Msg
		err := p.cli.Call(ctx, "Echo", &Msg{Text: strings.Repeat("x", 200)}, &out)
		mustStatus(t, err, StatusRequestError, "request body longer than the 100-byte JSON limit")
		echoOK(t, p.cli)
		// Multipart: the stream after the oversized JSON is drained too.
		err = p.cli.Call(ctx, "PushMeta", Push{Meta: &Msg{Text: strings.Repeat("x", 200)}, Body: strings.NewReader("body")}, &out)
		mustStatus(t, err, StatusRequestError, "request body longer than the 100-byte JSON limit")
		echoOK(t, p.cli)
	})
	t.Run("RPC-16 reply over the client's limit", func(t *testing.T) {
		p := newPair(t, testServer(t, nil), &ClientOptions{MaxJSON: 100})
		var out Msg
		err := p.cli.Call(ctx, "Echo", &Msg{Text: strings.Repeat("x", 200)}, &out)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("got %v", err)
		}
		echoOK(t, p.cli)
	})
	t.Run("RPC-16 RPC-15 reply past the client's discard bound", func(t *testing.T) {
		p := newPair(t, testServer(t, nil), &ClientOptions{MaxJSON: 100, MaxDiscard: 150})
		var out Msg
		err := p.cli.Call(ctx, "Echo", &Msg{Text: strings.Repeat("x", 300)}, &out)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("got %v, want ErrBodyTooLarge", err)
		}
		// Out of sync: the client reset and closed the connection.
		if err := p.cli.Call(ctx, "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) || errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "discard bound") {
			t.Fatalf("later call: %v", err)
		}
	})
	t.Run("RPC-16 RPC-18 undecodable reply", func(t *testing.T) {
		p := newPair(t, testServer(t, nil), nil)
		var out struct{ N string }
		var te *json.UnmarshalTypeError
		if err := p.cli.Call(ctx, "Echo", &Msg{}, &out); !errors.Is(err, ErrDecode) || !errors.As(err, &te) || !strings.Contains(err.Error(), "decoding the reply body") {
			t.Fatalf("got %v", err)
		}
		echoOK(t, p.cli)
	})
	t.Run("RPC-18 trailing data after the JSON value", func(t *testing.T) {
		r := newRawServer(t, testServer(t, nil))
		r.send(t, hdr(reqHeader("Echo", 2, 2)), data(`{"N":1} {"N":2}`))
		expectBytes(t, r.conn, hdr(repHeader(1, 2, `decoding the request body of "Echo": invalid character '{' after top-level value`)))
	})
}

// [RPC-11] Error texts longer than a header can carry are cut.
func TestLongErrorMessage(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), nil)
	var out Msg
	err := p.cli.Call(context.Background(), "Fail", &Msg{Text: strings.Repeat("<", 5000)}, &out)
	var se *Error
	if !errors.As(err, &se) || !strings.HasSuffix(se.Message, " [truncated]") || !strings.HasPrefix(se.Message, "failed: <<<") {
		t.Fatalf("got %v", err)
	}
	echoOK(t, p.cli)
}

// [RPC-12] [RPC-24] Names are exact, non-empty, valid UTF-8; the
// framerpc: prefix is reserved. A name that could never be called is
// refused at registration, and the client refuses to send one.
func TestEndpointNames(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	handler := func(*Msg, *Msg) error { return nil }
	for _, c := range []struct{ rule, name string }{
		{"RPC-24", "framerpc:mine"},
		{"RPC-12", ""},
		{"RPC-12", "\xff"},
		{"RPC-12", "ok\xc3"},
	} {
		if err := s.RegisterEndpoint(c.name, handler); err == nil || !strings.Contains(err.Error(), "["+c.rule+"]") {
			t.Errorf("RegisterEndpoint(%q): got %v, want an error citing %s", c.name, err, c.rule)
		}
		if err := s.RegisterName(c.name, &Arith{}); err == nil || !strings.Contains(err.Error(), "["+c.rule+"]") {
			t.Errorf("RegisterName(%q): got %v, want an error citing %s", c.name, err, c.rule)
		}
	}
	p := newPair(t, s, nil)
	var out Msg
	mustStatus(t, p.cli.Call(context.Background(), "echo", &Msg{}, &out), StatusRequestError, `unknown endpoint "echo"`)
	for _, c := range []struct{ rule, name string }{
		{"RPC-24", "framerpc:hello"},
		{"RPC-12", ""},
		{"RPC-12", "\xff"},
	} {
		if err := p.cli.Call(context.Background(), c.name, &Msg{}, &out); !errors.Is(err, ErrBadCall) || !strings.Contains(err.Error(), "["+c.rule+"]") {
			t.Fatalf("Call(%q): got %v, want ErrBadCall citing %s", c.name, err, c.rule)
		}
	}
	echoOK(t, p.cli)
}

// [RPC-20] A request stream is valid only while its handler runs.
func TestRequestBodyAfterReturn(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(nil)
	if err := s.RegisterEndpoint("EchoStream", func(in io.Reader, out *io.Reader) error {
		*out = in
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("Echo", func(in *Msg, out *Msg) error { *out = *in; return nil }); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	var body io.Reader
	if err := p.cli.Call(context.Background(), "EchoStream", strings.NewReader("data"), &body); err != nil {
		t.Fatal(err)
	}
	_, err := io.ReadAll(body)
	mustStatus(t, err, StatusError, errBodyGone.Error())
	var out Msg
	if err := p.cli.Call(context.Background(), "Echo", &Msg{Text: "ok"}, &out); err != nil || out.Text != "ok" {
		t.Fatal(err)
	}
}

// [RPC-28] Concurrent calls take turns; [RPC-31] the connection carries
// any number of exchanges.
func TestConcurrentCalls(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				var out Msg
				if err := p.cli.Call(context.Background(), "Echo", &Msg{Text: "g", N: g*100 + i}, &out); err != nil || out.N != g*100+i+1 {
					errs <- errors.Join(err, errors.New("bad echo"))
					return
				}
				var r io.ReadCloser
				if err := p.cli.Call(context.Background(), "Stream", &Msg{Text: "ab", N: i}, &r); err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(r)
				if err != nil || string(b) != strings.Repeat("ab", i) {
					errs <- errors.Join(err, errors.New("bad stream"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// [RPC-32] Closing a streamed reply early resets and closes the connection.
func TestEarlyClose(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), nil)
	var r io.ReadCloser
	if err := p.cli.Call(context.Background(), "Stream", &Msg{Text: "x", N: 20 << 20}, &r); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := r.Read(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	var out Msg
	if err := p.cli.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) {
		t.Fatalf("later call: %v", err)
	}
	<-p.served // the server noticed and stopped
	p.served <- nil
	// Closing after the end changes nothing.
	p2 := newPair(t, testServer(t, nil), nil)
	if err := p2.cli.Call(context.Background(), "Stream", &Msg{Text: "x", N: 3}, &r); err != nil {
		t.Fatal(err)
	}
	io.ReadAll(r)
	r.Close()
	echoOK(t, p2.cli)
}

// [RPC-33] Cancelling a call in progress tells the server and closes the
// connection; a call cancelled before its turn touches nothing.
func TestCancellation(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	if err := s.RegisterEndpoint("Block", func(ctx context.Context, in *Msg, out *Msg) error {
		entered <- struct{}{}
		<-release
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out Msg
		done <- p.cli.Call(ctx, "Block", &Msg{}, &out)
	}()
	<-entered
	// A second call waiting for its turn gives up on its own context.
	ctx2, cancel2 := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		var out Msg
		waiting <- p.cli.Call(ctx2, "Echo", &Msg{}, &out)
	}()
	cancel2()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting call: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	close(release)
	// The server reads the client's RST after the handler and ends.
	if err := <-p.served; err != nil && !errors.Is(err, ErrReset) && !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("Serve: %v", err)
	}
	p.served <- nil
	var out Msg
	// A later call's own context is fine: its error names the cause but
	// does not match it [issue 9 point 8].
	if err := p.cli.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("later call: %v", err)
	}

	// Cancelled while a stream is being read.
	p = newPair(t, testServer(t, nil), nil)
	sctx, scancel := context.WithCancel(context.Background())
	var body io.Reader
	if err := p.cli.Call(sctx, "Stream", &Msg{Text: "x", N: 50 << 20}, &body); err != nil {
		t.Fatal(err)
	}
	scancel()
	if _, err := io.Copy(io.Discard, body); !errors.Is(err, context.Canceled) {
		t.Fatalf("stream after cancel: %v", err)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer dcancel()
	// Already cancelled: nothing is sent, the connection is untouched.
	p = newPair(t, testServer(t, nil), nil)
	if err := p.cli.Call(dctx, "Echo", &Msg{}, &out); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	echoOK(t, p.cli)
}

// [RPC-37] Idle connections are closed after an RST at the message
// boundary; [RPC-38] progress renews the I/O bound, a dead peer is cut off.
func TestTimeouts(t *testing.T) {
	checkGoroutines(t)
	t.Run("RPC-37 idle", func(t *testing.T) {
		r := newRawServer(t, testServer(t, &ServerOptions{IdleTimeout: 200 * time.Millisecond}))
		r.send(t, hdr(reqHeader("Echo", 2, 2)), data(`{}`))
		readN(t, r.conn, len(cat(hdr(repHeader(2, 1, "")), data(`{"Text":"","N":1}`+"\n"))))
		expectBytes(t, r.conn, rst)
		expectEnd(t, r.conn)
		if err := r.result(t); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Serve: %v", err)
		}
	})
	t.Run("RPC-38 slow reader is not cut off", func(t *testing.T) {
		p := newPair(t, testServer(t, &ServerOptions{IOTimeout: time.Second}), nil)
		var body io.Reader
		if err := p.cli.Call(context.Background(), "Stream", &Msg{Text: "x", N: 3 << 20}, &body); err != nil {
			t.Fatal(err)
		}
		// 48 reads of 64 KiB, 30 ms apart: ~1.4 s in all, longer than the
		// bound, each read far within it even on a loaded machine.
		buf := make([]byte, 64<<10)
		total := 0
		for {
			n, err := body.Read(buf)
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond)
		}
		if total != 3<<20 {
			t.Fatalf("got %d bytes", total)
		}
		echoOK(t, p.cli)
	})
	t.Run("RPC-38 dead reader is cut off", func(t *testing.T) {
		r := newRawServer(t, testServer(t, &ServerOptions{IOTimeout: 50 * time.Millisecond}))
		r.send(t, hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"x","N":50000000}`))
		if err := r.result(t); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Serve: %v", err)
		}
	})
}

// [RPC-19] A panic is a ServerError and the server keeps serving; a
// missing reply stream and an unencodable reply are ServerErrors.
func TestServerErrors(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	if err := s.RegisterEndpoint("NoStream", func(in *Msg, out *io.Reader) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("BadReply", func(in *Msg, out *map[string]any) error {
		*out = map[string]any{"f": func() {}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	ctx := context.Background()
	var out Msg
	for range 3 {
		mustStatus(t, p.cli.Call(ctx, "Panic", &Msg{Text: "a"}, &out), StatusServerError, `handler "Panic" panicked: boom a`)
		echoOK(t, p.cli)
	}
	var r io.Reader
	mustStatus(t, p.cli.Call(ctx, "NoStream", &Msg{}, &r), StatusServerError, `handler "NoStream" set no reply stream`)
	var m map[string]any
	err := p.cli.Call(ctx, "BadReply", &Msg{}, &m)
	mustStatus(t, err, StatusServerError, `encoding the reply body of "BadReply": json: unsupported type: func()`)
	echoOK(t, p.cli)
}

// [RPC-41] The reaction table, row by row, on one connection where the
// rows leave it usable.
func TestRPC41UsableRows(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, &ServerOptions{MaxJSON: 1000}), &ClientOptions{MaxJSON: 1000})
	ctx := context.Background()
	var out Msg
	var body io.Reader
	steps := []func() error{
		func() error { return p.cli.Call(ctx, "Nope", &Msg{}, &out) },
		func() error { return p.cli.Call(ctx, "Echo", strings.NewReader("x"), &out) },
		func() error { return p.cli.Call(ctx, "Echo", &Msg{Text: strings.Repeat("x", 2000)}, &out) },
		func() error { return p.cli.Call(ctx, "Fail", &Msg{}, &out) },
		func() error { return p.cli.Call(ctx, "Panic", &Msg{}, &out) },
		func() error {
			if err := p.cli.Call(ctx, "FailingStream", &Msg{N: 10}, &body); err != nil {
				return err
			}
			_, err := io.ReadAll(body)
			return err
		},
		func() error {
			return p.cli.Call(ctx, "Count", io.MultiReader(strings.NewReader("ab"), errReader{errors.New("x")}), &out)
		},
	}
	for i, step := range steps {
		if err := step(); err == nil {
			t.Fatalf("step %d: no error", i)
		}
		echoOK(t, p.cli)
	}
}

// [RPC-33] The server learns of a cancelled call while its handler runs:
// the handler's context is cancelled.
func TestServerSeesCancellation(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(&ServerOptions{IOTimeout: time.Minute, IdleTimeout: time.Minute})
	entered, seen := make(chan struct{}), make(chan error, 1)
	if err := s.RegisterEndpoint("Wait", func(ctx context.Context, in *Msg, out *Msg) error {
		close(entered)
		<-ctx.Done()
		seen <- ctx.Err()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() {
		var out Msg
		res <- p.cli.Call(ctx, "Wait", &Msg{}, &out)
	}()
	<-entered
	cancel()
	if err := <-seen; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler saw %v", err)
	}
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("call: %v", err)
	}
}

// [RPC-37] The idle limit also holds after a call whose handler was
// watched for cancellation.
func TestIdleAfterWatchedCall(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(&ServerOptions{IdleTimeout: 200 * time.Millisecond})
	if err := s.RegisterEndpoint("Ctx", func(ctx context.Context, in *Msg, out *Msg) error {
		out.Text = "ok"
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	for range 3 {
		var out Msg
		if err := p.cli.Call(context.Background(), "Ctx", &Msg{}, &out); err != nil || out.Text != "ok" {
			t.Fatal(err, out)
		}
	}
	if err := <-p.served; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Serve: %v", err)
	}
	p.served <- nil
}

// rwc hides the net.Conn methods of a connection: a plain byte stream such
// as an ssh pipe.
type rwc struct{ io.ReadWriteCloser }

// [RPC-33] On a plain io.ReadWriteCloser cancellation closes the stream.
func TestCancellationPlainStream(t *testing.T) {
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
	a, b := socketpair(t)
	served := make(chan error, 1)
	go func() { served <- s.Serve(rwc{b}) }()
	c := NewClient(rwc{a}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() {
		var out Msg
		res <- c.Call(ctx, "Wait", &Msg{}, &out)
	}()
	<-entered
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("call: %v", err)
	}
	var out Msg
	if err := c.Call(context.Background(), "Wait", &Msg{}, &out); !errors.Is(err, ErrClosed) {
		t.Fatalf("later call: %v", err)
	}
	<-served
}

// [RPC-34] Closing the client while a stream holds the turn ends the
// stream with an error and frees everything.
func TestCloseDuringStream(t *testing.T) {
	checkGoroutines(t)
	p := newPair(t, testServer(t, nil), nil)
	var body io.Reader
	if err := p.cli.Call(context.Background(), "Stream", &Msg{Text: "x", N: 50 << 20}, &body); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	p.cli.Close()
	if _, err := io.Copy(io.Discard, body); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("stream after Close: %v", err)
	}
	var out Msg
	if err := p.cli.Call(context.Background(), "Echo", &Msg{}, &out); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
}

// [RPC-14] [ERR-2] The end of the stream between the messages of one
// exchange is a truncation (unexpected-eof), on either side, never io.EOF.
func TestEndBetweenMessages(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	truncated := func(t *testing.T, err error) {
		t.Helper()
		var fe *frame.ProtocolError
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || !errors.As(err, &fe) || fe.Class != frame.ClassUnexpectedEOF {
			t.Fatalf("got %v, want unexpected-eof", err)
		}
	}
	t.Run("server: after the request header", func(t *testing.T) {
		r := newRawServer(t, s)
		r.send(t, hdr(reqHeader("Echo", 2, 2)))
		r.conn.(interface{ CloseWrite() error }).CloseWrite()
		truncated(t, r.result(t))
	})
	t.Run("server: between the parts of a multipart body", func(t *testing.T) {
		r := newRawServer(t, s)
		r.send(t, hdr(helloReq))
		readN(t, r.conn, len(hdr(helloRep)))
		r.send(t, hdr(reqHeader("PushMeta", 4, 2)), data(`{}`))
		r.conn.(interface{ CloseWrite() error }).CloseWrite()
		truncated(t, r.result(t))
	})
	t.Run("client: after the reply header", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		wait := r.call(func(c *Client) error { return c.Call(context.Background(), "Echo", &Msg{}, &out) })
		readN(t, r.conn, len(cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n"))))
		r.send(t, hdr(repHeader(2, 1, "")))
		r.conn.Close()
		truncated(t, wait())
	})
	t.Run("client: between the parts of a multipart reply", func(t *testing.T) {
		r := newRawClient(t, nil)
		var m Msg
		wait := r.call(func(c *Client) error { return c.Call(context.Background(), "PullMeta", &Msg{}, &Pull{Meta: &m}) })
		readN(t, r.conn, len(hdr(helloReq)))
		r.send(t, hdr(helloRep))
		readN(t, r.conn, len(cat(hdr(reqHeader("PullMeta", 2, 4)), data(`{"Text":"","N":0}`+"\n"))))
		r.send(t, hdr(repHeader(4, 1, "")), data(`{}`))
		r.conn.Close()
		truncated(t, wait())
	})
}

// Error texts read well: a wrapped *Error keeps its status and the whole
// text; a failed pushed stream is reported once; statuses are named as
// the spec names them.
func TestErrorTexts(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)
	if err := s.RegisterEndpoint("Store", func(in *Msg, out *Msg) error {
		return fmt.Errorf("storing %s: %w", in.Text, &Error{Status: StatusRequestError, Message: "snapshot already exists"})
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	ctx := context.Background()
	var out Msg
	mustStatus(t, p.cli.Call(ctx, "Store", &Msg{Text: "pool/a@1"}, &out), StatusRequestError, "storing pool/a@1: snapshot already exists")
	if got := (&Error{Status: StatusError, Message: "x"}).Error(); got != "rpc: status 4 (Error): x" {
		t.Fatalf("Error text %q", got)
	}
	err := p.cli.Call(ctx, "Count", io.MultiReader(strings.NewReader("ab"), errReader{errors.New("zfs send died")}), &out)
	if !errors.Is(err, ErrStreamFailed) || strings.Contains(err.Error(), "\n") || strings.Count(err.Error(), "zfs send died") != 1 {
		t.Fatalf("failed push reported as %q", err)
	}
	mustStatus(t, err, StatusError, "zfs send died")
	err = p.cli.Call(ctx, "Echo", strings.NewReader("x"), &out)
	mustStatus(t, err, StatusRequestError, `endpoint "Echo" takes a JSON body, not an octets body`)
	var body io.Reader
	err = p.cli.Call(ctx, "Echo", &Msg{}, &body)
	mustStatus(t, err, StatusRequestError, `endpoint "Echo" replies with a JSON body, not an octets body`)
}
