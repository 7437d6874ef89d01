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
// be encodable as JSON (no channels or funcs). JSON bodies get exactly
// encoding/json's bytes, values and error texts; plain types (structs of
// strings, numbers, booleans, slices and pointers) go through a compiled
// codec (about 3x faster to decode) that declines anything it cannot match
// exactly. A stream body handed to a handler is valid until the handler
// returns: the server then discards what the handler left unread (up to
// ServerOptions.MaxDiscard, after which it resets the connection), so a
// handler must not keep it or use it as its reply source. A reply source is
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
// Names starting with "framerpc:" are reserved for the protocol.
//
// # Clients
//
// Client.Call is safe for concurrent use; calls take turns. A streamed reply
// is an io.ReadCloser that holds the turn until it has been read to its end
// or closed; closing it early resets and closes the connection. Cancelling
// the call's context does the same. See Kinds for how in and out select the
// body kinds.
//
// # Errors
//
// A non-OK reply is an *Error carrying the Status and message (errors.As).
// ErrReset, ErrClosed and ErrProtocol (which also matches every error of
// package frame for a violation by the peer) classify connection failures;
// context errors are passed through, wrapped. Every error says whether the
// connection survived it: see Client.Call.
package rpc
