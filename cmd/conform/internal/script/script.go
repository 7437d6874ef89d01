// Package script defines the driver protocol of `conform client`: the lines
// the runner writes to a client under test (its driver's standard input)
// and the lines the driver answers on its standard output. The protocol is
// documented for implementers in testvectors/README.md ("Wiring a client:
// the driver protocol"); this package is its Go view, shared by the runner
// and by framerpc's reference driver.
//
// Every line is one JSON object. Commands reuse the objects of the
// conversation vectors (a call's request is the vector's request object) so
// that an implementer who reads the vector files already reads the
// commands; no quoting rule beyond JSON's is needed for texts or bytes.
package script

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/framerpc/framerpc/testvectors/format"
)

// The operations of a Command.
const (
	// OpConnect opens the connection (Network "tcp" or "unix", Address)
	// and makes a client over it that asks for Extensions in its hello
	// (an empty list: it never sends one).
	OpConnect = "connect"
	// OpCall makes one call and, once it is over (its reply stream read
	// to its end or abandoned), writes one Outcome line.
	OpCall = "call"
	// OpClose closes the client: it hangs up as the spec's [RPC-34] says
	// if the connection is still open. No line is written.
	OpClose = "close"
)

// Command is one line the runner writes to the driver.
type Command struct {
	Op string `json:"op"`
	// Connect.
	Network    string   `json:"network,omitempty"`
	Address    string   `json:"address,omitempty"`
	Extensions []string `json:"extensions,omitempty"`
	// Call: the vector's call, without its result.
	Endpoint string           `json:"endpoint,omitempty"`
	Request  *format.CallBody `json:"request,omitempty"`
	Accept   string           `json:"accept,omitempty"`
	Abandon  bool             `json:"abandon,omitempty"`
}

// Outcome is the line a driver writes for each call: what the caller got,
// in the terms of a conversation vector's result (format.CallResult).
type Outcome struct {
	// Status of the reply header, 0 when none was accepted.
	Status uint32 `json:"status"`
	// ErrorMessage of a non-OK reply.
	ErrorMessage string `json:"errorMessage,omitempty"`
	// JSON is the JSON reply value (accept json or multipart).
	JSON json.RawMessage `json:"json,omitempty"`
	// Body is what the caller read from an octets reply stream, in
	// lowercase hex; present whenever the call returned a stream (empty
	// for an abandoned one).
	Body *format.Bytes `json:"body,omitempty"`
	// StreamStatus and StreamMessage: the failure a Trailer reported at
	// the end of the reply stream.
	StreamStatus  uint32 `json:"streamStatus,omitempty"`
	StreamMessage string `json:"streamMessage,omitempty"`
	// ErrorClass: the call, or the reading of its stream, failed with this
	// class of spec section 5 or 10.
	ErrorClass string `json:"errorClass,omitempty"`
	// SourceError: the call failed with its own request source's failure.
	SourceError bool `json:"sourceError,omitempty"`
	// Error is the client's error text, for people; never compared.
	Error string `json:"error,omitempty"`
}

// Commands are the commands that replay a conversation vector's calls: a
// connect, one call per vector call, and a close.
func Commands(network, address string, extensions []string, calls []format.Call) []Command {
	if extensions == nil {
		extensions = []string{}
	}
	cmds := []Command{{Op: OpConnect, Network: network, Address: address, Extensions: extensions}}
	for _, c := range calls {
		req := c.Request
		cmds = append(cmds, Command{Op: OpCall, Endpoint: c.Endpoint, Request: &req, Accept: c.Accept, Abandon: c.Abandon})
	}
	return append(cmds, Command{Op: OpClose})
}

// MarshalJSON keeps "extensions" on a connect line even when empty: an
// absent list and an empty one would otherwise look the same, and they
// mean different things to a client (ask for its defaults, ask for none).
func (c Command) MarshalJSON() ([]byte, error) {
	type plain Command
	if c.Op != OpConnect {
		return json.Marshal(plain(c))
	}
	exts := c.Extensions
	if exts == nil {
		exts = []string{}
	}
	return json.Marshal(struct {
		Op         string   `json:"op"`
		Network    string   `json:"network"`
		Address    string   `json:"address"`
		Extensions []string `json:"extensions"`
	}{c.Op, c.Network, c.Address, exts})
}

// WriteLine writes v as one JSON line.
func WriteLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// MaxLine bounds a line: an outcome carries a reply body in hex, and the
// vectors' largest is 4 MiB.
const MaxLine = 64 << 20

// NewScanner returns a line scanner sized for MaxLine.
func NewScanner(r io.Reader) *bufio.Scanner {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), MaxLine)
	return s
}

// DecodeLine decodes one line strictly: an unknown member is an error, so
// that a misspelt member is not silently read as absent.
func DecodeLine(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("script: %q: %w", truncate(line), err)
	}
	return nil
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "..."...)
	}
	return b
}
