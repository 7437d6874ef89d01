package rpc

import "context"

// Caller is what Client, Pool and the in-process client of package local
// have in common: code that only makes calls takes a Caller and works over
// one connection, a pool of them, or no connection at all.
type Caller interface {
	Call(ctx context.Context, endpoint string, in, out any) error
}
