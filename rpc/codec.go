package rpc

import (
	"bytes"
	"encoding/json"
)

// JSONCodec encodes and decodes the JSON bodies of calls (section 7),
// as connect-go and gRPC let a program choose its codec: for speed, or for
// another JSON library's handling of values. It is not used for the RPC
// header, whose bytes [RPC-1] fixes.
//
// The body bytes on the wire are then the codec's, and they must still be
// JSON [RPC-18]: the peer decodes them with its own codec. A codec set in
// ServerOptions serves all of a server's connections at once and must be
// safe for concurrent use; so must one set in local's options.
type JSONCodec interface {
	// MarshalAppend appends the JSON encoding of v to dst and returns the
	// extended slice. On error it returns dst unchanged (or a slice with
	// dst's contents) and nothing is sent.
	MarshalAppend(dst []byte, v any) ([]byte, error)
	// Unmarshal decodes one JSON value, the whole of data but for JSON
	// white space, into v, a non-nil pointer. data is the connection's
	// buffer, reused for the next body: v must not keep it.
	Unmarshal(data []byte, v any) error
}

// StdJSON is the default codec: encoding/json's Marshal, followed by a
// newline as json.Encoder writes it (the original's bytes), and
// encoding/json's Unmarshal. It keeps no state, so it is safe for
// concurrent use. Connections that use the default keep a reusing
// variant of it instead, with the same bytes, values and errors.
var StdJSON JSONCodec = stdJSON{}

type stdJSON struct{}

func (stdJSON) MarshalAppend(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(append(dst, b...), '\n'), nil
}

func (stdJSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// connJSON is the default codec of one connection: encoding/json's bytes,
// values and error texts, with the encoder and decoder states kept from
// body to body (json.Marshal and json.Unmarshal set up fresh ones for every
// call). Not safe for concurrent use: a connection has one exchange at a
// time.
type connJSON struct {
	out appender
	enc *json.Encoder

	in  bytes.Reader
	dec *json.Decoder
	// fed is the stream offset, in the decoder's view, where the current
	// body starts: the decoder sees all bodies as one stream.
	fed int64
}

// maxReusedBody bounds the bodies that go through the reused decoder,
// which keeps a buffer as large as the largest body it has read.
const maxReusedBody = 64 << 10

func newConnJSON() *connJSON {
	c := &connJSON{}
	c.enc = json.NewEncoder(&c.out)
	return c
}

// appender is the io.Writer json.Encoder writes into: the caller's slice.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func (c *connJSON) MarshalAppend(dst []byte, v any) ([]byte, error) {
	c.out.b = dst
	err := c.enc.Encode(v)
	b := c.out.b
	c.out.b = nil
	if err != nil {
		return dst, err
	}
	return b, nil
}

// Unmarshal decodes through the kept json.Decoder. A body the decoder does
// not take cleanly (a syntax or type error, bytes after the value, an empty
// body) is decoded again by json.Unmarshal, which decides and words the
// error, so that the result is always json.Unmarshal's.
func (c *connJSON) Unmarshal(data []byte, v any) error {
	if len(data) > maxReusedBody {
		return json.Unmarshal(data, v)
	}
	if c.dec == nil {
		c.dec = json.NewDecoder(&c.in)
		c.fed = 0
	}
	c.in.Reset(data)
	start := c.fed
	c.fed += int64(len(data))
	if err := c.dec.Decode(v); err == nil && onlySpace(data[c.dec.InputOffset()-start:]) {
		return nil
	}
	c.dec = nil
	return json.Unmarshal(data, v)
}

// onlySpace reports whether b is JSON white space only.
func onlySpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
