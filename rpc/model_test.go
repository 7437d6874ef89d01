package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/internal/unixpair"
	"pgregory.net/rapid"
)

// TestConnectionModel is a state-machine test over a real socketpair: each
// action is a call whose outcome a model predicts; the invariant is that
// every outcome matches, that the connection stays usable after every
// outcome the spec calls non-fatal [RPC-36] and is closed, with clear
// errors, after the fatal ones [RPC-32] [RPC-33] [RPC-23], and that no
// goroutine outlives the test.
func TestConnectionModel(t *testing.T) {
	checkGoroutines(t)
	rapid.Check(t, func(rt *rapid.T) {
		m := &connModel{}
		m.srv = testServer(rt, nil)
		m.entered, m.release = make(chan struct{}, 1), make(chan struct{})
		if err := m.srv.RegisterEndpoint("Block", func(ctx context.Context, in *Msg, out *Msg) error {
			m.entered <- struct{}{}
			<-m.release
			return nil
		}); err != nil {
			rt.Fatal(err)
		}
		m.connect(rt)
		rt.Cleanup(m.teardown)
		rt.Repeat(rapid.StateMachineActions(m))
	})
}

type connModel struct {
	srv              *Server
	cli              *Client
	sconn            net.Conn
	served           chan error
	ext              bool // the client asks for (and the server grants) extensions
	dead             bool // the model: the connection is over
	entered, release chan struct{}
}

func (m *connModel) connect(t *rapid.T) {
	a, b, err := unixpair.New()
	if err != nil {
		t.Fatal(err)
	}
	m.ext = rapid.Bool().Draw(t, "extensions")
	opts := &ClientOptions{}
	if !m.ext {
		opts.Extensions = []string{}
	}
	m.cli, m.sconn, m.served, m.dead = NewClient(a, opts), b, make(chan error, 1), false
	srv := m.srv
	go func() { m.served <- srv.Serve(b) }()
}

func (m *connModel) teardown() {
	m.cli.Close()
	<-m.served
}

var bg = context.Background()

// expectDead: on a dead connection every call fails with ErrClosed.
func (m *connModel) expectDead(t *rapid.T, err error) {
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed connection: got %v, want ErrClosed", err)
	}
}

