package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/framerpc/framerpc/frame"
)

// Error is a non-OK outcome reported by the peer: a reply header with a
// status other than OK, or a Trailer that ends a stream with a failure. A
// handler (or a stream source) may return one to choose the status sent;
// any other error is sent as StatusError with the error's text. Match it
// with errors.As.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("rpc: %v: %s", e.Status, e.Message)
}

// statusOf maps an error to the status and message that carry it to the
// peer: a *Error anywhere in the chain keeps its own, anything else is
// Error with its text.
func statusOf(err error) (Status, string) {
	var se *Error
	if errors.As(err, &se) && se.Status.valid() && se.Status != StatusOK {
		return se.Status, se.Message
	}
	return StatusError, err.Error()
}

// Sentinels. Errors returned by this package wrap them, so errors.Is works
// through the added context.
var (
	// ErrProtocol matches every violation of the protocol by the peer, at
	// the frame layer (it is frame.ErrProtocol, matched by every
	// *frame.ProtocolError of a violation class) or at this layer (every
	// *ProtocolError). The connection is reset and closed.
	ErrProtocol = frame.ErrProtocol
	// ErrReset: the peer sent RST; the connection is over.
	ErrReset = frame.ErrReset
	// ErrClosed: the connection is closed: by Close, by an aborted call or
	// stream, by the peer ending the stream mid-exchange (the error then
	// also matches io.ErrUnexpectedEOF), by the server closing it while
	// the client was idle, or because the transport failed (the
	// transport's error stays in the chain). Calls on a client that is no
	// longer usable fail with Client.Err: ErrClosed, with the original
	// cause in its text only.
	ErrClosed = errors.New("rpc: connection closed")
	// ErrNotSent: the call failed on a connection that was or became
	// unusable before any byte of its request was written to the
	// transport, so no handler can have seen it: safe to retry on a fresh
	// connection. It comes with ErrClosed (and the reason, such as
	// ErrReset); a call whose request may have reached a handler never
	// matches it.
	ErrNotSent = errors.New("rpc: request not sent")
	// ErrBodyTooLarge: a JSON reply body was longer than the client's
	// MaxJSON. The call fails; the connection stays usable unless the body
	// also ran past MaxDiscard, in which case the client resets and closes
	// it. (A request body over the server's limit is a RequestError reply
	// instead.)
	ErrBodyTooLarge = errors.New("rpc: JSON body longer than the limit")
	// ErrUnsupported: the call needs an extension the peer did not grant.
	// Nothing was sent.
	ErrUnsupported = errors.New("rpc: extension not granted by the peer")
	// ErrBadCall: the arguments of a call cannot be sent (out is not a
	// pointer, the endpoint name is invalid [RPC-12] or reserved
	// [RPC-24], the request does not encode as JSON). Nothing was sent.
	ErrBadCall = errors.New("rpc: invalid call arguments")
	// ErrDecode: a JSON reply body did not decode into the call's out
	// [RPC-18]; the codec's error stays in the chain. The connection stays
	// usable.
	ErrDecode = errors.New("rpc: JSON reply body not decodable")
	// ErrStreamFailed: the source of a stream this side was sending (for a
	// client a pushed request stream, for Serve a reply stream) failed
	// before its end. With the trailer extension the connection stays
	// usable and a call's error joins it with the reply's outcome; without
	// it the connection is reset and closed [RPC-23]. The source's error
	// stays in the chain.
	ErrStreamFailed = errors.New("rpc: stream source failed")
)

// Class is the error class of a ProtocolError: the RPC layer's list of
// spec section 10, named there exactly as String returns.
type Class uint8

// The error classes of the RPC layer.
const (
	// ClassBadHeader: a Header message that is not a valid header where it
	// appears [RPC-3] to [RPC-9].
	ClassBadHeader Class = iota + 1
	// ClassBadTrailer: a Trailer message that is not a valid trailer
	// [RPC-22].
	ClassBadTrailer
	// ClassBadReply: a well-formed reply header the client cannot accept
	// [RPC-10], [RPC-17], [RPC-25].
	ClassBadReply
)

