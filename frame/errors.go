package frame

import (
	"errors"
	"fmt"
	"io"
)

// Sentinels. A *ProtocolError unwraps to exactly one of them (or to
// io.ErrUnexpectedEOF); the writer returns them wrapped for bad input.
var (
	// ErrProtocol matches every *ProtocolError whose class is a violation
	// by the peer (not a reset, not a truncated stream).
	ErrProtocol = errors.New("frame: protocol violation")
	// ErrReset: the peer sent RST [FRAME-8].
	ErrReset = errors.New("frame: connection reset by peer")

	ErrUnknownType     = errors.New("frame: unknown frame type")
	ErrBadFlag         = errors.New("frame: no-more-frames byte is neither 0x00 nor 0x01")
	ErrFrameTooLarge   = errors.New("frame: payload longer than 4194304 bytes")
	ErrMessageTooLarge = errors.New("frame: message longer than its limit")
	ErrTypeMismatch    = errors.New("frame: frame of an unexpected type")

	// ErrDiscardLimit: MessageReader.DiscardAtMost found more than it may
	// discard; the message is unfinished and the stream must be reset.
	ErrDiscardLimit = errors.New("frame: message longer than the discard limit")
	// ErrMessageOpen: a new message was started before the previous one
	// was closed.
	ErrMessageOpen = errors.New("frame: previous message not closed")
	// ErrWriterClosed: the Writer sent RST or was told to stop.
	ErrWriterClosed = errors.New("frame: writer closed")
)

// Class is the error class of a *ProtocolError: the closed list of spec
// section 5, named there exactly as String returns.
type Class uint8

// The error classes.
const (
	ClassUnknownType Class = iota + 1
	ClassBadFlag
	ClassFrameTooLarge
	ClassMessageTooLarge
	ClassTypeMismatch
	ClassUnexpectedEOF
	ClassReset
)

var classInfo = [...]struct {
	name     string
	sentinel error
}{
	ClassUnknownType:     {"unknown-type", ErrUnknownType},
	ClassBadFlag:         {"bad-flag", ErrBadFlag},
	ClassFrameTooLarge:   {"frame-too-large", ErrFrameTooLarge},
	ClassMessageTooLarge: {"message-too-large", ErrMessageTooLarge},
	ClassTypeMismatch:    {"type-mismatch", ErrTypeMismatch},
	ClassUnexpectedEOF:   {"unexpected-eof", io.ErrUnexpectedEOF},
	ClassReset:           {"reset", ErrReset},
}

func (c Class) String() string {
	if int(c) < len(classInfo) && c != 0 {
		return classInfo[c].name
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// ProtocolError reports where and why a stream stopped being readable: a
// violation of the spec, a reset, or a stream that ended inside a frame or
// message. The Reader that returned it returns it again on every later call.
type ProtocolError struct {
	Class Class
	// Rule is the spec rule, e.g. "FRAME-3".
	Rule string
	// Offset is the stream offset of the first byte that shows the problem:
	// the offending header field, or for a truncation the stream's length.
	Offset int64
	Detail string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("frame: %s at offset %d [%s]: %s", e.Class, e.Offset, e.Rule, e.Detail)
}

// Unwrap returns the class's sentinel.
func (e *ProtocolError) Unwrap() error {
	if int(e.Class) < len(classInfo) && e.Class != 0 {
		return classInfo[e.Class].sentinel
	}
	return nil
}

// Is makes errors.Is(err, ErrProtocol) true for violations by the peer.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol && e.Class != ClassReset && e.Class != ClassUnexpectedEOF
}
