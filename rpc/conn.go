package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// serverConn is the state of one connection, server side (section 8).
type serverConn struct {
	s   *Server
	rwc io.ReadWriteCloser
	dl  *deadlineConn // nil without timeouts or without a net.Conn
	r   *frame.Reader
	w   *frame.Writer
	hup *hangupReader
	ext extensions
	// idle: waiting for a request; guarded by s.mu.
	idle bool
	// Buffers reused from exchange to exchange: header, request JSON,
	// reply JSON.
	hbuf, jbuf, rbuf []byte
	codec            JSONCodec
	endpoint         string // of the current request, for logs
	lastEnd          int64  // stream offset where the last exchange ended
	ctx              context.Context
	cancel           context.CancelFunc
	// watchCancel cancels the context of the handler running, while its
	// hang-up may be watched (handlerContext); guarded by watchMu, as is
	// the hangupReader while it is set.
	watchMu     sync.Mutex
	watchCancel context.CancelFunc
	watchTimer  *time.Timer
}

// maxKeptBuffer bounds the buffers a connection keeps between exchanges:
// one large body must not pin its memory for the connection's life.
const maxKeptBuffer = 64 << 10

func (s *Server) newConn(rwc io.ReadWriteCloser) *serverConn {
	c := &serverConn{s: s, rwc: rwc, codec: s.opts.Codec}
	if c.codec == nil {
		c.codec = newConnJSON()
	}
	var rw io.ReadWriter = rwc
	if nc, ok := rwc.(net.Conn); ok && (s.opts.IdleTimeout > 0 || s.opts.IOTimeout > 0) {
		c.dl = &deadlineConn{nc: nc, idle: s.opts.IdleTimeout, io: s.opts.IOTimeout}
		rw = c.dl
	}
	c.hup = &hangupReader{src: rw, raw: rwc}
	c.r = frame.NewReader(c.hup)
	c.w = frame.NewBufferedWriter(rw, writeBufferSize)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return nil
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	c.ctx, c.cancel = context.WithCancel(s.baseCtx)
	return c
}

// setIdle records whether the connection waits for a request; it reports
// false when the server is shutting down and an idle connection must end.
func (c *serverConn) setIdle(idle bool) bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.idle = idle
	return !(idle && c.s.shutdown)
}

func (c *serverConn) close() {
	// An RST written just before is still pending.
	c.w.Flush()
	c.cancel()
	c.rwc.Close()
	// A background read ends with the close.
	c.hup.wait()
	c.hup.stop()
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	c.s.wg.Done()
}

func (c *serverConn) shuttingDown() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.shutdown
}

// fatal ends the connection after err [RPC-35]: RST first when the peer
// broke the protocol or the stream must be abandoned mid-message, nothing
// when the peer already reset or the transport failed.
func (c *serverConn) fatal(err error) error {
	if c.w.Err() == nil && !errors.Is(err, frame.ErrReset) && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.w.WriteRST()
	}
	return err
}

// serve runs exchanges until the client hangs up or an error ends the
// connection.
func (c *serverConn) serve() error {
	defer c.close()
	for {
		var h header
		if more, err := c.nextRequest(&h); !more {
			return err
		}
		if err := c.exchange(&h); err != nil {
			if errors.As(err, new(stackTracer)) {
				// A reply source panicked after the reply header.
				c.s.logf("rpc: reply of %q: %s", c.endpoint, withStack(err))
			}
			return err
		}
		if err := c.w.Flush(); err != nil {
			return fmt.Errorf("rpc: writing a reply: %w", err)
		}
		c.lastEnd = c.r.Offset()
		c.trimBuffers()
	}
}

// trimBuffers drops buffers grown past maxKeptBuffer, after every
// exchange whatever its outcome: an idle connection holds no more than
// its steady-state memory.
func (c *serverConn) trimBuffers() {
	c.hbuf, c.jbuf, c.rbuf = trim(c.hbuf), trim(c.jbuf), trim(c.rbuf)
}

func trim(b []byte) []byte {
	if cap(b) > maxKeptBuffer {
		return nil
	}
	return b
}

