package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// readLimited appends the rest of m to buf while it stays within limit
// bytes. over reports a body longer than limit; the message is then left
// unfinished for the caller to discard.
func readLimited(m *frame.MessageReader, buf []byte, limit int64) (b []byte, over bool, err error) {
	for {
		if int64(len(buf)) > limit {
			return buf, true, nil
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(max(cap(buf), 512), int(limit+1-int64(len(buf)))))
		}
		end := cap(buf)
		if int64(end) > limit+1 {
			end = int(limit + 1)
		}
		n, err := m.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > limit {
				return buf, true, nil
			}
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}

// nextPart starts the next message of an exchange that has begun, where
// the end of the stream is a truncation, never a clean end [RPC-14],
// [ERR-2]: class unexpected-eof at the offset where it ended.
func nextPart(r *frame.Reader, t frame.Type) (*frame.MessageReader, error) {
	m, err := r.NextMessage(t)
	if err == io.EOF {
		err = &frame.ProtocolError{Class: frame.ClassUnexpectedEOF, Rule: "RPC-14", Offset: r.Offset(),
			Detail: "stream ended between the messages of an exchange"}
	}
	return m, err
}

// okTrailer is the Trailer of a body that ended well [RPC-22].
var okTrailer = wire.AppendTrailer(nil, wire.StatusOK, "")

// sendOctets writes src as one Data message, and with the trailer extension
// its Trailer [RPC-21], [RPC-22]. src is closed afterwards if it is an
// io.Closer. A source failing half-way ends the body with a failure Trailer
// when the extension is on, the connection staying usable [RPC-23]: srcErr
// is the source's error and err is nil. Without the extension only RST can
// tell the reader: RST is sent and err, which ends the connection, wraps
// srcErr. err also reports a failed transport.
//
// A source that panics (in Read or Close) fails as any other, except that
// the connection is reset even with the trailer extension: the panic is
// a bug on this side, and ending the connection is the safe reaction.
func sendOctets(w *frame.Writer, src io.Reader, trailer bool, scratch *[]byte) (srcErr, err error) {
	g := &guardedSource{r: src}
	defer func() {
		if cerr := closeSource(src); cerr != nil && err == nil && errors.As(cerr, new(stackTracer)) {
			w.WriteRST()
			err = fmt.Errorf("%w, connection reset: %w", ErrStreamFailed, cerr)
		}
	}()
	mw, err := w.NewMessage(frame.TypeData)
	if err != nil {
		return nil, fmt.Errorf("rpc: writing a stream body: %w", err)
	}
	srcErr = copySource(mw, src, g)
	if w.Err() != nil {
		return srcErr, fmt.Errorf("rpc: writing a stream body: %w", w.Err())
	}
	if g.panicked != nil {
		w.WriteRST()
		return srcErr, fmt.Errorf("%w, connection reset: %w", ErrStreamFailed, srcErr)
	}
	if srcErr != nil && !trailer {
		w.WriteRST()
		return srcErr, fmt.Errorf("%w without the trailer extension, connection reset [RPC-23]: %w", ErrStreamFailed, srcErr)
	}
	if err := mw.Close(); err != nil {
		return srcErr, fmt.Errorf("rpc: writing a stream body: %w", err)
	}
	if !trailer {
		return nil, nil
	}
	t := okTrailer
	if srcErr != nil {
		st, msg := statusOf(srcErr)
		*scratch = wire.AppendTrailer((*scratch)[:0], wire.Status(st), clampMessage(msg))
		t = *scratch
	}
	if err := w.WriteMessage(frame.TypeTrailer, t); err != nil {
		return srcErr, fmt.Errorf("rpc: writing a trailer: %w", err)
	}
	return srcErr, nil
}

// copySource copies src into mw. A source that is a file (an *os.File, a
// pipe from zfs send for one, or an io.LimitReader of one) goes to the
// frame writer as it is, so that it can splice it to the transport; it
// cannot panic and needs no guard. Any other source is read through g.
func copySource(mw *frame.MessageWriter, src io.Reader, g *guardedSource) error {
	if e, ok := src.(*earlyStop); ok {
		if f, ok := e.r.(*os.File); ok {
			return e.copyFile(mw, f)
		}
	} else if isFile(src) {
		_, err := mw.ReadFrom(src)
		return err
	}
	_, err := mw.ReadFrom(g)
	return err
}

