package rpc

import (
	"context"
	"reflect"
	"unsafe"
)

// Calling JSON handlers without reflect.Value.Call. The handlers of the
// common form, func([ctx,] *T, *U) error, are most of a small call's
// dispatch, and reflect.Value.Call costs as much as the rest of it
// (building the argument frame, a result slice per call). A func's calling
// convention depends only on the shapes of its parameters and results, and
// every pointer has the same shape as unsafe.Pointer: a func(*T, *U) error
// is called exactly as a func(unsafe.Pointer, unsafe.Pointer) error is. So
// registration stores the handler under that type, once, and dispatch
// calls it directly with pointers of exactly *T and *U. Method values
// (Register) are converted to a func value by reflect first, which makes a
// closure of the method's own signature.
//
// The request and reply values are allocated together, as the two fields
// of one struct: one allocation per call instead of two. A handler that
// keeps one of the pointers keeps both alive, nothing more.

// directFunc is a JSON handler's func, retyped.
type directFunc struct {
	plain   func(in, out unsafe.Pointer) error
	withCtx func(ctx context.Context, in, out unsafe.Pointer) error
	// pair is struct{In T; Out U}; outOff is Out's offset in it.
	pair   reflect.Type
	outOff uintptr
}

// newDirectFunc retypes fn, a handler of the form func([ctx,] *T, *U)
// error already checked by newHandler.
func newDirectFunc(fn reflect.Value, hasCtx bool, in, out reflect.Type) *directFunc {
	d := &directFunc{pair: reflect.StructOf([]reflect.StructField{
		{Name: "In", Type: in},
		{Name: "Out", Type: out},
	})}
	d.outOff = d.pair.Field(1).Offset
	// A variable of fn's own type holds the func value; its memory is
	// read as the retyped func (both are one pointer to a closure).
	v := reflect.New(fn.Type())
	v.Elem().Set(fn)
	if hasCtx {
		d.withCtx = *(*func(context.Context, unsafe.Pointer, unsafe.Pointer) error)(v.UnsafePointer())
	} else {
		d.plain = *(*func(unsafe.Pointer, unsafe.Pointer) error)(v.UnsafePointer())
	}
	return d
}

// newPair allocates a request and a reply value, zeroed.
func (d *directFunc) newPair() (in, out unsafe.Pointer) {
	p := reflect.New(d.pair).UnsafePointer()
	return p, unsafe.Add(p, d.outOff)
}

func (d *directFunc) call(ctx context.Context, in, out unsafe.Pointer) error {
	if d.withCtx != nil {
		return d.withCtx(ctx, in, out)
	}
	return d.plain(in, out)
}
