package rpc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
)

// request is one call as the dispatcher takes it, read from a connection
// or built in-process (package local): a call has one outcome whichever
// way it arrives.
type request struct {
	endpoint string
	// dt and accept are the request's and the expected reply's body
	// kinds, as a request header carries them.
	dt, accept dataType
	// json is the encoded JSON part of the request (dataJSON,
	// dataMultipart).
	json []byte
	// value, if not nil, replaces json: it must be a pointer of exactly
	// the handler's request type and is passed to the handler as is
	// (local's direct mode).
	value any
	// body is the octets part (dataOctets, dataMultipart).
	body io.Reader
	// replyValue asks for the handler's JSON reply as a value in
	// result.value instead of its encoding in result.json.
	replyValue bool
	// codec decodes json and encodes the reply; buf is where the reply
	// is encoded, reused from call to call on a connection.
	codec JSONCodec
	buf   []byte
	// timeout is the request header's Timeout in milliseconds, -1 if it
	// had none [RPC-44].
	timeout int64
}

// result is the outcome of a dispatched call.
type result struct {
	status  Status
	message string
	// dt is the reply's body kind: the request's accept when status is
	// OK, dataNone otherwise.
	dt    dataType
	json  []byte
	value any
	// body is the reply stream exactly as the handler set it.
	body io.Reader
}

func failResult(s Status, format string, args ...any) *result {
	return &result{status: s, message: fmt.Sprintf(format, args...), dt: dataNone}
}

func tooLargeRequest(limit int64) *result {
	return failResult(StatusRequestError, "request body longer than the %d-byte JSON limit", limit)
}

// route finds the endpoint and checks the body kinds [RPC-13]. A nil handler
// comes with the RequestError result to send.
func (s *Server) route(endpoint string, dt, accept dataType) (*handler, *result) {
	h := (*s.table.Load())[endpoint]
	if h == nil {
		return nil, failResult(StatusRequestError, "unknown endpoint %q", endpoint)
	}
	if dt != h.in {
		return nil, failResult(StatusRequestError, "endpoint %q takes %s, not %s", endpoint, bodyPhrase(h.in), bodyPhrase(dt))
	}
	if accept != h.out {
		return nil, failResult(StatusRequestError, "endpoint %q replies with %s, not %s", endpoint, bodyPhrase(h.out), bodyPhrase(accept))
	}
	return h, nil
}

// bodyPhrase names a body kind in a message: "an octets body".
func bodyPhrase(d dataType) string {
	switch d {
	case dataNone:
		return "no body"
	case dataJSON:
		return "a JSON body"
	case dataOctets:
		return "an octets body"
	case dataMultipart:
		return "a JSON+octets body"
	}
	return fmt.Sprintf("a body of DataType %d", uint32(d))
}

// call decodes the request, runs the handler and encodes its reply
// [RPC-19]. It is the one place where a handler is called, by reflection;
// with registration (register.go), this file is where reflection lives.
// User code runs at every step (a request type's UnmarshalJSON, a codec,
// the handler, a reply type's MarshalJSON): a panic in any of them is a
// ServerError, logged with the panicking goroutine's stack, and never
// reaches the connection.
func (s *Server) call(ctx context.Context, h *handler, req *request) (res result) {
	step := "decoding the request body of"
	var out outputs
	defer func() {
		if v := recover(); v != nil {
			s.logPanic(v, "%s %q", step, h.name)
			out.closeBody()
			res = *failResult(StatusServerError, "%s %q panicked: %v", step, h.name, v)
		}
	}()
	if h.direct != nil && req.value == nil {
		return s.callDirect(ctx, h, req, &step)
	}
	var buf [5]reflect.Value
	args, fail := h.args(buf[:0], ctx, req)
	if fail != nil {
		return *fail
	}
	args, out = h.outputs(args)
	step = "handler"
	if rets := h.fn.Call(args); !rets[0].IsNil() {
		out.closeBody()
		err := rets[0].Interface().(error)
		s.logStack(h.name, err)
		st, msg := statusOf(err)
		return result{status: st, message: msg, dt: dataNone}
	}
	step = "encoding the reply body of"
	return h.reply(req, out)
}

