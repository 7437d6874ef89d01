package rpc

import (
	"errors"
	"fmt"

	"github.com/framerpc/framerpc/internal/wire"
)

// header is the JSON object of a Header or Trailer message (section 6).
type header = wire.Header

func appendHeader(b []byte, h *header) []byte { return wire.AppendHeader(b, h) }

func appendTrailer(b []byte, s Status, msg string) []byte { return wire.AppendTrailer(b, s, msg) }

// headerError is a header or trailer this side refuses.
func headerError(class, rule, format string, args ...any) error {
	return &ProtocolError{Class: class, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// parseHeader decodes a Header (class bad-header) or Trailer (class
// bad-trailer) body into h.
func parseHeader(b []byte, h *header, class string) error {
	return parseHeaderPrev(b, h, class, "")
}

// parseHeaderPrev is parseHeader reusing prev for an equal Endpoint.
func parseHeaderPrev(b []byte, h *header, class, prev string) error {
	err := wire.ParseHeader(b, h, prev)
	if err == nil {
		return nil
	}
	var pe *wire.ParseError
	if errors.As(err, &pe) {
		return &ProtocolError{Class: class, Rule: pe.Rule, Detail: fmt.Sprintf("at byte %d: %s", pe.Offset, pe.Detail)}
	}
	return err
}
