package conform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Conn is the runner's end of one connection to an implementation under
// test: a socket, or the pipes to a spawned process.
type Conn interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	// CloseWrite ends the stream the implementation reads.
	CloseWrite() error
	// Close ends the connection (and reaps a spawned process).
	Close() error
}

// peer reads what an implementation sends, bounding every read so that an
// implementation that hangs is a failure rather than a hung runner.
type peer struct {
	conn    Conn
	timeout time.Duration
	got     []byte
	// end says why reading stopped early: the stream ended, a timeout, or
	// a transport error; "" while reading goes on.
	end string
}

// errStopped is returned once the peer's stream has ended or failed.
var errStopped = errors.New("stopped")

func (p *peer) readFull(n int) ([]byte, error) {
	if p.end != "" {
		return nil, errStopped
	}
	start := len(p.got)
	for len(p.got)-start < n {
		if err := p.conn.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
			p.end = "cannot set a read deadline: " + err.Error()
			return nil, errStopped
		}
		buf := make([]byte, min(n-(len(p.got)-start), 256<<10))
		k, err := p.conn.Read(buf)
		p.got = append(p.got, buf[:k]...)
		if err != nil {
			p.end = describeEnd(err, p.timeout)
			return nil, errStopped
		}
	}
	return p.got[start:], nil
}

// describeEnd names how the peer's stream stopped.
func describeEnd(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, io.EOF):
		return "the implementation closed the connection"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("nothing more arrived within %v", timeout)
	}
	return "reading failed: " + err.Error()
}

// readItems reads the messages and RSTs an implementation sends for one
// turn, following its frame headers: for each expected item, frames up to
// one with final 01, or an RST. It stops at anything that is not a valid
// frame header, at an RST (nothing may follow one), or when the stream
// stops; the comparison then shows where the bytes went wrong.
func (p *peer) readItems(items []byte) {
	for range items {
		for {
			h, err := p.readFull(frameHeaderLen)
			if err != nil {
				return
			}
			typ, final := h[0], h[1]
			if typ == typeRST {
				return
			}
			n := binary.LittleEndian.Uint32(h[2:])
			if typ < typeHeader || typ > typeTrailer || final > 1 || n > maxPayload {
				return
			}
			if _, err := p.readFull(int(n)); err != nil {
				return
			}
			if final == 1 {
				break
			}
		}
	}
}

// maxTail bounds what the runner reads after the expected bytes, waiting
// for the end of the stream: anything there is already a failure.
const maxTail = 1 << 20

// readToEnd reads until the implementation closes its side, the timeout,
// or maxTail bytes more.
func (p *peer) readToEnd() {
	limit := len(p.got) + maxTail
	for p.end == "" && len(p.got) < limit {
		if err := p.conn.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
			p.end = "cannot set a read deadline: " + err.Error()
			return
		}
		buf := make([]byte, 64<<10)
		k, err := p.conn.Read(buf)
		p.got = append(p.got, buf[:k]...)
		if err != nil {
			p.end = describeEnd(err, p.timeout)
		}
	}
}

// closed reports whether the implementation closed its side: the one
// acceptable way for reading to have stopped at the end.
func (p *peer) closed() bool { return p.end == "the implementation closed the connection" }

// send writes b within the timeout. A failed write is not in itself a
// failure (an implementation that rightly closed the connection after an
// error stops reading); what it sent is judged instead.
func send(c Conn, b []byte, timeout time.Duration) error {
	if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}
