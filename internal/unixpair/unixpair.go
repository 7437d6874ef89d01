// Package unixpair makes connected Unix stream socket pairs as net.Conns:
// the real transport, kernel buffers and all, that framerpc's examples,
// tests, benchmarks and capture recordings run over. It is not part of the
// protocol (spec/PROTOCOL.md section 2 allows any reliable byte stream).
package unixpair

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// New returns the two ends of a new socketpair. Closing one end makes reads
// on the other see the end of the stream.
func New() (net.Conn, net.Conn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	a, err := fileConn(fds[0])
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	b, err := fileConn(fds[1])
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// fileConn wraps fd in a net.Conn; net.FileConn dups it, so the original
// is closed either way.
func fileConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "socketpair")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	return c, nil
}
