package rpc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
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

// supportedExtensions are the extensions this implementation knows, in
// the order a client asks for them by default.
var supportedExtensions = []string{ExtTrailer, ExtMultipart}

// extensions is what a connection's hello settled, both sides alike.
type extensions struct {
	helloDone bool
	trailer   bool
	multipart bool
}

func (e *extensions) grant(granted []string) {
	e.helloDone = true
	e.trailer = slices.Contains(granted, ExtTrailer)
	e.multipart = slices.Contains(granted, ExtMultipart)
}

// grants lists, in the client's order and once each, the extensions of
// asked that a server configured with offered grants [RPC-25].
func grants(offered, asked []string) []string {
	granted := []string{}
	for _, e := range asked {
		if slices.Contains(offered, e) && slices.Contains(supportedExtensions, e) && !slices.Contains(granted, e) {
			granted = append(granted, e)
		}
	}
	return granted
}

// hello answers the negotiation exchange [RPC-25], [RPC-26], [RPC-39].
func (c *serverConn) hello(h *header) error {
	if h.DataType != dataNone {
		if err := c.drain(h.DataType, nil, 0); err != nil {
			return err
		}
		return c.reply(failResult(StatusRequestError, "the hello exchange takes no body"))
	}
	if c.ext.helloDone {
		return c.reply(failResult(StatusRequestError, "hello already exchanged on this connection"))
	}
	granted := grants(c.s.opts.Extensions, h.Extensions)
	c.ext.grant(granted)
	rh := header{DataType: dataNone, Error: wire.StatusOK, Extensions: granted, HasExtensions: true}
	c.hbuf = wire.AppendHeader(c.hbuf[:0], &rh)
	if err := c.w.WriteMessage(frame.TypeHeader, c.hbuf); err != nil {
		return fmt.Errorf("rpc: writing the hello reply: %w", err)
	}
	return nil
}

// hello negotiates the extensions, once per connection, before the first
// call with a stream [RPC-25], [RPC-40].
func (c *Client) hello(ctx context.Context) error {
	c.ext.helloDone = true
	ic := c.interruptOn(ctx)
	// The hello is no part of the call's request: a call that fails here
	// has sent none of it.
	mark := c.sent.n
	if err := c.writeHello(); err != nil {
		return c.failSent(ctx, ic, fmt.Errorf("rpc: writing the hello: %w", err), mark)
	}
	c.armRead()
	rh, err := c.readReplyHeader()
	if err != nil {
		return c.failSent(ctx, ic, err, mark)
	}
	if ic.stop() {
		return c.failSent(ctx, nil, errors.New("hello reply arrived as the call was cancelled"), mark)
	}
	if rh.Error != wire.StatusOK {
		// An original server: it knows no hello, and no extension [RPC-26].
		return nil
	}
	if rh.DataType != dataNone {
		return c.failSent(ctx, nil, protocolError(ClassBadReply, "RPC-25", "hello reply with DataType %v", rh.DataType), mark)
	}
	for _, e := range rh.Extensions {
		if !slices.Contains(c.opts.Extensions, e) {
			return c.failSent(ctx, nil, protocolError(ClassBadReply, "RPC-25", "server granted %q, which was not asked for", e), mark)
		}
	}
	c.ext.grant(rh.Extensions)
	return nil
}

func (c *Client) writeHello() error {
	c.sending.Lock()
	defer c.sending.Unlock()
	h := header{Endpoint: helloEndpoint, DataType: dataNone, Accept: dataNone, Extensions: c.opts.Extensions, HasExtensions: true}
	c.hbuf = wire.AppendHeader(c.hbuf[:0], &h)
	if err := c.w.WriteMessage(frame.TypeHeader, c.hbuf); err != nil {
		return err
	}
	return c.w.Flush()
}
