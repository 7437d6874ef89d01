package rpc

import (
	"fmt"
	"io"
	"reflect"
)

// Push is a request carrying JSON metadata and a stream, DataType
// JSON+Octets: pass it (or *Push) as Call's in. Meta is encoded as JSON;
// Body is sent after it and is not closed by Call.
type Push struct {
	Meta any
	Body io.Reader
}

// Pull receives a reply carrying JSON metadata and a stream: pass *Pull as
// Call's out, with Meta a pointer to decode into. After a successful Call,
// Body holds the stream, to be read to its end or closed.
type Pull struct {
	Meta any
	Body io.ReadCloser
}

// callArgs is a call's endpoint, in and out sorted out once, for
// Client.Call and the in-process client alike.
type callArgs struct {
	endpoint string
	// dt and accept are the request's DataType and the Accept it sends.
	dt, accept dataType
	// meta is the JSON part of the request (in, or a Push's Meta), src
	// its octets part.
	meta any
	src  io.Reader
	// target receives a JSON reply (out, or a Pull's Meta); out receives
	// a reply stream.
	target any
	out    any
}

// newCallArgs checks a call's arguments (see Client.Call) and tells its
// body kinds. Its errors match ErrBadCall.
func newCallArgs(endpoint string, in, out any) (callArgs, error) {
	a := callArgs{endpoint: endpoint, meta: in, target: out, out: out}
	if err := a.request(in); err != nil {
		return a, err
	}
	if err := a.reply(out); err != nil {
		return a, err
	}
	if err := checkName(endpoint); err != nil {
		return a, fmt.Errorf("%w: %v", ErrBadCall, err)
	}
	return a, nil
}

// request: an io.Reader is an octets body; a Push or *Push is JSON
// metadata plus a stream; anything else (nil included) is encoded as JSON.
func (a *callArgs) request(in any) error {
	switch v := in.(type) {
	case Push:
		return a.push(&v)
	case *Push:
		return a.push(v)
	case io.Reader:
		a.dt, a.meta, a.src = dataOctets, nil, v
	default:
		a.dt = dataJSON
	}
	return nil
}

func (a *callArgs) push(p *Push) error {
	if p == nil || p.Body == nil {
		return fmt.Errorf("%w: a Push needs a Body", ErrBadCall)
	}
	a.dt, a.meta, a.src = dataMultipart, p.Meta, p.Body
	return nil
}

// reply: an *io.Reader or *io.ReadCloser receives an octets body; a *Pull
// JSON metadata plus a stream; any other non-nil pointer a JSON body.
func (a *callArgs) reply(out any) error {
	switch v := out.(type) {
	case *io.Reader:
		return a.stream(v == nil)
	case *io.ReadCloser:
		return a.stream(v == nil)
	case *Pull:
		if v == nil {
			return fmt.Errorf("%w: out is a nil *Pull", ErrBadCall)
		}
		a.accept, a.target = dataMultipart, v.Meta
		return checkJSONOut(v.Meta, "Pull.Meta")
	default:
		a.accept = dataJSON
		return checkJSONOut(out, "out")
	}
}

func (a *callArgs) stream(isNil bool) error {
	if isNil {
		return fmt.Errorf("%w: out is a nil %T", ErrBadCall, a.out)
	}
	a.accept, a.target = dataOctets, nil
	return nil
}

// checkJSONOut: a JSON reply needs somewhere to go. (The one use of
// reflection outside registration and dispatch: no interface tells a
// non-nil pointer.)
func checkJSONOut(out any, what string) error {
	v := reflect.ValueOf(out)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("%w: %s must be a non-nil pointer, not %T", ErrBadCall, what, out)
	}
	return nil
}

// needsMultipart: the call uses DataType 4 one way or the other [RPC-27].
func (a *callArgs) needsMultipart() bool {
	return a.dt == dataMultipart || a.accept == dataMultipart
}

func (a *callArgs) unsupported() error {
	return fmt.Errorf("rpc: calling %q: JSON and a stream in one body: %w", a.endpoint, ErrUnsupported)
}

// deliver hands a reply stream to out.
func (a *callArgs) deliver(body io.ReadCloser) {
	switch v := a.out.(type) {
	case *io.Reader:
		*v = body
	case *io.ReadCloser:
		*v = body
	case *Pull:
		v.Body = body
	}
}
