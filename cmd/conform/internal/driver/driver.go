// Package driver is framerpc's reference driver for `conform client`: it
// reads the runner's commands (package script) and makes the calls with
// framerpc's rpc.Client, reporting each outcome in the terms of the
// conversation vectors. An implementer of another language writes the same
// small loop around their own client; testvectors/README.md describes it.
package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"testing/iotest"

	"github.com/framerpc/framerpc/internal/fixture"
	"github.com/framerpc/framerpc/rpc"
	"github.com/framerpc/framerpc/testvectors/format"

	"github.com/framerpc/framerpc/cmd/conform/internal/script"
)

// errSource is the failure of a request source whose vector says
// failAfterBody, with the text the vectors give it.
var errSource = errors.New("source failed")

// Run executes the commands read from in until its end, writing one outcome
// line per call to out. It returns an error for a command it cannot carry
// out (a malformed line, a failed connect); a failed call is an outcome,
// not an error.
func Run(in io.Reader, out io.Writer) error {
	var c *rpc.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	sc := script.NewScanner(in)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var cmd script.Command
		if err := script.DecodeLine(sc.Bytes(), &cmd); err != nil {
			return err
		}
		switch cmd.Op {
		case script.OpConnect:
			if c != nil {
				return errors.New("driver: a second connect")
			}
			conn, err := net.Dial(cmd.Network, cmd.Address)
			if err != nil {
				return fmt.Errorf("driver: %w", err)
			}
			exts := cmd.Extensions
			if exts == nil {
				exts = []string{}
			}
			c = rpc.NewClient(conn, &rpc.ClientOptions{Extensions: exts})
		case script.OpCall:
			if c == nil {
				return errors.New("driver: call before connect")
			}
			o, err := call(c, cmd)
			if err != nil {
				return err
			}
			if err := script.WriteLine(out, o); err != nil {
				return err
			}
		case script.OpClose:
			if c != nil {
				c.Close()
			}
		default:
			return fmt.Errorf("driver: unknown op %q", cmd.Op)
		}
	}
	return sc.Err()
}

// call makes one call and reads its reply stream, if any, to the end (or
// closes it at once for an abandoned one).
func call(c *rpc.Client, cmd script.Command) (script.Outcome, error) {
	var o script.Outcome
	if cmd.Request == nil {
		return o, errors.New("driver: call without request")
	}
	req := cmd.Request
	var in any
	var body []byte
	if req.Body != nil {
		b, err := req.Body.Expand()
		if err != nil {
			return o, err
		}
		body = b
	}
	switch req.Kind {
	case "json":
		in = json.RawMessage(req.JSON)
	case "octets":
		var r io.Reader = bytes.NewReader(body)
		if req.FailAfterBody {
			r = io.MultiReader(r, iotest.ErrReader(errSource))
		}
		in = r
	case "multipart":
		var r io.Reader = bytes.NewReader(body)
		if req.FailAfterBody {
			r = io.MultiReader(r, iotest.ErrReader(errSource))
		}
		in = rpc.Push{Meta: json.RawMessage(req.JSON), Body: r}
	default:
		return o, fmt.Errorf("driver: request kind %q", req.Kind)
	}
	var meta json.RawMessage
	var stream io.ReadCloser
	pull := &rpc.Pull{Meta: &meta}
	var out any
	switch cmd.Accept {
	case "json":
		out = &meta
	case "octets":
		out = &stream
	case "multipart":
		out = pull
	default:
		return o, fmt.Errorf("driver: accept %q", cmd.Accept)
	}
	err := c.Call(context.Background(), cmd.Endpoint, in, out)
	if err != nil {
		o.Error = err.Error()
		var re *rpc.Error
		switch {
		case errors.Is(err, errSource):
			o.SourceError = true
		case errors.As(err, &re):
			o.Status, o.ErrorMessage = uint32(re.Status), re.Message
		default:
			o.ErrorClass = errorClass(err)
		}
		return o, nil
	}
	o.Status = 1
	if cmd.Accept != "octets" {
		o.JSON = meta
	}
	if cmd.Accept == "multipart" {
		stream = pull.Body
	}
	if stream == nil {
		return o, nil
	}
	if cmd.Abandon {
		stream.Close()
		o.Body = &format.Bytes{}
		return o, nil
	}
	got, err := io.ReadAll(stream)
	stream.Close()
	o.Body = hexBytes(got)
	if err != nil {
		o.Error = err.Error()
		var re *rpc.Error
		if errors.As(err, &re) {
			o.StreamStatus, o.StreamMessage = uint32(re.Status), re.Message
		} else {
			o.ErrorClass = errorClass(err)
		}
	}
	return o, nil
}

func hexBytes(b []byte) *format.Bytes {
	var v format.Bytes
	v.AppendLit(b)
	return &v
}

// errorClass is fixture.ErrorClass, with the error's text where it has no
// class, so that a driver's report says what went wrong.
func errorClass(err error) string {
	if c := fixture.ErrorClass(err); c != "" {
		return c
	}
	return "other: " + err.Error()
}