func (m *connModel) JSONCall(t *rapid.T) {
	text := rapid.String().Draw(t, "text")
	n := rapid.IntRange(-1000, 1000).Draw(t, "n")
	var out Msg
	err := m.cli.Call(bg, "Echo", &Msg{Text: text, N: n}, &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if err != nil || out.N != n+1 || out.Text != strings.ToValidUTF8(text, "\ufffd") {
		t.Fatalf("Echo: %v %+v", err, out)
	}
}

func (m *connModel) HandlerError(t *rapid.T) {
	text := rapid.StringMatching(`[a-z<>&]{0,20}`).Draw(t, "text")
	var out Msg
	err := m.cli.Call(bg, "Fail", &Msg{Text: text}, &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	mustStatus(t, err, StatusError, "failed: "+text)
}

func (m *connModel) Panic(t *rapid.T) {
	var out Msg
	err := m.cli.Call(bg, "Panic", &Msg{Text: "p"}, &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	mustStatus(t, err, StatusServerError, `handler "Panic" panicked: boom p`)
}

func (m *connModel) UnknownEndpoint(t *rapid.T) {
	var in any = &Msg{Text: "x"}
	if rapid.Bool().Draw(t, "octets") {
		in = bytes.NewReader(make([]byte, rapid.IntRange(0, 300000).Draw(t, "size")))
	}
	var out Msg
	err := m.cli.Call(bg, "Nope", in, &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	mustStatus(t, err, StatusRequestError, `unknown endpoint "Nope"`)
}

func (m *connModel) WrongKind(t *rapid.T) {
	var r io.Reader
	err := m.cli.Call(bg, "Echo", &Msg{}, &r)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	mustStatus(t, err, StatusRequestError, `endpoint "Echo" replies with a JSON body, not an octets body`)
}

func (m *connModel) StreamReply(t *rapid.T) {
	n := rapid.IntRange(0, 200000).Draw(t, "n")
	var r io.ReadCloser
	err := m.cli.Call(bg, "Stream", &Msg{Text: "ab", N: n}, &r)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(b, bytes.Repeat([]byte("ab"), n)) {
		t.Fatalf("stream: %d bytes, %v", len(b), err)
	}
}

func (m *connModel) FailingStream(t *rapid.T) {
	n := rapid.IntRange(0, 200000).Draw(t, "n")
	var r io.Reader
	err := m.cli.Call(bg, "FailingStream", &Msg{Text: "q", N: n}, &r)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if !m.ext {
		// No trailer: the server can only reset; the body never looks
		// complete [RPC-23]. Here it fails before the first frame.
		if !errors.Is(err, ErrReset) {
			t.Fatalf("got %v, want a reset", err)
		}
		m.dead = true
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if len(b) != n {
		t.Fatalf("got %d bytes, want %d", len(b), n)
	}
	mustStatus(t, err, StatusError, "source died: q")
}

func (m *connModel) PushOctets(t *rapid.T) {
	n := rapid.IntRange(0, 300000).Draw(t, "n")
	var out Msg
	err := m.cli.Call(bg, "Count", bytes.NewReader(make([]byte, n)), &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if err != nil || out.N != n {
		t.Fatalf("Count: %v %+v", err, out)
	}
}

func (m *connModel) PushFailing(t *rapid.T) {
	n := rapid.IntRange(0, 100000).Draw(t, "n")
	var out Msg
	src := io.MultiReader(bytes.NewReader(make([]byte, n)), errReader{errors.New("src broke")})
	err := m.cli.Call(bg, "Count", src, &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if err == nil || !strings.Contains(err.Error(), "src broke") {
		t.Fatalf("got %v", err)
	}
	if m.ext {
		// The trailer told the handler, whose error is the reply.
		mustStatus(t, err, StatusError, "src broke")
		return
	}
	m.dead = true
}

func (m *connModel) Multipart(t *rapid.T) {
	text := rapid.StringMatching(`[a-z]{0,10}`).Draw(t, "text")
	var out Msg
	err := m.cli.Call(bg, "PushMeta", Push{Meta: &Msg{Text: text}, Body: strings.NewReader("b")}, &out)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if !m.ext {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("got %v", err)
		}
		return
	}
	if err != nil || out.Text != text+":b" {
		t.Fatal(err, out)
	}
	pull := Pull{Meta: &out}
	if err := m.cli.Call(bg, "PullMeta", &Msg{Text: "z", N: 3}, &pull); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(pull.Body)
	if err != nil || string(b) != "zzz" || out.N != 3 {
		t.Fatal(err, string(b), out)
	}
}

func (m *connModel) EarlyClose(t *rapid.T) {
	var r io.ReadCloser
	err := m.cli.Call(bg, "Stream", &Msg{Text: "x", N: 1 << 20}, &r)
	if m.dead {
		m.expectDead(t, err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(r, make([]byte, rapid.IntRange(0, 1000).Draw(t, "read")))
	r.Close()
	m.dead = true
	if err := <-m.served; err == nil {
		// The server saw the RST or a broken pipe: it has stopped.
		m.served <- nil
	} else {
		m.served <- err
	}
}

// Actions whose precondition does not hold do nothing: the step is spent
// and the next action is drawn.
func (m *connModel) Cancel(t *rapid.T) {
	if m.dead {
		return
	}
	ctx, cancel := context.WithCancel(bg)
	res := make(chan error, 1)
	go func() {
		var out Msg
		res <- m.cli.Call(ctx, "Block", &Msg{}, &out)
	}()
	<-m.entered
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	m.release <- struct{}{}
	m.dead = true
}

func (m *connModel) PeerDisconnect(t *rapid.T) {
	if m.dead {
		return
	}
	m.sconn.Close()
	var out Msg
	if err := m.cli.Call(bg, "Echo", &Msg{}, &out); err == nil {
		t.Fatal("call succeeded on a disconnected peer")
	}
	m.dead = true
}

func (m *connModel) Reconnect(t *rapid.T) {
	if !m.dead {
		return
	}
	m.teardown()
	m.connect(t)
}

func (m *connModel) Check(t *rapid.T) {
	if m.dead {
		return
	}
	// A live connection: the server must still be serving it.
	select {
	case err := <-m.served:
		t.Fatalf("server stopped on a connection the model calls usable: %v", err)
	default:
	}
}