// callDirect is call for a JSON handler of the common form (direct.go).
// step follows the call for call's panic message.
func (s *Server) callDirect(ctx context.Context, h *handler, req *request, step *string) result {
	in, out := h.direct.newPair()
	if err := req.codec.Unmarshal(req.json, reflect.NewAt(h.inType, in).Interface()); err != nil {
		return *failResult(StatusRequestError, "decoding the request body of %q: %v", h.name, err)
	}
	*step = "handler"
	if err := h.direct.call(ctx, in, out); err != nil {
		s.logStack(h.name, err)
		st, msg := statusOf(err)
		return result{status: st, message: msg, dt: dataNone}
	}
	*step = "encoding the reply body of"
	outV := reflect.NewAt(h.outType, out).Interface()
	if req.replyValue {
		return result{status: StatusOK, dt: h.out, value: outV}
	}
	js, err := req.codec.MarshalAppend(req.buf[:0], outV)
	if err != nil {
		return *failResult(StatusServerError, "encoding the reply body of %q: %v", h.name, err)
	}
	return result{status: StatusOK, dt: h.out, json: js}
}

// args appends the handler's arguments up to the request part to argv, or
// returns the RequestError result of a request it cannot take.
func (h *handler) args(argv []reflect.Value, ctx context.Context, req *request) ([]reflect.Value, *result) {
	if h.hasCtx {
		argv = append(argv, reflect.ValueOf(ctx))
	}
	if h.in.HasJSON() {
		in, fail := h.decodeRequest(req)
		if fail != nil {
			return nil, fail
		}
		argv = append(argv, in)
	}
	if h.in.HasOctets() {
		body := req.body
		if body == nil {
			body = bytes.NewReader(nil)
		}
		argv = append(argv, reflect.ValueOf(&body).Elem())
	}
	return argv, nil
}

func (h *handler) decodeRequest(req *request) (reflect.Value, *result) {
	if req.value != nil {
		in := reflect.ValueOf(req.value)
		if in.Type() != reflect.PointerTo(h.inType) {
			return in, failResult(StatusRequestError, "endpoint %q takes a %v, not a %v", h.name, reflect.PointerTo(h.inType), in.Type())
		}
		return in, nil
	}
	in := reflect.New(h.inType)
	if err := req.codec.Unmarshal(req.json, in.Interface()); err != nil {
		return in, failResult(StatusRequestError, "decoding the request body of %q: %v", h.name, err)
	}
	return in, nil
}

// outputs are the reply parameters a handler fills.
type outputs struct {
	json, body reflect.Value
}

// outputs appends the reply parameters to args.
func (h *handler) outputs(args []reflect.Value) ([]reflect.Value, outputs) {
	var o outputs
	if h.out.HasJSON() {
		o.json = reflect.New(h.outType)
		args = append(args, o.json)
	}
	if h.out.HasOctets() {
		o.body = reflect.New(typeReader)
		args = append(args, o.body)
	}
	return args, o
}

// closeBody closes a reply stream the handler set but that will not be
// sent: the server owns it.
func (o outputs) closeBody() {
	if o.body.IsValid() {
		closeSource(o.body.Elem().Interface())
	}
}

// reply turns what a handler that returned nil filled in into the result.
func (h *handler) reply(req *request, o outputs) result {
	res := result{status: StatusOK, dt: h.out}
	if o.body.IsValid() {
		r, _ := o.body.Elem().Interface().(io.Reader)
		if r == nil {
			return *failResult(StatusServerError, "handler %q set no reply stream", h.name)
		}
		res.body = r
	}
	if !o.json.IsValid() {
		return res
	}
	if req.replyValue {
		res.value = o.json.Interface()
		return res
	}
	js, err := req.codec.MarshalAppend(req.buf[:0], o.json.Interface())
	if err != nil {
		closeSource(res.body)
		return *failResult(StatusServerError, "encoding the reply body of %q: %v", h.name, err)
	}
	res.json = js
	return res
}

// assignReply is direct mode's reply (package local): *target = *value,
// where value is the reply a handler filled in, if target is a pointer of
// the same type.
func assignReply(endpoint string, target, value any) error {
	t, v := reflect.ValueOf(target), reflect.ValueOf(value)
	if t.Type() != v.Type() {
		return fmt.Errorf("%w: reply of %q is a %v, out is a %v (direct mode needs the handler's type)", ErrBadCall, endpoint, v.Type(), t.Type())
	}
	t.Elem().Set(v.Elem())
	return nil
}

// closeSource closes a reply stream that implements io.Closer: the server
// owns the stream a handler hands it, and the package documentation
// promises it. A Close that panics is a failed Close: its error is
// returned, and the caller has nowhere to report it but a log.
func closeSource(r any) (err error) {
	c, ok := r.(io.Closer)
	if !ok || c == nil {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = panicError("closing the stream source", v)
		}
	}()
	return c.Close()
}
