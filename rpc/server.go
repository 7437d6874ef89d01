package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// Defaults of ServerOptions and ClientOptions.
const (
	// DefaultMaxJSON bounds a JSON body [RPC-16].
	DefaultMaxJSON = 16 << 20
	// DefaultMaxDiscard bounds what a side reads and throws away to keep a
	// connection in sync [RPC-15].
	DefaultMaxDiscard = 64 << 20
)

// Extension names, as they appear in the hello exchange (section 9).
const (
	// ExtTrailer: every octets body ends with a Trailer message carrying
	// its status [RPC-22].
	ExtTrailer = "trailer"
	// ExtMultipart: DataType 4, a JSON message followed by an octets
	// message, in requests and replies [RPC-27].
	ExtMultipart = "multipart"
)

const (
	reservedPrefix = "framerpc:"
	helloEndpoint  = reservedPrefix + "hello"
)

var supportedExtensions = []string{ExtTrailer, ExtMultipart}

// limits fills in the defaults that ServerOptions and ClientOptions share.
func limits(maxJSON, maxDiscard *int64, extensions *[]string) {
	if *maxJSON <= 0 {
		*maxJSON = DefaultMaxJSON
	}
	if *maxDiscard <= 0 {
		*maxDiscard = DefaultMaxDiscard
	}
	if *extensions == nil {
		*extensions = supportedExtensions
	}
}

// ErrServerClosed is returned by Serve and ServeListener after Shutdown.
var ErrServerClosed = errors.New("rpc: server shut down")

// ServerOptions configures a Server. The zero value gives the defaults.
type ServerOptions struct {
	// MaxJSON is the largest JSON request body the server decodes; a
	// longer one is answered with RequestError. 0 means DefaultMaxJSON.
	MaxJSON int64
	// MaxDiscard is how many bytes of a request body the server will read
	// and drop to answer an error reply in sync; past it the connection is
	// reset. 0 means DefaultMaxDiscard.
	MaxDiscard int64
	// IdleTimeout is how long a connection may wait for the first byte of
	// the next request. 0 means no limit. Needs a net.Conn (see Serve).
	IdleTimeout time.Duration
	// IOTimeout is how long a single read or write may make no progress
	// once a request has started. Every read or write that moves bytes
	// renews it, so a slow but live peer is not cut off. 0 means no limit.
	IOTimeout time.Duration
	// Extensions lists the extensions the server grants when a client asks.
	// nil means all of them (ExtTrailer, ExtMultipart); an empty slice none.
	Extensions []string
	// Logf, if set, receives what the server cannot tell a peer: panics,
	// connections that ended with an error.
	Logf func(format string, args ...any)
}

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
	limits(&s.opts.MaxJSON, &s.opts.MaxDiscard, &s.opts.Extensions)
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

// RegisterEndpoint registers the handler h under name. The handler's form is
// checked here, once: a func that fits none of the forms of the package
// documentation is an error naming what is wrong, and nothing is
// registered.
func (s *Server) RegisterEndpoint(name string, h any) error {
	if err := validName(name); err != nil {
		return err
	}
	hd, err := newHandler(name, reflect.ValueOf(h))
	if err != nil {
		return err
	}
	return s.add(map[string]*handler{name: hd})
}

// Register registers every exported method of receiver that has a handler
// form, under "Type.Method" where Type is the receiver's type name without
// package or pointer. Methods of other shapes are skipped, as net/rpc does;
// a receiver without any handler method is an error listing why each method
// was skipped.
func (s *Server) Register(receiver any) error {
	v := reflect.ValueOf(receiver)
	if !v.IsValid() {
		return errors.New("rpc: Register(nil)")
	}
	return s.RegisterName(reflect.Indirect(v).Type().Name(), receiver)
}

// RegisterName is Register with prefix in place of the type name.
func (s *Server) RegisterName(prefix string, receiver any) error {
	v := reflect.ValueOf(receiver)
	if !v.IsValid() {
		return errors.New("rpc: RegisterName(nil)")
	}
	if err := validName(prefix); err != nil {
		return err
	}
	found, skipped := methodHandlers(prefix, v)
	if len(found) == 0 {
		msg := fmt.Sprintf("rpc: type %v has no exported method of a handler form", v.Type())
		for _, r := range skipped {
			msg += "\n\t" + r
		}
		return errors.New(msg)
	}
	return s.add(found)
}