// isFile: src is an *os.File or an io.LimitReader of one.
func isFile(src io.Reader) bool {
	if lr, ok := src.(*io.LimitedReader); ok {
		src = lr.R
	}
	_, ok := src.(*os.File)
	return ok
}

// readTrailer finishes an octets body whose Data message has ended: with
// the trailer extension it reads the Trailer, decoded as [RPC-48] says,
// and returns io.EOF for OK or a *Error for a failure [RPC-22]; anything
// else is an error that ends the connection.
func readTrailer(r *frame.Reader, trailer bool, scratch *[]byte) error {
	if !trailer {
		return io.EOF
	}
	m, err := nextPart(r, frame.TypeTrailer)
	if err != nil {
		return fmt.Errorf("rpc: reading a trailer: %w", err)
	}
	b, err := m.AppendTo((*scratch)[:0])
	*scratch = b[:0]
	if err != nil {
		return fmt.Errorf("rpc: reading a trailer: %w", err)
	}
	var h header
	if err := parseHeader(b, &h, ClassBadTrailer, ""); err != nil {
		return err
	}
	if !h.Error.Valid() {
		return protocolError(ClassBadTrailer, "RPC-48", "trailer status %d", h.Error)
	}
	if h.Error == wire.StatusOK {
		return io.EOF
	}
	return &Error{Status: Status(h.Error), Message: h.ErrorMessage}
}

// errEarlyReply stops a request stream whose reply has begun to arrive:
// the server refused the call before reading the stream [RPC-43].
var errEarlyReply = errors.New("the server replied before the end of the request")

// earlyStop is a client's request stream, which stops as soon as the
// server's reply arrives: with the trailer extension the body then ends
// with a failure Trailer and the connection stays usable, without it the
// client resets the connection [RPC-43]. Either way the caller gets the
// server's answer, not a broken pipe. It is no io.Closer, so sendOctets
// leaves the caller's source open, as Push documents: the source is the
// caller's, as a reply source is the server's.
type earlyStop struct {
	r   io.Reader
	hup *hangupReader
}

func (e *earlyStop) Read(p []byte) (int, error) {
	if e.hup.arrived() {
		return 0, errEarlyReply
	}
	return e.r.Read(p)
}

// earlyStopChunk is how much of a file goes out between two looks for an
// early reply: whole frames, each of which the frame writer can splice.
const earlyStopChunk = 4 * frame.MaxPayload

// copyFile is Read's early stop for a file source, chunk by chunk, so
// that the frame writer sees the file itself and splices it.
func (e *earlyStop) copyFile(mw *frame.MessageWriter, f *os.File) error {
	for {
		if e.hup.arrived() {
			return errEarlyReply
		}
		lr := io.LimitedReader{R: f, N: earlyStopChunk}
		if _, err := mw.ReadFrom(&lr); err != nil || lr.N > 0 {
			// An error, or the end of the file.
			return err
		}
	}
}

// isEndOfBody: the error a stream body ends with when the connection is
// still in sync.
func isEndOfBody(err error) bool {
	var se *Error
	return err == io.EOF || errors.As(err, &se)
}

// requestBody is the octets request body as a handler reads it. It is
// valid until the handler returns; the server then drains what is left.
type requestBody struct {
	mu      sync.Mutex
	c       *serverConn
	m       *frame.MessageReader
	end     error // io.EOF, a *Error from the trailer, or a stream error
	invalid bool
	read    bool // the handler read from it
}

// touched reports whether the handler read from the body at all.
func (b *requestBody) touched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read
}

var errBodyGone = errors.New("rpc: request body read after its handler returned")

func (b *requestBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.read = true
	if b.invalid {
		return 0, errBodyGone
	}
	if b.end != nil {
		return 0, b.end
	}
	n, err := b.m.Read(p)
	if err == io.EOF {
		b.end = readTrailer(b.c.r, b.c.ext.trailer, &b.c.hbuf)
		if n > 0 {
			return n, nil
		}
		return 0, b.end
	}
	if err != nil {
		b.end = err
	}
	return n, err
}

