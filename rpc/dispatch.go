package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
)

// Request is one call handed to Server.Invoke without a connection: the
// entry point of package local. Serve builds the same thing from the wire,
// so a call has one outcome whichever way it arrives.
type Request struct {
	Endpoint string
	// DataType and Accept are the request's and the expected reply's body
	// kinds, as a request header carries them.
	DataType DataType
	Accept   DataType
	// JSON is the encoded JSON part of the request (DataJSON,
	// DataMultipart), as json.Encoder writes it.
	JSON []byte
	// Value, if not nil, replaces JSON: it must be a pointer of exactly the
	// handler's request type and is passed to the handler as is.
	Value any
	// Body is the octets part (DataOctets, DataMultipart).
	Body io.Reader
	// ReplyValue, if true, asks for the handler's JSON reply as a value in
	// Result.Value instead of its encoding in Result.JSON.
	ReplyValue bool

	// enc and dec, on a connection, encode the reply and decode the
	// request, reused from call to call.
	enc *replyEncoder
	dec *bodyDecoder
}

// replyEncoder is a connection's reusable JSON encoder for replies.
type replyEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newReplyEncoder() *replyEncoder {
	e := &replyEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}

// Result is the outcome of Invoke.
type Result struct {
	Status  Status
	Message string
	// DataType is the reply's body kind: the request's Accept when Status is
	// OK, DataNone otherwise.
	DataType DataType
	JSON     []byte
	Value    any
	// Body is the reply stream exactly as the handler set it.
	Body io.Reader
}

func failResult(s Status, format string, args ...any) *Result {
	return &Result{Status: s, Message: fmt.Sprintf(format, args...), DataType: DataNone}
}

// route finds the endpoint and checks the body kinds [RPC-13]. A nil handler
// comes with the RequestError result to send.
func (s *Server) route(endpoint string, dt, accept DataType) (*handler, *Result) {
	h := (*s.table.Load())[endpoint]
	if h == nil {
		return nil, failResult(StatusRequestError, "unknown endpoint %q", endpoint)
	}
	if dt != h.in {
		return nil, failResult(StatusRequestError, "endpoint %q takes a %v request body, not %v", endpoint, h.in, dt)
	}
	if accept != h.out {
		return nil, failResult(StatusRequestError, "endpoint %q replies with a %v body, not %v", endpoint, h.out, accept)
	}
	return h, nil
}

func tooLargeRequest(limit int64) *Result {
	return failResult(StatusRequestError, "request body longer than the %d-byte JSON limit", limit)
}

// Invoke runs one call in-process, with every check and outcome of a call
// over a connection except the wire itself: unknown endpoints, mismatched
// body kinds, the JSON limit, decoding errors, handler errors and panics
// give the same status and message as Serve would send.
func (s *Server) Invoke(ctx context.Context, req *Request) *Result {
	h, res := s.route(req.Endpoint, req.DataType, req.Accept)
	if res == nil && req.Value == nil && h.in.HasJSON() && int64(len(req.JSON)) > s.opts.MaxJSON {
		res = tooLargeRequest(s.opts.MaxJSON)
	}
	if res == nil {
		r := s.call(ctx, h, req)
		res = &r
	}
	res.Message = clampMessage(res.Message)
	return res
}

// Grants reports whether the server grants the extension ext to a client
// that asks for it.
func (s *Server) Grants(ext string) bool {
	return slices.Contains(s.opts.Extensions, ext) && slices.Contains(supportedExtensions, ext)
}

// call decodes the request, runs the handler and encodes its reply.
func (s *Server) call(ctx context.Context, h *handler, req *Request) (res Result) {
	var args [5]reflect.Value
	argv := args[:0]
	if h.hasCtx {
		argv = append(argv, reflect.ValueOf(ctx))
	}
	if h.in.HasJSON() {
		var in reflect.Value
		if req.Value != nil {
			in = reflect.ValueOf(req.Value)
			if in.Type() != reflect.PointerTo(h.inType) {
				return *failResult(StatusRequestError, "endpoint %q takes a %v, not a %v", h.name, reflect.PointerTo(h.inType), in.Type())
			}
		} else {
			in = reflect.New(h.inType)
			if err := req.dec.decode(req.JSON, in.Interface()); err != nil {
				return *failResult(StatusRequestError, "decoding the request body of %q: %v", h.name, err)
			}
		}
		argv = append(argv, in)
	}
	if h.in.HasOctets() {
		body := req.Body
		if body == nil {
			body = bytes.NewReader(nil)
		}
		argv = append(argv, reflect.ValueOf(&body).Elem())
	}
	var outJSON, outBody reflect.Value
	if h.out.HasJSON() {
		outJSON = reflect.New(h.outType)
		argv = append(argv, outJSON)
	}
	if h.out.HasOctets() {
		outBody = reflect.New(typeReader)
		argv = append(argv, outBody)
	}
	defer func() {
		if v := recover(); v != nil {
			s.logf("rpc: handler %q panicked: %v", h.name, v)
			if outBody.IsValid() {
				closeSource(outBody.Elem().Interface())
			}
			res = *failResult(StatusServerError, "handler %q panicked: %v", h.name, v)
		}
	}()
	rets := h.fn.Call(argv)
	if !rets[0].IsNil() {
		err := rets[0].Interface().(error)
		if outBody.IsValid() {
			closeSource(outBody.Elem().Interface())
		}
		st, msg := statusOf(err)
		return Result{Status: st, Message: msg, DataType: DataNone}
	}
	res = Result{Status: StatusOK, DataType: h.out}
	if outBody.IsValid() {
		r, _ := outBody.Elem().Interface().(io.Reader)
		if r == nil {
			return *failResult(StatusServerError, "handler %q set no reply stream", h.name)
		}
		res.Body = r
	}
	if outJSON.IsValid() {
		if req.ReplyValue {
			res.Value = outJSON.Interface()
		} else {
			e := req.enc
			if e == nil {
				e = newReplyEncoder()
			}
			e.buf.Reset()
			if err := encodeBody(&e.buf, e.enc, outJSON.Interface()); err != nil {
				closeSource(res.Body)
				return *failResult(StatusServerError, "encoding the reply body of %q: %v", h.name, err)
			}
			res.JSON = e.buf.Bytes()
		}
	}
	return res
}

// closeSource closes a reply stream that implements io.Closer: the server
// owns the stream a handler hands it, and the package documentation promises it.
func closeSource(r any) {
	if c, ok := r.(io.Closer); ok && c != nil {
		c.Close()
	}
}
