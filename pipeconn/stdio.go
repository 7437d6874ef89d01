package pipeconn

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// StdioConn is the process's standard input and output as one connection.
type StdioConn struct {
	in, out   *os.File
	closeOnce sync.Once
	closeErr  error
	// The descriptors' flags before they were made non-blocking, restored
	// by Close: the open files are shared with the parent (a shell's
	// terminal, sshd's pipe).
	inFlags, outFlags int
}

var stdioTaken sync.Once

// Stdio returns standard input and output as a connection, for a server
// run as "prog serve --stdio". It may be called once per process.
//
// It takes descriptors 0 and 1 over: it reads from and writes to
// duplicates of them, made non-blocking so that Close interrupts a pending
// read, and points descriptor 1 at standard error (see the package
// documentation for why). After Stdio, os.Stdin must not be read and
// whatever is written to os.Stdout goes to standard error.
func Stdio() (*StdioConn, error) {
	err := errors.New("pipeconn: Stdio called twice")
	var c *StdioConn
	stdioTaken.Do(func() { c, err = takeStdio() })
	return c, err
}

func takeStdio() (*StdioConn, error) {
	c := &StdioConn{}
	var err error
	if c.in, c.inFlags, err = dupNonblock(0, "stdin"); err != nil {
		return nil, err
	}
	if c.out, c.outFlags, err = dupNonblock(1, "stdout"); err != nil {
		c.in.Close()
		return nil, err
	}
	if err := syscall.Dup3(2, 1, 0); err != nil {
		c.in.Close()
		c.out.Close()
		return nil, fmt.Errorf("pipeconn: pointing stdout at stderr: %w", err)
	}
	return c, nil
}

// dupNonblock duplicates fd (close-on-exec) as a pollable *os.File.
func dupNonblock(fd int, name string) (*os.File, int, error) {
	flags, err := fcntl(fd, syscall.F_GETFL, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("pipeconn: %s: %w", name, err)
	}
	nfd, err := fcntl(fd, syscall.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, 0, fmt.Errorf("pipeconn: duplicating %s: %w", name, err)
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return nil, 0, fmt.Errorf("pipeconn: %s: %w", name, err)
	}
	// Non-blocking before NewFile: the file is then in the runtime's
	// poller, and Close unblocks a Read.
	return os.NewFile(uintptr(nfd), name), flags, nil
}

func fcntl(fd, cmd, arg int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// Read reads from standard input.
func (c *StdioConn) Read(p []byte) (int, error) { return c.in.Read(p) }

// Write writes to standard output. A vanished reader is an error wrapping
// syscall.EPIPE, not a signal.
func (c *StdioConn) Write(p []byte) (int, error) { return c.out.Write(p) }

// Close closes both, restoring the blocking mode they had. Closing twice
// is harmless.
func (c *StdioConn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = errors.Join(closeRestoring(c.in, c.inFlags), closeRestoring(c.out, c.outFlags))
	})
	return c.closeErr
}

// closeRestoring closes f and gives its open file back its blocking mode.
// The mode is restored through a spare duplicate once f is closed: making
// f blocking first would let a Read in progress block Close.
func closeRestoring(f *os.File, flags int) error {
	spare := -1
	if flags&syscall.O_NONBLOCK == 0 {
		if rc, err := f.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) {
				if d, err := fcntl(int(fd), syscall.F_DUPFD_CLOEXEC, 3); err == nil {
					spare = d
				}
			})
		}
	}
	err := f.Close()
	if spare >= 0 {
		syscall.SetNonblock(spare, false)
		syscall.Close(spare)
	}
	return err
}
