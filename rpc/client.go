package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// abortWriteTimeout bounds the RST an aborting client sends: a peer that
// does not read for this long gets the close without it.
const abortWriteTimeout = time.Second

// Client calls a Server over one connection. It is safe for concurrent
// use: calls take turns on the connection, in no particular order. A call
// whose reply is a stream keeps the turn until the stream is read to its
// end or closed.
//
// While no call is in progress the client keeps a read pending on the
// connection, from a millisecond after the last call ended (calls made in
// a row read their replies themselves, which is faster), so that it learns
// at once when the server closes an idle connection [RPC-37], [RPC-42]:
// Done is then closed and Err says why.
type Client struct {
	rwc     io.ReadWriteCloser
	nc      net.Conn
	dl      *deadlineConn // nil without IOTimeout or without a net.Conn
	hup     *hangupReader // the read pending while the client is idle
	sent    *countingWriter
	r       *frame.Reader
	w       *frame.Writer
	opts    ClientOptions
	codec   JSONCodec
	turn    chan struct{}
	closing chan struct{}
	// holder describes the call or stream holding the turn, for the
	// error of a call that gave up waiting for it.
	// holder is guarded by holderMu (a value, not a pointer: no
	// allocation per call); holder.endpoint is "" while no call holds
	// the turn.
	holderMu sync.Mutex
	holder   turnHolder
	// idle, also guarded by holderMu, is set while nobody holds the
	// turn: idleTimer may then start the idle read (idle.go).
	idle      bool
	idleTimer *time.Timer
	onIdleEnd func() // c.idleEnded, made once
	// sending is held while a request is being written: an interrupt
	// that cannot take it knows the writer may be inside a frame.
	sending sync.Mutex

	deadMu  sync.Mutex
	deadErr error         // what calls get once the connection is unusable
	dead    chan struct{} // closed with deadErr set

	// The rest is owned by whoever holds the turn.
	ext              extensions
	hbuf, jbuf, ebuf []byte
	rh               header
	// qbuf is the encoding of qhdr, the last request header without a
	// Timeout (nil before the first).
	qbuf []byte
	qhdr header
}

// turnHolder is the call that holds the turn and since when.
type turnHolder struct {
	endpoint string
	since    time.Time
	stream   bool // the call returned; its streamed reply holds the turn
}

// NewClient returns a Client on conn. opts may be nil. If conn is a
// net.Conn, cancellation and IOTimeout interrupt a blocked read or write
// through its deadlines, and the client tells the server with RST; on any
// other stream cancellation closes it, after an RST when the client is
// not writing (see Call), and IOTimeout does not apply.
func NewClient(conn io.ReadWriteCloser, opts *ClientOptions) *Client {
	c := &Client{rwc: conn, turn: make(chan struct{}, 1), closing: make(chan struct{}), dead: make(chan struct{})}
	c.nc, _ = conn.(net.Conn)
	if opts != nil {
		c.opts = *opts
	}
	limits(&c.opts.MaxJSON, &c.opts.MaxDiscard, &c.opts.Extensions, defaultClientExtensions)
	c.codec = c.opts.Codec
	if c.codec == nil {
		c.codec = newConnJSON()
	}
	var rw io.ReadWriter = conn
	if c.nc != nil && c.opts.IOTimeout > 0 {
		c.dl = &deadlineConn{nc: c.nc, io: c.opts.IOTimeout}
		rw = c.dl
	}
	c.hup = &hangupReader{src: rw, raw: conn}
	c.onIdleEnd = c.idleEnded
	c.sent = &countingWriter{dst: rw}
	c.r = frame.NewReader(c.hup)
	c.w = frame.NewBufferedWriter(c.sent, writeBufferSize)
	c.idleTimer = time.AfterFunc(time.Hour, c.idleTick)
	c.idleTimer.Stop()
	c.idle = true
	c.watchIdle()
	return c
}

// Err is nil while the client is usable. Once it is not (Close, a call
// that ended the connection, the server closing it) it is the error every
// later call fails with: it matches ErrClosed and ErrNotSent, and its text
// names the original cause, which it does not match: that cause (a
// cancelled context, an exceeded deadline) belonged to another call.
func (c *Client) Err() error {
	c.deadMu.Lock()
	defer c.deadMu.Unlock()
	return c.deadErr
}

