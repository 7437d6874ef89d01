package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// Push is a request carrying JSON metadata and a stream, DataType
// JSON+Octets: pass it (or *Push) as Call's in. Meta is encoded as JSON;
// Body is sent after it and is not closed by Call.
type Push struct {
	Meta any
	Body io.Reader
}

// Pull receives a reply carrying JSON metadata and a stream: pass *Pull as
// Call's out, with Meta a pointer to decode into. After a successful Call,
// Body holds the stream, to be read to its end or closed.
type Pull struct {
	Meta any
	Body io.ReadCloser
}

// Kinds tells the body kinds of a call from Call's in and out: the request's
// DataType and the Accept it sends.
//
// in: an io.Reader is an octets body; a Push or *Push is JSON metadata
// plus a stream; anything else (nil included) is encoded as JSON. out: an
// *io.Reader or *io.ReadCloser receives an octets body; a *Pull JSON
// metadata plus a stream; any other non-nil pointer a JSON body.
func Kinds(in, out any) (req, accept DataType, err error) {
	switch v := in.(type) {
	case Push:
		req, err = DataMultipart, checkPush(&v)
	case *Push:
		req, err = DataMultipart, checkPush(v)
	case io.Reader:
		req = DataOctets
	default:
		req = DataJSON
	}
	if err != nil {
		return 0, 0, err
	}
	switch v := out.(type) {
	case *io.Reader, *io.ReadCloser:
		if reflect.ValueOf(v).IsNil() {
			return 0, 0, fmt.Errorf("%w: out is a nil %T", ErrBadCall, out)
		}
		accept = DataOctets
	case *Pull:
		if v == nil {
			return 0, 0, fmt.Errorf("%w: out is a nil *Pull", ErrBadCall)
		}
		if err := checkJSONOut(v.Meta, "Pull.Meta"); err != nil {
			return 0, 0, err
		}
		accept = DataMultipart
	default:
		if err := checkJSONOut(out, "out"); err != nil {
			return 0, 0, err
		}
		accept = DataJSON
	}
	return req, accept, nil
}

func checkPush(p *Push) error {
	if p == nil || p.Body == nil {
		return fmt.Errorf("%w: a Push needs a Body", ErrBadCall)
	}
	return nil
}

func checkJSONOut(out any, what string) error {
	v := reflect.ValueOf(out)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("%w: %s must be a non-nil pointer, not %T", ErrBadCall, what, out)
	}
	return nil
}

// ClientOptions configures a Client. The zero value gives the defaults.
type ClientOptions struct {
	// MaxJSON is the largest JSON reply body the client decodes; a longer
	// one fails the call with ErrBodyTooLarge. 0 means DefaultMaxJSON.
	MaxJSON int64
	// MaxDiscard bounds what the client reads and drops to stay in sync
	// (an oversized JSON reply). 0 means DefaultMaxDiscard.
	MaxDiscard int64
	// Extensions lists the extensions the client asks for in its hello,
	// which it sends before its first call with a stream. nil means all
	// (ExtTrailer, ExtMultipart); an empty slice means none: no hello is
	// ever sent and every byte the client writes is what the original
	// client would write.
	Extensions []string
}

// abortWriteTimeout bounds the RST an aborting client sends: a peer that
// does not read for this long gets the close without it.
const abortWriteTimeout = time.Second

// Client calls a Server over one connection. It is safe for concurrent
// use: calls take turns on the connection, in no particular order. A call
// whose reply is a stream keeps the turn until the stream is read to its
// end or closed.
type Client struct {
	rwc     io.ReadWriteCloser
	nc      net.Conn
	r       *frame.Reader
	w       *frame.Writer
	bw      *bufWriter
	opts    ClientOptions
	turn    chan struct{}
	closing chan struct{}

	// The rest is owned by whoever holds the turn.
	err                           error
	helloDone, trailer, multipart bool
	hbuf, jbuf                    []byte
	rh                            header
	ebuf                          bytes.Buffer
	enc                           *json.Encoder
	dec                           bodyDecoder
}