func (s *Server) add(hs map[string]*handler) error {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.table.Load()
	for name := range hs {
		if old[name] != nil {
			return fmt.Errorf("rpc: endpoint %q is already registered", name)
		}
	}
	next := make(map[string]*handler, len(old)+len(hs))
	for k, v := range old {
		next[k] = v
	}
	for k, v := range hs {
		next[k] = v
	}
	s.table.Store(&next)
	return nil
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
// Shutdown (ErrServerClosed). It closes conn before returning.
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

// serverConn is the state of one connection (section 8, server side).
type serverConn struct {
	s   *Server
	rwc io.ReadWriteCloser
	dl  *deadlineConn
	r   *frame.Reader
	w   *frame.Writer
	bw  *bufWriter
	wr  *watchReader
	// Negotiated extensions; set once by the hello exchange.
	helloDone, trailer, multipart bool
	idle                          bool // guarded by s.mu
	hbuf, jbuf                    []byte
	enc                           *replyEncoder
	dec                           *bodyDecoder
	endpoint                      string // of the current request, for logs
	lastEnd                       int64  // stream offset where the last exchange ended
	ctx                           context.Context
	cancel                        context.CancelFunc
}

func (s *Server) newConn(rwc io.ReadWriteCloser) *serverConn {
	c := &serverConn{s: s, rwc: rwc, enc: newReplyEncoder(), dec: &bodyDecoder{}}
	var rw io.ReadWriter = rwc
	if nc, ok := rwc.(net.Conn); ok && (s.opts.IdleTimeout > 0 || s.opts.IOTimeout > 0) {
		c.dl = &deadlineConn{nc: nc, idle: s.opts.IdleTimeout, io: s.opts.IOTimeout}
		rw = c.dl
	}
	c.wr = &watchReader{src: rw, raw: rwc}
	c.r = frame.NewReader(c.wr)
	c.bw = newBufWriter(rw)
	c.w = frame.NewWriter(c.bw)
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
	c.bw.Flush()
	c.cancel()
	c.rwc.Close()
	// A background read ends with the close.
	c.wr.wait()
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
	if c.w.Err() == nil && c.bw.err == nil && !errors.Is(err, frame.ErrReset) && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.w.WriteRST()
	}
	return err
}

func (c *serverConn) serve() error {
	defer c.close()
	for {
		if !c.setIdle(true) {
			return ErrServerClosed
		}
		if c.dl != nil {
			c.dl.waitRequest(c.wr.pending())
		}
		m, err := c.r.NextMessage(frame.TypeHeader)
		if err != nil {
			switch {
			case err == io.EOF:
				return nil
			case errors.Is(err, frame.ErrReset):
				// The client's hang-up at a message boundary [RPC-34].
				return nil
			case c.shuttingDown():
				return ErrServerClosed
			case errors.Is(err, os.ErrDeadlineExceeded) && c.r.Offset() == c.lastEnd:
				// Idle between exchanges: close without RST [RPC-37].
				return fmt.Errorf("rpc: connection idle for %v: %w", c.s.opts.IdleTimeout, err)
			}
			return c.fatal(fmt.Errorf("rpc: reading a request header: %w", err))
		}
		c.setIdle(false)
		b, err := m.AppendTo(c.hbuf[:0])
		c.hbuf = b[:0]
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: reading a request header: %w", err))
		}
		var h header
		if err := parseHeaderPrev(b, &h, ClassBadHeader, c.endpoint); err != nil {
			return c.fatal(err)
		}
		if err := c.exchange(&h); err != nil {
			return err
		}
		if err := c.bw.Flush(); err != nil {
			return fmt.Errorf("rpc: writing a reply: %w", err)
		}
		c.lastEnd = c.r.Offset()
	}
}

// knownDataType: the request DataTypes this connection accepts [RPC-9].
func (c *serverConn) knownDataType(d DataType) bool {
	return d == DataNone || d == DataJSON || d == DataOctets || (d == DataMultipart && c.multipart)
}

