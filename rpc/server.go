package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// ErrServerClosed is returned by Serve and ServeListener after Shutdown.
var ErrServerClosed = errors.New("rpc: server shut down")

// Server serves registered handlers on connections.
type Server struct {
	opts  ServerOptions
	table atomic.Pointer[map[string]*handler]
	regMu sync.Mutex

	mu        sync.Mutex
	shutdown  bool
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	wg        sync.WaitGroup
	baseCtx   context.Context
	cancelAll context.CancelFunc
}

// NewServer returns a Server with no handlers. opts may be nil.
func NewServer(opts *ServerOptions) *Server {
	s := &Server{listeners: map[net.Listener]struct{}{}, conns: map[*serverConn]struct{}{}}
	if opts != nil {
		s.opts = *opts
	}
	limits(&s.opts.MaxJSON, &s.opts.MaxDiscard, &s.opts.Extensions, supportedExtensions)
	empty := map[string]*handler{}
	s.table.Store(&empty)
	s.baseCtx, s.cancelAll = context.WithCancel(context.Background())
	return s
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// ServeListener accepts connections on l and serves each in its own
// goroutine until Shutdown or an Accept error.
func (s *Server) ServeListener(l net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			down := s.shutdown
			s.mu.Unlock()
			if down {
				return ErrServerClosed
			}
			return fmt.Errorf("rpc: accepting: %w", err)
		}
		c := s.newConn(conn)
		if c == nil {
			conn.Close()
			return ErrServerClosed
		}
		go func() {
			if err := c.serve(); err != nil && !errors.Is(err, ErrServerClosed) {
				s.logf("rpc: connection %v: %v", conn.RemoteAddr(), err)
			}
		}()
	}
}

// Serve serves one connection until the client hangs up (nil), the
// connection fails or the peer violates the protocol (the error), or
// Shutdown (ErrServerClosed). It closes conn before returning. An error
// matches ErrProtocol (a violation, a *ProtocolError or
// *frame.ProtocolError), ErrReset or io.ErrUnexpectedEOF (the client reset
// or hung up mid-exchange), os.ErrDeadlineExceeded (IdleTimeout,
// IOTimeout), frame.ErrDiscardLimit (a request body past MaxDiscard),
// ErrStreamFailed (a reply stream failed without the trailer extension),
// or wraps the transport's error.
//
// IdleTimeout and IOTimeout need conn to be a net.Conn, whose deadlines
// interrupt a blocked read or write; on any other io.ReadWriteCloser they
// are not applied, and the owner of the stream must close it to stop a
// stalled peer (closing must unblock a pending Read, as it does for pipes
// and files set to non-blocking mode).
func (s *Server) Serve(conn io.ReadWriteCloser) error {
	c := s.newConn(conn)
	if c == nil {
		conn.Close()
		return ErrServerClosed
	}
	return c.serve()
}

// Shutdown stops accepting connections, closes the connections waiting for
// a request, lets running calls finish and then closes their connections.
// If ctx ends first, it cancels the handlers' contexts, closes every
// connection and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		if c.idle {
			c.rwc.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancelAll()
		s.mu.Lock()
		for c := range s.conns {
			c.rwc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