// NewClient returns a Client on conn. opts may be nil. If conn is a
// net.Conn, cancellation interrupts a blocked read or write through its
// deadlines and the client tells the server with RST; on any other stream
// cancellation closes it.
func NewClient(conn io.ReadWriteCloser, opts *ClientOptions) *Client {
	c := &Client{rwc: conn, turn: make(chan struct{}, 1), closing: make(chan struct{})}
	c.nc, _ = conn.(net.Conn)
	if opts != nil {
		c.opts = *opts
	}
	limits(&c.opts.MaxJSON, &c.opts.MaxDiscard, &c.opts.Extensions)
	c.r = frame.NewReader(conn)
	c.bw = newBufWriter(conn)
	c.w = frame.NewWriter(c.bw)
	c.enc = json.NewEncoder(&c.ebuf)
	return c
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
	select {
	case c.turn <- struct{}{}:
		if c.err == nil {
			c.hangUp(nil)
		}
		c.err = &closedError{}
		<-c.turn
	default:
		// A call or stream holds the turn: pull the connection from under
		// it; it fails and leaves the client broken.
		c.rwc.Close()
	}
	return nil
}

// hangUp sends RST where the stream is at a frame boundary and closes it.
func (c *Client) hangUp(cause error) {
	// A failed source without the trailer extension has written its RST
	// already [RPC-23]; it still has to leave the buffer.
	rst := errors.Is(c.w.Err(), frame.ErrWriterClosed)
	if !rst && c.w.Err() == nil && c.bw.err == nil && !errors.Is(cause, frame.ErrReset) && !errors.Is(cause, io.ErrUnexpectedEOF) {
		rst = c.w.WriteRST() == nil
	}
	if rst && c.bw.err == nil {
		if c.nc != nil {
			c.nc.SetWriteDeadline(time.Now().Add(abortWriteTimeout))
		}
		c.bw.Flush()
	}
	c.rwc.Close()
}

// breakConn ends the connection after cause; later calls fail with an error
// wrapping ErrClosed and cause. Call with the turn held.
func (c *Client) breakConn(cause error) {
	if c.err != nil {
		return
	}
	c.hangUp(cause)
	c.err = &closedError{cause: cause}
}

// watch arms cancellation for one call: when ctx ends, blocked I/O is
// interrupted [RPC-33].
type watch struct {
	stop func() bool
	done chan struct{}
}

func (c *Client) watch(ctx context.Context) *watch {
	if ctx.Done() == nil {
		return nil
	}
	w := &watch{done: make(chan struct{})}
	w.stop = context.AfterFunc(ctx, func() {
		defer close(w.done)
		if c.nc != nil {
			c.nc.SetDeadline(time.Unix(1, 0))
		} else {
			c.rwc.Close()
		}
	})
	return w
}

// end disarms the watch; true means it fired, so the connection was
// interrupted and the call must be treated as cancelled.
func (w *watch) end() bool {
	if w == nil || w.stop() {
		return false
	}
	<-w.done
	return true
}

// fail ends the connection after an error inside a call and returns what
// the caller sees: the context's error if the call was cancelled.
func (c *Client) fail(ctx context.Context, wt *watch, err error) error {
	if wt.end() || ctx.Err() != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("rpc: call aborted: %w", cerr)
		}
	}
	select {
	case <-c.closing:
		err = &closedError{cause: err}
	default:
	}
	c.breakConn(err)
	return err
}

// Call calls endpoint with in and waits for the reply in out (see Kinds
// for what in and out may be). A non-OK reply is an *Error. Ending ctx
// aborts the call: the connection is reset and closed, and the error
// wraps ctx's. Errors that leave the connection usable: *Error replies,
// ErrBodyTooLarge, JSON decoding errors, a failed Push source with the
// trailer extension, and ErrBadCall/ErrUnsupported (nothing sent).
func (c *Client) Call(ctx context.Context, endpoint string, in, out any) error {
	dt, accept, err := Kinds(in, out)
	if err != nil {
		return err
	}
	if err := checkEndpoint(endpoint); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.closing:
		return &closedError{}
	default:
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closing:
		return &closedError{}
	}
	keep, err := c.call(ctx, endpoint, dt, accept, in, out)
	if !keep {
		<-c.turn
	}
	return err
}