// Done is closed when the client becomes unusable, as Err then reports.
func (c *Client) Done() <-chan struct{} { return c.dead }

// markDead records that the connection is unusable after cause; the first
// cause wins.
func (c *Client) markDead(cause error) {
	c.deadMu.Lock()
	defer c.deadMu.Unlock()
	if c.deadErr != nil {
		return
	}
	reason := ""
	if cause != nil {
		reason = cause.Error()
	}
	d := &deadError{reason: reason}
	errors.As(cause, &d.idle)
	c.deadErr = d
	close(c.dead)
}

// Close hangs up: RST, then close [RPC-34]. A call in progress fails; a
// stream handed out by a call stops working.
func (c *Client) Close() error {
	select {
	case <-c.closing:
		return nil
	default:
	}
	close(c.closing)
	c.idleTimer.Stop()
	select {
	case c.turn <- struct{}{}:
		c.setIdle(false)
		if c.Err() == nil {
			c.hangUp(nil)
		}
		c.markDead(errClientClosed)
		c.rwc.Close()
		c.hup.stop()
		<-c.turn
	default:
		// A call or stream holds the turn: pull the connection from under
		// it; it fails and leaves the client broken.
		c.markDead(errClientClosed)
		c.rwc.Close()
	}
	return nil
}

var errClientClosed = errors.New("closed by Close")

// hangUp sends RST where the stream is at a frame boundary and closes it.
func (c *Client) hangUp(cause error) {
	// A failed source without the trailer extension has written its RST
	// already [RPC-23]; it still has to leave the buffer.
	rst := errors.Is(c.w.Err(), frame.ErrWriterClosed)
	if !rst && c.w.Err() == nil && !errors.Is(cause, frame.ErrReset) && !errors.Is(cause, io.ErrUnexpectedEOF) {
		rst = c.w.WriteRST() == nil
	}
	if rst {
		if c.nc != nil {
			c.nc.SetWriteDeadline(time.Now().Add(abortWriteTimeout))
		}
		c.w.Flush()
	}
	c.rwc.Close()
}

// breakConn ends the connection after cause; later calls fail with an
// error matching ErrClosed that names cause. Call with the turn held.
func (c *Client) breakConn(cause error) {
	if c.Err() == nil {
		c.hangUp(cause)
		c.markDead(cause)
	}
	c.rwc.Close()
	c.hup.stop()
}

// fail ends the connection after an error inside a call and returns what
// the caller sees: the context's error if the call was cancelled, and
// otherwise an error that matches ErrProtocol, ErrReset or ErrClosed.
func (c *Client) fail(ctx context.Context, ic *interrupt, err error) error {
	return c.failSent(ctx, ic, err, -1)
}

// failSent is fail for an error met before the request was written in
// full: the error also matches ErrNotSent if no byte of the request had
// reached the transport since mark, the count of request bytes before it.
func (c *Client) failSent(ctx context.Context, ic *interrupt, err error, mark int64) error {
	if ic.stop() || ctx.Err() != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("rpc: call aborted: %w", cerr)
		}
	}
	select {
	case <-c.closing:
		err = &closedError{cause: err}
	default:
	}
	notSent := mark >= 0 && c.sent.n == mark
	if notSent && c.hup.returnsSoon(idleReadGrace) {
		// The write failed on a connection the server had closed:
		// what it sent before says how [RPC-42].
		if ierr := c.idleClosed(); ierr != nil && errors.As(ierr, new(*idleCloseError)) {
			err = ierr
		}
	}
	c.breakConn(err)
	err = connectionLost(err)
	if notSent {
		err = &notSentError{err}
	}
	return err
}

