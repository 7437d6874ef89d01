// Package rpc implements the RPC layer of the framerpc protocol, sections 6
// to 10 of spec/PROTOCOL.md, on top of package frame: a Server that calls
// registered Go functions and a Client that calls them over one byte stream.
//
// # Exchanges
//
// A call is one exchange: the client sends a Header message (a JSON object
// naming the endpoint and the body kinds) and the request body; the server
// answers with a Header message carrying the status and, for OK, the reply
// body. One exchange is in progress on a connection at a time. Bodies are
// JSON (one Data message), octets (one Data message of any length), or,
// with the "multipart" extension, JSON metadata followed by octets. An
// exchange the original zrepl implementation could perform puts exactly the
// original's bytes on the wire; extensions are used only after both sides
// asked for them in a hello exchange (section 9).
//
// # Handlers
//
// A handler is a func registered under an endpoint name. Its parameters
// say everything about the exchange, and are checked once, when it is
// registered; a func that fits no form is an error from the registration
// call that names the problem. The forms are
//
//	func([ctx context.Context,] request..., reply...) error
//
// where request is one of
//
//	in *T                  a JSON body, decoded into a new T
//	in io.Reader           an octets body
//	in *T, body io.Reader  JSON metadata and an octets body ("push")
//
// and reply is one of
//
//	out *U                      a JSON body, encoded from a new U the handler fills
//	out *io.Reader              an octets body: the handler sets *out to its source
//	out *U, body *io.Reader     JSON metadata and an octets body
//
// The two-parameter forms without context are the original's. T and U must
// be encodable as JSON (no channels or funcs). A stream body handed to a
// handler is valid until the handler returns: the server then discards
// what the handler left unread (up to ServerOptions.MaxDiscard, after
// which it resets the connection), so a handler must not keep it or use it
// as its reply source. A reply source is
// read after the handler returns and is closed afterwards if it is an
// io.Closer. The context is cancelled when the connection ends or a forced
// Shutdown gives up on the call.
//
// The handler's error decides the status: nil is OK, an *Error sends its
// own status and message, any other error is status Error (4) with the
// error's text. A panic is caught and answered with ServerError; the server
// goes on serving. A request the handler cannot take (unknown endpoint,
// wrong body kinds, undecodable or oversized JSON) is answered with
// RequestError without calling it, after its body has been consumed so the
// connection stays in sync.
//
// Register registers the methods of a value the way net/rpc does: every
// exported method that has one of the forms above, under "Type.Method".
// An endpoint name is non-empty valid UTF-8 [RPC-12]; names starting with
// "framerpc:" are reserved for the protocol [RPC-24]. Registration refuses
// other names, and so does Client.Call, so a handler that could never be
// called is never registered.
//
// # Clients
//
// Client.Call is safe for concurrent use; calls take turns. Its in and out
// arguments select the body kinds as the handler forms do: an io.Reader
// in is an octets body, a Push JSON metadata and a stream; an *io.Reader
// or *io.ReadCloser out receives an octets body, a *Pull metadata and a
// stream; any other value is JSON. A streamed reply is an io.ReadCloser
// that holds the turn until it has been read to its end or closed; closing
// it early resets and closes the connection. Cancelling the call's context
// does the same.
//
// To call a remote server, use a Pool: it dials connections as calls
// need them (DialNet, DialTLS, or any DialFunc, such as a child process
// from package pipeconn), runs concurrent calls on separate connections
// so that a small call never waits behind a stream, and replaces a
// connection that failed. A Client is one connection, for when the
// caller manages it. Client, Pool and the in-process client of package
// local are each a Caller.
//
// # JSON bodies
//
// JSON bodies go through encoding/json by default, with the encoder and
// decoder state kept per connection: the bytes, values and error texts are
// json.Encoder's and json.Unmarshal's. ServerOptions.Codec and
// ClientOptions.Codec put another JSONCodec in its place; the bodies on the
// wire are then that codec's bytes, which must be JSON [RPC-18]. The RPC
// header is never the codec's: its bytes are fixed by [RPC-1] and written
// by this package.
//
// # Errors
//
// A non-OK reply is an *Error carrying the Status and message (errors.As).
// A violation by the peer matches ErrProtocol and is a *ProtocolError (the
// classes of section 10, with the rule broken) or a *frame.ProtocolError
// (section 5); ErrReset and ErrClosed classify the other ends of a
// connection; context errors are passed through, wrapped. Errors of a call
// that leave the connection usable have their own sentinels
// (ErrBodyTooLarge, ErrDecode, ErrStreamFailed, ErrBadCall, ErrUnsupported)
// or are *Error; Client.Call lists which survive. A call that failed
// before any byte of its request was written also matches ErrNotSent, and
// may be sent again on a fresh connection; Client.Err and Client.Done tell
// a client whose connection is gone, for instance closed by the server
// while idle.
package rpc