// call runs one exchange with the turn held. keep reports that a stream
// now holds the turn.
func (c *Client) call(ctx context.Context, endpoint string, dt, accept DataType, in, out any) (keep bool, err error) {
	if c.err != nil {
		return false, c.err
	}
	if (dt.HasOctets() || accept.HasOctets()) && !c.helloDone && len(c.opts.Extensions) > 0 {
		if err := c.hello(ctx); err != nil {
			return false, err
		}
	}
	if (dt == DataMultipart || accept == DataMultipart) && !c.multipart {
		return false, fmt.Errorf("rpc: calling %q: JSON and a stream in one body: %w", endpoint, ErrUnsupported)
	}
	var src io.Reader
	meta := in
	switch v := in.(type) {
	case Push:
		meta, src = v.Meta, v.Body
	case *Push:
		meta, src = v.Meta, v.Body
	case io.Reader:
		src = v
	}
	if dt.HasJSON() {
		c.ebuf.Reset()
		if err := encodeBody(&c.ebuf, c.enc, meta); err != nil {
			return false, encodeRequestError(endpoint, err)
		}
	}

	wt := c.watch(ctx)
	h := header{Endpoint: endpoint, DataType: dt, Accept: accept}
	c.hbuf = appendHeader(c.hbuf[:0], &h)
	if err := c.w.WriteMessage(frame.TypeHeader, c.hbuf); err != nil {
		return false, c.fail(ctx, wt, fmt.Errorf("rpc: writing the request header: %w", err))
	}
	if dt.HasJSON() {
		if err := c.w.WriteMessage(frame.TypeData, c.ebuf.Bytes()); err != nil {
			return false, c.fail(ctx, wt, fmt.Errorf("rpc: writing the request body: %w", err))
		}
		if c.ebuf.Cap() > 64<<10 {
			c.ebuf = bytes.Buffer{}
			c.enc = json.NewEncoder(&c.ebuf)
		}
	}
	var srcErr error
	if dt.HasOctets() {
		var err error
		srcErr, err = sendOctets(c.w, src, c.trailer, &c.hbuf)
		if err != nil {
			return false, c.fail(ctx, wt, err)
		}
		if srcErr != nil {
			srcErr = RequestStreamError(endpoint, srcErr)
		}
	}

	if err := c.bw.Flush(); err != nil {
		return false, c.fail(ctx, wt, fmt.Errorf("rpc: writing the request: %w", err))
	}
	rh, err := c.readReplyHeader()
	if err != nil {
		return false, c.fail(ctx, wt, err)
	}
	if rh.Error != StatusOK {
		if wt.end() {
			return false, c.fail(ctx, nil, errors.New("reply arrived as the call was cancelled"))
		}
		return false, errors.Join(srcErr, &Error{Status: rh.Error, Message: rh.ErrorMessage})
	}
	if rh.DataType != accept {
		return false, c.fail(ctx, wt, headerError(ClassBadReply, "RPC-17", "reply DataType %v to a request with Accept %v", rh.DataType, accept))
	}
	var result error
	if accept.HasJSON() {
		target := out
		if p, ok := out.(*Pull); ok {
			target = p.Meta
		}
		result, err = c.readJSON(endpoint, target)
		if err != nil {
			return false, c.fail(ctx, wt, err)
		}
	}
	if !accept.HasOctets() {
		if wt.end() {
			return false, c.fail(ctx, nil, errors.New("reply arrived as the call was cancelled"))
		}
		return false, errors.Join(srcErr, result)
	}
	m, err := c.r.NextMessage(frame.TypeData)
	if err != nil {
		return false, c.fail(ctx, wt, fmt.Errorf("rpc: reading the reply stream: %w", err))
	}
	body := &replyBody{c: c, ctx: ctx, m: m, wt: wt}
	if result != nil || srcErr != nil {
		// The metadata could not be decoded or the request failed: the
		// stream is nobody's, drop it and keep the connection in sync.
		body.drop()
		if body.end != nil && !isEndOfBody(body.end) {
			return false, body.end
		}
		return false, errors.Join(srcErr, result)
	}
	switch v := out.(type) {
	case *io.Reader:
		*v = body
	case *io.ReadCloser:
		*v = body
	case *Pull:
		v.Body = body
	}
	return true, nil
}

func checkEndpoint(endpoint string) error {
	if strings.HasPrefix(endpoint, reservedPrefix) {
		return fmt.Errorf("%w: endpoint %q is reserved", ErrBadCall, endpoint)
	}
	return nil
}

func encodeRequestError(endpoint string, err error) error {
	return fmt.Errorf("%w: encoding the request body of %q: %v", ErrBadCall, endpoint, err)
}

