package rpc

import (
	"context"
	"time"
)

// interrupt arms the cancellation of one call: when its context ends,
// blocked I/O on the connection is interrupted [RPC-33] and the call
// fails, ending the connection.
type interrupt struct {
	disarm func() bool
	done   chan struct{}
}

// interruptOn arms an interrupt for ctx; nil if ctx cannot end.
func (c *Client) interruptOn(ctx context.Context) *interrupt {
	if ctx.Done() == nil {
		return nil
	}
	ic := &interrupt{done: make(chan struct{})}
	ic.disarm = context.AfterFunc(ctx, func() {
		defer close(ic.done)
		if c.nc != nil {
			c.nc.SetDeadline(time.Unix(1, 0))
		} else {
			c.rwc.Close()
		}
	})
	return ic
}

// stop disarms the interrupt; true means it fired, so the connection was
// interrupted and the call must be treated as cancelled.
func (ic *interrupt) stop() bool {
	if ic == nil || ic.disarm() {
		return false
	}
	<-ic.done
	return true
}
