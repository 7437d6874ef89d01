package frame

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// Section 5: one error type whose Class is the spec's class, named as the
// spec names it; the sentinels match exactly the classes they stand for,
// also through wrapping.
func TestErrorModel(t *testing.T) {
	names := map[Class]string{
		ClassUnknownType: "unknown-type", ClassBadFlag: "bad-flag", ClassFrameTooLarge: "frame-too-large",
		ClassMessageTooLarge: "message-too-large", ClassTypeMismatch: "type-mismatch",
		ClassUnexpectedEOF: "unexpected-eof", ClassReset: "reset",
	}
	for c, name := range names {
		err := fmt.Errorf("context: %w", &ProtocolError{Class: c, Rule: "X-1"})
		if c.String() != name {
			t.Errorf("class %d is %q, the spec says %q", c, c, name)
		}
		violation := c != ClassReset && c != ClassUnexpectedEOF
		if errors.Is(err, ErrProtocol) != violation || errors.Is(err, ErrReset) != (c == ClassReset) ||
			errors.Is(err, io.ErrUnexpectedEOF) != (c == ClassUnexpectedEOF) {
			t.Errorf("%v: ErrProtocol %v, ErrReset %v, io.ErrUnexpectedEOF %v", c,
				errors.Is(err, ErrProtocol), errors.Is(err, ErrReset), errors.Is(err, io.ErrUnexpectedEOF))
		}
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Class != c {
			t.Errorf("%v: errors.As gives %v", c, pe)
		}
	}
	if s := Class(0).String(); s != "Class(0)" {
		t.Errorf("Class(0) is %q", s)
	}
}
