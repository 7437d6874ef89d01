package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

var (
	typeContext    = reflect.TypeFor[context.Context]()
	typeReader     = reflect.TypeFor[io.Reader]()
	typeReaderPtr  = reflect.TypeFor[*io.Reader]()
	typeReadCloser = reflect.TypeFor[*io.ReadCloser]()
	typeError      = reflect.TypeFor[error]()
)

// handler is the method-table entry of one endpoint: everything Serve needs
// is worked out here, once, at registration.
type handler struct {
	name   string
	fn     reflect.Value
	hasCtx bool
	in     DataType
	out    DataType
	// inType and outType are the element types of the JSON pointers.
	inType  reflect.Type
	outType reflect.Type
}

// newHandler checks fn against the handler forms (see the package
// documentation) and builds its table entry.
func newHandler(name string, fn reflect.Value) (*handler, error) {
	if !fn.IsValid() || fn.Kind() != reflect.Func {
		return nil, fmt.Errorf("rpc: registering %q: handler is %v, not a func", name, fn.Type())
	}
	if fn.IsNil() {
		return nil, fmt.Errorf("rpc: registering %q: handler is a nil func", name)
	}
	t := fn.Type()
	h := &handler{name: name, fn: fn}
	bad := func(format string, args ...any) (*handler, error) {
		return nil, fmt.Errorf("rpc: registering %q: handler %v: %s", name, t, fmt.Sprintf(format, args...))
	}
	if t.IsVariadic() {
		return bad("variadic handlers are not supported")
	}
	if t.NumOut() != 1 || t.Out(0) != typeError {
		return bad("must return exactly one result, of type error")
	}
	i, n := 0, t.NumIn()
	if i < n && t.In(i) == typeContext {
		h.hasCtx = true
		i++
	}
	// Request part: io.Reader | *T | *T, io.Reader.
	if i >= n {
		return bad("missing the request parameter")
	}
	h.in, h.inType, i = bodyParams(t, i, typeReader)
	if h.in == 0 {
		return bad("parameter %d is %v: the request must be a pointer (JSON), io.Reader (octets) or a pointer followed by io.Reader (JSON and octets)", i+1, t.In(i))
	}
	// Reply part: *io.Reader | *U | *U, *io.Reader.
	if i >= n {
		return bad("missing the reply parameter")
	}
	h.out, h.outType, i = bodyParams(t, i, typeReaderPtr)
	if h.out == 0 {
		return bad("parameter %d is %v: the reply must be a pointer (JSON), *io.Reader (octets) or a pointer followed by *io.Reader (JSON and octets)", i+1, t.In(i))
	}
	if i != n {
		return bad("unexpected parameter %d of type %v", i+1, t.In(i))
	}
	for _, jt := range []reflect.Type{h.inType, h.outType} {
		if jt == nil {
			continue
		}
		if _, err := json.Marshal(reflect.New(jt).Interface()); err != nil {
			return bad("%v cannot be encoded as JSON: %v", jt, err)
		}
	}
	return h, nil
}

// isJSONPtr: a pointer that is not one of the stream types, so that a
// misplaced *io.Reader is reported rather than JSON-encoded.
func isJSONPtr(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t != typeReaderPtr && t != typeReadCloser &&
		t.Elem().Kind() != reflect.Func && t.Elem().Kind() != reflect.Chan
}

// validName: non-empty, valid UTF-8 by construction of Go strings, and not
// in the reserved "framerpc:" space [RPC-24].
func validName(name string) error {
	if name == "" {
		return errors.New("rpc: endpoint name is empty")
	}
	if strings.HasPrefix(name, reservedPrefix) {
		return fmt.Errorf("rpc: endpoint name %q is reserved (prefix %q)", name, reservedPrefix)
	}
	return nil
}

// methodHandlers finds the handler methods of a receiver for Register: every
// exported method of a handler form. The reasons for skipping the others are
// returned so that a receiver with none can be explained.
func methodHandlers(prefix string, rcvr reflect.Value) (map[string]*handler, []string) {
	t := rcvr.Type()
	found := map[string]*handler{}
	var skipped []string
	for i := range t.NumMethod() {
		m := t.Method(i)
		if !m.IsExported() {
			continue
		}
		name := prefix + "." + m.Name
		h, err := newHandler(name, rcvr.Method(i))
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		found[name] = h
	}
	return found, skipped
}

// bodyParams reads the parameters of one body starting at parameter i of
// t: stream alone (octets), a pointer (JSON), or a pointer followed by
// stream (JSON and octets). It returns the body's kind, the JSON type, and
// the index of the next parameter; kind 0 means parameter i fits none.
func bodyParams(t reflect.Type, i int, stream reflect.Type) (kind DataType, jsonType reflect.Type, next int) {
	switch {
	case t.In(i) == stream:
		return DataOctets, nil, i + 1
	case isJSONPtr(t.In(i)):
		if i+1 < t.NumIn() && t.In(i+1) == stream {
			return DataMultipart, t.In(i).Elem(), i + 2
		}
		return DataJSON, t.In(i).Elem(), i + 1
	}
	return 0, nil, i
}
