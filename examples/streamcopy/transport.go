package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/framerpc/framerpc/pipeconn"
	"github.com/framerpc/framerpc/rpc"
)

// splitAddr reads "tcp:HOST:PORT", "unix:PATH", or a bare "HOST:PORT"
// (TCP).
func splitAddr(addr string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(addr, "tcp:"):
		return "tcp", strings.TrimPrefix(addr, "tcp:"), nil
	case strings.HasPrefix(addr, "unix:"):
		return "unix", strings.TrimPrefix(addr, "unix:"), nil
	case strings.Contains(addr, ":"):
		return "tcp", addr, nil
	}
	return "", "", fmt.Errorf("address %q: want tcp:HOST:PORT or unix:PATH", addr)
}

// tlsFiles reads "-tls cert,key,ca": this side's certificate and key, and
// the CA that must have signed the peer's.
func tlsFiles(spec string) (cert tls.Certificate, pool *x509.CertPool, err error) {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		return cert, nil, fmt.Errorf("-tls %q: want CERT,KEY,CA", spec)
	}
	cert, err = tls.LoadX509KeyPair(parts[0], parts[1])
	if err != nil {
		return cert, nil, fmt.Errorf("-tls: %w", err)
	}
	ca, err := os.ReadFile(parts[2])
	if err != nil {
		return cert, nil, fmt.Errorf("-tls: %w", err)
	}
	pool = x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return cert, nil, fmt.Errorf("-tls: no certificate in %s", parts[2])
	}
	return cert, pool, nil
}

// serverTLS: mutual authentication, the client's certificate required and
// checked against the CA.
func serverTLS(spec string) (*tls.Config, error) {
	cert, pool, err := tlsFiles(spec)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}, nil
}

func clientTLS(spec, address string) (*tls.Config, error) {
	cert, pool, err := tlsFiles(spec)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = "localhost" // a unix socket: the demo certificates name localhost
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS13}, nil
}

// dialer builds the pool's dial function from the client flags.
func dialer(f *clientFlags, stderr io.Writer) (rpc.DialFunc, error) {
	var dial rpc.DialFunc
	switch {
	case f.command != "" && f.connect != "":
		return nil, errors.New("-connect and -e exclude each other")
	case f.command != "":
		if f.tls != "" {
			return nil, errors.New("-tls applies to -connect, not to -e")
		}
		dial = func(ctx context.Context) (io.ReadWriteCloser, error) {
			// Through the shell, so that the command is written as on a
			// command line; not CommandContext: the child must outlive
			// the dial.
			cmd := exec.Command("/bin/sh", "-c", f.command)
			cmd.Stderr = stderr
			return pipeconn.Command(cmd)
		}
	case f.connect != "":
		network, address, err := splitAddr(f.connect)
		if err != nil {
			return nil, err
		}
		if f.tls != "" {
			cfg, err := clientTLS(f.tls, address)
			if err != nil {
				return nil, err
			}
			dial = rpc.DialTLS(network, address, cfg)
		} else {
			dial = rpc.DialNet(network, address)
		}
	default:
		return nil, errors.New("say where the server is: -connect ADDR or -e 'COMMAND'")
	}
	if f.capture == "" {
		return dial, nil
	}
	var n atomic.Int64
	return func(ctx context.Context) (io.ReadWriteCloser, error) {
		rwc, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		prefix := f.capture
		if i := n.Add(1); i > 1 {
			prefix = fmt.Sprintf("%s-%d", prefix, i)
		}
		return newRecorder(rwc, prefix)
	}, nil
}

// recorder copies what a connection sends to PREFIX.client.bin and what it
// receives to PREFIX.server.bin, the pair framedump reads (connection N of
// a run as PREFIX-N, as framedump tap names them). A net.Conn stays one,
// so that cancellation still works through its deadlines.
type recorder struct {
	io.ReadWriteCloser
	sent, recv *os.File
	once       sync.Once
}

type connRecorder struct {
	net.Conn
	*recorder
}

func (c connRecorder) Read(p []byte) (int, error)  { return c.recorder.Read(p) }
func (c connRecorder) Write(p []byte) (int, error) { return c.recorder.Write(p) }
func (c connRecorder) Close() error                { return c.recorder.Close() }

func newRecorder(rwc io.ReadWriteCloser, prefix string) (io.ReadWriteCloser, error) {
	sent, err := os.Create(prefix + ".client.bin")
	if err != nil {
		rwc.Close()
		return nil, err
	}
	recv, err := os.Create(prefix + ".server.bin")
	if err != nil {
		sent.Close()
		rwc.Close()
		return nil, err
	}
	r := &recorder{ReadWriteCloser: rwc, sent: sent, recv: recv}
	if nc, ok := rwc.(net.Conn); ok {
		return connRecorder{nc, r}, nil
	}
	return r, nil
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.ReadWriteCloser.Read(p)
	r.recv.Write(p[:n])
	return n, err
}

func (r *recorder) Write(p []byte) (int, error) {
	n, err := r.ReadWriteCloser.Write(p)
	r.sent.Write(p[:n])
	return n, err
}

func (r *recorder) Close() error {
	err := r.ReadWriteCloser.Close()
	r.once.Do(func() {
		r.sent.Close()
		r.recv.Close()
	})
	return err
}
