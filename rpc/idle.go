package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// The client between calls. A server may close a connection that stays
// idle, after an RST at the message boundary [RPC-37]. The client keeps a
// read pending while it is idle (hangupReader), so that it learns of the
// close when it happens: the client is then marked dead (Done, Err) and no
// call writes anything to the closed connection. A call that starts after
// the read returned fails without writing a byte, with an error matching
// ErrNotSent: it is safe to send again on a fresh connection [RPC-42].
//
// The read starts idleWatchDelay after a call ends, not at once: a reply
// that arrives through a read pending in the background costs two
// goroutine wake-ups (the reader's, then the caller's) where the caller
// reading for itself costs one, and back-to-back calls would pay it on
// every call. Within the delay a server's close can only be the result of
// an idle bound shorter than the delay, or of its shutdown; a call that
// starts then meets it as it would a close that crossed its request on the
// way: a write that fails before any byte leaves still fails as not sent,
// after a read for what the server said (failSent).

// watchIdle starts the read pending while idle. Call with the turn held,
// at a message boundary.
func (c *Client) watchIdle() {
	if c.dl != nil {
		c.dl.clearRead()
	}
	c.hup.watch(c.onIdleEnd)
}

// idleWatchDelay is how long a client stays idle before it starts its
// idle read: longer than the gap between calls made one after the other,
// far shorter than any sensible idle bound on the server.
const idleWatchDelay = time.Millisecond

// idleTick starts the idle read once the client has been idle for
// idleWatchDelay (idleTimer). Whoever takes the turn clears idle under
// holderMu first, so the hangupReader is never touched by two at once.
func (c *Client) idleTick() {
	c.holderMu.Lock()
	defer c.holderMu.Unlock()
	if c.idle && c.Err() == nil {
		c.watchIdle()
	}
}

// idleEnded runs when the idle read returns. If no call has taken the turn
// meanwhile, the connection is over: the server sent RST or hung up, or
// failed.
func (c *Client) idleEnded() {
	select {
	case c.turn <- struct{}{}:
	default:
		// A call holds the turn; it reads what came as its reply.
		return
	}
	c.setIdle(false)
	defer func() {
		if c.Err() == nil {
			// Still usable: idle again, and watched again soon.
			c.setIdle(true)
			c.idleTimer.Reset(idleWatchDelay)
		}
		<-c.turn
	}()
	if c.Err() != nil {
		// Close came while this callback waited for the turn, found it
		// taken and so left the background reader running: end it here,
		// or its goroutine outlives the client.
		c.hup.stop()
		return
	}
	// Calls may have come and gone since this read returned: what it
	// read was theirs, and the read pending now is another one.
	if !c.hup.arrived() {
		return
	}
	if err := c.idleClosed(); err != nil {
		c.breakConn(err)
	}
}

// endIdle is the start of a call, before it writes anything: if the idle
// read has returned, the call fails with the reason, matching ErrNotSent.
func (c *Client) endIdle(ctx context.Context) error {
	if !c.hup.arrived() {
		return nil
	}
	err := c.idleClosed()
	if err == nil {
		return nil
	}
	c.breakConn(err)
	return &notSentError{connectionLost(err)}
}

// idleClosed tells what ended an idle connection, with the turn held: nil
// if it has not ended. Bytes of a frame other than RST are left for the
// next call to read as its reply: on a byte stream a server that answers
// before the request arrives cannot be told from a fast one, and the
// call's reply checks say what is wrong with them.
func (c *Client) idleClosed() error {
	t, ok := c.r.PeekType()
	switch {
	case ok && t == frame.TypeRST:
		return &idleCloseError{reset: true, cause: frame.ErrReset}
	case ok:
		return nil
	}
	_, err := c.r.NextMessage(frame.TypeHeader)
	if err == io.EOF {
		return &idleCloseError{cause: io.EOF}
	}
	return fmt.Errorf("rpc: reading while idle: %w", err)
}

// armRead puts the IOTimeout on the wait for a reply, which may be the
// read started while idle.
func (c *Client) armRead() {
	if c.dl != nil {
		c.dl.armRead()
	}
}

// idleReadGrace is how long a call whose request could not be written
// waits for the idle read to return what the server sent before it
// closed: the transport has it already, only the reading goroutine has
// to run.
const idleReadGrace = 100 * time.Millisecond

// countingWriter counts the bytes of requests that reach the transport,
// which tells whether a failed call can have been seen by the server
// (ErrNotSent). on is set while a request is written, by the holder of
// Client.sending.
type countingWriter struct {
	dst io.Writer
	n   int64
	on  bool
}

// SyscallConn lets the frame writer splice a stream body to the
// transport. Spliced bytes are not counted: each frame's header is written
// and counted before its payload, which is all that ErrNotSent needs.
func (w *countingWriter) SyscallConn() (syscall.RawConn, error) {
	sc, ok := w.dst.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.dst.Write(p)
	if w.on {
		w.n += int64(n)
	}
	return n, err
}
