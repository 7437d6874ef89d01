package rpc

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// deadlineConn renews a net.Conn's deadlines around every read and write
// (ServerOptions.IdleTimeout, IOTimeout; ClientOptions.IOTimeout) [RPC-38].
type deadlineConn struct {
	nc       net.Conn
	idle, io time.Duration
	waiting  bool // the next read waits for a request: the idle limit applies
	readSet  bool
	writeSet bool
	// stopped: a cancelled call set a deadline in the past to interrupt
	// the connection; no renewal may undo it.
	stopped atomic.Bool
}

// stop makes every later renewal keep the deadline in the past, from
// another goroutine than the one reading and writing.
func (d *deadlineConn) stop() { d.stopped.Store(true) }

// setRead and setWrite renew a deadline unless the connection was
// interrupted meanwhile.
func (d *deadlineConn) setRead(t time.Time) {
	d.nc.SetReadDeadline(t)
	if d.stopped.Load() {
		d.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (d *deadlineConn) setWrite(t time.Time) {
	d.nc.SetWriteDeadline(t)
	if d.stopped.Load() {
		d.nc.SetWriteDeadline(time.Unix(1, 0))
	}
}

// armRead starts the I/O bound on a read that may already be pending
// (the client's read while idle).
func (d *deadlineConn) armRead() {
	d.setRead(time.Now().Add(d.io))
	d.readSet = true
}

// writeChunk bounds one write under IOTimeout, so that each chunk's
// progress renews the deadline.
const writeChunk = 256 << 10

// waitRequest switches to the idle limit; with a background read pending
// (hangupReader) the limit is put on that read.
func (d *deadlineConn) waitRequest(pending bool) {
	d.waiting = true
	if pending {
		if d.idle > 0 {
			d.setRead(time.Now().Add(d.idle))
			d.readSet = true
		}
	}
}

// clearRead lifts the read deadline for a background read, which may wait
// as long as the handler runs.
func (d *deadlineConn) clearRead() {
	if d.readSet {
		d.setRead(time.Time{})
		d.readSet = false
	}
}

// renewRead sets the read deadline for the next read.
func (d *deadlineConn) renewRead() {
	t := d.io
	if d.waiting {
		t = d.idle
	}
	if t > 0 {
		d.setRead(time.Now().Add(t))
		d.readSet = true
	} else if d.readSet {
		d.setRead(time.Time{})
		d.readSet = false
	}
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	d.renewRead()
	n, err := d.nc.Read(p)
	if n > 0 {
		d.waiting = false
	}
	return n, err
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	if d.io <= 0 {
		if d.writeSet {
			d.setWrite(time.Time{})
			d.writeSet = false
		}
		return d.nc.Write(p)
	}
	d.writeSet = true
	var done int
	for done < len(p) {
		chunk := p[done:min(len(p), done+writeChunk)]
		d.setWrite(time.Now().Add(d.io))
		n, err := d.nc.Write(chunk)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// SyscallConn lets the frame layer splice stream bodies through the
// connection, with the deadlines renewed before each splice as before
// each Read and Write.
func (d *deadlineConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := d.nc.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &deadlineRawConn{d: d, rc: rc}, nil
}

// deadlineRawConn is a deadlineConn's descriptor: each Read or Write of
// it is one splice, which moves bytes or fails, so renewing the deadline
// before each bounds how long one makes no progress [RPC-38].
type deadlineRawConn struct {
	d  *deadlineConn
	rc syscall.RawConn
}

func (c *deadlineRawConn) Control(f func(fd uintptr)) error { return c.rc.Control(f) }

func (c *deadlineRawConn) Read(f func(fd uintptr) bool) error {
	c.d.renewRead()
	return c.rc.Read(f)
}

func (c *deadlineRawConn) Write(f func(fd uintptr) bool) error {
	d := c.d
	if d.io > 0 {
		d.setWrite(time.Now().Add(d.io))
		d.writeSet = true
	} else if d.writeSet {
		d.setWrite(time.Time{})
		d.writeSet = false
	}
	return c.rc.Write(f)
}
