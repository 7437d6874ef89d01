package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Defaults of PoolOptions.
const (
	// DefaultMaxConns bounds the connections of a Pool.
	DefaultMaxConns = 4
	// DefaultPoolIdleTimeout is how long a Pool keeps an unused connection.
	DefaultPoolIdleTimeout = 30 * time.Second
)

// PoolOptions configures a Pool. The zero value gives the defaults.
type PoolOptions struct {
	// MaxConns bounds the connections open at once: in use, idle, or
	// being dialed. A call that finds them all in use waits for one.
	// 0 means DefaultMaxConns.
	MaxConns int
	// MaxIdle bounds the connections kept open between calls. 0 means
	// MaxConns; a negative value keeps none.
	MaxIdle int
	// IdleTimeout closes a connection unused for this long. 0 means
	// DefaultPoolIdleTimeout; a negative value never closes one. Keep it
	// below the server's ServerOptions.IdleTimeout, so that the pool
	// rather than the server ends idle connections.
	IdleTimeout time.Duration
	// Client configures the Client of every connection.
	Client ClientOptions
}

// PoolStats is a snapshot of a Pool's connections and counters.
type PoolStats struct {
	// Open counts the connections open or being dialed; Idle and InUse
	// split them (a connection being dialed is in use).
	Open, Idle, InUse int
	// Waiting counts the calls waiting for a connection.
	Waiting int
	// Dials counts the dials attempted, DialFailures those that failed.
	Dials, DialFailures int64
	// Failures counts the connections closed because they became
	// unusable: a call or stream on them failed, was cancelled or reset,
	// or the server closed them while idle.
	Failures int64
	// Retries counts the calls sent again on a fresh connection because
	// the server had closed the idle one they were given before any of
	// their request was written.
	Retries int64
}

// Pool calls a server over connections it dials on demand, one call (or
// streamed reply) per connection at a time, so that calls run in parallel
// and a small call never waits behind a stream. It is the default way to
// call a remote server; a Client is one connection.
//
// A connection goes back to the pool when its call returns, or, for a
// streamed reply, when the stream has been read to its end or closed: a
// caller must do one of the two, as with net/http's response bodies. A
// connection on which a call or stream failed, was cancelled or reset is
// closed, never reused; one the server closed while idle is noticed
// (Client.Done) and closed too.
//
// A call given an idle connection that turns out to have been closed by
// the server before any byte of the request was written (its error
// matches ErrNotSent) is sent again, once, on a freshly dialed connection.
// A call whose request may have reached a handler is never sent again,
// nor one whose request is a stream (an io.Reader or a Push), which may
// have been read from already.
type Pool struct {
	dial DialFunc
	opts PoolOptions

	mu      sync.Mutex
	idle    []*poolConn // most recently used last
	open    int         // connections open or being dialed
	inUse   int
	waiters []chan struct{} // calls waiting for a connection, first come first
	closed  bool
	reaper  *time.Timer // armed while connections are idle
	stats   PoolStats   // the counters
}

// poolConn is one connection of a Pool.
type poolConn struct {
	c         *Client
	idleSince time.Time
	reused    bool // served a call before this one
}

// NewPool returns a Pool that opens its connections with dial. opts may be
// nil. No connection is opened until the first call.
func NewPool(dial DialFunc, opts *PoolOptions) *Pool {
	p := &Pool{dial: dial}
	if opts != nil {
		p.opts = *opts
	}
	if p.opts.MaxConns <= 0 {
		p.opts.MaxConns = DefaultMaxConns
	}
	switch {
	case p.opts.MaxIdle == 0:
		p.opts.MaxIdle = p.opts.MaxConns
	case p.opts.MaxIdle < 0:
		p.opts.MaxIdle = 0
	}
	if p.opts.IdleTimeout == 0 {
		p.opts.IdleTimeout = DefaultPoolIdleTimeout
	}
	return p
}