// Call calls endpoint with in and waits for the reply in out.
//
// in selects the request body: an io.Reader is an octets body; a Push or
// *Push is JSON metadata plus a stream; anything else (nil included) is
// encoded as JSON. out selects the Accept: an *io.Reader or *io.ReadCloser
// receives an octets body; a *Pull JSON metadata plus a stream; any other
// non-nil pointer a JSON body. The endpoint must be a valid name [RPC-12]
// and not reserved [RPC-24].
//
// A non-OK reply is an *Error. Ending ctx aborts the call: the connection
// is reset and closed, and the error wraps ctx's; a call that ends ctx
// while waiting for its turn says which call holds it. Errors that leave
// the connection usable: *Error replies, ErrBodyTooLarge within
// MaxDiscard, ErrDecode, ErrStreamFailed with the trailer extension, and
// ErrBadCall and ErrUnsupported (nothing sent). Any other error ended the
// connection and matches ErrProtocol, ErrReset, ErrClosed or the
// context's error; it also matches ErrNotSent when no byte of the request
// was written, so that the call may be retried on another connection.
//
// A streamed reply holds the turn: a goroutine that calls again while it
// holds a stream it has not read to its end or closed waits for itself,
// until its context ends.
func (c *Client) Call(ctx context.Context, endpoint string, in, out any) error {
	a, err := newCallArgs(endpoint, in, out)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.Err(); err != nil {
		return err
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return c.turnTimeout(ctx, endpoint)
	case <-c.dead:
		return c.Err()
	}
	c.setHolder(turnHolder{endpoint: endpoint, since: time.Now()}, false)
	keep, err := c.call(ctx, &a)
	if !keep {
		c.release()
	}
	return err
}

// needsHello: the call is the first one that needs an extension the
// client asks for [RPC-40]: a stream, or a deadline to send.
func (c *Client) needsHello(ctx context.Context, a *callArgs) bool {
	if a.dt.HasOctets() || a.accept.HasOctets() {
		return true
	}
	_, ok := ctx.Deadline()
	return ok && slices.Contains(c.opts.Extensions, ExtDeadline)
}

// timeoutMillis is the Timeout member for d left [RPC-44]: whole
// milliseconds rounded up, so that a deadline not yet passed is never
// sent as 0, and at most the largest value the member takes.
func timeoutMillis(d time.Duration) uint32 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return uint32(min(max(ms, 0), math.MaxUint32))
}

// setHolder records who holds the turn, and whether the client is idle
// once it is given back.
func (c *Client) setHolder(h turnHolder, idle bool) {
	c.holderMu.Lock()
	c.holder = h
	c.idle = idle
	c.holderMu.Unlock()
}

// setIdle is setHolder for the holders that are not calls (Close, the
// idle read's callback): they take the turn from an idle client and,
// unless it is unusable, give it back idle.
func (c *Client) setIdle(idle bool) {
	c.holderMu.Lock()
	c.idle = idle
	c.holderMu.Unlock()
}

// release gives the turn back at a message boundary: the client is idle.
func (c *Client) release() {
	usable := c.Err() == nil
	c.setHolder(turnHolder{}, usable)
	if usable {
		c.idleTimer.Reset(idleWatchDelay)
	}
	<-c.turn
}

// turnTimeout is the error of a call whose context ended while another
// call or stream held the turn.
func (c *Client) turnTimeout(ctx context.Context, endpoint string) error {
	c.holderMu.Lock()
	h := c.holder
	c.holderMu.Unlock()
	if h.endpoint == "" {
		return fmt.Errorf("rpc: calling %q: gave up waiting for the turn: %w", endpoint, ctx.Err())
	}
	what := "the call to"
	if h.stream {
		what = "the unread streamed reply of"
	}
	return fmt.Errorf("rpc: calling %q: gave up waiting for the turn, held by %s %q for %v: %w",
		endpoint, what, h.endpoint, time.Since(h.since).Round(time.Millisecond), ctx.Err())
}

