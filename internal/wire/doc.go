// Package wire holds the RPC layer's message formats, spec/PROTOCOL.md
// section 6: the JSON object of Header and Trailer messages, its exact
// encoding [RPC-1] and its strict decoding [RPC-3] to [RPC-8], and the
// DataType and Status numbers carried in it.
//
// It is internal because it is plumbing: package rpc (and through it
// package local) speaks the protocol through it, and cmd/framedump decodes
// captures with it, so that a header is read the same way everywhere. It knows nothing of
// connections, frames or handlers.
package wire
