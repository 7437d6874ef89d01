// Package local calls the handlers of an rpc.Server in-process, with the
// Call API of rpc.Client and, by default, the same results: the local
// variant of the framerpc protocol (spec/PROTOCOL.md, sections 6 to 10,
// applied without a connection).
//
// # Contract
//
// By default a local call is a remote call without the wire. The request
// value is encoded to JSON as rpc.Client encodes it (with Options.Codec)
// and decoded by the server's own dispatch (with the server's codec), the reply travels back as JSON, and every
// outcome has the status, error type and message a remote call over a
// connection with both extensions would give: unknown endpoint, wrong body
// kinds, JSON over the server's limit or undecodable, handler errors and
// panics, a reply over the client's JSON limit (rpc.ErrBodyTooLarge), a
// stream source failing half-way (an *rpc.Error from the reader, and for a
// pushed stream an error matching rpc.ErrStreamFailed joined with the
// reply's outcome). Streams are not copied: the handler reads the caller's reader
// and the caller reads the handler's. A stream left unread by a handler is
// read to its end afterwards, as the server would drain it.
//
// Remaining differences from a remote call, by nature of having no
// connection: a streamed reply does not hold up other calls until it is
// read, and closing it early closes its source but breaks nothing, so later
// calls still work; a reply source that panics, which resets a
// connection, fails the reader with a ServerError (*rpc.Error) after the
// bytes it gave, later calls unaffected; the handler's context is the caller's; there is no
// idle or I/O timeout and no hello exchange.
//
// # Direct mode
//
// With Options.Direct the request pointer is handed to the handler as is
// and the handler's reply value is copied into out by assignment, skipping
// JSON altogether. It is faster and differs as follows: the handler shares
// (and may modify) the caller's request value; in and out must be pointers
// of exactly the handler's types (another type is a RequestError for in,
// an error matching rpc.ErrBadCall for out, after the handler ran) instead
// of anything JSON can convert; no JSON limit
// applies and nothing is decoded, so JSON decoding errors cannot happen;
// and values JSON would drop or reshape (unexported fields, fields tagged
// "-", custom marshalers) arrive unchanged.
package local

import (
	"context"

	"github.com/framerpc/framerpc/internal/inproc"
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
	// Codec encodes requests and decodes replies, as for
	// rpc.ClientOptions, and must be safe for concurrent use. nil means
	// rpc.StdJSON. The server's own codec (rpc.ServerOptions.Codec)
	// decodes the requests and encodes the replies.
	Codec rpc.JSONCodec
}

// Client calls the handlers of one rpc.Server in-process. It is safe for
// concurrent use; calls run concurrently.
type Client struct {
	c inproc.Client
}

// New returns a Client for the handlers registered on s. opts may be nil.
func New(s *rpc.Server, opts *Options) *Client {
	var o Options
	if opts != nil {
		o = *opts
	}
	var codec any
	if o.Codec != nil {
		codec = o.Codec
	}
	return &Client{c: inproc.NewClient(s, inproc.Options{Direct: o.Direct, MaxJSON: o.MaxJSON, Codec: codec})}
}

// Close makes later calls fail with rpc.ErrClosed.
func (c *Client) Close() error { return c.c.Close() }

// Call calls endpoint as rpc.Client.Call does, in-process.
func (c *Client) Call(ctx context.Context, endpoint string, in, out any) error {
	return c.c.Call(ctx, endpoint, in, out)
}
