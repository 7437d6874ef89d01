package rpc

import (
	"errors"
	"io"
	"syscall"
	"time"
)

// hangupReader lets a side notice that its peer went away while it waits
// for nothing from it: the server while a handler runs, the client while
// it is idle (idle.go). Once a request has been read, the client sends nothing
// until the reply (RST, or the end of the stream, are the only legitimate
// bytes), so a read issued in the background then can only return because
// the client reset, hung up or broke the protocol: the handler's context
// is cancelled. Whatever that read returns is kept and handed to the frame
// reader first, so the stream is never disturbed.
//
// Read is called by the connection's owner only (the server's connection
// goroutine, the client's turn holder, or the client's idle timer while
// nobody holds the turn: idle.go), and so are the other methods;
// watch starts the one background read, which Read waits for before
// reading on. The background reads run on one goroutine kept for the
// connection's life, so that watching costs no allocation per exchange;
// stop ends it.
type hangupReader struct {
	src  io.Reader // normal reads, deadlines included
	raw  io.Reader // the transport, for the background read
	buf  []byte
	r, w int
	err  error
	// reading: a background read was started and its return not yet
	// taken from ret.
	reading bool
	ret     chan struct{} // one token per returned background read
	start   chan func()   // starts a background read, with its callback
	stopped bool
}

func (w *hangupReader) Read(p []byte) (int, error) {
	w.wait()
	if w.r < w.w {
		n := copy(p, w.buf[w.r:w.w])
		w.r += n
		return n, nil
	}
	if w.err != nil {
		err := w.err
		w.err = nil
		return 0, err
	}
	return w.src.Read(p)
}

func (w *hangupReader) wait() {
	if w.reading {
		<-w.ret
		w.reading = false
	}
}

func (w *hangupReader) pending() bool { return w.reading }

// returnsSoon waits at most d for the background read to return, and
// reports whether bytes or an error are there to be read. With no read
// pending it starts one: what the peer sent may be waiting unread.
func (w *hangupReader) returnsSoon(d time.Duration) bool {
	w.watch(func() {})
	if w.reading {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-w.ret:
			w.reading = false
		case <-t.C:
			return false
		}
	}
	return w.r < w.w || w.err != nil
}

// arrived reports, without waiting, that the background read has returned
// bytes or an error not read yet.
func (w *hangupReader) arrived() bool {
	if w.reading {
		select {
		case <-w.ret:
			w.reading = false
		default:
			return false
		}
	}
	return w.r < w.w || w.err != nil
}

// watch starts the background read; cancel runs when it has returned,
// after Read may go on. It reports false, starting nothing, when a read is
// pending already, bytes or an error are waiting, or after stop.
func (w *hangupReader) watch(cancel func()) bool {
	if w.reading || w.r < w.w || w.err != nil || w.stopped {
		return false
	}
	if w.start == nil {
		w.buf = make([]byte, 512)
		w.ret = make(chan struct{}, 1)
		w.start = make(chan func(), 1)
		go w.loop(w.start, w.ret)
	}
	w.reading = true
	w.start <- cancel
	return true
}

// loop runs the background reads. The fields it sets are the owner's
// again once it has taken the token from ret.
func (w *hangupReader) loop(start <-chan func(), ret chan<- struct{}) {
	for cancel := range start {
		n, err := w.raw.Read(w.buf)
		w.r, w.w, w.err = 0, n, err
		ret <- struct{}{}
		cancel()
	}
}

// stop ends the background goroutine, after the pending read (if any)
// returns: call it once the connection is closed. watch does nothing
// afterwards.
func (w *hangupReader) stop() {
	if w.stopped {
		return
	}
	w.stopped = true
	if w.start != nil {
		close(w.start)
	}
}

// errNotQuiet: a background read is pending or left bytes, so the
// transport's next byte is not the stream's next one.
var errNotQuiet = errors.New("rpc: a background read holds the transport")

// SyscallConn gives the frame reader the transport's descriptor, so that
// a stream body copied into a pipe or a file moves by splice(2), while no
// background read is pending or left anything to read; otherwise, or on a
// transport without a descriptor, it fails and the frame reader reads in
// user space.
func (w *hangupReader) SyscallConn() (syscall.RawConn, error) {
	if w.reading || w.r < w.w || w.err != nil {
		return nil, errNotQuiet
	}
	sc, ok := w.src.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}
