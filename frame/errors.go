package frame

import (
	"errors"
	"fmt"
	"io"
)

// ProtocolError reports where and why a stream stopped being readable: a
// violation of the spec, a reset, or a stream that ended inside a frame or
// message (spec section 5). It is the one error type of this package for
// what the peer did; match it with errors.As and read its Class. The Reader
// that returned it returns it again on every later call.
//
// For the three facts a caller usually reacts to there are sentinels, so
// that errors.Is works through wrapping: every class but ClassReset and
// ClassUnexpectedEOF matches ErrProtocol (the peer broke the protocol),
// ClassReset matches ErrReset, and ClassUnexpectedEOF matches
// io.ErrUnexpectedEOF.
type ProtocolError struct {
	Class Class
	// Rule is the spec rule the stream breaks or, for reset and
	// unexpected-eof, the rule that defines the class where it was found,
	// e.g. "FRAME-3", "MSG-6".
	Rule string
	// Offset is the stream offset of the first byte that shows the problem:
	// the offending header field, or for a truncation the stream's length.
	Offset int64
	Detail string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("frame: %s at offset %d [%s]: %s", e.Class, e.Offset, e.Rule, e.Detail)
}

// Unwrap gives ErrReset for ClassReset and io.ErrUnexpectedEOF for
// ClassUnexpectedEOF.
func (e *ProtocolError) Unwrap() error {
	switch e.Class {
	case ClassReset:
		return ErrReset
	case ClassUnexpectedEOF:
		return io.ErrUnexpectedEOF
	}
	return nil
}

// Is makes errors.Is(err, ErrProtocol) true for violations by the peer.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol && e.Class.violation()
}

// Class is the error class of a *ProtocolError: the closed list of spec
// section 5, named there exactly as String returns.
type Class uint8

// The error classes.
const (
	ClassUnknownType     Class = iota + 1 // [FRAME-2]
	ClassBadFlag                          // [FRAME-3]
	ClassFrameTooLarge                    // [FRAME-4]
	ClassMessageTooLarge                  // [MSG-7]
	ClassTypeMismatch                     // [MSG-4]
	ClassUnexpectedEOF                    // [FRAME-6], [MSG-6]
	ClassReset                            // [FRAME-8], [MSG-5]
)

var classNames = [...]string{
	ClassUnknownType:     "unknown-type",
	ClassBadFlag:         "bad-flag",
	ClassFrameTooLarge:   "frame-too-large",
	ClassMessageTooLarge: "message-too-large",
	ClassTypeMismatch:    "type-mismatch",
	ClassUnexpectedEOF:   "unexpected-eof",
	ClassReset:           "reset",
}

func (c Class) String() string {
	if c != 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// violation reports whether the class is a violation of the protocol by the
// peer: every class but reset and unexpected-eof.
func (c Class) violation() bool {
	return c >= ClassUnknownType && c <= ClassTypeMismatch
}

// Sentinels. A *ProtocolError matches ErrProtocol or ErrReset as its
// class says; the others report misuse of a Reader or Writer, wrapped with
// context.
var (
	// ErrProtocol matches every *ProtocolError whose class is a violation
	// by the peer (not a reset, not a truncated stream).
	ErrProtocol = errors.New("frame: protocol violation")
	// ErrReset: the peer sent RST [FRAME-8].
	ErrReset = errors.New("frame: connection reset by peer")

	// ErrInvalid: the caller asked for a frame or message the protocol
	// does not allow (a type that is not Header, Data or Trailer, a payload
	// over MaxPayload, a Header or Trailer message over MaxControlMessage
	// [MSG-7]). Nothing was written; the stream is still usable.
	ErrInvalid = errors.New("frame: not a frame or message the protocol allows")
	// ErrDiscardLimit: MessageReader.DiscardAtMost found more than it may
	// discard; the message is unfinished and the stream must be reset.
	ErrDiscardLimit = errors.New("frame: message longer than the discard limit")
	// ErrMessageOpen: a new message was started before the previous one
	// was closed.
	ErrMessageOpen = errors.New("frame: previous message not closed")
	// ErrWriterClosed: the Writer sent RST or was told to stop.
	ErrWriterClosed = errors.New("frame: writer closed")
)
