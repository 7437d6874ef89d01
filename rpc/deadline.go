package rpc

import (
	"net"
	"time"
)

// deadlineConn renews a net.Conn's deadlines around every read and write
// (ServerOptions.IdleTimeout, IOTimeout) [RPC-38].
type deadlineConn struct {
	nc       net.Conn
	idle, io time.Duration
	waiting  bool // the next read waits for a request: the idle limit applies
	readSet  bool
	writeSet bool
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
			d.nc.SetReadDeadline(time.Now().Add(d.idle))
			d.readSet = true
		}
	}
}

// clearRead lifts the read deadline for a background read, which may wait
// as long as the handler runs.
func (d *deadlineConn) clearRead() {
	if d.readSet {
		d.nc.SetReadDeadline(time.Time{})
		d.readSet = false
	}
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	t := d.io
	if d.waiting {
		t = d.idle
	}
	if t > 0 {
		d.nc.SetReadDeadline(time.Now().Add(t))
		d.readSet = true
	} else if d.readSet {
		d.nc.SetReadDeadline(time.Time{})
		d.readSet = false
	}
	n, err := d.nc.Read(p)
	if n > 0 {
		d.waiting = false
	}
	return n, err
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	if d.io <= 0 {
		if d.writeSet {
			d.nc.SetWriteDeadline(time.Time{})
			d.writeSet = false
		}
		return d.nc.Write(p)
	}
	d.writeSet = true
	var done int
	for done < len(p) {
		chunk := p[done:min(len(p), done+writeChunk)]
		d.nc.SetWriteDeadline(time.Now().Add(d.io))
		n, err := d.nc.Write(chunk)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
