package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// refusing registers Refuse, an octets endpoint whose handler refuses
// without reading its stream.
func refusing(t testing.TB, opts *ServerOptions) *Server {
	s := testServer(t, opts)
	if err := s.RegisterEndpoint("Refuse", func(in io.Reader, out *Msg) error {
		return &Error{Status: StatusRequestError, Message: "snapshot already exists"}
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// expectSoon reads want from c within a second: a reply that comes only
// after the rest of the request would not.
func expectSoon(t testing.TB, c interface {
	io.Reader
	SetReadDeadline(time.Time) error
}, want []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q before the end of the request", got, err, want)
	}
	c.SetReadDeadline(time.Time{})
}

// [RPC-43] A refusal decided without reading the body (unknown endpoint,
// a handler that does not read its stream) is sent before the rest of the
// body, which the server then consumes: a client that writes everything
// before it reads, as the original did, stays in sync.
func TestRefusalBeforeBody(t *testing.T) {
	checkGoroutines(t)
	s := refusing(t, nil)
	full := func(n int) []byte { return make([]byte, n) }
	for _, c := range []struct{ endpoint, text string }{
		{"Nope", `unknown endpoint "Nope"`},
		{"Refuse", "snapshot already exists"},
	} {
		t.Run(c.endpoint, func(t *testing.T) {
			r := newRawServer(t, s)
			// The header and a first, non-final frame of the body.
			r.send(t, hdr(reqHeader(c.endpoint, 3, 2)), msgFrame(frame.TypeData, false, full(1000)))
			expectSoon(t, r.conn, hdr(repHeader(1, 2, c.text)))
			// The rest of the body, then the next call: in sync.
			r.send(t, msgFrame(frame.TypeData, true, full(1000)), hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"after"}`))
			expectBytes(t, r.conn, cat(hdr(repHeader(2, 1, "")), data(`{"Text":"after","N":1}`+"\n")))
		})
	}
}

// msgFrame is one frame of a message.
func msgFrame(t frame.Type, final bool, payload []byte) []byte {
	f := byte(0)
	if final {
		f = 1
	}
	n := len(payload)
	return append([]byte{byte(t), f, byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}, payload...)
}

// [RPC-43] The caller of a refused push gets the server's refusal, not a
// broken pipe: with the trailer extension the client stops sending,
// ends its stream with a failure Trailer and keeps the connection;
// without it, or when the server ends the connection past its discard
// bound, the refusal comes joined with the connection's end.
func TestRefusalReachesCaller(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	big := func() io.Reader { return io.LimitReader(zeroes{}, 256<<20) }
	t.Run("trailer", func(t *testing.T) {
		p := newPair(t, refusing(t, nil), nil)
		var out Msg
		err := p.cli.Call(ctx, "Refuse", big(), &out)
		mustStatus(t, err, StatusRequestError, "snapshot already exists")
		if errors.Is(err, ErrStreamFailed) || errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want the refusal alone", err)
		}
		if p.cli.sent.n > 128<<20 {
			t.Fatalf("sent %d bytes of a refused stream", p.cli.sent.n)
		}
		echoOK(t, p.cli)
	})
	for _, c := range []struct {
		name string
		sopt *ServerOptions
		copt *ClientOptions
	}{
		{"no trailer", nil, &ClientOptions{Extensions: []string{}}},
		{"past the server's discard bound", &ServerOptions{MaxDiscard: 1 << 20, Extensions: []string{}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, refusing(t, c.sopt), c.copt)
			var out Msg
			err := p.cli.Call(ctx, "Refuse", big(), &out)
			mustStatus(t, err, StatusRequestError, "snapshot already exists")
			if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrReset) {
				t.Fatalf("got %v, want the refusal and the connection's end", err)
			}
			waitDone(t, p.cli)
		})
	}
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) { clear(p); return len(p), nil }
