package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/rpc"
)

// End-to-end tests: the server runs as a separate process (this test
// binary, re-executed as streamcopy, so it is built with the race
// detector too); the client runs in the test, where leaks are counted.

const mainEnv = "STREAMCOPY_TEST_MAIN"

// noExitSleep: a race-enabled binary sleeps a second as it exits, to let
// reports out; the tests start a server process per command.
const noExitSleep = "atexit_sleep_ms=0"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// server is a streamcopy serve process.
type server struct {
	cmd    *exec.Cmd
	addr   string // as the client's -connect takes it
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// startServer runs "streamcopy serve -dir dir -listen listen args..." and
// waits until it listens.
func startServer(t *testing.T, dir, listen string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "-dir", dir, "-listen", listen}, args...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" "+noExitSleep)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			fmt.Fprintln(&s.stderr, line)
			s.mu.Unlock()
			if _, a, ok := strings.Cut(line, " on "); ok && strings.HasPrefix(line, "streamcopy: serving") {
				addr <- a
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-s.done
		cmd.Wait()
	})
	select {
	case s.addr = <-addr:
	case <-s.done:
		t.Fatalf("server ended: %s", s.log())
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start: %s", s.log())
	}
	return s
}

// streamcopy runs a client command in the test process.
func streamcopy(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	if stderr.Len() > 0 {
		// Quiet unless stderr is a terminal: no progress line here.
		t.Errorf("streamcopy %v wrote to stderr: %q", args, stderr.String())
	}
	return stdout.String(), err
}

// noLeaks fails the test if goroutines or descriptors it opened are left
// open. Call it first, so that its check runs after the other cleanups.
func noLeaks(t *testing.T) {
	gs, fds := runtime.NumGoroutine(), openFDs(t)
	t.Cleanup(func() {
		for range 300 {
			if runtime.NumGoroutine() <= gs && openFDs(t) <= fds {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		t.Errorf("left behind: goroutines %d -> %d, descriptors %d -> %d\n%s", gs, runtime.NumGoroutine(), fds, openFDs(t), buf[:runtime.Stack(buf, true)])
	})
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func randomFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not the %d sent", path, len(got), len(want))
	}
}

// noPartials fails if a temporary file of a transfer is left in dir.
func noPartials(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".partial-") {
			t.Errorf("partial file left: %s", p)
		}
		return nil
	})
}

// roundTrip pushes a few MiB, pulls a directory tree of a few MiB back
// through the pool (listings and pulls in parallel), and lists.
func roundTrip(t *testing.T, srvDir string, conn ...string) {
	t.Helper()
	local := t.TempDir()
	up := randomFile(t, filepath.Join(local, "up.bin"), 3<<20)
	if _, err := streamcopy(t, append(append([]string{"push"}, conn...), filepath.Join(local, "up.bin"), "tree/")...); err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(srvDir, "tree", "up.bin"), up)
	down := randomFile(t, filepath.Join(srvDir, "tree", "a", "down.bin"), 3<<20)
	small := randomFile(t, filepath.Join(srvDir, "tree", "a", "b", "small"), 100)
	if _, err := streamcopy(t, append(append([]string{"pull", "-j", "2"}, conn...), "./tree/", filepath.Join(local, "copy"))...); err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(local, "copy", "up.bin"), up)
	sameFile(t, filepath.Join(local, "copy", "a", "down.bin"), down)
	sameFile(t, filepath.Join(local, "copy", "a", "b", "small"), small)
	out, err := streamcopy(t, append(append([]string{"list"}, conn...), "tree/a")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%12s  b/\n%12d  down.bin\n", "-", 3<<20); out != want {
		t.Fatalf("list: got %q, want %q", out, want)
	}
	noPartials(t, local)
	noPartials(t, srvDir)
}

func TestTCP(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	s := startServer(t, dir, "tcp:127.0.0.1:0")
	roundTrip(t, dir, "-connect", s.addr)

	// The server killed mid-pull: a clear error, no file under the name.
	big := t.TempDir()
	randomFile(t, filepath.Join(big, "big"), 32<<20)
	s2 := startServer(t, big, "tcp:127.0.0.1:0")
	var once sync.Once
	testHookProgress = func(done int64) {
		if done >= 1<<20 {
			once.Do(func() { s2.cmd.Process.Kill() })
		}
	}
	defer func() { testHookProgress = nil }()
	local := t.TempDir()
	_, err := streamcopy(t, "pull", "-connect", s2.addr, "big", local)
	if !errors.Is(err, rpc.ErrClosed) || !strings.Contains(err.Error(), "stopped after") || !strings.Contains(err.Error(), "of 33554432 bytes") {
		t.Fatalf("got %v, want the lost connection and how far the pull got", err)
	}
	if ents, _ := os.ReadDir(local); len(ents) != 0 {
		t.Fatalf("files left after a failed pull: %v", ents)
	}
	// Gone for good: the kill is asynchronous, and a dying process's
	// socket still completes connections.
	<-s2.done
	s2.cmd.Wait()

	// Nobody listening.
	_, err = streamcopy(t, "list", "-connect", s2.addr)
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v, want connection refused", err)
	}
}

