package pipeconn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// DefaultCloseGrace is how long ChildConn.Close waits for the child to
// exit before killing it.
const DefaultCloseGrace = 5 * time.Second

// exitWait bounds how long a read that met the end of the child's output
// waits for the child's exit status: a child closes its output as it
// exits, and one that does not is taken to have ended the stream cleanly.
const exitWait = time.Second

// stderrTail is how much of the child's standard error an error keeps.
const stderrTail = 1024

// ChildConn is a connection to a child process over its standard input
// and output.
type ChildConn struct {
	// CloseGrace is how long Close waits for the child to exit after
	// closing its pipes, before killing it. 0 means DefaultCloseGrace.
	// Set it before Close.
	CloseGrace time.Duration

	cmd    *exec.Cmd
	name   string
	w      *os.File // the child's standard input
	r      *os.File // the child's standard output
	stderr *tailWriter

	exited  chan struct{}
	waitErr error // valid once exited is closed

	closeOnce sync.Once
	closeErr  error
}

// Command starts cmd with its standard input and output connected to the
// returned connection, as a client runs "ssh host prog serve --stdio".
// cmd's Stdin and Stdout must be nil. Its standard error goes where
// cmd.Stderr says (this process's standard error if nil), and its last
// kilobyte is also kept for the error that reports the child's death.
//
// Use exec.Command, not exec.CommandContext with a dial's context: the
// child must outlive the dial.
//
// When the child exits unsuccessfully before Close, the read or write that
// finds its pipe closed fails with an error that gives the exit status and
// the end of its standard error, and wraps the *exec.ExitError.
func Command(cmd *exec.Cmd) (*ChildConn, error) {
	if cmd.Stdin != nil || cmd.Stdout != nil {
		return nil, errors.New("pipeconn: Command needs a cmd without Stdin and Stdout")
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipeconn: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("pipeconn: %w", err)
	}
	dst := cmd.Stderr
	if dst == nil {
		dst = os.Stderr
	}
	c := &ChildConn{cmd: cmd, name: commandName(cmd), w: inW, r: outR, stderr: &tailWriter{w: dst}, exited: make(chan struct{})}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, c.stderr
	if cmd.WaitDelay == 0 {
		// A grandchild holding the child's standard error must not hold
		// up Wait (and Close) for ever.
		cmd.WaitDelay = time.Second
	}
	err = cmd.Start()
	// The child has its own copies; ours would keep its input open and
	// its output from ever ending.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("pipeconn: starting %s: %w", c.name, err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func commandName(cmd *exec.Cmd) string {
	s := strings.Join(cmd.Args, " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Read reads the child's standard output.
func (c *ChildConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		if exitErr := c.exitError(); exitErr != nil {
			return n, exitErr
		}
	}
	return n, err
}

// Write writes to the child's standard input.
func (c *ChildConn) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && !errors.Is(err, os.ErrClosed) {
		if exitErr := c.exitError(); exitErr != nil {
			err = fmt.Errorf("%w (writing: %v)", exitErr, err)
		}
	}
	return n, err
}

// exitError waits a moment for the child's exit and describes an
// unsuccessful one; nil if it exited successfully or is still running.
func (c *ChildConn) exitError() error {
	t := time.NewTimer(exitWait)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
		return nil
	}
	if c.waitErr == nil {
		return nil
	}
	msg := fmt.Sprintf("pipeconn: %s ended the connection: %v", c.name, c.waitErr)
	if tail := c.stderr.tail(); tail != "" {
		msg += fmt.Sprintf("; its standard error ended with %q", tail)
	}
	return &ExitError{msg: msg, err: c.waitErr}
}

// ExitError reports a child that exited unsuccessfully while its
// connection was in use. It wraps the *exec.ExitError (or the error Wait
// returned).
type ExitError struct {
	msg string
	err error
}

func (e *ExitError) Error() string { return e.msg }
func (e *ExitError) Unwrap() error { return e.err }

// Close closes the child's standard input and output, waits up to
// CloseGrace for it to exit and then kills it. Its error is non-nil only
// when the child had to be killed. Closing twice is harmless.
func (c *ChildConn) Close() error {
	c.closeOnce.Do(func() {
		c.w.Close()
		c.r.Close()
		grace := c.CloseGrace
		if grace <= 0 {
			grace = DefaultCloseGrace
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-c.exited:
		case <-t.C:
			c.cmd.Process.Kill()
			<-c.exited
			c.closeErr = fmt.Errorf("pipeconn: %s still running %v after its input closed: killed", c.name, grace)
		}
	})
	return c.closeErr
}

// tailWriter passes what the child writes to its standard error on and
// keeps the last stderrTail bytes.
type tailWriter struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > stderrTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTail:]...)
	}
	t.mu.Unlock()
	// A failing destination must not fail the child's writes: the tail is
	// still kept.
	t.w.Write(p)
	return len(p), nil
}

func (t *tailWriter) tail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