// call runs one exchange with the turn held. keep reports that a stream
// now holds the turn.
func (c *Client) call(ctx context.Context, a *callArgs) (keep bool, err error) {
	if err := c.Err(); err != nil {
		return false, err
	}
	if err := c.endIdle(ctx); err != nil {
		return false, err
	}
	if !c.ext.helloDone && len(c.opts.Extensions) > 0 && c.needsHello(ctx, a) {
		if err := c.hello(ctx); err != nil {
			return false, err
		}
	}
	if a.needsMultipart() && !c.ext.multipart {
		return false, a.unsupported()
	}
	if a.dt.HasJSON() {
		js, err := marshal(c.codec, c.ebuf[:0], a.meta)
		if err != nil {
			return false, encodeRequestError(a.endpoint, err)
		}
		c.ebuf = js
	}
	ic := c.interruptOn(ctx)
	mark := c.sent.n
	srcErr, err := c.send(ctx, a)
	if err != nil {
		if c.sent.n == mark {
			return false, c.failSent(ctx, ic, err, mark)
		}
		if refusal := c.earlyRefusal(); refusal != nil {
			// The server refused the call before the end of its
			// request and ended the connection [RPC-43].
			return false, errors.Join(refusal, c.failSent(ctx, ic, err, -1))
		}
		return false, c.fail(ctx, ic, err)
	}
	return c.receive(ctx, ic, a, srcErr)
}

// earlyRefusal reads, after the request could not be written to its end,
// the non-OK reply header the server sent before it stopped reading
// [RPC-43]: nil if there is none.
func (c *Client) earlyRefusal() error {
	if !c.hup.returnsSoon(idleReadGrace) {
		return nil
	}
	if t, ok := c.r.PeekType(); !ok || t != frame.TypeHeader {
		return nil
	}
	rh, err := c.readReplyHeader()
	if err != nil || rh.Error == wire.StatusOK {
		return nil
	}
	return &Error{Status: Status(rh.Error), Message: rh.ErrorMessage}
}

// send writes the request whose JSON part is in c.ebuf [RPC-14] and ends
// the turn's writing. srcErr reports a pushed stream that failed and was
// ended by a failure Trailer; err an error that ends the connection.
func (c *Client) send(ctx context.Context, a *callArgs) (srcErr, err error) {
	c.sending.Lock()
	defer c.sending.Unlock()
	c.sent.on = true
	defer func() { c.sent.on = false }()
	h := header{Endpoint: a.endpoint, DataType: a.dt, Accept: a.accept}
	if d, ok := ctx.Deadline(); ok && c.ext.deadline {
		h.Timeout, h.HasTimeout = timeoutMillis(time.Until(d)), true
	}
	// A request header without a Timeout is the same bytes for the same
	// endpoint and body kinds: calls in a row encode it once.
	var qb []byte
	switch {
	case h.HasTimeout:
		c.hbuf = wire.AppendHeader(c.hbuf[:0], &h)
		qb = c.hbuf
	default:
		if c.qbuf == nil || h.Endpoint != c.qhdr.Endpoint || h.DataType != c.qhdr.DataType || h.Accept != c.qhdr.Accept {
			c.qbuf = wire.AppendHeader(c.qbuf[:0], &h)
			c.qhdr = h
		}
		qb = c.qbuf
	}
	if err := c.w.WriteMessage(frame.TypeHeader, qb); err != nil {
		return nil, fmt.Errorf("rpc: writing the request header: %w", err)
	}
	if a.dt.HasJSON() {
		if err := c.w.WriteMessage(frame.TypeData, c.ebuf); err != nil {
			return nil, fmt.Errorf("rpc: writing the request body: %w", err)
		}
		if cap(c.ebuf) > maxKeptBuffer {
			c.ebuf = nil
		}
	}
	if a.dt.HasOctets() {
		// A read pending while the stream goes out notices a reply that
		// comes before its end [RPC-43]; it may wait as long as the
		// stream takes.
		if c.dl != nil {
			c.dl.clearRead()
		}
		c.hup.watch(func() {})
		srcErr, err = sendOctets(c.w, &earlyStop{r: a.src, hup: c.hup}, c.ext.trailer, &c.hbuf)
		if err != nil {
			return nil, err
		}
		if errors.Is(srcErr, errEarlyReply) {
			// Ended with a failure Trailer; the reply says why.
			srcErr = nil
		}
		if srcErr != nil {
			srcErr = requestStreamError(a.endpoint, srcErr)
		}
	}
	if err := c.w.Flush(); err != nil {
		return nil, fmt.Errorf("rpc: writing the request: %w", err)
	}
	return srcErr, nil
}