// WriteTo lets io.Copy move the body straight from the frame reader.
func (b *requestBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.read = true
	if b.invalid {
		return 0, errBodyGone
	}
	if b.end != nil {
		if b.end == io.EOF {
			return 0, nil
		}
		return 0, b.end
	}
	n, err := b.m.WriteTo(w)
	if err != nil {
		if b.c.r.Err() != nil {
			b.end = err
		}
		return n, err
	}
	b.end = readTrailer(b.c.r, b.c.ext.trailer, &b.c.hbuf)
	if b.end == io.EOF {
		return n, nil
	}
	return n, b.end
}

// finish invalidates the body and consumes what the handler left, within
// MaxDiscard [RPC-15], [RPC-20]. A failure status in the trailer is the
// handler's business; only a broken stream is an error here.
func (b *requestBody) finish() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.invalid = true
	if b.end == nil {
		if _, err := b.m.DiscardAtMost(b.c.s.opts.MaxDiscard); err != nil {
			return fmt.Errorf("rpc: discarding the rest of the request body: %w", err)
		}
		b.end = readTrailer(b.c.r, b.c.ext.trailer, &b.c.hbuf)
	}
	var se *Error
	if b.end == io.EOF || errors.As(b.end, &se) {
		return nil
	}
	return b.end
}

// replyBody is a streamed reply. It holds the client's turn until its end
// (io.EOF, or an *Error from a failure trailer, the connection staying
// usable) or until Close.
type replyBody struct {
	c   *Client
	ctx context.Context
	m   *frame.MessageReader
	ic  *interrupt
	end error // set once the turn is given back
}

// errStreamClosed is the cause recorded when a stream is closed early.
var errStreamClosed = errors.New("rpc: reply stream closed before its end")

func (b *replyBody) Read(p []byte) (int, error) {
	if b.end != nil {
		return 0, b.end
	}
	n, err := b.m.Read(p)
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		b.finish(readTrailer(b.c.r, b.c.ext.trailer, &b.c.hbuf))
	} else {
		b.finish(fmt.Errorf("rpc: reading the reply stream: %w", err))
	}
	if n > 0 {
		return n, nil
	}
	return 0, b.end
}

// WriteTo moves the stream straight from the frame reader's buffer.
func (b *replyBody) WriteTo(w io.Writer) (int64, error) {
	if b.end != nil {
		if b.end == io.EOF {
			return 0, nil
		}
		return 0, b.end
	}
	n, err := b.m.WriteTo(w)
	if err != nil {
		if b.c.r.Err() != nil {
			b.finish(fmt.Errorf("rpc: reading the reply stream: %w", err))
			return n, b.end
		}
		// The destination failed; the stream is intact and still ours.
		return n, err
	}
	b.finish(readTrailer(b.c.r, b.c.ext.trailer, &b.c.hbuf))
	if b.end == io.EOF {
		return n, nil
	}
	return n, b.end
}

// finish records how the stream ended and gives the turn back.
func (b *replyBody) finish(end error) {
	c := b.c
	if isEndOfBody(end) {
		if b.ic.stop() {
			end = c.fail(b.ctx, nil, errors.New("stream ended as the call was cancelled"))
		}
	} else {
		end = c.fail(b.ctx, b.ic, end)
	}
	b.end = end
	c.release()
}

// drop consumes a stream nobody will read, within MaxDiscard.
func (b *replyBody) drop() {
	if _, err := b.m.DiscardAtMost(b.c.opts.MaxDiscard); err != nil {
		b.end = b.c.fail(b.ctx, b.ic, fmt.Errorf("rpc: discarding the reply stream: %w", err))
		return
	}
	end := readTrailer(b.c.r, b.c.ext.trailer, &b.c.hbuf)
	if !isEndOfBody(end) {
		b.end = b.c.fail(b.ctx, b.ic, end)
		return
	}
	b.ic.stop()
	b.end = end
}

// Close gives the stream up. Before its end this aborts the call: the
// client sends RST and closes the connection, and later calls fail with
// ErrClosed [RPC-32].
func (b *replyBody) Close() error {
	if b.end != nil {
		return nil
	}
	b.c.fail(b.ctx, b.ic, errStreamClosed)
	b.end = &closedError{cause: errStreamClosed}
	b.c.release()
	return nil
}