func (c Class) String() string {
	switch c {
	case ClassBadHeader:
		return "bad-header"
	case ClassBadTrailer:
		return "bad-trailer"
	case ClassBadReply:
		return "bad-reply"
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// ProtocolError is a violation of sections 6 to 9 by the peer. The
// connection it was found on is reset and closed. It matches ErrProtocol.
// Violations of the frame and message layers are *frame.ProtocolError.
type ProtocolError struct {
	Class Class
	// Rule is the spec rule the peer broke, e.g. "RPC-5".
	Rule   string
	Detail string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("rpc: %s [%s]: %s", e.Class, e.Rule, e.Detail)
}

// Is makes errors.Is(err, ErrProtocol) hold.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

func protocolError(class Class, rule, format string, args ...any) error {
	return &ProtocolError{Class: class, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// closedError is ErrClosed plus the reason the connection died.
type closedError struct{ cause error }

func (e *closedError) Error() string {
	if e.cause == nil {
		return ErrClosed.Error()
	}
	return ErrClosed.Error() + ": " + e.cause.Error()
}

func (e *closedError) Is(target error) bool { return target == ErrClosed }
func (e *closedError) Unwrap() error        { return e.cause }

// deadError is what every call gets once the client is unusable
// (Client.Err): ErrClosed, and the text of the original cause, which it
// does not match, since that cause (a cancelled context, an exceeded
// deadline, a violation) belonged to the call that met it. Nothing of the
// call was sent.
//
// A close by the server while the client was idle belongs to no call:
// the calls that meet it match it (ErrReset for an RST) as well.
type deadError struct {
	reason string
	idle   *idleCloseError
}

func (e *deadError) Error() string {
	if e.reason == "" {
		return ErrClosed.Error()
	}
	return ErrClosed.Error() + " earlier: " + strings.TrimPrefix(e.reason, "rpc: ")
}

func (e *deadError) Is(target error) bool {
	return target == ErrClosed || target == ErrNotSent || (e.idle != nil && e.idle.Is(target))
}

// idleCloseError: the server closed the connection, after RST or not,
// while the client was idle [RPC-37], [RPC-42].
type idleCloseError struct {
	reset bool
	cause error // frame.ErrReset or io.EOF
}

func (e *idleCloseError) Error() string {
	if e.reset {
		return "rpc: connection closed by the server while idle (RST)"
	}
	return "rpc: connection closed by the server while idle"
}

func (e *idleCloseError) Is(target error) bool {
	return target == ErrClosed || (e.reset && target == ErrReset)
}

// notSentError marks the error of a call of which no byte was written.
type notSentError struct{ err error }

func (e *notSentError) Error() string {
	return e.err.Error() + " (request not sent)"
}

func (e *notSentError) Is(target error) bool { return target == ErrNotSent }
func (e *notSentError) Unwrap() error        { return e.err }

// connectionLost is what a call reports for an error that ended its
// connection: errors that already say why (a violation, a reset, a
// cancellation, ErrClosed) as they are, anything else (a transport
// failure, the peer's hang-up mid-exchange) wrapped so that it matches
// ErrClosed.
func connectionLost(err error) error {
	if errors.Is(err, ErrProtocol) || errors.Is(err, ErrReset) || errors.Is(err, ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBodyTooLarge) {
		return err
	}
	return &closedError{cause: err}
}

// streamError is what a call returns, joined with the reply's outcome,
// when the stream it was sending failed: the source's error with context.
type streamError struct {
	endpoint string
	how      string
	err      error
}

func requestStreamError(endpoint string, err error) error {
	return &streamError{endpoint, "sent in its trailer", err}
}

func (e *streamError) Error() string {
	return fmt.Sprintf("rpc: request stream of %q failed (%s): %v", e.endpoint, e.how, e.err)
}

func (e *streamError) Is(target error) bool { return target == ErrStreamFailed }
func (e *streamError) Unwrap() error        { return e.err }

// streamStatus turns the error a stream source failed with into what the
// reader of that stream sees with the trailer extension: an *Error with
// the status and (clamped) message the Trailer carries. io.EOF and nil are
// returned unchanged.
func streamStatus(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	st, msg := statusOf(err)
	return &Error{Status: st, Message: clampMessage(msg)}
}

func tooLargeReply(endpoint string, limit int64) error {
	return fmt.Errorf("rpc: reply body of %q longer than the %d-byte JSON limit: %w", endpoint, limit, ErrBodyTooLarge)
}

// decodeError is a reply body the codec refused: its text is the one
// calls have always reported, and it matches ErrDecode and the codec's
// error.
type decodeError struct {
	endpoint string
	err      error
}

func decodeReplyError(endpoint string, err error) error { return &decodeError{endpoint, err} }

func (e *decodeError) Error() string {
	return fmt.Sprintf("rpc: decoding the reply body of %q: %v", e.endpoint, e.err)
}

func (e *decodeError) Is(target error) bool { return target == ErrDecode }
func (e *decodeError) Unwrap() error        { return e.err }

func encodeRequestError(endpoint string, err error) error {
	return fmt.Errorf("%w: encoding the request body of %q: %v", ErrBadCall, endpoint, err)
}
