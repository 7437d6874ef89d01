package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

var (
	typeContext    = reflect.TypeFor[context.Context]()
	typeReader     = reflect.TypeFor[io.Reader]()
	typeReaderPtr  = reflect.TypeFor[*io.Reader]()
	typeReadCloser = reflect.TypeFor[*io.ReadCloser]()
	typeError      = reflect.TypeFor[error]()
)

// handler is the method-table entry of one endpoint: everything a call
// needs is worked out here, once, at registration.
type handler struct {
	name   string
	fn     reflect.Value
	hasCtx bool
	in     dataType
	out    dataType
	// inType and outType are the element types of the JSON pointers.
	inType  reflect.Type
	outType reflect.Type
	// direct calls a handler of the form func([ctx,] *T, *U) error
	// without reflection (direct.go); nil for the other forms.
	direct *directFunc
}

// RegisterEndpoint registers the handler h under name. The name must be
// valid UTF-8, non-empty [RPC-12] and not reserved [RPC-24]. The
// handler's form is checked here, once: a func that fits none of the forms
// of the package documentation is an error naming what is wrong, and
// nothing is registered.
func (s *Server) RegisterEndpoint(name string, h any) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("rpc: registering: %w", err)
	}
	hd, err := newHandler(name, reflect.ValueOf(h))
	if err != nil {
		return err
	}
	return s.add(map[string]*handler{name: hd})
}

// Register registers every exported method of receiver that has a handler
// form, under "Type.Method" where Type is the receiver's type name without
// package or pointer. Methods of other shapes are skipped, as net/rpc does,
// and each is reported through ServerOptions.Logf with the reason; a
// receiver without any handler method is an error listing why each method
// was skipped.
func (s *Server) Register(receiver any) error {
	v := reflect.ValueOf(receiver)
	if !v.IsValid() {
		return errors.New("rpc: Register(nil)")
	}
	return s.RegisterName(reflect.Indirect(v).Type().Name(), receiver)
}

// RegisterName is Register with prefix in place of the type name.
func (s *Server) RegisterName(prefix string, receiver any) error {
	v := reflect.ValueOf(receiver)
	if !v.IsValid() {
		return errors.New("rpc: RegisterName(nil)")
	}
	if err := checkName(prefix); err != nil {
		return fmt.Errorf("rpc: registering: %w", err)
	}
	found, skipped := methodHandlers(prefix, v)
	if len(found) == 0 {
		msg := fmt.Sprintf("rpc: type %v has no exported method of a handler form", v.Type())
		for _, r := range skipped {
			msg += "\n\t" + r
		}
		return errors.New(msg)
	}
	if err := s.add(found); err != nil {
		return err
	}
	// A method that almost fits would otherwise show up only later, as
	// an unknown endpoint.
	for _, r := range skipped {
		s.logf("rpc: %v: skipped a method: %s", v.Type(), r)
	}
	return nil
}

// Endpoint describes a registered endpoint: its name and body kinds.
type Endpoint struct {
	Name string
	// Request and Reply are the kinds of the request and reply bodies,
	// named as section 6 of the spec names DataTypes: "None", "JSON",
	// "Octets", "JSON+Octets".
	Request, Reply string
}

// Endpoints lists the registered endpoints, sorted by name.
func (s *Server) Endpoints() []Endpoint {
	t := *s.table.Load()
	eps := make([]Endpoint, 0, len(t))
	for name, h := range t {
		eps = append(eps, Endpoint{Name: name, Request: h.in.String(), Reply: h.out.String()})
	}
	slices.SortFunc(eps, func(a, b Endpoint) int { return strings.Compare(a.Name, b.Name) })
	return eps
}

// add publishes a new table with hs added: connections look handlers up
// without a lock.
func (s *Server) add(hs map[string]*handler) error {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.table.Load()
	for name := range hs {
		if old[name] != nil {
			return fmt.Errorf("rpc: endpoint %q is already registered", name)
		}
	}
	next := maps.Clone(old)
	maps.Copy(next, hs)
	s.table.Store(&next)
	return nil
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
		if err := encodableJSON(jt); err != nil {
			return bad("%v cannot be encoded as JSON: %v", jt, err)
		}
	}
	if h.in == dataJSON && h.out == dataJSON {
		h.direct = newDirectFunc(fn, h.hasCtx, h.inType, h.outType)
	}
	return h, nil
}

// encodableJSON catches the types encoding/json can never encode (chan,
// func, complex) at registration, through a zero value. (A custom codec
// may refuse more at call time: that is a ServerError reply.)
func encodableJSON(t reflect.Type) error {
	_, err := marshal(StdJSON, nil, reflect.New(t).Interface())
	return err
}

// isJSONPtr: a pointer that is not one of the stream types, so that a
// misplaced *io.Reader is reported rather than JSON-encoded.
func isJSONPtr(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t != typeReaderPtr && t != typeReadCloser &&
		t.Elem().Kind() != reflect.Func && t.Elem().Kind() != reflect.Chan
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
func bodyParams(t reflect.Type, i int, stream reflect.Type) (kind dataType, jsonType reflect.Type, next int) {
	switch {
	case t.In(i) == stream:
		return dataOctets, nil, i + 1
	case isJSONPtr(t.In(i)):
		if i+1 < t.NumIn() && t.In(i+1) == stream {
			return dataMultipart, t.In(i).Elem(), i + 2
		}
		return dataJSON, t.In(i).Elem(), i + 1
	}
	return 0, nil, i
}
