package rpc

import (
	"errors"
	"fmt"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// DataType says what body follows a header (section 6).
type DataType = wire.DataType

// The body kinds. DataMultipart exists only on a connection that negotiated
// the "multipart" extension (section 9).
const (
	DataNone      = wire.DataNone
	DataJSON      = wire.DataJSON
	DataOctets    = wire.DataOctets
	DataMultipart = wire.DataMultipart
)

// Status is the outcome of a call, carried in the reply header's Error field.
type Status = wire.Status

// The statuses, numbered as the original numbered them.
const (
	StatusOK           = wire.StatusOK
	StatusRequestError = wire.StatusRequestError
	StatusServerError  = wire.StatusServerError
	StatusError        = wire.StatusError
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
	if errors.As(err, &se) && se.Status.Valid() && se.Status != StatusOK {
		return se.Status, se.Message
	}
	return StatusError, err.Error()
}

// Sentinels. Errors returned by this package wrap them, so errors.Is works
// through the added context.
var (
	// ErrProtocol matches every violation of the protocol by the peer, at
	// the frame layer (frame.ErrProtocol, which it is) or at this layer.
	ErrProtocol = frame.ErrProtocol
	// ErrReset: the peer sent RST; the connection is over.
	ErrReset = frame.ErrReset
	// ErrClosed: the connection was closed, by Close, by an aborted call or
	// stream, or by the peer. Calls on it fail with an error wrapping
	// ErrClosed and the original cause.
	ErrClosed = errors.New("rpc: connection closed")
	// ErrBodyTooLarge: a JSON reply body was longer than the client's
	// limit. (A request body over the server's limit is a RequestError
	// reply instead.)
	ErrBodyTooLarge = errors.New("rpc: JSON body longer than the limit")
	// ErrUnsupported: the call needs an extension the peer did not grant.
	ErrUnsupported = errors.New("rpc: extension not granted by the peer")
	// ErrBadCall: the arguments of a call cannot be sent (e.g. out is not a
	// pointer). Nothing was sent.
	ErrBadCall = errors.New("rpc: invalid call arguments")
)

// The error classes of the RPC layer, section 10.
const (
	ClassBadHeader  = "bad-header"
	ClassBadTrailer = "bad-trailer"
	ClassBadReply   = "bad-reply"
)

// ProtocolError is a violation of sections 6 to 9 by the peer. The
// connection it was found on is reset and closed. It matches ErrProtocol.
type ProtocolError struct {
	// Class is one of ClassBadHeader, ClassBadTrailer, ClassBadReply.
	Class string
	// Rule is the spec rule, e.g. "RPC-3".
	Rule   string
	Detail string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("rpc: %s [%s]: %s", e.Class, e.Rule, e.Detail)
}

// Is makes errors.Is(err, ErrProtocol) hold.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// closedError is what calls on a dead client report: ErrClosed plus the
// reason the connection died.
type closedError struct{ cause error }

func (e *closedError) Error() string {
	if e.cause == nil {
		return ErrClosed.Error()
	}
	return ErrClosed.Error() + ": " + e.cause.Error()
}

func (e *closedError) Is(target error) bool { return target == ErrClosed }
func (e *closedError) Unwrap() error        { return e.cause }