// nextRequest waits for the next request header and decodes it into h.
// more is false when the connection ends, err then saying why (nil for
// the client's hang-up).
func (c *serverConn) nextRequest(h *header) (more bool, err error) {
	if !c.setIdle(true) {
		return false, ErrServerClosed
	}
	if c.dl != nil {
		c.dl.waitRequest(c.hup.pending())
	}
	m, err := c.r.NextMessage(frame.TypeHeader)
	if err != nil {
		switch {
		case err == io.EOF, errors.Is(err, frame.ErrReset):
			// The client's hang-up at a message boundary [RPC-29].
			return false, nil
		case c.shuttingDown():
			return false, ErrServerClosed
		case errors.Is(err, os.ErrDeadlineExceeded) && c.r.Offset() == c.lastEnd:
			// Idle between exchanges: RST at the message boundary, then
			// close [RPC-37], so that the client can tell this close
			// from a failure and knows its next request was not read.
			c.w.WriteRST()
			return false, fmt.Errorf("rpc: connection idle for %v: %w", c.s.opts.IdleTimeout, err)
		}
		return false, c.fatal(fmt.Errorf("rpc: reading a request header: %w", err))
	}
	c.setIdle(false)
	b, err := m.AppendTo(c.hbuf[:0])
	c.hbuf = b[:0]
	if err != nil {
		return false, c.fatal(fmt.Errorf("rpc: reading a request header: %w", err))
	}
	if err := parseHeader(b, h, ClassBadHeader, c.endpoint); err != nil {
		return false, c.fatal(err)
	}
	return true, nil
}

// knownDataType: the request DataTypes this connection accepts [RPC-9],
// [RPC-26].
func (c *serverConn) knownDataType(d dataType) bool {
	return d == dataNone || d == dataJSON || d == dataOctets || (d == dataMultipart && c.ext.multipart)
}

// exchange answers one request whose header has been read (section 7).
func (c *serverConn) exchange(h *header) error {
	if !c.knownDataType(h.DataType) {
		return c.fatal(protocolError(ClassBadHeader, "RPC-9", "request DataType %d is not known on this connection", h.DataType))
	}
	if h.Endpoint == helloEndpoint {
		return c.hello(h)
	}
	c.endpoint = h.Endpoint
	hd, res := c.s.route(h.Endpoint, h.DataType, h.Accept)
	if res == nil && h.Accept == dataMultipart && !c.ext.multipart {
		// [RPC-26]: DataType 4 exists only after the hello granted it.
		res = failResult(StatusRequestError, "Accept %v needs the %q extension, not granted on this connection", dataMultipart, ExtMultipart)
	}
	if res != nil {
		// Decided from the header alone: the refusal goes first, so that
		// a client still sending learns it, and the body is consumed
		// after it [RPC-43].
		return c.replyFirst(res, func() error { return c.drain(h.DataType, nil, 0) })
	}
	req := request{endpoint: h.Endpoint, dt: h.DataType, accept: h.Accept, codec: c.codec, buf: c.rbuf, timeout: -1}
	if h.HasTimeout {
		req.timeout = int64(h.Timeout)
	}
	if h.DataType.HasJSON() {
		if res, err := c.readRequestJSON(h.DataType, &req); res != nil || err != nil {
			if err != nil {
				return err
			}
			return c.reply(res)
		}
	}
	return c.run(hd, &req)
}

// readRequestJSON reads the JSON part of a request into req.json, within
// MaxJSON [RPC-16]. A longer body is drained with the rest of the request
// and answered with the RequestError result returned.
func (c *serverConn) readRequestJSON(dt dataType, req *request) (*result, error) {
	m, err := nextPart(c.r, frame.TypeData)
	if err != nil {
		return nil, c.fatal(fmt.Errorf("rpc: reading the request body: %w", err))
	}
	js, over, err := readLimited(m, c.jbuf[:0], c.s.opts.MaxJSON)
	c.jbuf = js[:0]
	if err != nil {
		return nil, c.fatal(fmt.Errorf("rpc: reading the request body: %w", err))
	}
	if over {
		if err := c.drain(dt, m, int64(len(js))); err != nil {
			return nil, err
		}
		return tooLargeRequest(c.s.opts.MaxJSON), nil
	}
	req.json = js
	return nil, nil
}

// run calls the handler of a routed request whose JSON part is read, and
// sends the reply.
func (c *serverConn) run(hd *handler, req *request) error {
	var body *requestBody
	if req.dt.HasOctets() {
		m, err := nextPart(c.r, frame.TypeData)
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: reading the request body: %w", err))
		}
		body = &requestBody{c: c, m: m}
		req.body = body
	}
	ctx := c.handlerContext(hd)
	defer c.endHandler()
	if c.ext.deadline && req.timeout >= 0 {
		// The caller's deadline, as the time left when it sent the
		// request [RPC-44].
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.timeout)*time.Millisecond)
		defer cancel()
	}
	res := c.s.call(ctx, hd, req)
	if body != nil && res.status != StatusOK && !body.touched() {
		// The handler refused without reading its stream: the refusal
		// goes first [RPC-43].
		closeSource(res.body)
		return c.replyFirst(&res, body.finish)
	}
	if body != nil {
		if err := body.finish(); err != nil {
			closeSource(res.body)
			return c.fatal(err)
		}
	}
	err := c.reply(&res)
	if res.json != nil {
		c.rbuf = res.json[:0]
	}
	return err
}

