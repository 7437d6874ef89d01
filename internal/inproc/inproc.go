// Package inproc connects package local to the in-process client that
// package rpc implements, without rpc exporting it: rpc sets NewClient
// when it is initialised, and local, which imports rpc, calls it. The
// in-process client lives in rpc because it is the remote client without
// the wire: it shares the client's argument checks, error values and
// texts, and the server's dispatch, none of which are rpc's public API.
package inproc

import "context"

// Options are local.Options as rpc receives them. Codec is an
// rpc.JSONCodec or nil (typed as any: this package cannot import rpc).
type Options struct {
	Direct  bool
	MaxJSON int64
	Codec   any
}

// Client is the in-process client.
type Client interface {
	Call(ctx context.Context, endpoint string, in, out any) error
	Close() error
}

// NewClient returns an in-process client for server, an *rpc.Server. Set
// by package rpc.
var NewClient func(server any, opts Options) Client
