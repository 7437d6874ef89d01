package conform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// GrantEnv is the environment variable that tells a spawned server which
// extensions to grant: a comma-separated list, empty for none.
const GrantEnv = "CONFORM_GRANT"

// ParseAddr splits an address as the command line writes it: "unix:PATH"
// or a TCP "host:port".
func ParseAddr(s string) (network, address string) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		return "unix", p
	}
	return "tcp", s
}

// NetTarget reaches servers already listening, one per set of grants,
// keyed as grantKey writes them ("trailer,multipart", "trailer", "none").
type NetTarget struct {
	Addrs map[string]string
}

// Open dials the server for grants.
func (t NetTarget) Open(grants []string) (Conn, error) {
	addr, ok := t.Addrs[grantKey(grants)]
	if !ok {
		return nil, &Unavailable{fmt.Sprintf("needs a server granting %s: give -connect-grant %s=ADDR", grantKey(grants), grantKey(grants))}
	}
	network, address := ParseAddr(addr)
	nc, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c, ok := nc.(interface {
		Conn
		net.Conn
	})
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("%s: %T cannot close its sending side", addr, nc)
	}
	return c, nil
}

// ExecTarget spawns one server process per vector and talks to it over
// its standard input and output. Command runs under sh -c; the grants are
// in GrantEnv.
type ExecTarget struct {
	Command string
}

// Open starts the server.
func (t ExecTarget) Open(grants []string) (Conn, error) {
	env := append(os.Environ(), GrantEnv+"="+strings.Join(grants, ","))
	return startProcess(t.Command, env)
}

// process is a spawned implementation: its standard input and output are
// the runner's connection (exec targets) or the driver's script (client
// role), its standard error kept for the failure report.
type process struct {
	cmd    *exec.Cmd
	stdin  *os.File // the runner's write end
	stdout *os.File // the runner's read end
	stderr *tailBuffer
	done   chan struct{}
	once   sync.Once
}

// stopTimeout is how long a spawned process may take to exit once its
// conversation is over before the runner kills it.
const stopTimeout = 2 * time.Second

func startProcess(command string, env []string) (*process, error) {
	// Pipes from os.Pipe are pollable, so reads and writes on the runner's
	// ends honour deadlines like a socket's.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	p := &process{stdin: inW, stdout: outR, stderr: &tailBuffer{max: 4096}, done: make(chan struct{})}
	p.cmd = exec.Command("/bin/sh", "-c", command)
	p.cmd.Env = env
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, p.stderr
	// Its own process group, so that whatever sh started can be stopped.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = p.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("starting %q: %w", command, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) Read(b []byte) (int, error)         { return p.stdout.Read(b) }
func (p *process) Write(b []byte) (int, error)        { return p.stdin.Write(b) }
func (p *process) SetReadDeadline(t time.Time) error  { return p.stdout.SetReadDeadline(t) }
func (p *process) SetWriteDeadline(t time.Time) error { return p.stdin.SetWriteDeadline(t) }

// Exited is closed when the process has exited.
func (p *process) Exited() <-chan struct{} { return p.done }

// CloseWrite closes the process's standard input.
func (p *process) CloseWrite() error {
	err := p.stdin.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

// errDataRace is Close's error when the process reported a data race: Go's
// race detector, which `conform self` under -race runs in every process it
// spawns, reports on standard error without changing a byte on the wire.
var errDataRace = errors.New("the implementation reported a data race on its standard error")

// Close ends the conversation: the process gets the end of its input and
// stopTimeout to exit, then its process group is killed.
func (p *process) Close() error {
	p.once.Do(func() {
		_ = p.CloseWrite()
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		p.stdout.Close()
	})
	if p.stderr.sawRace() {
		return errDataRace
	}
	return nil
}

// Diagnostics returns the end of the process's standard error.
func (p *process) Diagnostics() []string {
	s := strings.TrimRight(p.stderr.String(), "\n")
	if s == "" {
		return nil
	}
	lines := []string{"standard error of the implementation:"}
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, "| "+l)
	}
	return lines
}

// raceWarning starts every report of Go's race detector.
const raceWarning = "WARNING: DATA RACE"

// tailBuffer keeps the last max bytes written to it, and whether
// raceWarning was ever among them: a race report's stacks are long enough
// to push its first line out of the tail.
type tailBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int
	race bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// The warning may straddle two writes: look at it with the end of
	// what came before.
	seam := t.buf.Bytes()[max(0, t.buf.Len()-len(raceWarning)):]
	if bytes.Contains(append(append([]byte(nil), seam...), p...), []byte(raceWarning)) {
		t.race = true
	}
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) sawRace() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.race
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

var _ io.ReadWriter = (*process)(nil)