// Call calls endpoint as Client.Call does, on a connection of its own: an
// idle one, a new one if fewer than MaxConns are open, or else the first
// one given back. Waiting for a connection ends with ctx; the error then
// says so and wraps ctx's. A streamed reply keeps its connection until it
// is read to its end or closed. See Pool for when a call is sent again.
func (p *Pool) Call(ctx context.Context, endpoint string, in, out any) error {
	a, err := newCallArgs(endpoint, in, out)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	pc, err := p.get(ctx, false)
	if err != nil {
		return err
	}
	for retried := false; ; retried = true {
		if testHookPoolCall != nil {
			testHookPoolCall(pc.c)
		}
		err = pc.c.Call(ctx, endpoint, in, out)
		if retried || !retryable(pc, &a, err) || ctx.Err() != nil {
			break
		}
		// The server closed the idle connection before the request
		// left: no handler saw it.
		p.put(pc, false)
		p.mu.Lock()
		p.stats.Retries++
		p.mu.Unlock()
		if pc, err = p.get(ctx, true); err != nil {
			return err
		}
	}
	if err == nil && a.accept.HasOctets() {
		p.handOut(pc, &a)
		return nil
	}
	p.put(pc, pc.usable())
	return err
}

// Stats returns the pool's current figures.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Open, s.Idle, s.InUse, s.Waiting = p.open, len(p.idle), p.inUse, len(p.waiters)
	return s
}

// Close closes the idle connections at once and each connection in use
// when its call or stream ends. Calls waiting for a connection, and later
// calls, fail with an error matching ErrClosed. Closing twice is harmless.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	for _, w := range p.waiters {
		close(w)
	}
	p.waiters = nil
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.mu.Unlock()
	closeAll(idle)
	return nil
}

// testHookPoolCall, if set, runs between get and the call: tests close
// the connection there to make a call find it dead.
var testHookPoolCall func(*Client)

var errPoolClosed = fmt.Errorf("rpc: pool closed: %w", ErrClosed)

// get returns a connection for one call, counted in use; with fresh, a
// newly dialed one.
func (p *Pool) get(ctx context.Context, fresh bool) (*poolConn, error) {
	start := time.Now()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errPoolClosed
		}
		var stale []*poolConn
		if fresh && p.open >= p.opts.MaxConns && len(p.idle) > 0 {
			// Make room for the new connection: the oldest idle one goes.
			stale = append(stale, p.idle[0])
			p.idle = p.idle[1:]
			p.open--
		}
		for !fresh && len(p.idle) > 0 {
			pc := p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			dead := !pc.alive()
			if dead || p.expired(pc, time.Now()) {
				if dead {
					p.stats.Failures++
				}
				p.open--
				stale = append(stale, pc)
				continue
			}
			pc.reused = true
			p.inUse++
			p.mu.Unlock()
			closeAll(stale)
			return pc, nil
		}
		if p.open < p.opts.MaxConns {
			p.open++
			p.inUse++
			p.stats.Dials++
			p.mu.Unlock()
			closeAll(stale)
			return p.dialConn(ctx)
		}
		w := make(chan struct{})
		p.waiters = append(p.waiters, w)
		p.mu.Unlock()
		closeAll(stale)
		select {
		case <-w:
			continue
		case <-ctx.Done():
			p.mu.Lock()
			if !p.dropWaiter(w) {
				// Woken as ctx ended: the wake-up is the next one's.
				p.wakeOne()
			}
			p.mu.Unlock()
			return nil, fmt.Errorf("rpc: waited %v for a connection, all %d in use: %w",
				time.Since(start).Round(time.Millisecond), p.opts.MaxConns, ctx.Err())
		}
	}
}

// dialConn opens a connection whose slot get has counted.
func (p *Pool) dialConn(ctx context.Context) (*poolConn, error) {
	rwc, err := p.dial(ctx)
	if err == nil {
		return &poolConn{c: NewClient(rwc, &p.opts.Client)}, nil
	}
	p.mu.Lock()
	p.open--
	p.inUse--
	p.stats.DialFailures++
	p.wakeOne()
	p.mu.Unlock()
	return nil, fmt.Errorf("rpc: dialing a connection: %w", err)
}

// put gives back a connection whose call or stream has ended; one that is
// not usable, or not wanted any more, is closed.
func (p *Pool) put(pc *poolConn, usable bool) {
	p.mu.Lock()
	p.inUse--
	if !usable {
		p.stats.Failures++
	}
	if usable && !p.closed && len(p.idle) < p.opts.MaxIdle {
		pc.idleSince = time.Now()
		p.idle = append(p.idle, pc)
		p.armReaper()
		pc = nil
	} else {
		p.open--
	}
	p.wakeOne()
	p.mu.Unlock()
	if pc != nil {
		pc.c.Close()
	}
}

// wakeOne tells the first waiting call to look again. Call with p.mu held.
func (p *Pool) wakeOne() {
	if len(p.waiters) > 0 {
		close(p.waiters[0])
		p.waiters = p.waiters[1:]
	}
}

