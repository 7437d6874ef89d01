package rpc

import (
	"io"
	"net"
)

// bufWriter sits between a frame.Writer and the transport and gathers the
// frames of one side's turn (a request, a reply) into as few writes as
// possible: a small call costs one system call each way, like a raw
// ping-pong, instead of one per frame. Large payloads go straight through,
// with what is pending, in one vectored write on a net.Conn.
//
// It has no notion of frames: the RPC layer flushes at the end of every
// turn, before it waits for the peer, and after RST.
type bufWriter struct {
	w   io.Writer
	buf []byte
	arr [2][]byte
	vec net.Buffers
	// err is sticky: after a failed write the stream may end inside a
	// frame, so nothing else may be written, not even RST.
	err error
}

const bufWriterSize = 16 << 10

func newBufWriter(w io.Writer) *bufWriter {
	return &bufWriter{w: w, buf: make([]byte, 0, bufWriterSize)}
}

func (b *bufWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) <= cap(b.buf) {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	if len(b.buf) == 0 {
		n, err := b.w.Write(p)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
		b.err = err
		return n, err
	}
	b.arr = [2][]byte{b.buf, p}
	b.vec = b.arr[:]
	_, err := b.vec.WriteTo(b.w)
	b.arr = [2][]byte{}
	b.buf = b.buf[:0]
	if err != nil {
		b.err = err
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is pending.
func (b *bufWriter) Flush() error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf) == 0 {
		return nil
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	b.buf = b.buf[:0]
	b.err = err
	return err
}