// errLateReply: the reply came in as the call was being cancelled; the
// connection was interrupted all the same.
var errLateReply = errors.New("reply arrived as the call was cancelled")

// receive reads the reply to a sent request: its header [RPC-17], its
// JSON part, and hands out its stream.
func (c *Client) receive(ctx context.Context, ic *interrupt, a *callArgs, srcErr error) (keep bool, err error) {
	c.armRead()
	rh, err := c.readReplyHeader()
	if err != nil {
		return false, c.fail(ctx, ic, err)
	}
	if rh.Error != wire.StatusOK {
		if ic.stop() {
			return false, c.fail(ctx, nil, errLateReply)
		}
		return false, withOutcome(srcErr, &Error{Status: Status(rh.Error), Message: rh.ErrorMessage})
	}
	if rh.DataType != a.accept {
		return false, c.fail(ctx, ic, protocolError(ClassBadReply, "RPC-17", "reply DataType %v to a request with Accept %v", rh.DataType, a.accept))
	}
	var result error
	if a.accept.HasJSON() {
		if result, err = c.readJSON(a.endpoint, a.target); err != nil {
			return false, c.fail(ctx, ic, err)
		}
	}
	if !a.accept.HasOctets() {
		if ic.stop() {
			return false, c.fail(ctx, nil, errLateReply)
		}
		return false, withOutcome(srcErr, result)
	}
	m, err := nextPart(c.r, frame.TypeData)
	if err != nil {
		return false, c.fail(ctx, ic, fmt.Errorf("rpc: reading the reply stream: %w", err))
	}
	body := &replyBody{c: c, ctx: ctx, m: m, ic: ic}
	if result != nil || srcErr != nil {
		// The metadata could not be decoded or the request failed: the
		// stream is nobody's, drop it and keep the connection in sync.
		body.drop()
		if body.end != nil && !isEndOfBody(body.end) {
			return false, body.end
		}
		return false, withOutcome(srcErr, result)
	}
	a.deliver(body)
	c.holderMu.Lock()
	c.holder.stream = true
	c.holderMu.Unlock()
	return true, nil
}

func (c *Client) readReplyHeader() (*header, error) {
	m, err := c.r.NextMessage(frame.TypeHeader)
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("server closed the connection: %w", io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("rpc: reading the reply header: %w", err)
	}
	b, err := m.AppendTo(c.hbuf[:0])
	c.hbuf = b[:0]
	if err != nil {
		return nil, fmt.Errorf("rpc: reading the reply header: %w", err)
	}
	h := &c.rh
	if err := parseHeader(b, h, ClassBadHeader, ""); err != nil {
		return nil, err
	}
	if !h.Error.Valid() {
		return nil, protocolError(ClassBadReply, "RPC-10", "reply status %d", h.Error)
	}
	return h, nil
}

// readJSON reads a JSON reply body into target [RPC-16]. The first result
// is an error that leaves the connection in sync (too large, undecodable);
// the second one that does not.
func (c *Client) readJSON(endpoint string, target any) (error, error) {
	m, err := nextPart(c.r, frame.TypeData)
	if err != nil {
		return nil, fmt.Errorf("rpc: reading the reply body: %w", err)
	}
	js, over, err := readLimited(m, c.jbuf[:0], c.opts.MaxJSON)
	if cap(js) <= maxKeptBuffer {
		c.jbuf = js[:0]
	}
	if err != nil {
		return nil, fmt.Errorf("rpc: reading the reply body: %w", err)
	}
	if over {
		if _, err := m.DiscardAtMost(c.opts.MaxDiscard - int64(len(js))); err != nil {
			if errors.Is(err, frame.ErrDiscardLimit) {
				err = fmt.Errorf("rpc: reply body of %q runs past the %d-byte discard bound: %w", endpoint, c.opts.MaxDiscard, ErrBodyTooLarge)
			}
			return nil, fmt.Errorf("rpc: discarding an oversized reply body: %w", err)
		}
		return tooLargeReply(endpoint, c.opts.MaxJSON), nil
	}
	if err := unmarshal(c.codec, js, target); err != nil {
		return decodeReplyError(endpoint, err), nil
	}
	return nil, nil
}
