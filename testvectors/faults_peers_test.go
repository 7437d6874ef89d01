package testvectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/fixture"
	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/rpc"
	"github.com/framerpc/framerpc/testvectors/internal/captures"
)

// Fault injection by misbehaving peers over real socketpairs (issue 12,
// item 2, second part), deterministic and over every capture in
// captures/: a peer that writes one byte at a time, a peer that stalls
// inside a frame until the I/O bound fires, a peer that closes while a
// handler runs, and user code that panics at every point rpc runs it.
// Besides the invariants of faults_test.go (no hang, no panic escaping,
// no short body taken for a whole one, no goroutine left), every call
// whose reply can identify its request is checked to get its own reply,
// never another call's. The run counts are logged.

type closeWriter interface{ CloseWrite() error }

func pair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, b, err := unixpair.New()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func readCapture(t *testing.T, f captures.File) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("captures", f.File))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// trickle writes b one byte per write, then half-closes.
func trickle(c net.Conn, b []byte) {
	for i := range b {
		if _, err := c.Write(b[i : i+1]); err != nil {
			break
		}
	}
	c.(closeWriter).CloseWrite()
}

// serve runs srv on c and returns the channel Serve's error comes on.
func serve(srv *rpc.Server, c net.Conn) chan error {
	done := make(chan error, 1)
	go func() { done <- srv.Serve(c) }()
	return done
}

func waitServe(t *testing.T, served chan error, what string) error {
	t.Helper()
	select {
	case err := <-served:
		return err
	case <-time.After(faultDeadline):
		t.Fatalf("%s: Serve did not return within %v", what, faultDeadline)
		return nil
	}
}

