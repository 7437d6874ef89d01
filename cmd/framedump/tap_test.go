package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/framerpc/framerpc/cmd/framedump/internal/dump"
	"github.com/framerpc/framerpc/cmd/framedump/internal/tap"
	"github.com/framerpc/framerpc/rpc"
)

// The tap tests put framedump's recording proxy between a real rpc.Client
// and rpc.Server, over loopback TCP and as the stdin/stdout relay of a
// spawned server process, and check that each capture file is byte for
// byte what that side sent, that the conversation went through unchanged,
// that the live view is framedump's conversation view of the capture, and
// that no goroutine is left behind.

const childEnv = "FRAMEDUMP_TEST_CHILD_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// The spawned child: a server on its stdin and stdout.
		err := testServer().Serve(stdio{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child server:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdout.Close() }

type msg struct{ Text string }
type count struct{ N int64 }

func testServer() *rpc.Server {
	s := rpc.NewServer(nil)
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(s.RegisterEndpoint("Echo", func(in *msg, out *msg) error { *out = *in; return nil }))
	must(s.RegisterEndpoint("Fail", func(in *msg, out *msg) error { return errors.New("failed on purpose") }))
	must(s.RegisterEndpoint("Download", func(in *count, out *io.Reader) error {
		*out = io.LimitReader(pattern{}, in.N)
		return nil
	}))
	must(s.RegisterEndpoint("Upload", func(in io.Reader, out *count) error {
		n, err := io.Copy(io.Discard, in)
		out.N = n
		return err
	}))
	return s
}

// pattern is an endless source of bytes that are not all zero.
type pattern struct{}

func (pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i % 251)
	}
	return len(b), nil
}

// calls is the conversation: JSON calls, an error status, an octets
// reply larger than a frame, an octets request; the client's default
// options make it say hello and use trailers.
func calls(t *testing.T, c *rpc.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out msg
	if err := c.Call(ctx, "Echo", &msg{"through the tap"}, &out); err != nil || out.Text != "through the tap" {
		t.Fatalf("Echo: %v %q", err, out.Text)
	}
	var re *rpc.Error
	if err := c.Call(ctx, "Fail", &msg{}, &out); !errors.As(err, &re) {
		t.Fatalf("Fail: %v", err)
	}
	var body io.ReadCloser
	if err := c.Call(ctx, "Download", &count{5 << 20}, &body); err != nil {
		t.Fatalf("Download: %v", err)
	}
	n, err := io.Copy(io.Discard, body)
	body.Close()
	if err != nil || n != 5<<20 {
		t.Fatalf("Download: %d bytes, %v", n, err)
	}
	var cnt count
	if err := c.Call(ctx, "Upload", bytes.NewReader(make([]byte, 70000)), &cnt); err != nil || cnt.N != 70000 {
		t.Fatalf("Upload: %v %d", err, cnt.N)
	}
}

// recording keeps a copy of what passes through Write (and Read, for rd).
type recording struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recording) add(b []byte) {
	r.mu.Lock()
	r.buf.Write(b)
	r.mu.Unlock()
}

func (r *recording) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

type sentConn struct {
	net.Conn
	sent *recording
}

func (c sentConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.add(p[:n])
	return n, err
}

// noLeaks fails if goroutines started during the test outlive it.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func checkCapture(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: %d bytes, the side sent %d; first difference at offset %d", path, len(got), len(want), i)
	}
}

