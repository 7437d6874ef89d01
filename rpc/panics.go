package rpc

import (
	"fmt"
	"io"

	"github.com/pkg/errors"
)

// User code runs inside the server and the client at many points: request
// and reply types' JSON methods, codecs, handlers, stream sources. A panic
// in any of them must not take the process down [RPC-19], so each point
// recovers and turns it into an error. The errors are made with
// github.com/pkg/errors, created inside the deferred recover, where the
// call stack still holds the panicking frames: logged with %+v they show
// where the panic happened. A peer gets only the message.

// panicError is the error a recovered panic becomes, with the stack of the
// panicking goroutine.
func panicError(what string, v any) error {
	return errors.Errorf("%s panicked: %v", what, v)
}

// logPanic logs a recovered panic with its stack. Call it from the
// deferred function that recovered.
func (s *Server) logPanic(v any, format string, args ...any) {
	if s.opts.Logf == nil {
		return
	}
	s.opts.Logf("rpc: %s", withStack(errors.Errorf("%s panicked: %v", fmt.Sprintf(format, args...), v)))
}

// withStack is err's text followed by the stack of the innermost error
// in its chain that has one.
func withStack(err error) string {
	var st stackTracer
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			if s, ok := e.(stackTracer); ok {
				st = s
			}
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					walk(x)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	if st == nil {
		return err.Error()
	}
	return fmt.Sprintf("%v%+v", err, st.StackTrace())
}

// stackTracer is what errors made by github.com/pkg/errors implement.
type stackTracer interface{ StackTrace() errors.StackTrace }

// logStack logs a handler's error that carries a stack (made with
// github.com/pkg/errors, as zrepl makes its errors) with that stack: the
// client gets only the message, and the server's log is where the stack
// helps.
func (s *Server) logStack(endpoint string, err error) {
	if s.opts.Logf == nil {
		return
	}
	if errors.As(err, new(stackTracer)) {
		s.opts.Logf("rpc: handler %q failed: %s", endpoint, withStack(err))
	}
}

// guardedSource is a stream source whose panics become errors: a source
// is user code, read by the side that sends the stream.
type guardedSource struct {
	r        io.Reader
	panicked error
}

func (g *guardedSource) Read(p []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			g.panicked = panicError("reading the stream source", v)
			n, err = 0, g.panicked
		}
	}()
	return g.r.Read(p)
}

// marshal and unmarshal call a codec, whose panics become errors.
func marshal(c JSONCodec, dst []byte, v any) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = dst, panicError("encoding", p)
		}
	}()
	return c.MarshalAppend(dst, v)
}

func unmarshal(c JSONCodec, data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError("decoding", p)
		}
	}()
	return c.Unmarshal(data, v)
}