// RequestStreamError is what Call returns, joined with the reply's outcome,
// when the stream it was sending failed: the source's error with context.
// Exported so that in-process callers (package local) report the same.
func RequestStreamError(endpoint string, err error) error {
	return fmt.Errorf("rpc: request stream of %q failed (sent in its trailer): %w", endpoint, err)
}

// PrepareCall checks a call as Client.Call does and builds the Request
// that Server.Invoke takes: the body kinds, the JSON part encoded exactly
// as on the wire (or, with direct, the metadata value itself) and the
// stream. It is the first half of an in-process call (package local).
func PrepareCall(endpoint string, in, out any, direct bool) (*Request, error) {
	dt, accept, err := Kinds(in, out)
	if err != nil {
		return nil, err
	}
	if err := checkEndpoint(endpoint); err != nil {
		return nil, err
	}
	req := &Request{Endpoint: endpoint, DataType: dt, Accept: accept, ReplyValue: direct}
	meta := in
	switch v := in.(type) {
	case Push:
		meta, req.Body = v.Meta, v.Body
	case *Push:
		meta, req.Body = v.Meta, v.Body
	case io.Reader:
		req.Body = v
	}
	if dt.HasJSON() {
		if direct {
			req.Value = meta
		} else {
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(meta); err != nil {
				return nil, encodeRequestError(endpoint, err)
			}
			req.JSON = buf.Bytes()
		}
	}
	return req, nil
}

// StreamStatus turns the error a stream source failed with into what the
// reader of that stream sees with the trailer extension: an *Error with
// the status and (clamped) message the Trailer carries. io.EOF and nil are
// returned unchanged.
func StreamStatus(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	st, msg := statusOf(err)
	return &Error{Status: st, Message: clampMessage(msg)}
}

// readJSON reads a JSON reply body into target. The first result is an
// error that leaves the connection in sync (too large, undecodable); the
// second one that does not.
func (c *Client) readJSON(endpoint string, target any) (error, error) {
	m, err := c.r.NextMessage(frame.TypeData)
	if err != nil {
		return nil, fmt.Errorf("rpc: reading the reply body: %w", err)
	}
	js, over, err := readLimited(m, c.jbuf[:0], c.opts.MaxJSON)
	if cap(js) <= 64<<10 {
		c.jbuf = js[:0]
	}
	if err != nil {
		return nil, fmt.Errorf("rpc: reading the reply body: %w", err)
	}
	if over {
		if _, err := m.DiscardAtMost(c.opts.MaxDiscard - int64(len(js))); err != nil {
			return nil, fmt.Errorf("rpc: discarding an oversized reply body: %w", err)
		}
		return tooLargeReply(endpoint, c.opts.MaxJSON), nil
	}
	if err := c.dec.decode(js, target); err != nil {
		return decodeReplyError(endpoint, err), nil
	}
	return nil, nil
}

// tooLargeReply and decodeReplyError are shared with package local through
// LocalReplyError so that both report the same text.
func tooLargeReply(endpoint string, limit int64) error {
	return fmt.Errorf("rpc: reply body of %q longer than the %d-byte JSON limit: %w", endpoint, limit, ErrBodyTooLarge)
}

func decodeReplyError(endpoint string, err error) error {
	return fmt.Errorf("rpc: decoding the reply body of %q: %w", endpoint, err)
}

// DecodeReply decodes a JSON reply body as Call does, with the same limit
// check and errors: for in-process callers (package local).
func DecodeReply(endpoint string, js []byte, limit int64, target any) error {
	if int64(len(js)) > limit {
		return tooLargeReply(endpoint, limit)
	}
	var d *bodyDecoder
	if err := d.decode(js, target); err != nil {
		return decodeReplyError(endpoint, err)
	}
	return nil
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
	if err := parseHeader(b, h, ClassBadHeader); err != nil {
		return nil, err
	}
	if !h.Error.Valid() {
		return nil, headerError(ClassBadReply, "RPC-10", "reply status %d", h.Error)
	}
	return h, nil
}

