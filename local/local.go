// Package local calls the handlers of an rpc.Server in-process, with the
// Call API of rpc.Client and, by default, the same results: the local
// variant of the framerpc protocol (spec/PROTOCOL.md, sections 6 to 10,
// applied without a connection).
//
// # Contract
//
// By default a local call is a remote call without the wire. The request
// value is encoded to JSON exactly as rpc.Client encodes it and decoded by
// the server's own dispatch, the reply travels back as JSON, and every
// outcome has the status, error type and message a remote call over a
// connection with both extensions would give: unknown endpoint, wrong body
// kinds, JSON over the server's limit or undecodable, handler errors and
// panics, a reply over the client's JSON limit (rpc.ErrBodyTooLarge), a
// stream source failing half-way (an *rpc.Error from the reader, and for a
// pushed stream the error of rpc.RequestStreamError joined with the reply's
// outcome). Streams are not copied: the handler reads the caller's reader
// and the caller reads the handler's. A stream left unread by a handler is
// read to its end afterwards, as the server would drain it.
//
// Remaining differences from a remote call, by nature of having no
// connection: a streamed reply does not hold up other calls until it is
// read, and closing it early closes its source but breaks nothing, so later
// calls still work; the handler's context is the caller's; there is no
// idle or I/O timeout and no hello exchange.
//
// # Direct mode
//
// With Options.Direct the request pointer is handed to the handler as is
// and the handler's reply value is copied into out by assignment, skipping
// JSON altogether. It is faster and differs as follows: the handler shares
// (and may modify) the caller's request value; in and out must be pointers
// of exactly the handler's types (another type is a RequestError for in,
// an error for out) instead of anything JSON can convert; no JSON limit
// applies and nothing is decoded, so JSON decoding errors cannot happen;
// and values JSON would drop or reshape (unexported fields, fields tagged
// "-", custom marshalers) arrive unchanged.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"

	"github.com/framerpc/framerpc/rpc"
)

// Options configures a Client. The zero value gives a client that behaves
// as a remote one.
type Options struct {
	// Direct selects direct mode (see the package documentation).
	Direct bool
	// MaxJSON is the largest JSON reply accepted, as for rpc.ClientOptions.
	// 0 means rpc.DefaultMaxJSON.
	MaxJSON int64
}

// Client calls the handlers of one rpc.Server in-process. It is safe for
// concurrent use; calls run concurrently.
type Client struct {
	s      *rpc.Server
	opts   Options
	closed atomic.Bool
}

// New returns a Client for the handlers registered on s. opts may be nil.
func New(s *rpc.Server, opts *Options) *Client {
	c := &Client{s: s}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MaxJSON <= 0 {
		c.opts.MaxJSON = rpc.DefaultMaxJSON
	}
	return c
}

// Close makes later calls fail with rpc.ErrClosed.
func (c *Client) Close() error {
	c.closed.Store(true)
	return nil
}

// Call calls endpoint as rpc.Client.Call does, in-process.
func (c *Client) Call(ctx context.Context, endpoint string, in, out any) error {
	req, err := rpc.PrepareCall(endpoint, in, out, c.opts.Direct)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.closed.Load() {
		return rpc.ErrClosed
	}
	if (req.DataType == rpc.DataMultipart || req.Accept == rpc.DataMultipart) && !c.s.Grants(rpc.ExtMultipart) {
		return fmt.Errorf("rpc: calling %q: JSON and a stream in one body: %w", endpoint, rpc.ErrUnsupported)
	}
	var src *source
	if req.Body != nil {
		src = &source{r: req.Body}
		req.Body = src
	}
	res := c.s.Invoke(ctx, req)
	var srcErr error
	if src != nil {
		// What the handler left is read off, as the server drains it; the
		// source's failure is reported even if the handler never saw it.
		io.Copy(io.Discard, src)
		if src.err != nil {
			srcErr = rpc.RequestStreamError(endpoint, src.err)
		}
	}
	if res.Status != rpc.StatusOK {
		return errors.Join(srcErr, &rpc.Error{Status: res.Status, Message: res.Message})
	}
	var result error
	if req.Accept == rpc.DataJSON || req.Accept == rpc.DataMultipart {
		target := out
		if p, ok := out.(*rpc.Pull); ok {
			target = p.Meta
		}
		if c.opts.Direct {
			result = assign(endpoint, target, res.Value)
		} else {
			result = rpc.DecodeReply(endpoint, res.JSON, c.opts.MaxJSON, target)
		}
	}
	if res.Body == nil {
		return errors.Join(srcErr, result)
	}
	body := &stream{r: res.Body}
	if result != nil || srcErr != nil {
		io.Copy(io.Discard, body)
		body.Close()
		return errors.Join(srcErr, result)
	}
	switch v := out.(type) {
	case *io.Reader:
		*v = body
	case *io.ReadCloser:
		*v = body
	case *rpc.Pull:
		v.Body = body
	}
	return nil
}

// assign is direct mode's reply: *target = *value, types permitting.
func assign(endpoint string, target, value any) error {
	t, v := reflect.ValueOf(target), reflect.ValueOf(value)
	if t.Type() != v.Type() {
		return fmt.Errorf("local: reply of %q is a %v, out is a %v (direct mode needs the handler's type)", endpoint, v.Type(), t.Type())
	}
	t.Elem().Set(v.Elem())
	return nil
}

// source is a pushed stream as the handler sees it: a failure of the
// caller's reader reaches the handler as the trailer would carry it.
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, rpc.StreamStatus(s.err)
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
		return n, rpc.StreamStatus(err)
	}
	return n, err
}

// stream is a streamed reply handed to the caller without copying; the
// handler's source is closed at its end or on Close, as the server closes
// it after sending.
type stream struct {
	r      io.Reader
	end    error
	closed bool
}

func (s *stream) Read(p []byte) (int, error) {
	if s.end != nil {
		return 0, s.end
	}
	n, err := s.r.Read(p)
	if err != nil {
		s.end = rpc.StreamStatus(err)
		s.Close()
		if n > 0 {
			return n, nil
		}
		return 0, s.end
	}
	return n, nil
}

func (s *stream) Close() error {
	if !s.closed {
		s.closed = true
		if c, ok := s.r.(io.Closer); ok {
			c.Close()
		}
	}
	if s.end == nil {
		s.end = fmt.Errorf("local: stream closed: %w", rpc.ErrClosed)
	}
	return nil
}
