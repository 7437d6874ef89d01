package rpc

import (
	"context"
	"crypto/tls"
	"io"
	"net"
)

// DialFunc opens a new connection to a server, for a Pool. It must return
// once ctx ends, and the connection must not depend on ctx afterwards (a
// child started with exec.CommandContext(ctx, ...) would be killed as soon
// as the dial returns).
type DialFunc func(ctx context.Context) (io.ReadWriteCloser, error)

// DialNet returns a DialFunc that dials address on network as net.Dial
// does ("tcp", "unix", ...), honouring the context.
func DialNet(network, address string) DialFunc {
	var d net.Dialer
	return func(ctx context.Context) (io.ReadWriteCloser, error) {
		return d.DialContext(ctx, network, address)
	}
}

// DialTLS returns a DialFunc that dials address on network and completes a
// TLS handshake with config before returning, so that a certificate the
// client refuses fails the dial. (With TLS 1.3 a client certificate the
// server refuses is only reported on the first read, by the call.)
func DialTLS(network, address string, config *tls.Config) DialFunc {
	d := tls.Dialer{Config: config}
	return func(ctx context.Context) (io.ReadWriteCloser, error) {
		return d.DialContext(ctx, network, address)
	}
}