func (c *serverConn) exchange(h *header) error {
	if !c.knownDataType(h.DataType) {
		return c.fatal(headerError(ClassBadHeader, "RPC-9", "request DataType %d is not known on this connection", h.DataType))
	}
	if h.Endpoint == helloEndpoint {
		return c.hello(h)
	}
	c.endpoint = h.Endpoint
	hd, res := c.s.route(h.Endpoint, h.DataType, h.Accept)
	if res == nil && h.Accept == DataMultipart && !c.multipart {
		// [RPC-26]: DataType 4 exists only after the hello granted it.
		hd, res = nil, failResult(StatusRequestError, "Accept %v needs the %q extension, not granted on this connection", DataMultipart, ExtMultipart)
	}
	if res != nil {
		if err := c.drain(h.DataType); err != nil {
			return err
		}
		return c.reply(res)
	}
	req := Request{Endpoint: h.Endpoint, DataType: h.DataType, Accept: h.Accept, enc: c.enc, dec: c.dec}
	if h.DataType.HasJSON() {
		m, err := c.r.NextMessage(frame.TypeData)
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: reading the request body: %w", err))
		}
		js, over, err := readLimited(m, c.jbuf[:0], c.s.opts.MaxJSON)
		c.jbuf = js[:0]
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: reading the request body: %w", err))
		}
		if over {
			if _, err := m.DiscardAtMost(c.s.opts.MaxDiscard - int64(len(js))); err != nil {
				return c.fatal(fmt.Errorf("rpc: discarding an oversized request body: %w", err))
			}
			if h.DataType.HasOctets() {
				if err := c.drainOctets(); err != nil {
					return err
				}
			}
			return c.reply(tooLargeRequest(c.s.opts.MaxJSON))
		}
		req.JSON = js
	}
	var body *requestBody
	if h.DataType.HasOctets() {
		m, err := c.r.NextMessage(frame.TypeData)
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: reading the request body: %w", err))
		}
		body = &requestBody{c: c, m: m}
		req.Body = body
	}
	ctx := c.ctx
	if hd.hasCtx && !hd.in.HasOctets() {
		// The request is read: watch for the client going away while
		// the handler runs and its reply is sent [RPC-33]. (A handler that
		// reads a stream sees that in the stream.)
		hctx, hcancel := context.WithCancel(c.ctx)
		defer hcancel()
		if c.dl != nil {
			c.dl.clearRead()
		}
		if c.wr.watch(hcancel) {
			ctx = hctx
		}
	}
	r := c.s.call(ctx, hd, &req)
	if body != nil {
		if err := body.finish(); err != nil {
			closeSource(r.Body)
			return c.fatal(err)
		}
	}
	err := c.reply(&r)
	// Do not keep a large body's buffer for the connection's life.
	if c.enc.buf.Cap() > 64<<10 {
		c.enc = newReplyEncoder()
	}
	if cap(c.jbuf) > 64<<10 {
		c.jbuf = nil
	}
	return err
}

// hello answers the negotiation exchange [RPC-25], [RPC-26].
func (c *serverConn) hello(h *header) error {
	if h.DataType != DataNone {
		if err := c.drain(h.DataType); err != nil {
			return err
		}
		return c.reply(failResult(StatusRequestError, "the hello exchange takes no body"))
	}
	if c.helloDone {
		return c.reply(failResult(StatusRequestError, "hello already exchanged on this connection"))
	}
	granted := []string{}
	for _, e := range h.Extensions {
		if slices.Contains(c.s.opts.Extensions, e) && slices.Contains(supportedExtensions, e) && !slices.Contains(granted, e) {
			granted = append(granted, e)
		}
	}
	c.helloDone = true
	c.trailer = slices.Contains(granted, ExtTrailer)
	c.multipart = slices.Contains(granted, ExtMultipart)
	rh := header{DataType: DataNone, Error: StatusOK, Extensions: granted, HasExtensions: true}
	c.hbuf = appendHeader(c.hbuf[:0], &rh)
	if err := c.w.WriteMessage(frame.TypeHeader, c.hbuf); err != nil {
		return fmt.Errorf("rpc: writing the hello reply: %w", err)
	}
	return nil
}

// drain consumes a request body the server will not use, so the reply
// goes out in sync [RPC-15].
func (c *serverConn) drain(dt DataType) error {
	if dt.HasJSON() {
		m, err := c.r.NextMessage(frame.TypeData)
		if err != nil {
			return c.fatal(fmt.Errorf("rpc: discarding the request body: %w", err))
		}
		if _, err := m.DiscardAtMost(c.s.opts.MaxDiscard); err != nil {
			return c.fatal(fmt.Errorf("rpc: discarding the request body: %w", err))
		}
	}
	if dt.HasOctets() {
		return c.drainOctets()
	}
	return nil
}

func (c *serverConn) drainOctets() error {
	m, err := c.r.NextMessage(frame.TypeData)
	if err != nil {
		return c.fatal(fmt.Errorf("rpc: discarding the request body: %w", err))
	}
	b := &requestBody{c: c, m: m}
	if err := b.finish(); err != nil {
		return c.fatal(err)
	}
	return nil
}

