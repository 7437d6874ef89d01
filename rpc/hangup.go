package rpc

import (
	"io"
)

// hangupReader lets the server notice a client that goes away while a
// handler runs. Once a request has been read, the client sends nothing
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

// watch starts the background read; cancel runs when it returns.
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
		cancel()
		close(done)
	}()
	return true
}