// handlerContext is the context of a handler: a handler that takes no
// stream gets one that ends when the client goes away while it runs and
// its reply is sent [RPC-33], noticed by a read in the background
// (hangupReader). A handler that reads a stream sees that in the stream.
//
// The background read starts hangupWatchDelay after the handler did, from
// a timer (startWatch), not at once: a request that arrives through a read
// pending in the background costs two goroutine wake-ups where the
// connection's goroutine reading for itself costs one, and a handler that
// returns within the delay (most) does not need it. endHandler ends the
// handler's turn.
func (c *serverConn) handlerContext(hd *handler) context.Context {
	if !hd.hasCtx || hd.in.HasOctets() {
		return c.ctx
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.watchMu.Lock()
	c.watchCancel = cancel
	c.watchMu.Unlock()
	if c.watchTimer == nil {
		c.watchTimer = time.AfterFunc(hangupWatchDelay, c.startWatch)
	} else {
		c.watchTimer.Reset(hangupWatchDelay)
	}
	return ctx
}

// hangupWatchDelay is how long a handler runs before the server starts
// watching for the client's going away.
const hangupWatchDelay = time.Millisecond

// startWatch starts the background read while the handler of
// handlerContext still runs: the connection's goroutine is inside the
// handler and touches neither the hangupReader nor the deadlines until
// endHandler, which watchMu orders after this.
func (c *serverConn) startWatch() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.watchCancel == nil {
		return
	}
	if c.dl != nil {
		c.dl.clearRead()
	}
	c.hup.watch(c.watchCancel)
}

// endHandler ends the context of handlerContext once the handler has
// returned and its reply is decided.
func (c *serverConn) endHandler() {
	c.watchMu.Lock()
	cancel := c.watchCancel
	c.watchCancel = nil
	c.watchMu.Unlock()
	if cancel != nil {
		c.watchTimer.Stop()
		cancel()
	}
}

// drain consumes a request body the server will not use, so that the
// reply goes out in sync [RPC-15]: each message within MaxDiscard, past
// which the connection ends. m is the JSON message if it is already
// started, with read bytes of it read.
func (c *serverConn) drain(dt dataType, m *frame.MessageReader, read int64) error {
	if dt.HasJSON() {
		if m == nil {
			var err error
			if m, err = nextPart(c.r, frame.TypeData); err != nil {
				return c.fatal(fmt.Errorf("rpc: discarding the request body: %w", err))
			}
		}
		if _, err := m.DiscardAtMost(c.s.opts.MaxDiscard - read); err != nil {
			return c.fatal(fmt.Errorf("rpc: discarding the request body: %w", err))
		}
	}
	if dt.HasOctets() {
		m, err := nextPart(c.r, frame.TypeData)
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: discarding the request body: %w", err))
		}
		b := &requestBody{c: c, m: m}
		if err := b.finish(); err != nil {
			return c.fatal(err)
		}
	}
	return nil
}

// replyFirst sends a non-OK reply before the rest of the request body,
// then consumes the body with consume, within MaxDiscard; past it the
// connection ends with RST [RPC-43].
func (c *serverConn) replyFirst(res *result, consume func() error) error {
	if err := c.reply(res); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("rpc: writing a reply: %w", err)
	}
	if err := consume(); err != nil {
		return c.fatal(err)
	}
	return nil
}

// okReplies are the headers of OK replies by DataType, the same bytes
// every time: encoded once.
var okReplies = func() (hs [dataMultipart + 1][]byte) {
	for dt := range hs {
		hs[dt] = wire.AppendHeader(nil, &header{DataType: dataType(dt), Error: wire.StatusOK})
	}
	return hs
}()

// reply sends a reply header and, for OK, its body [RPC-17].
func (c *serverConn) reply(res *result) error {
	var hb []byte
	if res.status == StatusOK && res.message == "" && int(res.dt) < len(okReplies) {
		hb = okReplies[res.dt]
	} else {
		h := header{DataType: res.dt, Error: wire.Status(res.status), ErrorMessage: clampMessage(res.message)}
		c.hbuf = wire.AppendHeader(c.hbuf[:0], &h)
		hb = c.hbuf
	}
	if err := c.w.WriteMessage(frame.TypeHeader, hb); err != nil {
		closeSource(res.body)
		return fmt.Errorf("rpc: writing a reply header: %w", err)
	}
	if res.status != StatusOK {
		return nil
	}
	if res.dt.HasJSON() {
		if err := c.w.WriteMessage(frame.TypeData, res.json); err != nil {
			closeSource(res.body)
			return fmt.Errorf("rpc: writing the reply body: %w", err)
		}
	}
	if res.dt.HasOctets() {
		srcErr, err := sendOctets(c.w, res.body, c.ext.trailer, &c.hbuf)
		if err != nil {
			return err
		}
		if srcErr != nil {
			c.s.logf("rpc: reply stream of %q failed, sent in its trailer: %v", c.endpoint, srcErr)
		}
	}
	return nil
}
