package tap

import (
	"errors"
	"io"
	"sync"
)

// LiveBacklog bounds what the live view may fall behind the relay by.
const LiveBacklog = 64 << 20

// errBehind is what the live decoder reads once it fell too far behind: a
// read error, reported as such at the offset where its input stops.
var errBehind = errors.New("live view fell more than 64 MiB behind the connection; the capture files have everything")

// livePipe is a pipe whose writer never blocks: the relay must not wait
// for the live view.
type livePipe struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
	behind bool
}

func newLivePipe() *livePipe {
	p := &livePipe{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *livePipe) Write(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.behind || p.closed {
		return
	}
	if len(p.buf)+len(b) > LiveBacklog {
		p.behind, p.buf = true, nil
	} else {
		p.buf = append(p.buf, b...)
	}
	p.cond.Signal()
}

// Close marks the end of the stream.
func (p *livePipe) Close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Signal()
	p.mu.Unlock()
}

func (p *livePipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && !p.closed && !p.behind {
		p.cond.Wait()
	}
	if p.behind {
		return 0, errBehind
	}
	if len(p.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	return n, nil
}