// reply sends a reply header and, for OK, its body [RPC-17].
func (c *serverConn) reply(res *Result) error {
	res.Message = clampMessage(res.Message)
	h := header{DataType: res.DataType, Error: res.Status, ErrorMessage: res.Message}
	c.hbuf = appendHeader(c.hbuf[:0], &h)
	if err := c.w.WriteMessage(frame.TypeHeader, c.hbuf); err != nil {
		closeSource(res.Body)
		return fmt.Errorf("rpc: writing a reply header: %w", err)
	}
	if res.Status != StatusOK {
		return nil
	}
	if res.DataType.HasJSON() {
		if err := c.w.WriteMessage(frame.TypeData, res.JSON); err != nil {
			closeSource(res.Body)
			return fmt.Errorf("rpc: writing the reply body: %w", err)
		}
	}
	if res.DataType.HasOctets() {
		if srcErr, err := sendOctets(c.w, res.Body, c.trailer, &c.hbuf); err != nil {
			return err
		} else if srcErr != nil {
			c.s.logf("rpc: reply stream of %q failed, sent in its trailer: %v", c.endpoint, srcErr)
		}
	}
	return nil
}

// requestBody is the octets request body as a handler reads it. It is
// valid until the handler returns; the server then drains what is left.
type requestBody struct {
	mu      sync.Mutex
	c       *serverConn
	m       *frame.MessageReader
	end     error // io.EOF, a *Error from the trailer, or a stream error
	invalid bool
}

var errBodyGone = errors.New("rpc: request body read after its handler returned")

func (b *requestBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.invalid {
		return 0, errBodyGone
	}
	if b.end != nil {
		return 0, b.end
	}
	n, err := b.m.Read(p)
	if err == io.EOF {
		b.end = readTrailer(b.c.r, b.c.trailer, &b.c.hbuf)
		if n > 0 {
			return n, nil
		}
		return 0, b.end
	}
	if err != nil {
		b.end = err
	}
	return n, err
}

// WriteTo lets io.Copy move the body straight from the frame reader.
func (b *requestBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.invalid {
		return 0, errBodyGone
	}
	if b.end != nil {
		if b.end == io.EOF {
			return 0, nil
		}
		return 0, b.end
	}
	n, err := b.m.WriteTo(w)
	if err != nil {
		if b.c.r.Err() != nil {
			b.end = err
		}
		return n, err
	}
	b.end = readTrailer(b.c.r, b.c.trailer, &b.c.hbuf)
	if b.end == io.EOF {
		return n, nil
	}
	return n, b.end
}

// finish invalidates the body and consumes what the handler left, within
// MaxDiscard [RPC-15], [RPC-20]. A failure status in the trailer is the
// handler's business; only a broken stream is an error here.
func (b *requestBody) finish() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.invalid = true
	if b.end == nil {
		if _, err := b.m.DiscardAtMost(b.c.s.opts.MaxDiscard); err != nil {
			return fmt.Errorf("rpc: discarding the rest of the request body: %w", err)
		}
		b.end = readTrailer(b.c.r, b.c.trailer, &b.c.hbuf)
	}
	var se *Error
	if b.end == io.EOF || errors.As(b.end, &se) {
		return nil
	}
	return b.end
}

// deadlineConn renews a net.Conn's deadlines around every read and write
// (ServerOptions.IdleTimeout, IOTimeout) [RPC-38].
type deadlineConn struct {
	nc       net.Conn
	idle, io time.Duration
	waiting  bool // the next read waits for a request: the idle limit applies
	readSet  bool
	writeSet bool
}

// writeChunk bounds one write under IOTimeout, so that each chunk's
// progress renews the deadline.
const writeChunk = 256 << 10

// waitRequest switches to the idle limit; with a background read pending
// (watchReader) the limit is put on that read.
func (d *deadlineConn) waitRequest(pending bool) {
	d.waiting = true
	if pending {
		if d.idle > 0 {
			d.nc.SetReadDeadline(time.Now().Add(d.idle))
			d.readSet = true
		}
	}
}

// clearRead lifts the read deadline for a background read, which may wait
// as long as the handler runs.
func (d *deadlineConn) clearRead() {
	if d.readSet {
		d.nc.SetReadDeadline(time.Time{})
		d.readSet = false
	}
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	t := d.io
	if d.waiting {
		t = d.idle
	}
	if t > 0 {
		d.nc.SetReadDeadline(time.Now().Add(t))
		d.readSet = true
	} else if d.readSet {
		d.nc.SetReadDeadline(time.Time{})
		d.readSet = false
	}
	n, err := d.nc.Read(p)
	if n > 0 {
		d.waiting = false
	}
	return n, err
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	if d.io <= 0 {
		if d.writeSet {
			d.nc.SetWriteDeadline(time.Time{})
			d.writeSet = false
		}
		return d.nc.Write(p)
	}
	d.writeSet = true
	var done int
	for done < len(p) {
		chunk := p[done:min(len(p), done+writeChunk)]
		d.nc.SetWriteDeadline(time.Now().Add(d.io))
		n, err := d.nc.Write(chunk)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
