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
			// The call fails where it blocks and sends RST itself if
			// its writer is at a frame boundary.
			if c.dl != nil {
				c.dl.stop()
			}
			c.nc.SetDeadline(time.Unix(1, 0))
			return
		}
		// Only closing a plain stream unblocks the call. Unless a request
		// is being written, the writer is at a frame boundary and RST
		// goes first [RPC-33]; while one is, a frame may be half
		// written, and the stream is closed without it.
		if c.sending.TryLock() {
			if c.w.WriteRST() == nil {
				c.w.Flush()
			}
			c.sending.Unlock()
		}
		c.rwc.Close()
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
