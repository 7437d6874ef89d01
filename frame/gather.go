package frame

import (
	"fmt"
	"io"
	"net"
)

// NewBufferedWriter returns a Writer that gathers frames in a buffer of
// size bytes instead of writing each one as it is made, so that the frames
// of one side's turn (an RPC request, a reply) leave in as few writes as
// possible: a small exchange costs one system call each way, as a raw
// ping-pong does. A payload that does not fit goes straight to dst behind
// what is pending, in one vectored write on a net.Conn. The caller must
// call Flush before it waits for the peer, and after WriteRST.
func NewBufferedWriter(dst io.Writer, size int) *Writer {
	return &Writer{dst: &gatherWriter{dst: dst, buf: make([]byte, 0, size)}}
}

// Flush writes what a Writer from NewBufferedWriter holds, a pending RST
// included; on other Writers it does nothing. A failed flush is sticky,
// as a failed write is.
func (w *Writer) Flush() error {
	g, ok := w.dst.(*gatherWriter)
	if !ok {
		return nil
	}
	if err := g.flush(); err != nil {
		if w.err == nil || w.err == ErrWriterClosed {
			w.err = fmt.Errorf("frame: writing to the transport: %w", err)
		}
		return w.err
	}
	return nil
}

// gatherWriter is the buffer of NewBufferedWriter. It knows nothing of
// frames: the Writer above it decides where frames start.
type gatherWriter struct {
	dst io.Writer
	buf []byte
	vec vectored
	// err is sticky: after a failed write the stream may end inside a
	// frame, so nothing else may be written, not even RST.
	err error
}

func (g *gatherWriter) Write(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if len(g.buf)+len(p) <= cap(g.buf) {
		g.buf = append(g.buf, p...)
		return len(p), nil
	}
	g.err = g.vec.write(g.dst, g.buf, p)
	g.buf = g.buf[:0]
	if g.err != nil {
		return 0, g.err
	}
	return len(p), nil
}

func (g *gatherWriter) flush() error {
	if g.err != nil || len(g.buf) == 0 {
		return g.err
	}
	g.err = g.vec.write(g.dst, g.buf, nil)
	g.buf = g.buf[:0]
	return g.err
}

// vectored writes two buffers as one: one writev on a net.Conn, a Write
// per buffer on other writers (net.Buffers). It is kept in its owner so
// that a write allocates nothing.
type vectored struct {
	arr [2][]byte
	vec net.Buffers
}

func (v *vectored) write(dst io.Writer, a, b []byte) error {
	if len(a) == 0 || len(b) == 0 {
		// One buffer: a plain Write, no empty Write on a writer that is
		// not a net.Conn.
		p := a
		if len(a) == 0 {
			p = b
		}
		n, err := dst.Write(p)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
		return err
	}
	v.arr = [2][]byte{a, b}
	v.vec = v.arr[:]
	_, err := v.vec.WriteTo(dst)
	// Drop the references to the caller's buffers.
	v.arr = [2][]byte{}
	return err
}
