package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	pkgerrors "github.com/pkg/errors"
)

// panicky panics when decoded from JSON.
type panicky struct{ X int }

func (p *panicky) UnmarshalJSON([]byte) error { panic("unmarshal boom") }

// panicSource panics in Read or in Close.
type panicSource struct {
	inRead bool
	sent   bool
}

func (p *panicSource) Read(b []byte) (int, error) {
	if p.inRead {
		panic("read boom")
	}
	if p.sent {
		return 0, io.EOF
	}
	p.sent = true
	return copy(b, "abc"), nil
}

func (p *panicSource) Close() error {
	if !p.inRead {
		panic("close boom")
	}
	return nil
}

type panicCodec struct{ JSONCodec }

func (panicCodec) Unmarshal([]byte, any) error { panic("codec boom") }

// logBuf collects a server's log.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", args...)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// [RPC-19] A panic in user code anywhere on the server's path (a request
// type's UnmarshalJSON, a codec, a reply source's Read or Close) is
// answered with ServerError or, once the reply header is out, a reset;
// the server goes on serving either way, and logs the panic with the
// stack of the goroutine that panicked.
func TestPanicsInUserCode(t *testing.T) {
	checkGoroutines(t)
	log := &logBuf{}
	s := testServer(t, &ServerOptions{Logf: log.logf})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.RegisterEndpoint("Decode", func(in *panicky, out *Msg) error { return nil }))
	must(s.RegisterEndpoint("ReadPanic", func(in *Msg, out *io.Reader) error {
		*out = &panicSource{inRead: true}
		return nil
	}))
	must(s.RegisterEndpoint("ClosePanic", func(in *Msg, out *io.Reader) error {
		*out = &panicSource{}
		return nil
	}))
	ctx := context.Background()
	var out Msg

	p := newPair(t, s, nil)
	mustStatus(t, p.cli.Call(ctx, "Decode", &Msg{}, &out), StatusServerError, `decoding the request body of "Decode" panicked: unmarshal boom`)
	echoOK(t, p.cli)
	if l := log.String(); !strings.Contains(l, "unmarshal boom") || !strings.Contains(l, "(*panicky).UnmarshalJSON") {
		t.Fatalf("log without the panicking stack:\n%s", l)
	}

	for _, ep := range []string{"ReadPanic", "ClosePanic"} {
		p := newPair(t, s, nil)
		var body io.Reader
		err := p.cli.Call(ctx, ep, &Msg{}, &body)
		if err == nil {
			_, err = io.ReadAll(body)
		}
		if ep == "ReadPanic" && !errors.Is(err, ErrReset) {
			t.Fatalf("%s: got %v, want the stream reset", ep, err)
		}
		if err := <-p.served; !errors.Is(err, ErrStreamFailed) || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("%s: Serve: %v", ep, err)
		}
		p.served <- nil
		// The server is alive: a new connection is served.
		echoOK(t, newPair(t, s, nil).cli)
	}
	if l := log.String(); !strings.Contains(l, "(*panicSource).Read") || !strings.Contains(l, "(*panicSource).Close") {
		t.Fatalf("log without the panicking stacks:\n%s", l)
	}

	// A codec that panics.
	cs := testServer(t, &ServerOptions{Codec: panicCodec{StdJSON}})
	mustStatus(t, newPair(t, cs, nil).cli.Call(ctx, "Echo", &Msg{}, &out), StatusServerError, `decoding the request body of "Echo" panicked: codec boom`)
	// The client's own codec and pushed source.
	pc := newPair(t, testServer(t, nil), &ClientOptions{Codec: panicCodec{StdJSON}})
	if err := pc.cli.Call(ctx, "Echo", &Msg{}, &out); !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "codec boom") {
		t.Fatalf("client codec: %v", err)
	}
	if err := pc.cli.Err(); err != nil {
		t.Fatalf("a reply the codec cannot decode ended the connection: %v", err)
	}
	pp := newPair(t, testServer(t, nil), nil)
	if err := pp.cli.Call(ctx, "Count", &panicSource{inRead: true}, &out); !errors.Is(err, ErrStreamFailed) || !strings.Contains(err.Error(), "read boom") {
		t.Fatalf("pushed source: %v", err)
	}
}

// A handler error made with github.com/pkg/errors is logged with its
// stack; the client gets its message only.
func TestHandlerErrorStack(t *testing.T) {
	checkGoroutines(t)
	log := &logBuf{}
	s := testServer(t, &ServerOptions{Logf: log.logf})
	if err := s.RegisterEndpoint("Stacked", func(in *Msg, out *Msg) error {
		return pkgerrors.Wrap(stackedCause(), "storing")
	}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, s, nil)
	var out Msg
	mustStatus(t, p.cli.Call(context.Background(), "Stacked", &Msg{}, &out), StatusError, "storing: disk full")
	if l := log.String(); !strings.Contains(l, "storing: disk full") || !strings.Contains(l, "rpc.stackedCause") {
		t.Fatalf("log without the error's stack:\n%s", l)
	}
	// An error without a stack is the client's business only.
	before := log.String()
	mustStatus(t, p.cli.Call(context.Background(), "Fail", &Msg{Text: "x"}, &out), StatusError, "failed: x")
	if log.String() != before {
		t.Fatalf("plain handler error logged: %q", strings.TrimPrefix(log.String(), before))
	}
}

func stackedCause() error { return pkgerrors.New("disk full") }