// hello negotiates the extensions [RPC-25].
func (c *Client) hello(ctx context.Context) error {
	c.helloDone = true
	wt := c.watch(ctx)
	h := header{Endpoint: helloEndpoint, DataType: DataNone, Accept: DataNone, Extensions: c.opts.Extensions, HasExtensions: true}
	c.hbuf = appendHeader(c.hbuf[:0], &h)
	if err := c.w.WriteMessage(frame.TypeHeader, c.hbuf); err != nil {
		return c.fail(ctx, wt, fmt.Errorf("rpc: writing the hello: %w", err))
	}
	if err := c.bw.Flush(); err != nil {
		return c.fail(ctx, wt, fmt.Errorf("rpc: writing the hello: %w", err))
	}
	rh, err := c.readReplyHeader()
	if err != nil {
		return c.fail(ctx, wt, err)
	}
	if wt.end() {
		return c.fail(ctx, nil, errors.New("hello reply arrived as the call was cancelled"))
	}
	if rh.Error != StatusOK {
		// An original server: it knows no hello, and no extension [RPC-26].
		return nil
	}
	if rh.DataType != DataNone {
		return c.fail(ctx, nil, headerError(ClassBadReply, "RPC-25", "hello reply with DataType %v", rh.DataType))
	}
	for _, e := range rh.Extensions {
		if !slices.Contains(c.opts.Extensions, e) {
			return c.fail(ctx, nil, headerError(ClassBadReply, "RPC-25", "server granted %q, which was not asked for", e))
		}
	}
	c.trailer = slices.Contains(rh.Extensions, ExtTrailer)
	c.multipart = slices.Contains(rh.Extensions, ExtMultipart)
	return nil
}

// replyBody is a streamed reply. It holds the client's turn until its end
// (io.EOF, or an *Error from a failure trailer, the connection staying
// usable) or until Close.
type replyBody struct {
	c   *Client
	ctx context.Context
	m   *frame.MessageReader
	wt  *watch
	end error // set once the turn is given back
}

// errStreamClosed is the cause recorded when a stream is closed early.
var errStreamClosed = errors.New("rpc: reply stream closed before its end")

func (b *replyBody) Read(p []byte) (int, error) {
	if b.end != nil {
		return 0, b.end
	}
	n, err := b.m.Read(p)
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		b.finish(readTrailer(b.c.r, b.c.trailer, &b.c.hbuf))
	} else {
		b.finish(fmt.Errorf("rpc: reading the reply stream: %w", err))
	}
	if n > 0 {
		return n, nil
	}
	return 0, b.end
}

// WriteTo moves the stream straight from the frame reader's buffer.
func (b *replyBody) WriteTo(w io.Writer) (int64, error) {
	if b.end != nil {
		if b.end == io.EOF {
			return 0, nil
		}
		return 0, b.end
	}
	n, err := b.m.WriteTo(w)
	if err != nil {
		if b.c.r.Err() != nil {
			b.finish(fmt.Errorf("rpc: reading the reply stream: %w", err))
			return n, b.end
		}
		// The destination failed; the stream is intact and still ours.
		return n, err
	}
	b.finish(readTrailer(b.c.r, b.c.trailer, &b.c.hbuf))
	if b.end == io.EOF {
		return n, nil
	}
	return n, b.end
}

// finish records how the stream ended and gives the turn back.
func (b *replyBody) finish(end error) {
	c := b.c
	if isEndOfBody(end) {
		if b.wt.end() {
			end = c.fail(b.ctx, nil, errors.New("stream ended as the call was cancelled"))
		}
	} else {
		end = c.fail(b.ctx, b.wt, end)
	}
	b.end = end
	<-c.turn
}

// drop consumes a stream nobody will read, within MaxDiscard.
func (b *replyBody) drop() {
	if _, err := b.m.DiscardAtMost(b.c.opts.MaxDiscard); err != nil {
		b.end = b.c.fail(b.ctx, b.wt, fmt.Errorf("rpc: discarding the reply stream: %w", err))
		return
	}
	end := readTrailer(b.c.r, b.c.trailer, &b.c.hbuf)
	if !isEndOfBody(end) {
		b.end = b.c.fail(b.ctx, b.wt, end)
		return
	}
	b.wt.end()
	b.end = end
}

// Close gives the stream up. Before its end this aborts the call: the
// client sends RST and closes the connection, and later calls fail with
// ErrClosed [RPC-32].
func (b *replyBody) Close() error {
	if b.end != nil {
		return nil
	}
	b.c.fail(b.ctx, b.wt, errStreamClosed)
	b.end = &closedError{cause: errStreamClosed}
	<-b.c.turn
	return nil
}