// dropWaiter removes w from the waiting calls; false means it was woken.
func (p *Pool) dropWaiter(w chan struct{}) bool {
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return true
		}
	}
	return false
}

func (p *Pool) expired(pc *poolConn, now time.Time) bool {
	return p.opts.IdleTimeout > 0 && now.Sub(pc.idleSince) >= p.opts.IdleTimeout
}

// armReaper makes sure idle connections are closed when their time is up.
// Call with p.mu held.
func (p *Pool) armReaper() {
	if p.reaper == nil && p.opts.IdleTimeout > 0 {
		p.reaper = time.AfterFunc(p.opts.IdleTimeout, p.reap)
	}
}

// reap closes the connections idle for IdleTimeout and rearms for the
// next one to expire.
func (p *Pool) reap() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	now := time.Now()
	var stale []*poolConn
	kept := p.idle[:0]
	for _, pc := range p.idle {
		if p.expired(pc, now) {
			stale = append(stale, pc)
		} else {
			kept = append(kept, pc)
		}
	}
	clear(p.idle[len(kept):])
	p.idle = kept
	p.open -= len(stale)
	if len(p.idle) > 0 {
		// The oldest is first.
		p.reaper.Reset(p.idle[0].idleSince.Add(p.opts.IdleTimeout).Sub(now))
	} else {
		p.reaper = nil
	}
	if len(stale) > 0 {
		p.wakeOne()
	}
	p.mu.Unlock()
	closeAll(stale)
}

func closeAll(pcs []*poolConn) {
	for _, pc := range pcs {
		pc.c.Close()
	}
}

// handOut wraps the stream a call delivered so that its end gives the
// connection back.
func (p *Pool) handOut(pc *poolConn, a *callArgs) {
	s := &poolStream{p: p, pc: pc}
	switch v := a.out.(type) {
	case *io.Reader:
		s.body = (*v).(io.ReadCloser)
		*v = s
	case *io.ReadCloser:
		s.body = *v
		*v = s
	case *Pull:
		s.body = v.Body
		v.Body = s
	}
}

// poolStream is a streamed reply from a Pool's connection, which it holds
// until its end or Close. Like the stream it wraps, it is for one
// goroutine at a time.
type poolStream struct {
	p        *Pool
	pc       *poolConn
	body     io.ReadCloser
	released bool
}

func (s *poolStream) Read(b []byte) (int, error) {
	n, err := s.body.Read(b)
	if err != nil {
		s.release()
	}
	return n, err
}

// WriteTo keeps the wrapped stream's fast path for io.Copy.
func (s *poolStream) WriteTo(w io.Writer) (int64, error) {
	wt, ok := s.body.(io.WriterTo)
	if !ok {
		return io.Copy(w, struct{ io.Reader }{s})
	}
	dst := &destWriter{w: w}
	n, err := wt.WriteTo(dst)
	switch {
	case err == nil:
		s.release()
	case dst.err == nil || !errors.Is(err, dst.err):
		// The stream, not the destination, failed: it has ended.
		s.release()
	}
	return n, err
}

func (s *poolStream) Close() error {
	err := s.body.Close()
	s.release()
	return err
}

// release gives the connection back once the stream has ended.
func (s *poolStream) release() {
	if s.released {
		return
	}
	s.released = true
	s.p.put(s.pc, s.pc.usable())
}

// destWriter records the destination's own error, which leaves a stream
// intact, unlike a failure of the stream.
type destWriter struct {
	w   io.Writer
	err error
}

func (d *destWriter) Write(b []byte) (int, error) {
	n, err := d.w.Write(b)
	if err != nil {
		d.err = err
	}
	return n, err
}

// retryable: the call failed on a connection that had been idle, without
// a byte of its request written, and its request is not a stream that
// may have been read from.
func retryable(pc *poolConn, a *callArgs, err error) bool {
	return err != nil && pc.reused && a.src == nil && errors.Is(err, ErrNotSent)
}

// alive: the Client has not noticed the end of its connection (the
// server closing it while idle, most often).
func (pc *poolConn) alive() bool {
	select {
	case <-pc.c.Done():
		return false
	default:
		return true
	}
}

// usable: the Client can make another call (it knows: a call or stream
// that ended the connection, and the server's closing it, mark it dead).
func (pc *poolConn) usable() bool { return pc.c.Err() == nil }