// checkViews: the capture decodes cleanly, and the live view was the
// conversation view of the capture.
func checkViews(t *testing.T, prefix, live, linePrefix string) {
	t.Helper()
	out, errOut, code := framedump(prefix)
	if code != exitClean || errOut != "" {
		t.Fatalf("framedump %s: exit %d, %s\n%s", prefix, code, errOut, out)
	}
	for _, want := range []string{`"Echo"`, `-> Error "failed on purpose"`, `"Download"`, `Octets(5242880 B) trailer OK`, `"Upload" Octets(70000 B) trailer OK`, "hello, asked [trailer multipart] -> OK"} {
		if !strings.Contains(out, want) {
			t.Fatalf("conversation view lacks %q:\n%s", want, out)
		}
	}
	var stripped strings.Builder
	for _, l := range strings.SplitAfter(live, "\n") {
		stripped.WriteString(strings.TrimPrefix(l, linePrefix))
	}
	if stripped.String() != out {
		t.Fatalf("the live view differs from the conversation view of the capture:\nlive:\n%s\nview:\n%s", live, out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTapListen(t *testing.T) {
	t.Run("tcp", func(t *testing.T) { tapListen(t, "tcp", "127.0.0.1:0", "127.0.0.1:0") })
	t.Run("unix", func(t *testing.T) {
		dir := t.TempDir()
		tapListen(t, "unix", filepath.Join(dir, "server.sock"), filepath.Join(dir, "tap.sock"))
	})
}

func tapListen(t *testing.T, network, serverAddr, tapAddr string) {
	noLeaks(t)
	srvLn, err := net.Listen(network, serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer srvLn.Close()
	serverSent := &recording{}
	served := make(chan error, 1)
	go func() {
		c, err := srvLn.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- testServer().Serve(sentConn{c, serverSent})
	}()

	tapLn, err := net.Listen(network, tapAddr)
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(t.TempDir(), network)
	live := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	tapped := make(chan error, 1)
	var d net.Dialer
	go func() {
		tapped <- tap.Listen(ctx, tapLn, func(ctx context.Context) (net.Conn, error) {
			return d.DialContext(ctx, network, srvLn.Addr().String())
		}, prefix, tap.Options{Live: live, Dump: liveOptions()}, t.Logf)
	}()

	conn, err := net.Dial(network, tapLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	clientSent := &recording{}
	c := rpc.NewClient(sentConn{conn, clientSent}, nil)
	calls(t, c)
	c.Close()
	if err := <-served; err != nil {
		t.Fatalf("server: %v", err)
	}
	// The session ends by itself once the server has closed; stopping the
	// tap then waits for it.
	waitFor(t, func() bool {
		return strings.Contains(live.String(), "end of stream") && fileLen(prefix+".server.bin") == len(serverSent.bytes())
	})
	cancel()
	if err := <-tapped; err != nil {
		t.Fatalf("tap: %v", err)
	}
	checkCapture(t, prefix+".client.bin", clientSent.bytes())
	checkCapture(t, prefix+".server.bin", serverSent.bytes())
	checkViews(t, prefix, live.String(), "[1] ")
}

func liveOptions() (o dump.Options) {
	o.Live = true
	return o
}

func fileLen(name string) int {
	fi, err := os.Stat(name)
	if err != nil {
		return -1
	}
	return int(fi.Size())
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pipeConn is the client's side of the spawned child: it writes the tap's
// stdin and reads the tap's stdout, recording both.
type pipeConn struct {
	w          *os.File
	r          *os.File
	sent, read *recording
}

func (p pipeConn) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.sent.add(b[:n])
	return n, err
}

func (p pipeConn) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read.add(b[:n])
	return n, err
}

// Close hangs up the sending side only: what the child still sends is
// read to its end by the test.
func (p pipeConn) Close() error { return p.w.Close() }

// The command form through framedump's command line: framedump tap -v -o
// PREFIX -- CHILD, the live view on its standard error.
func TestTapCommand(t *testing.T) {
	noLeaks(t)
	t.Setenv(childEnv, "1")
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	prefix := filepath.Join(t.TempDir(), "child")
	live := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"tap", "-v", "-o", prefix, "--", os.Args[0], "-test.run=^$"}, inR, outW, live)
	}()

	p := pipeConn{w: inW, r: outR, sent: &recording{}, read: &recording{}}
	c := rpc.NewClient(p, nil)
	calls(t, c)
	c.Close()
	// Everything the child sent reaches the client, then the end.
	if _, err := io.Copy(io.Discard, readerFunc(p.Read)); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != exitClean {
		t.Fatalf("framedump tap: exit %d\n%s", code, live.String())
	}
	checkCapture(t, prefix+".client.bin", p.sent.bytes())
	checkCapture(t, prefix+".server.bin", p.read.bytes())
	checkViews(t, prefix, live.String(), "")
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }
