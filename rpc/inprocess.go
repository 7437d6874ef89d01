package rpc

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/framerpc/framerpc/internal/inproc"
)

// The in-process client behind package local: a Client without the wire.
// It checks arguments as Client.Call does, dispatches through the server's
// own call path, and reports every outcome with the error values and
// texts a remote call gives (package local documents the differences).

func init() {
	inproc.NewClient = func(server any, o inproc.Options) inproc.Client {
		c := &inprocClient{s: server.(*Server), direct: o.Direct, maxJSON: o.MaxJSON, codec: StdJSON}
		if codec, ok := o.Codec.(JSONCodec); ok && codec != nil {
			c.codec = codec
		}
		if c.maxJSON <= 0 {
			c.maxJSON = DefaultMaxJSON
		}
		return c
	}
}

type inprocClient struct {
	s       *Server
	direct  bool
	maxJSON int64
	codec   JSONCodec
	closed  atomic.Bool
}

func (c *inprocClient) Close() error {
	c.closed.Store(true)
	return nil
}

func (c *inprocClient) Call(ctx context.Context, endpoint string, in, out any) error {
	a, err := newCallArgs(endpoint, in, out)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if a.needsMultipart() && !slices.Contains(grants(c.s.opts.Extensions, []string{ExtMultipart}), ExtMultipart) {
		return a.unsupported()
	}
	req, err := c.request(&a)
	if err != nil {
		return err
	}
	var src *pushSource
	if req.body != nil {
		src = &pushSource{r: req.body}
		req.body = src
	}
	res := c.s.invoke(ctx, req)
	var srcErr error
	if src != nil {
		// What the handler left is read off, as the server drains it; the
		// source's failure is reported even if the handler never saw it.
		io.Copy(io.Discard, src)
		if src.err != nil {
			srcErr = requestStreamError(endpoint, src.err)
		}
	}
	if res.status != StatusOK {
		return withOutcome(srcErr, &Error{Status: res.status, Message: res.message})
	}
	return c.reply(&a, res, srcErr)
}

// request builds what the dispatcher takes: the JSON part encoded as on
// the wire, or in direct mode the value itself.
func (c *inprocClient) request(a *callArgs) (*request, error) {
	req := &request{endpoint: a.endpoint, dt: a.dt, accept: a.accept, body: a.src, replyValue: c.direct, codec: c.s.opts.Codec}
	if req.codec == nil {
		req.codec = StdJSON
	}
	if !a.dt.HasJSON() {
		return req, nil
	}
	if c.direct {
		req.value = a.meta
		return req, nil
	}
	js, err := marshal(c.codec, nil, a.meta)
	if err != nil {
		return nil, encodeRequestError(a.endpoint, err)
	}
	req.json = js
	return req, nil
}

// reply delivers an OK result as Client.receive does.
func (c *inprocClient) reply(a *callArgs, res *result, srcErr error) error {
	var result error
	if a.accept.HasJSON() {
		result = c.decode(a, res)
	}
	if res.body == nil {
		return withOutcome(srcErr, result)
	}
	body := &inprocStream{r: &guardedSource{r: res.body}, src: res.body}
	if result != nil || srcErr != nil {
		io.Copy(io.Discard, body)
		body.Close()
		return withOutcome(srcErr, result)
	}
	a.deliver(body)
	return nil
}

func (c *inprocClient) decode(a *callArgs, res *result) error {
	if c.direct {
		return assignReply(a.endpoint, a.target, res.value)
	}
	if int64(len(res.json)) > c.maxJSON {
		return tooLargeReply(a.endpoint, c.maxJSON)
	}
	if err := unmarshal(c.codec, res.json, a.target); err != nil {
		return decodeReplyError(a.endpoint, err)
	}
	return nil
}

// invoke runs one in-process call with every check and outcome of a call
// over a connection except the wire itself: unknown endpoints, mismatched
// body kinds, the JSON limit, decoding errors, handler errors and panics
// give the same status and message as a connection would send.
func (s *Server) invoke(ctx context.Context, req *request) *result {
	h, res := s.route(req.endpoint, req.dt, req.accept)
	if res == nil && req.value == nil && h.in.HasJSON() && int64(len(req.json)) > s.opts.MaxJSON {
		res = tooLargeRequest(s.opts.MaxJSON)
	}
	if res == nil {
		r := s.call(ctx, h, req)
		res = &r
	}
	res.message = clampMessage(res.message)
	return res
}

// pushSource is a pushed stream as the handler sees it: a failure of the
// caller's reader reaches the handler as the trailer would carry it.
type pushSource struct {
	r   io.Reader
	err error
}

func (s *pushSource) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, streamStatus(s.err)
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
		return n, streamStatus(err)
	}
	return n, err
}

// inprocStream is a streamed reply handed to the caller without copying;
// the handler's source is closed at its end or on Close, as the server
// closes it after sending. The source is the server's user code, read on
// the caller's goroutine: its panics become a ServerError from Read
// [RPC-19], as a handler's panic does, never a panic in the caller.
type inprocStream struct {
	r      *guardedSource
	src    io.Reader // the handler's source, closed at the end
	end    error
	closed bool
}

func (s *inprocStream) Read(p []byte) (int, error) {
	if s.end != nil {
		return 0, s.end
	}
	n, err := s.r.Read(p)
	if err != nil {
		s.end = streamStatus(err)
		if s.r.panicked != nil {
			s.end = &Error{Status: StatusServerError, Message: clampMessage(s.r.panicked.Error())}
		}
		s.Close()
		if n > 0 {
			return n, nil
		}
		return 0, s.end
	}
	return n, nil
}

func (s *inprocStream) Close() error {
	if !s.closed {
		s.closed = true
		closeSource(s.src)
	}
	if s.end == nil {
		s.end = fmt.Errorf("local: stream closed: %w", ErrClosed)
	}
	return nil
}
