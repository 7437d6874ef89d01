package rpc

import (
	"io"
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
// Read is called by the connection's goroutine only; watch starts the one
// background read, which Read waits for before reading on.
type hangupReader struct {
	src  io.Reader // normal reads, deadlines included
	raw  io.Reader // the transport, for the background read
	buf  []byte
	r, w int
	err  error
	done chan struct{} // non-nil while a background read may be pending
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
	if w.done != nil {
		<-w.done
		w.done = nil
	}
}

func (w *hangupReader) pending() bool { return w.done != nil }

// returnsSoon waits at most d for the background read to return, and
// reports whether bytes or an error are there to be read.
func (w *hangupReader) returnsSoon(d time.Duration) bool {
	if w.done != nil {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-w.done:
		case <-t.C:
			return false
		}
	}
	return w.r < w.w || w.err != nil
}

// arrived reports, without waiting, that the background read has returned
// bytes or an error not read yet.
func (w *hangupReader) arrived() bool {
	if w.done != nil {
		select {
		case <-w.done:
		default:
			return false
		}
	}
	return w.r < w.w || w.err != nil
}

// watch starts the background read; cancel runs when it has returned,
// after Read may go on.
func (w *hangupReader) watch(cancel func()) bool {
	if w.done != nil || w.r < w.w || w.err != nil {
		return false
	}
	if w.buf == nil {
		w.buf = make([]byte, 512)
	}
	done := make(chan struct{})
	w.done = done
	go func() {
		n, err := w.raw.Read(w.buf)
		w.r, w.w, w.err = 0, n, err
		close(done)
		cancel()
	}()
	return true
}
