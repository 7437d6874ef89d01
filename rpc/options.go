package rpc

import "time"

// Defaults of ServerOptions and ClientOptions.
const (
	// DefaultMaxJSON bounds a JSON body [RPC-16].
	DefaultMaxJSON = 16 << 20
	// DefaultMaxDiscard bounds what a side reads and throws away to keep a
	// connection in sync [RPC-15].
	DefaultMaxDiscard = 64 << 20
)

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
	// the next request; the server then sends RST and closes it [RPC-37].
	// 0 means no limit. Needs a net.Conn (see Serve).
	IdleTimeout time.Duration
	// IOTimeout is how long a single read or write may make no progress
	// once a request has started. Every read or write that moves bytes
	// renews it, so a slow but live peer is not cut off. A peer streams a
	// body in full 4 MiB frames until its last one [MSG-3], so a stream
	// whose source yields less than 4 MiB per IOTimeout looks stalled:
	// set it above the time the slowest expected source takes to fill a
	// frame. 0 means no limit.
	IOTimeout time.Duration
	// Extensions lists the extensions the server grants when a client asks.
	// nil means all of them (ExtTrailer, ExtMultipart, ExtDeadline); an
	// empty slice none.
	Extensions []string
	// Codec decodes JSON request bodies and encodes JSON replies, for
	// every connection at once. nil means encoding/json, with an encoder
	// and decoder reused per connection.
	Codec JSONCodec
	// Logf, if set, receives what the server cannot tell a peer: panics,
	// connections that ended with an error.
	Logf func(format string, args ...any)
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
	// which it sends before its first call with a stream (and, when the
	// list has ExtDeadline, before its first call whose context has a
	// deadline). nil means ExtTrailer and ExtMultipart; an empty slice
	// means none: no hello is ever sent and every byte the client writes
	// is what the original client would write. With ExtDeadline granted,
	// a call's deadline reaches the handler's context [RPC-44].
	Extensions []string
	// Codec encodes JSON request bodies and decodes JSON replies. nil
	// means encoding/json, with an encoder and decoder kept by the Client.
	Codec JSONCodec
	// IOTimeout is how long a single read or write may make no progress
	// within a call, as for ServerOptions: every read or write that moves
	// bytes renews it, so a slow but live stream is never cut; one that
	// stalls fails the call and closes the connection [RPC-38]. Waiting
	// for the reply header is such a read, so the bound must exceed the
	// longest time a handler takes to answer, and a streamed reply moves
	// in full 4 MiB frames [MSG-3], so it must exceed the time the
	// server's source takes to fill one. Reading a streamed reply
	// counts only while a Read is pending: the time the caller spends
	// between Reads is its own. While no call is in progress nothing is
	// bounded. 0 means no limit. Needs a net.Conn.
	IOTimeout time.Duration
}

// writeBufferSize is the buffer in which a side gathers the frames of its
// turn, flushed before it waits for the peer: a small exchange costs one
// write each way.
const writeBufferSize = 16 << 10

// limits fills in the defaults that ServerOptions and ClientOptions share.
func limits(maxJSON, maxDiscard *int64, extensions *[]string, defaults []string) {
	if *maxJSON <= 0 {
		*maxJSON = DefaultMaxJSON
	}
	if *maxDiscard <= 0 {
		*maxDiscard = DefaultMaxDiscard
	}
	if *extensions == nil {
		*extensions = defaults
	}
}
