package pipeconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/framerpc/framerpc/rpc"
)

// The test binary doubles as the child: with childEnv set it runs the
// mode named there instead of the tests.
const childEnv = "PIPECONN_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "serve":
		os.Exit(serveStdio())
	case "die":
		// Read the start of a request, complain and fail.
		os.Stdin.Read(make([]byte, 1))
		fmt.Fprintln(os.Stderr, "child: cannot go on")
		os.Exit(3)
	case "linger":
		// Outlive the end of its input.
		time.Sleep(time.Minute)
	}
	os.Exit(2)
}

// serveStdio serves on Stdio until the client hangs up. A stray print to
// os.Stdout comes first: it must not reach the stream.
func serveStdio() int {
	conn, err := Stdio()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("stray print")
	srv := rpc.NewServer(nil)
	srv.RegisterEndpoint("Echo", func(in *string, out *string) error {
		*out = *in
		return nil
	})
	srv.RegisterEndpoint("Zeros", func(n *int64, out *io.Reader) error {
		*out = io.LimitReader(zeros{}, *n)
		return nil
	})
	srv.RegisterEndpoint("Sum", func(in io.Reader, out *[]byte) error {
		b, err := io.ReadAll(in)
		*out = b[len(b)-16:]
		return err
	})
	err = srv.Serve(conn)
	fmt.Fprintf(os.Stderr, "served: %v\n", err)
	return 0
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func child(t *testing.T, mode string, stderr io.Writer) *ChildConn {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// A race-enabled child would sleep a second as it exits.
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.Stderr = stderr
	c, err := Command(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// settle fails the test if goroutines or descriptors are left behind.
func settle(t *testing.T) {
	gs := runtime.NumGoroutine()
	fds := openFDs(t)
	t.Cleanup(func() {
		for range 300 {
			if runtime.NumGoroutine() <= gs && openFDs(t) <= fds {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("left behind: goroutines %d -> %d, descriptors %d -> %d", gs, runtime.NumGoroutine(), fds, openFDs(t))
	})
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestCommandServes(t *testing.T) {
	settle(t)
	stderr := new(syncWriter)
	conn := child(t, "serve", stderr)
	c := rpc.NewClient(conn, nil)
	ctx := context.Background()
	var out string
	if err := c.Call(ctx, "Echo", "hello", &out); err != nil || out != "hello" {
		t.Fatal(out, err)
	}
	// A few MiB each way.
	var r io.ReadCloser
	if err := c.Call(ctx, "Zeros", int64(4<<20), &r); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, r); n != 4<<20 || err != nil {
		t.Fatal(n, err)
	}
	payload := make([]byte, 4<<20)
	rand.Read(payload)
	var tail []byte
	if err := c.Call(ctx, "Sum", bytes.NewReader(payload), &tail); err != nil || !bytes.Equal(tail, payload[len(payload)-16:]) {
		t.Fatal(err)
	}
	c.Close()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if st := conn.cmd.ProcessState; !st.Exited() || st.ExitCode() != 0 {
		t.Fatalf("child: %v", st)
	}
	// The stray print went to standard error, the hang-up ended Serve.
	if s := stderr.String(); !strings.Contains(s, "stray print") || !strings.Contains(s, "served: <nil>") {
		t.Fatalf("child's stderr: %q", s)
	}
}

// A server whose client vanished mid-stream gets EPIPE and ends, instead
// of being killed by SIGPIPE.
func TestStdioClientVanishes(t *testing.T) {
	settle(t)
	stderr := new(syncWriter)
	conn := child(t, "serve", stderr)
	c := rpc.NewClient(conn, nil)
	var r io.ReadCloser
	if err := c.Call(context.Background(), "Zeros", int64(1<<30), &r); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, r, 1<<20); err != nil {
		t.Fatal(err)
	}
	// Close the pipes without a word.
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	st := conn.cmd.ProcessState
	if !st.Exited() || st.ExitCode() != 0 {
		t.Fatalf("child: %v, want a clean exit; stderr %q", st, stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, "broken pipe") {
		t.Fatalf("child's stderr: %q, want Serve's error to be EPIPE", s)
	}
	// A streamed reply holds the client until it is closed (rpc's
	// contract), whatever became of the connection under it.
	r.Close()
	c.Close()
}

func TestCommandChildExitsEarly(t *testing.T) {
	settle(t)
	conn := child(t, "die", io.Discard)
	c := rpc.NewClient(conn, nil)
	defer c.Close()
	var out string
	err := c.Call(context.Background(), "Echo", "hello", &out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("got %v, want the exit status 3 in an error matching rpc.ErrClosed", err)
	}
	if !strings.Contains(err.Error(), "child: cannot go on") {
		t.Fatalf("got %v, want the end of the child's stderr in it", err)
	}
}

func TestCommandCloseKillsLingeringChild(t *testing.T) {
	settle(t)
	conn := child(t, "linger", io.Discard)
	conn.CloseGrace = 50 * time.Millisecond
	err := conn.Close()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("got %v, want the kill reported", err)
	}
	if st := conn.cmd.ProcessState; st.Exited() {
		t.Fatalf("child: %v, want killed", st)
	}
	done := make(chan error)
	go func() { done <- conn.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second Close hangs")
	}
}

func TestCommandStartFails(t *testing.T) {
	settle(t)
	_, err := Command(exec.Command("/nonexistent/streamcopy"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

// syncWriter is a buffer the child's stderr copier and the test share.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
