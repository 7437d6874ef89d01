package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// The tests of this file check the bounds of spec section 10.1 against a
// hostile peer: each measures what the receiver allocates (runtime.MemStats
// deltas, over the whole process, so they include the test's own peer) or
// how much it reads, and asserts it against the configured limits. Times
// are logged, never asserted.

// allocDelta returns the bytes allocated while f runs.
func allocDelta(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// rawPeer is a client that writes and reads frames itself, for bytes the
// Client never sends.
type rawPeer struct {
	conn   net.Conn
	w      *frame.Writer
	r      *frame.Reader
	served chan error
}

func newRawPeer(t testing.TB, srv *Server, wrap func(io.ReadWriteCloser) io.ReadWriteCloser) *rawPeer {
	t.Helper()
	a, b := socketpair(t)
	p := &rawPeer{conn: a, w: frame.NewWriter(a), r: frame.NewReader(a), served: make(chan error, 1)}
	var sc io.ReadWriteCloser = b
	if wrap != nil {
		sc = wrap(b)
	}
	go func() { p.served <- srv.Serve(sc) }()
	t.Cleanup(func() {
		a.Close()
		<-p.served
	})
	return p
}

// replyStatus reads a reply header and returns its status and message.
func (p *rawPeer) replyStatus() (Status, string, error) {
	m, err := p.r.NextMessage(frame.TypeHeader)
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(m)
	if err != nil {
		return 0, "", err
	}
	var h struct {
		Error        Status
		ErrorMessage string
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return 0, "", err
	}
	return h.Error, h.ErrorMessage, nil
}

func TestBoundHeaderSizes(t *testing.T) {
	// [RPC-11] [MSG-7] [MSG-10] a request header of exactly 4096 bytes is
	// read and answered; one of 4097 is message-too-large and ends the
	// connection with RST. Neither costs the server more than the 4096
	// bytes of a header above what a small header costs.
	checkGoroutines(t)
	srv := testServer(t, nil)
	pad := func(n int) []byte {
		h := []byte(reqHeader("Nope", 1, 1))
		return append(h, bytes.Repeat([]byte{' '}, n-len(h))...)
	}
	exchanges := func(h []byte, n int) uint64 {
		p := newRawPeer(t, srv, nil)
		return allocDelta(func() {
			for range n {
				if err := p.w.WriteMessage(frame.TypeHeader, h); err != nil {
					t.Fatal(err)
				}
				st, msg, err := p.replyStatus()
				if err != nil || st != StatusRequestError {
					t.Fatalf("%d-byte header: status %v %q, %v", len(h), st, msg, err)
				}
			}
		}) / uint64(n)
	}
	small := exchanges([]byte(reqHeader("Nope", 1, 1)), 200)
	full := exchanges(pad(4096), 200)
	t.Logf("per exchange: %d bytes allocated with a %d-byte header, %d with a 4096-byte one", small, len([]byte(reqHeader("Nope", 1, 1))), full)
	if full > small+2*4096 {
		t.Errorf("a 4096-byte header costs %d bytes per exchange, a small one %d", full, small)
	}

	// Whole connections: a bad 10-byte header against 4097 bytes.
	conns := func(h []byte, n int) uint64 {
		return allocDelta(func() {
			for range n {
				a, b := socketpair(t)
				done := make(chan error, 1)
				go func() { done <- srv.Serve(b) }()
				w, r := frame.NewWriter(a), frame.NewReaderSize(a, 64)
				w.WriteFrame(frame.TypeHeader, true, h)
				_, err := r.NextMessage(frame.TypeHeader)
				if !errors.Is(err, frame.ErrReset) {
					t.Fatalf("%d-byte header: %v, want RST", len(h), err)
				}
				var pe *frame.ProtocolError
				if serr := <-done; len(h) == 4097 && (!errors.As(serr, &pe) || pe.Class != frame.ClassMessageTooLarge) {
					t.Fatalf("4097-byte header: server ended with %v, want message-too-large", serr)
				}
				a.Close()
			}
		}) / uint64(n)
	}
	bad := conns([]byte("not json!\n"), 50)
	over := conns(pad(4097), 50)
	t.Logf("per connection: %d bytes allocated for a bad 10-byte header, %d for a 4097-byte one", bad, over)
	if over > bad+2*4096 {
		t.Errorf("a 4097-byte header costs %d bytes per connection, a bad small one %d", over, bad)
	}
}

// spaces is a body chunk no one decodes.
var spaces = bytes.Repeat([]byte{' '}, 1<<20)

// writeBody writes a Data message of n bytes of chunk, in 1 MiB writes.
func writeBody(w *frame.Writer, n int, chunk []byte) error {
	m, err := w.NewMessage(frame.TypeData)
	if err != nil {
		return err
	}
	for n > 0 {
		k := min(n, len(chunk))
		if _, err := m.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return m.Close()
}

func TestBoundJSONBodies(t *testing.T) {
	// [RPC-46] [RPC-16] a huge JSON body, flat or deeply nested, is refused
	// after at most the limit plus one byte, and the server allocates a
	// bounded multiple of its limit however long the body; a deeply nested
	// body within the limit is undecodable, RequestError, with allocation
	// bounded by a multiple of its length. The connection stays usable.
	checkGoroutines(t)
	const limit = 1 << 20
	srv := testServer(t, &ServerOptions{MaxJSON: limit})
	p := newRawPeer(t, srv, nil)
	nested := func(depth int) []byte {
		return append(bytes.Repeat([]byte{'['}, depth), bytes.Repeat([]byte{']'}, depth)...)
	}
	deepOver := bytes.Repeat([]byte{'['}, 1<<20)
	cases := []struct {
		name   string
		n      int
		chunk  []byte
		within bool
	}{
		{"flat-4MiB", 4 << 20, spaces, false},
		{"flat-48MiB", 48 << 20, spaces, false},
		{"nested-over-limit-16MiB", 16 << 20, deepOver, false},
		{"nested-100000", 200000, nested(100000), true},
		{"nested-500000", 1000000, nested(500000), true},
	}
	// The first large body makes the test's own frame writer grow its
	// staging buffer: not the server's cost.
	p.w.WriteMessage(frame.TypeHeader, []byte(reqHeader("Echo", 2, 2)))
	writeBody(p.w, 8<<20, spaces)
	if st, _, err := p.replyStatus(); err != nil || st != StatusRequestError {
		t.Fatalf("warm-up: %v %v", st, err)
	}
	for _, tc := range cases {
		var st Status
		var msg string
		var err error
		got := allocDelta(func() {
			start := time.Now()
			if err = p.w.WriteMessage(frame.TypeHeader, []byte(reqHeader("Echo", 2, 2))); err != nil {
				t.Fatal(err)
			}
			if err = writeBody(p.w, tc.n, tc.chunk); err != nil {
				t.Fatal(err)
			}
			st, msg, err = p.replyStatus()
			t.Logf("%s: %v", tc.name, time.Since(start))
		})
		if err != nil || st != StatusRequestError {
			t.Fatalf("%s: status %v %q, %v", tc.name, st, msg, err)
		}
		// 1 MiB covers what the test's peer and the race detector
		// allocate.
		bound := uint64(3*limit + 1<<20)
		if tc.within {
			bound = uint64(4*tc.n + 1<<20)
		}
		t.Logf("%s (%d bytes): %d bytes allocated, bound %d: %s", tc.name, tc.n, got, bound, msg)
		if got > bound {
			t.Errorf("%s: %d bytes allocated, want at most %d", tc.name, got, bound)
		}
	}
	// Still in sync.
	if err := p.w.WriteMessage(frame.TypeHeader, []byte(reqHeader("Echo", 2, 2))); err != nil {
		t.Fatal(err)
	}
	if err := p.w.WriteMessage(frame.TypeData, []byte(`{"Text":"ok","N":1}`)); err != nil {
		t.Fatal(err)
	}
	if st, msg, err := p.replyStatus(); err != nil || st != StatusOK {
		t.Fatalf("after the hostile bodies: %v %q %v", st, msg, err)
	}
}

// countingConn counts the bytes the server reads from its transport.
type countingConn struct {
	io.ReadWriteCloser
	n atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.ReadWriteCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestBoundEndlessBody(t *testing.T) {
	// [RPC-46] [RPC-15] [MSG-9] a body that never ends and nobody reads
	// (a JSON body over the limit) is read up to the discard bound, then
	// the connection ends with RST: the bytes the server reads are bounded
	// by its limits and its read buffer, not by what the peer sends.
	checkGoroutines(t)
	const maxJSON, maxDiscard = 64 << 10, 1 << 20
	srv := testServer(t, &ServerOptions{MaxJSON: maxJSON, MaxDiscard: maxDiscard})
	var cc *countingConn
	p := newRawPeer(t, srv, func(c io.ReadWriteCloser) io.ReadWriteCloser {
		cc = &countingConn{ReadWriteCloser: c}
		return cc
	})
	var sent atomic.Int64
	writerDone := make(chan error, 1)
	var got uint64
	var err error
	got = allocDelta(func() {
		go func() {
			if err := p.w.WriteMessage(frame.TypeHeader, []byte(reqHeader("Echo", 2, 2))); err != nil {
				writerDone <- err
				return
			}
			for {
				if err := p.w.WriteFrame(frame.TypeData, false, spaces[:64<<10]); err != nil {
					writerDone <- err
					return
				}
				sent.Add(64 << 10)
			}
		}()
		_, _, err = p.replyStatus()
	})
	if !errors.Is(err, frame.ErrReset) {
		t.Fatalf("endless body: %v, want RST", err)
	}
	serr := <-p.served
	p.served <- serr
	p.conn.Close()
	<-writerDone
	read := cc.n.Load()
	bound := int64(maxDiscard + frame.DefaultBufferSize + 4096)
	t.Logf("endless unread body: server read %d bytes (bound %d), peer wrote %d; %d bytes allocated; server: %v", read, bound, sent.Load(), got, serr)
	if read > bound {
		t.Errorf("server read %d bytes of an endless body, want at most %d", read, bound)
	}
	if got > 4<<20 {
		t.Errorf("%d bytes allocated for an endless body, want at most 4 MiB", got)
	}
}

// zeros is an endless source that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestBoundStreamedBody(t *testing.T) {
	// [RPC-46] [RPC-21] an octets body is streamed to the handler, never
	// held: what the connection allocates does not grow with its length.
	checkGoroutines(t)
	srv := testServer(t, nil)
	p := newPair(t, srv, nil)
	stream := func(n int64) uint64 {
		var out Msg
		var err error
		start := time.Now()
		got := allocDelta(func() {
			err = p.cli.Call(context.Background(), "Count", io.LimitReader(zeros{}, n), &out)
		})
		if err != nil || int64(out.N) != n {
			t.Fatalf("%d bytes: counted %d, %v", n, out.N, err)
		}
		t.Logf("%d MiB streamed: %d bytes allocated, %v", n>>20, got, time.Since(start))
		return got
	}
	stream(8 << 20) // the hello, the writer's staging, the streaming buffers
	short := stream(8 << 20)
	long := stream(128 << 20)
	if long > short+(1<<20) || long > 4<<20 {
		t.Errorf("streaming 128 MiB allocates %d bytes, 8 MiB %d: memory grows with the body", long, short)
	}
}

// countingListener counts the connections accepted.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func TestBoundConnectionChurn(t *testing.T) {
	// [RPC-47] 10,000 connections opened and dropped against one server,
	// at every stage of an exchange, in sequential batches over a Unix
	// socket: afterwards the server tracks no connection, the goroutine
	// count is back to its baseline, the live heap is bounded, and a new
	// connection is served.
	dir, err := os.MkdirTemp("", "frb")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	srv := testServer(t, nil)
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(cl) }()
	defer func() {
		srv.Shutdown(context.Background())
		<-done
	}()
	var dialled int64
	dial := func() net.Conn {
		c, err := net.Dial("unix", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		dialled++
		return c
	}
	// A first connection starts whatever the server starts only once.
	warm := NewClient(dial(), nil)
	echoOK(t, warm)
	warm.Close()

	settle := func() (int, uint64) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			srv.mu.Lock()
			n := len(srv.conns)
			srv.mu.Unlock()
			if (n == 0 && cl.n.Load() == dialled) || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	g0, h0 := settle()

	var buf bytes.Buffer
	fw := frame.NewWriter(&buf)
	fw.WriteMessage(frame.TypeHeader, []byte(reqHeader("Echo", 2, 2)))
	fw.WriteMessage(frame.TypeData, []byte(`{"Text":"x"}`))
	echo := bytes.Clone(buf.Bytes())
	buf.Reset()
	fw.WriteMessage(frame.TypeHeader, []byte(reqHeader("Count", 3, 2)))
	fw.WriteFrame(frame.TypeData, false, make([]byte, 1000))
	countPart := bytes.Clone(buf.Bytes())
	actions := [][]byte{
		nil,                   // dropped at once
		{1, 0, 0x10},          // inside a frame header
		echo,                  // a whole request, reply never read
		countPart,             // inside a streamed body
		{0xff, 1, 0, 0, 0, 0}, // RST
		echo[:len(echo)-3],    // inside a JSON body
	}
	const total, batch = 10000, 100
	start := time.Now()
	conns := make([]net.Conn, 0, batch)
	for i := 0; i < total; i += batch {
		// Dialled one by one, so that the listener's backlog never
		// overflows; a batch is open at the server at once.
		for j := range batch {
			c := dial()
			if a := actions[(i+j)%len(actions)]; a != nil {
				c.Write(a)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
		// A connection closed before it is accepted still holds a
		// place in the backlog: the next batch waits for the server.
		for cl.n.Load() < dialled {
			time.Sleep(time.Millisecond)
		}
	}
	g1, h1 := settle()
	t.Logf("%d connections in %v; goroutines %d before, %d after; live heap %d before, %d after", total, time.Since(start), g0, g1, h0, h1)
	if g1 > g0 {
		t.Errorf("%d goroutines after %d connections, %d before", g1, total, g0)
	}
	srv.mu.Lock()
	left := len(srv.conns)
	srv.mu.Unlock()
	if left != 0 {
		t.Errorf("the server still tracks %d connections", left)
	}
	if h1 > h0+4<<20 {
		t.Errorf("live heap grew from %d to %d bytes over %d connections", h0, h1, total)
	}
	c := NewClient(dial(), nil)
	echoOK(t, c)
	c.Close()
}

func TestBoundEmptyFramesAtServer(t *testing.T) {
	// [MSG-11] [MSG-2] a request header preceded, inside its message, by
	// a million empty non-final Header frames is read and answered: the
	// server allocates no more for a million of them than for a thousand,
	// and reads them through its buffer. The time is logged, not asserted.
	checkGoroutines(t)
	srv := testServer(t, nil)
	var cc *countingConn
	p := newRawPeer(t, srv, func(c io.ReadWriteCloser) io.ReadWriteCloser {
		cc = &countingConn{ReadWriteCloser: c}
		return cc
	})
	h := []byte(reqHeader("Nope", 1, 1))
	run := func(n int) (uint64, time.Duration) {
		in := bytes.Repeat([]byte{byte(frame.TypeHeader), 0, 0, 0, 0, 0}, n)
		var tail bytes.Buffer
		frame.NewWriter(&tail).WriteMessage(frame.TypeHeader, h)
		in = append(in, tail.Bytes()...)
		var st Status
		var err error
		start := time.Now()
		got := allocDelta(func() {
			werr := make(chan error, 1)
			go func() {
				_, err := p.conn.Write(in)
				werr <- err
			}()
			st, _, err = p.replyStatus()
			if e := <-werr; e != nil {
				t.Error(e)
			}
		})
		if err != nil || st != StatusRequestError {
			t.Fatalf("%d empty frames: status %v, %v", n, st, err)
		}
		return got, time.Since(start)
	}
	run(1000)
	few, _ := run(1000)
	before := cc.n.Load()
	many, d := run(1_000_000)
	t.Logf("request header after 1e3 empty frames: %d bytes allocated; after 1e6: %d bytes, %d bytes read, %v", few, many, cc.n.Load()-before, d)
	// The test's writer goroutine and the race detector allocate a little;
	// 64 KiB is far below the 6 MB of frames.
	if many > few+64<<10 {
		t.Errorf("a million empty frames cost %d bytes, a thousand %d", many, few)
	}
}