// ownReplies makes calls whose replies name their request: Echo of a
// text made of id, Download and Pull of id-dependent lengths, each
// checked to be its own [RPC-28], [RPC-31].
func ownReplies(ctx context.Context, c rpc.Caller, id int) error {
	text := fmt.Sprintf("call-%d", id)
	var out fixture.Text
	if err := c.Call(ctx, "Echo", fixture.Text{Text: text}, &out); err != nil {
		return fmt.Errorf("Echo %s: %w", text, err)
	}
	if out.Text != text {
		return fmt.Errorf("Echo %s got the reply %q, another call's", text, out.Text)
	}
	n := int64(100 + id)
	var rc io.ReadCloser
	if err := c.Call(ctx, "Download", fixture.Count{N: n}, &rc); err != nil {
		return fmt.Errorf("Download %d: %w", n, err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(b, fixture.Pattern(n)) {
		return fmt.Errorf("Download %d: %d bytes, %v: not its own reply", n, len(b), err)
	}
	var meta fixture.Count
	pull := &rpc.Pull{Meta: &meta}
	if err := c.Call(ctx, "Pull", fixture.Count{N: n + 1}, pull); err != nil {
		if errors.Is(err, rpc.ErrUnsupported) {
			// A client that asks for no extension has no multipart.
			return nil
		}
		return fmt.Errorf("Pull %d: %w", n+1, err)
	}
	b, err = io.ReadAll(pull.Body)
	pull.Body.Close()
	if err != nil || meta.N != n+1 || !bytes.Equal(b, fixture.Pattern(n+1)) {
		return fmt.Errorf("Pull %d: meta %d, %d bytes, %v: not its own reply", n+1, meta.N, len(b), err)
	}
	return nil
}

// freshCalls checks that srv still serves a new connection correctly.
func freshCalls(t *testing.T, srv *rpc.Server, what string) {
	t.Helper()
	a, b := pair(t)
	served := serve(srv, b)
	cli := rpc.NewClient(a, nil)
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	for id := range 3 {
		if err := ownReplies(ctx, cli, id); err != nil {
			t.Fatalf("%s, then a fresh connection: %v", what, err)
		}
	}
	cli.Close()
	waitServe(t, served, what+", the fresh connection")
}

func TestFaultsOneByteAtATime(t *testing.T) {
	// [MSG-2] [FRAME-12] [RPC-38]: a peer whose every write is one byte
	// gets exactly what a peer writing at once gets, from the server (its
	// output is compared with the output for the same bytes given at
	// once) and from the client (well-framed requests, no stream passes
	// short).
	index := loadIndex(t)
	runs := 0
	for _, c := range index.Captures {
		clientBytes, serverBytes := readCapture(t, c.Client), readCapture(t, c.Server)
		srv, err := fixture.NewServer(c.ServerExtensions, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()

		ref := &replayConn{in: bytes.NewReader(clientBytes)}
		srv.Serve(ref)
		a, b := pair(t)
		a.SetDeadline(time.Now().Add(faultDeadline))
		served := serve(srv, b)
		go trickle(a, clientBytes)
		out, _ := io.ReadAll(a)
		waitServe(t, served, c.Client.File)
		a.Close()
		if !bytes.Equal(out, ref.out.Bytes()) {
			t.Fatalf("%s one byte at a time: the server wrote\n% x\nand for the same bytes at once\n% x", c.Client.File, out, ref.out.Bytes())
		}
		runs++

		a, b = pair(t)
		a.SetDeadline(time.Now().Add(faultDeadline))
		cli := rpc.NewClient(b, &rpc.ClientOptions{Extensions: c.ClientExtensions})
		sent := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(a)
			sent <- b
		}()
		go trickle(a, serverBytes)
		ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
		err = faultCalls[c.Name](ctx, cli)
		cancel()
		cli.Close()
		if err != nil {
			t.Fatalf("%s one byte at a time: %v", c.Server.File, err)
		}
		// Not compared with the capture's client side: the replies
		// trickle in before the requests go out, and a client that sees
		// a reply while it still sends a stream stops it [RPC-43].
		if err := wellFramed(<-sent); err != nil {
			t.Fatalf("%s one byte at a time: the client wrote: %v", c.Server.File, err)
		}
		a.Close()
		runs++
		settle(t, before, c.Name)
	}

	// Live: a client and a server whose every byte goes through a relay
	// one byte at a time, both ways, with calls that name their replies.
	srv, err := fixture.NewServer(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	ca, cb := pair(t)
	sa, sb := pair(t)
	served := serve(srv, sb)
	var relays sync.WaitGroup
	relay := func(dst, src net.Conn) {
		defer relays.Done()
		var p [1]byte
		for {
			if _, err := src.Read(p[:]); err != nil {
				dst.(closeWriter).CloseWrite()
				return
			}
			if _, err := dst.Write(p[:]); err != nil {
				return
			}
		}
	}
	relays.Add(2)
	go relay(sa, cb)
	go relay(cb, sa)
	cli := rpc.NewClient(ca, nil)
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	for id := range 20 {
		if err := ownReplies(ctx, cli, id); err != nil {
			t.Fatalf("through a one-byte relay: %v", err)
		}
		runs++
	}
	cancel()
	cli.Close()
	if err := waitServe(t, served, "relay"); err != nil {
		t.Fatalf("relay: the server ended with %v", err)
	}
	relays.Wait()
	cb.Close()
	sa.Close()
	settle(t, before, "relay")
	t.Logf("one byte at a time: %d runs over %d captures and a live relay", runs, len(index.Captures))
}

// frameOffsets returns, for each frame of a stream, an offset inside its
// header and, if it has a payload the stream holds the middle of, one
// inside the payload.
func frameOffsets(b []byte) []int {
	var offs []int
	r := frame.NewReader(bytes.NewReader(b))
	for {
		start := r.Offset()
		h, err := r.ReadHeader()
		if err != nil || h.Type == frame.TypeRST {
			return offs
		}
		offs = append(offs, int(start)+3)
		if mid := int(start) + frame.HeaderSize + int(h.Length)/2; h.Length > 1 && mid < len(b) {
			offs = append(offs, mid)
		}
	}
}

// stallTimeout is the I/O bound of the stall tests: short, since every run
// waits for it; the runs go in parallel.
const stallTimeout = 200 * time.Millisecond

func TestFaultsStall(t *testing.T) {
	// [RPC-38] [RPC-35]: a peer that sends part of a frame and then
	// nothing, without closing, is cut off when the I/O bound expires:
	// the server's Serve returns an error matching
	// os.ErrDeadlineExceeded, and the client's calls fail, never taking
	// the part for a whole body. Every frame of every capture is stalled
	// inside its header and inside its payload, all runs at once.
	index := loadIndex(t)
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	errs := make(chan error, 10000)
	runs := 0
	for _, c := range index.Captures {
		clientBytes, serverBytes := readCapture(t, c.Client), readCapture(t, c.Server)
		srv, err := fixture.NewServerWith(&rpc.ServerOptions{MaxJSON: fixture.MaxJSON, Extensions: c.ServerExtensions,
			IOTimeout: stallTimeout, IdleTimeout: stallTimeout})
		if err != nil {
			t.Fatal(err)
		}
		for _, off := range frameOffsets(clientBytes) {
			runs++
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, b, err := unixpair.New()
				if err != nil {
					errs <- err
					return
				}
				defer a.Close()
				a.Write(clientBytes[:off])
				start := time.Now()
				served := serve(srv, b)
				go io.Copy(io.Discard, a)
				select {
				case err := <-served:
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						errs <- fmt.Errorf("%s stalled at %d: Serve returned %v, want the I/O bound", c.Client.File, off, err)
					}
				case <-time.After(faultDeadline):
					errs <- fmt.Errorf("%s stalled at %d: Serve still running after %v", c.Client.File, off, time.Since(start))
				}
			}()
		}
		calls := faultCalls[c.Name]
		for _, off := range frameOffsets(serverBytes) {
			runs++
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, b, err := unixpair.New()
				if err != nil {
					errs <- err
					return
				}
				defer a.Close()
				cli := rpc.NewClient(b, &rpc.ClientOptions{Extensions: c.ClientExtensions, IOTimeout: stallTimeout})
				go io.Copy(io.Discard, a)
				a.Write(serverBytes[:off])
				ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- calls(ctx, cli) }()
				select {
				case err := <-done:
					if err != nil {
						errs <- fmt.Errorf("%s stalled at %d: %v", c.Server.File, off, err)
					}
				case <-time.After(faultDeadline):
					errs <- fmt.Errorf("%s stalled at %d: the calls still run after %v", c.Server.File, off, faultDeadline)
				}
				cli.Close()
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	settle(t, before, "stalls")
	t.Logf("stalls: %d runs over %d captures, each frame stalled inside its header and its payload", runs, len(index.Captures))
}

// blockingServer is the fixture's server plus handlers that tell the test
// when they run and then wait for the client to go away: one per form in
// which user code can be running when the peer closes (rpc/doc.go's
// handler forms: JSON with a context, an octets request being read, a
// multipart request being read, a reply stream being sent).
func blockingServer(t *testing.T, started chan<- string, ended chan<- error) *rpc.Server {
	t.Helper()
	srv, err := fixture.NewServerWith(&rpc.ServerOptions{MaxJSON: fixture.MaxJSON})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(name string, h any) {
		if err := srv.RegisterEndpoint(name, h); err != nil {
			t.Fatal(err)
		}
	}
	reg("Wait", func(ctx context.Context, in *fixture.Text, out *fixture.Text) error {
		started <- "Wait"
		select {
		case <-ctx.Done():
			// [RPC-33] the server noticed the client going away.
			ended <- nil
		case <-time.After(faultDeadline):
			ended <- errors.New("Wait: the handler's context did not end when the client closed")
		}
		return ctx.Err()
	})
	readAll := func(name string, in io.Reader) error {
		var p [16]byte
		if _, err := io.ReadFull(in, p[:]); err != nil {
			ended <- fmt.Errorf("%s: first bytes: %v", name, err)
			return err
		}
		started <- name
		_, err := io.Copy(io.Discard, in)
		if err == nil {
			ended <- fmt.Errorf("%s: the body of a client that closed mid-body read to its end", name)
		} else {
			ended <- nil
		}
		return err
	}
	reg("ReadBody", func(in io.Reader, out *fixture.Count) error { return readAll("ReadBody", in) })
	reg("ReadPush", func(in *fixture.Text, body io.Reader, out *fixture.Count) error { return readAll("ReadPush", body) })
	reg("Endless", func(in *fixture.Count, out *io.Reader) error {
		*out = &endless{started: started, ended: ended}
		return nil
	})
	return srv
}

// endless is a reply stream that never ends; the server must stop
// reading it when the client is gone (its write fails) and close it.
type endless struct {
	started   chan<- string
	ended     chan<- error
	announced bool
}

func (e *endless) Read(p []byte) (int, error) {
	if !e.announced {
		e.announced = true
		e.started <- "Endless"
	}
	return len(p), nil
}

func (e *endless) Close() error {
	e.ended <- nil
	return nil
}

func reqHeader(endpoint string, dt, accept int) []byte {
	return fmt.Appendf(nil, `{"Endpoint":%q,"DataType":%d,"Accept":%d,"Error":0,"ErrorMessage":""}`+"\n", endpoint, dt, accept)
}

func TestFaultsCloseWhileHandlerRuns(t *testing.T) {
	// [RPC-33] [RPC-47]: a client that closes its connection while a
	// handler runs: the handler's context ends (a JSON handler), its
	// request body fails (octets, multipart), its reply stream stops and
	// is closed (a stream being sent); Serve returns, nothing is left
	// running, and the server serves the next connection. The client is
	// a raw peer, so that it can stop inside a body. Closing at every
	// byte of every capture is TestFaultsServerDirection's cut; this one
	// closes while user code is known to run.
	started, ended := make(chan string, 1), make(chan error, 1)
	srv := blockingServer(t, started, ended)
	before := runtime.NumGoroutine()
	requests := map[string]func(w *frame.Writer, r *frame.Reader) error{
		"Wait": func(w *frame.Writer, _ *frame.Reader) error {
			w.WriteMessage(frame.TypeHeader, reqHeader("Wait", 2, 2))
			return w.WriteMessage(frame.TypeData, []byte(`{"Text":"x"}`))
		},
		"ReadBody": func(w *frame.Writer, _ *frame.Reader) error {
			w.WriteMessage(frame.TypeHeader, reqHeader("ReadBody", 3, 2))
			return w.WriteFrame(frame.TypeData, false, make([]byte, 64))
		},
		"ReadPush": func(w *frame.Writer, r *frame.Reader) error {
			w.WriteMessage(frame.TypeHeader, []byte(`{"Endpoint":"framerpc:hello","DataType":1,"Accept":1,"Error":0,"ErrorMessage":"","Extensions":["multipart"]}`+"\n"))
			m, err := r.NextMessage(frame.TypeHeader)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, m)
			w.WriteMessage(frame.TypeHeader, reqHeader("ReadPush", 4, 2))
			w.WriteMessage(frame.TypeData, []byte(`{"Text":"x"}`))
			return w.WriteFrame(frame.TypeData, false, make([]byte, 64))
		},
		"Endless": func(w *frame.Writer, _ *frame.Reader) error {
			w.WriteMessage(frame.TypeHeader, reqHeader("Endless", 2, 3))
			return w.WriteMessage(frame.TypeData, []byte(`{"N":1}`))
		},
	}
	runs := 0
	for _, ep := range []string{"Wait", "ReadBody", "ReadPush", "Endless"} {
		a, b := pair(t)
		a.SetDeadline(time.Now().Add(faultDeadline))
		served := serve(srv, b)
		if err := requests[ep](frame.NewWriter(a), frame.NewReader(a)); err != nil {
			t.Fatalf("%s: sending the request: %v", ep, err)
		}
		select {
		case <-started:
		case <-time.After(faultDeadline):
			t.Fatalf("%s: the handler did not start", ep)
		}
		// The client goes away under the running handler.
		a.Close()
		select {
		case err := <-ended:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(faultDeadline):
			t.Fatalf("%s: the handler did not end after the client closed", ep)
		}
		waitServe(t, served, ep)
		runs++
	}
	freshCalls(t, srv, "after the closes")
	settle(t, before, "close while a handler runs")
	t.Logf("close while a handler runs: %d runs", runs)
}

// Values whose JSON methods panic on the text "panic": user code that rpc
// runs while it decodes a request or a reply, and encodes one.
type panicOnDecode struct{ Text string }

func (p *panicOnDecode) UnmarshalJSON(b []byte) error {
	if bytes.Contains(b, []byte(`"panic"`)) {
		panic("UnmarshalJSON panics")
	}
	var t fixture.Text
	err := json.Unmarshal(b, &t)
	p.Text = t.Text
	return err
}

type panicOnEncode struct{ Text string }

func (p panicOnEncode) MarshalJSON() ([]byte, error) {
	if p.Text == "panic" {
		panic("MarshalJSON panics")
	}
	return json.Marshal(fixture.Text{Text: p.Text})
}

// panicSource is a stream source that panics in Read after n bytes, or in
// Close.
type panicSource struct {
	n       int
	inClose bool
}

func (p *panicSource) Read(b []byte) (int, error) {
	if p.n == 0 {
		if p.inClose {
			return 0, io.EOF
		}
		panic("stream source Read panics")
	}
	k := min(len(b), p.n)
	p.n -= k
	return k, nil
}

func (p *panicSource) Close() error {
	if p.inClose {
		panic("stream source Close panics")
	}
	return nil
}

// panicCodec panics on the value with Text "codec".
type panicCodec struct{}

func (panicCodec) MarshalAppend(dst []byte, v any) ([]byte, error) {
	if t, ok := v.(*fixture.Text); ok && t.Text == "codec" {
		panic("codec MarshalAppend panics")
	}
	return rpc.StdJSON.MarshalAppend(dst, v)
}

func (panicCodec) Unmarshal(data []byte, v any) error {
	if bytes.Contains(data, []byte(`"codec"`)) {
		panic("codec Unmarshal panics")
	}
	return rpc.StdJSON.Unmarshal(data, v)
}

func TestFaultsPanics(t *testing.T) {
	// [RPC-19] [RPC-41]: user code that panics at each point rpc runs it
	// (enumerated from rpc/: dispatch.go's decode, handler and encode
	// steps, the server's codec and the Close of a source a failed handler
	// set; body.go's sendOctets reading and closing a reply or pushed
	// stream source; the client's codec and its
	// request and reply types' JSON methods) never takes the process down.
	// The call fails with the status or error the spec gives that point
	// (ServerError where the server decides it before its reply goes out),
	// the connection stays usable where the spec says so and is reset
	// where it says so, and after each panic the calls that name their
	// reply get their own, on the same connection or a fresh one.
	srv, err := fixture.NewServerWith(&rpc.ServerOptions{MaxJSON: fixture.MaxJSON, Codec: panicCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(name string, h any) {
		if err := srv.RegisterEndpoint(name, h); err != nil {
			t.Fatal(err)
		}
	}
	reg("DecodePanic", func(in *panicOnDecode, out *fixture.Text) error { return nil })
	reg("EncodePanic", func(in *fixture.Text, out *panicOnEncode) error {
		out.Text = "panic"
		return nil
	})
	reg("SourcePanic", func(in *fixture.Count, out *io.Reader) error {
		*out = &panicSource{n: int(in.N)}
		return nil
	})
	reg("ClosePanic", func(in *fixture.Count, out *io.Reader) error {
		*out = &panicSource{n: int(in.N), inClose: true}
		return nil
	})
	reg("FailClosePanic", func(in *fixture.Count, out *io.Reader) error {
		// The handler set a source and failed: the server closes the
		// source it will not send.
		*out = &panicSource{inClose: true}
		return errors.New("refused after setting a source")
	})
	serverError := func(err error) error {
		var re *rpc.Error
		if !errors.As(err, &re) || re.Status != rpc.StatusServerError {
			return fmt.Errorf("got %v, want a ServerError reply", err)
		}
		return nil
	}
	succeeded := func(err error) error {
		if err != nil {
			return fmt.Errorf("the call failed: %v", err)
		}
		return nil
	}
	failed := func(err error) error {
		if err == nil {
			return errors.New("the call succeeded")
		}
		return nil
	}
	readStream := func(c *rpc.Client, ep string, n int64) error {
		var rc io.ReadCloser
		if err := c.Call(context.Background(), ep, fixture.Count{N: n}, &rc); err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err == nil {
			return fmt.Errorf("a stream whose source panicked read to its end (%d bytes)", len(b))
		}
		return err
	}
	points := []struct {
		name string
		call func(c *rpc.Client) error
		// check judges the call's error; usable says whether the
		// connection must survive.
		check  func(error) error
		usable bool
	}{
		{"server: request UnmarshalJSON", func(c *rpc.Client) error {
			return c.Call(context.Background(), "DecodePanic", fixture.Text{Text: "panic"}, new(fixture.Text))
		}, serverError, true},
		{"server: handler", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Panic", fixture.Text{Text: "x"}, new(fixture.Text))
		}, serverError, true},
		{"server: reply MarshalJSON", func(c *rpc.Client) error {
			return c.Call(context.Background(), "EncodePanic", fixture.Text{Text: "x"}, new(fixture.Text))
		}, serverError, true},
		{"server: codec Unmarshal", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Echo", fixture.Text{Text: "codec"}, new(fixture.Text))
		}, serverError, true},
		{"server: reply source Read, first byte", func(c *rpc.Client) error { return readStream(c, "SourcePanic", 0) }, failed, false},
		{"server: reply source Read, mid-stream", func(c *rpc.Client) error { return readStream(c, "SourcePanic", 5000) }, failed, false},
		{"server: reply source Close", func(c *rpc.Client) error { return readStream(c, "ClosePanic", 100) }, failed, false},
		{"server: Close of a reply source the handler's error leaves unsent", func(c *rpc.Client) error {
			var rc io.ReadCloser
			return c.Call(context.Background(), "FailClosePanic", fixture.Count{N: 1}, &rc)
		}, func(err error) error {
			var re *rpc.Error
			if !errors.As(err, &re) || re.Status != rpc.StatusError {
				return fmt.Errorf("got %v, want the handler's Error reply", err)
			}
			return nil
		}, true},
		{"client: request MarshalJSON", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Echo", panicOnEncode{Text: "panic"}, new(fixture.Text))
		}, failed, true},
		{"client: reply UnmarshalJSON", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Echo", fixture.Text{Text: "panic"}, new(panicOnDecode))
		}, failed, true},
		{"client: pushed source Read, first byte", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Upload", &panicSource{n: 0}, new(fixture.Count))
		}, failed, false},
		{"client: pushed source Read, mid-stream", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Upload", &panicSource{n: 5000}, new(fixture.Count))
		}, failed, false},
		// Call never closes a pushed source (Push's contract), so a Close
		// that panics is not a point user code runs: were it called, the
		// panic would end this test binary.
		{"client: pushed source Close (never called)", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Upload", &panicSource{n: 100, inClose: true}, new(fixture.Count))
		}, succeeded, true},
		{"client: codec MarshalAppend", func(c *rpc.Client) error {
			return c.Call(context.Background(), "Echo", &fixture.Text{Text: "codec"}, new(fixture.Text))
		}, failed, true},
	}
	before := runtime.NumGoroutine()
	runs := 0
	for _, exts := range [][]string{nil, {}} {
		for _, p := range points {
			a, b := pair(t)
			served := serve(srv, b)
			copts := &rpc.ClientOptions{Extensions: exts}
			if p.name == "client: codec MarshalAppend" {
				copts.Codec = panicCodec{}
			}
			cli := rpc.NewClient(a, copts)
			ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
			done := make(chan error, 1)
			go func() { done <- p.call(cli) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(faultDeadline):
				t.Fatalf("%s (extensions %v): the call did not return", p.name, exts)
			}
			if cerr := p.check(err); cerr != nil {
				t.Fatalf("%s (extensions %v): %v", p.name, exts, cerr)
			}
			if p.usable {
				if cli.Err() != nil {
					t.Fatalf("%s (extensions %v): the connection ended: %v", p.name, exts, cli.Err())
				}
				if err := ownReplies(ctx, cli, runs); err != nil {
					t.Fatalf("%s (extensions %v), then on the same connection: %v", p.name, exts, err)
				}
			}
			cli.Close()
			waitServe(t, served, p.name)
			cancel()
			freshCalls(t, srv, p.name)
			runs++
		}
	}
	settle(t, before, "panics")
	t.Logf("panics: %d points, %d runs (with and without extensions)", len(points), runs)
}