func TestUnixSocket(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	s := startServer(t, dir, "unix:"+filepath.Join(t.TempDir(), "sock"))
	roundTrip(t, dir, "-connect", s.addr)

	// The client resets the connection mid-pull (it is interrupted): no
	// partial file stays, and the server goes on serving.
	randomFile(t, filepath.Join(dir, "big"), 32<<20)
	ctx, cancel := context.WithCancel(context.Background())
	testHookProgress = func(done int64) {
		if done >= 1<<20 {
			cancel()
		}
	}
	defer func() { testHookProgress = nil }()
	local := t.TempDir()
	err := run(ctx, []string{"pull", "-connect", s.addr, "big", local}, io.Discard, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	if ents, _ := os.ReadDir(local); len(ents) != 0 {
		t.Fatalf("files left after an interrupted pull: %v", ents)
	}
	testHookProgress = nil
	if _, err := streamcopy(t, "list", "-connect", s.addr); err != nil {
		t.Fatalf("server after a reset: %v", err)
	}
}

func TestTLS(t *testing.T) {
	noLeaks(t)
	certs, other := t.TempDir(), t.TempDir()
	for _, d := range []string{certs, other} {
		if _, err := streamcopy(t, "certs", "-out", d); err != nil {
			t.Fatal(err)
		}
	}
	pair := func(dir, side, caDir string) string {
		return strings.Join([]string{filepath.Join(dir, side+".pem"), filepath.Join(dir, side+".key"), filepath.Join(caDir, "ca.pem")}, ",")
	}
	dir := t.TempDir()
	s := startServer(t, dir, "tcp:127.0.0.1:0", "-tls", pair(certs, "server", certs))
	roundTrip(t, dir, "-connect", s.addr, "-tls", pair(certs, "client", certs))

	// A client certificate from another CA is refused by the server.
	_, err := streamcopy(t, "list", "-connect", s.addr, "-tls", pair(other, "client", certs))
	if err == nil || !strings.Contains(err.Error(), "tls: ") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want the server's refusal of the certificate", err)
	}
	// A server certificate from a CA the client does not trust.
	_, err = streamcopy(t, "list", "-connect", s.addr, "-tls", pair(certs, "client", other))
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("got %v, want the client's refusal of the server's certificate", err)
	}
	// The server logs the refusal as its connection ends, which may be
	// after the client has its error.
	for i := 0; !strings.Contains(s.log(), "certificate"); i++ {
		if i == 500 {
			t.Fatalf("the server's log does not mention the refused certificate: %s", s.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serveCommand is the -e command that runs this test binary as
// "streamcopy serve --stdio".
func serveCommand(dir string) string {
	return fmt.Sprintf("GORACE=\"$GORACE %s\" %s=1 exec %q serve --stdio -dir %q", noExitSleep, mainEnv, os.Args[0], dir)
}

func TestStdio(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	roundTrip(t, dir, "-e", serveCommand(dir))

	// The child dies before answering: its exit status and last words.
	// (Its stderr is passed through.)
	err := run(context.Background(), []string{"list", "-e", "echo 'ssh: connect to host nowhere: No route to host' >&2; exit 255"}, io.Discard, io.Discard)
	if !strings.Contains(err.Error(), "exit status 255") || !strings.Contains(err.Error(), "No route to host") || !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("got %v, want the child's exit status and its stderr", err)
	}
}

// -capture records each connection in the files framedump reads.
func TestCapture(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "f"), 1<<20)
	prefix := filepath.Join(t.TempDir(), "cap")
	local := t.TempDir()
	if _, err := streamcopy(t, "pull", "-e", serveCommand(dir), "-capture", prefix, "f", local); err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(local, "f"), data)
	// The listing and the pull ran one after the other: one connection.
	if _, err := os.Stat(prefix + "-2.client.bin"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a second connection was recorded: %v", err)
	}
	client := messages(t, prefix+".client.bin")
	server := messages(t, prefix+".server.bin")
	// Client: the list request (header, JSON), the hello (header), the
	// pull request (header, JSON), RST; server: the replies, the pull's
	// with its metadata, the file and the trailer.
	if len(client) != 6 || client[5] != -1 || len(server) != 7 || server[5] != int64(len(data)) {
		t.Fatalf("client messages %v, server messages %v", client, server)
	}
}

// messages decodes a capture and returns the length of each message.
func messages(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := frame.NewReader(f)
	var lens []int64
	for {
		typ, ok := r.PeekType()
		if !ok {
			break
		}
		if typ == frame.TypeRST {
			// The client's hang-up [RPC-34].
			lens = append(lens, -1)
			break
		}
		m, err := r.NextMessage(typ)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n, err := io.Copy(io.Discard, m)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		lens = append(lens, n)
	}
	if err := r.Err(); err != nil && err != io.EOF {
		t.Fatalf("%s: %v", path, err)
	}
	return lens
}

// The server keeps requests inside its directory.
func TestConfinement(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	randomFile(t, filepath.Join(outside, "secret"), 10)
	randomFile(t, filepath.Join(root, "ok"), 10)
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := &Dir{root: r}
	for _, p := range []string{"../" + filepath.Base(outside) + "/secret", filepath.Join(outside, "secret"), "link/secret", "ok/../../x", "a/../ok"} {
		var meta FileMeta
		var body io.Reader
		err := d.Pull(&FileRequest{Path: p}, &meta, &body)
		var re *rpc.Error
		if !errors.As(err, &re) || re.Status != rpc.StatusRequestError {
			t.Errorf("Pull(%q): got %v, want a RequestError", p, err)
		}
		if body != nil {
			body.(io.Closer).Close()
		}
	}
	var meta FileMeta
	var body io.Reader
	if err := d.Pull(&FileRequest{Path: "./ok"}, &meta, &body); err != nil || meta.Size != 10 {
		t.Fatal(meta, err)
	}
	body.(io.Closer).Close()
}
