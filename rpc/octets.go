package rpc

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

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

// okTrailer is the Trailer of a body that ended well [RPC-22].
var okTrailer = appendTrailer(nil, StatusOK, "")

// sendOctets writes src as one Data message, and with the trailer extension
// its Trailer [RPC-21], [RPC-22]. src is closed afterwards if it is an
// io.Closer. A source failing half-way ends the body with a failure Trailer
// when the extension is on, the connection staying usable [RPC-23]: srcErr
// is the source's error and err is nil. Without the extension only RST can
// tell the reader: RST is sent and err, which ends the connection, wraps
// srcErr. err also reports a failed transport.
func sendOctets(w *frame.Writer, src io.Reader, trailer bool, scratch *[]byte) (srcErr, err error) {
	defer closeSource(src)
	mw, err := w.NewMessage(frame.TypeData)
	if err != nil {
		return nil, fmt.Errorf("rpc: writing a stream body: %w", err)
	}
	_, srcErr = mw.ReadFrom(src)
	if w.Err() != nil {
		return srcErr, fmt.Errorf("rpc: writing a stream body: %w", w.Err())
	}
	if srcErr != nil && !trailer {
		w.WriteRST()
		return srcErr, fmt.Errorf("rpc: stream source failed without the trailer extension, connection reset [RPC-23]: %w", srcErr)
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
		*scratch = appendTrailer((*scratch)[:0], st, clampMessage(msg))
		t = *scratch
	}
	if err := w.WriteMessage(frame.TypeTrailer, t); err != nil {
		return srcErr, fmt.Errorf("rpc: writing a trailer: %w", err)
	}
	return srcErr, nil
}

// readTrailer finishes an octets body whose Data message has ended: with
// the trailer extension it reads the Trailer and returns io.EOF for OK or
// a *Error for a failure [RPC-22]; anything else is an error that
// ends the connection.
func readTrailer(r *frame.Reader, trailer bool, scratch *[]byte) error {
	if !trailer {
		return io.EOF
	}
	m, err := r.NextMessage(frame.TypeTrailer)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("rpc: reading a trailer: %w", err)
	}
	b, err := m.AppendTo((*scratch)[:0])
	*scratch = b[:0]
	if err != nil {
		return fmt.Errorf("rpc: reading a trailer: %w", err)
	}
	var h header
	if err := parseHeader(b, &h, ClassBadTrailer); err != nil {
		return err
	}
	if !h.Error.Valid() {
		return headerError(ClassBadTrailer, "RPC-22", "trailer status %d", h.Error)
	}
	if h.Error == StatusOK {
		return io.EOF
	}
	return &Error{Status: h.Error, Message: h.ErrorMessage}
}

// isEndOfBody: the error a stream body ends with when the connection is
// still in sync.
func isEndOfBody(err error) bool {
	var se *Error
	return err == io.EOF || errors.As(err, &se)
}

// clampMessage shortens an error message so that the reply header carrying
// it fits in one Header message of frame.MaxControlMessage bytes [RPC-11].
// It cuts at a character boundary and marks the cut.
func clampMessage(msg string) string {
	// The longest reply header without a message, with the largest
	// numbers: well under 128 bytes.
	const room = frame.MaxControlMessage - 128
	if len(msg) <= room/6 {
		return msg
	}
	if len(wire.AppendString(nil, msg)) <= room {
		return msg
	}
	const mark = " [truncated]"
	cut := len(msg)
	for {
		cut = cut * 3 / 4
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		m := msg[:cut] + mark
		if len(wire.AppendString(nil, m)) <= room {
			return m
		}
	}
}
