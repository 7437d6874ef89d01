package rpc

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// Status is the outcome of a call, carried in the reply header's Error
// member and in a Trailer (section 6).
type Status uint32

// The statuses, numbered as the original numbered them.
const (
	StatusOK           Status = 1
	StatusRequestError Status = 2
	StatusServerError  Status = 3
	StatusError        Status = 4
)

func (s Status) String() string { return wire.Status(s).String() }

// valid tells whether s is one of the four statuses [RPC-10].
func (s Status) valid() bool { return wire.Status(s).Valid() }

// header is the JSON object of a Header or Trailer message (section 6);
// dataType says what body follows it.
type (
	header   = wire.Header
	dataType = wire.DataType
)

const (
	dataNone      = wire.DataNone
	dataJSON      = wire.DataJSON
	dataOctets    = wire.DataOctets
	dataMultipart = wire.DataMultipart
)

// parseHeader decodes a Header (class bad-header) or Trailer (class
// bad-trailer) body into h, reusing prev for an equal Endpoint. The error
// cites the rule the object breaks.
func parseHeader(b []byte, h *header, class Class, prev string) error {
	err := wire.ParseHeader(b, h, prev)
	if err == nil {
		// Before errors.As, whose target escapes: no allocation per header.
		return nil
	}
	var pe *wire.ParseError
	if errors.As(err, &pe) {
		return &ProtocolError{Class: class, Rule: pe.Rule, Detail: fmt.Sprintf("at byte %d: %s", pe.Offset, pe.Detail)}
	}
	return err
}

// checkName checks an endpoint name: non-empty and valid UTF-8 [RPC-12],
// since a header carries it as a JSON string, and not reserved [RPC-24].
// Registration and calls both use it, so a name that could never be
// called cannot be registered.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("endpoint name is empty [RPC-12]")
	case !utf8.ValidString(name):
		return fmt.Errorf("endpoint name %q is not valid UTF-8 [RPC-12]", name)
	case strings.HasPrefix(name, reservedPrefix):
		return fmt.Errorf("endpoint name %q is reserved (prefix %q) [RPC-24]", name, reservedPrefix)
	}
	return nil
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
