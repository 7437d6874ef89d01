package conform

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Target opens connections to a server under test.
type Target interface {
	// Open returns a new connection to a server that grants grants when a
	// client asks for extensions.
	Open(grants []string) (Conn, error)
}

// Diagnoser is a Conn that can say more about a failure (a spawned
// process's standard error).
type Diagnoser interface {
	Diagnostics() []string
}

// Unavailable is the error of a Target that has no server for a set of
// grants; the vector is then not run.
type Unavailable struct{ Reason string }

func (u *Unavailable) Error() string { return u.Reason }

// playServer checks a server with one vector.
func playServer(c Case, t Target, timeout time.Duration) (*Failure, error) {
	grants := []string{"trailer", "multipart"}
	if c.Conv != nil {
		grants = c.Conv.ServerExtensions
	}
	conn, err := t.Open(grants)
	if err != nil {
		return nil, err
	}
	var f *Failure
	if c.Conv != nil {
		f = serverConversation(c, conn, timeout)
	} else {
		f = serverMessage(c, conn, timeout)
	}
	conn.Close()
	if f != nil {
		if d, ok := conn.(Diagnoser); ok {
			f.Context = append(f.Context, d.Diagnostics()...)
		}
	}
	return f, nil
}

// serverConversation plays the client side of a conversation, turn by
// turn: it sends one request (or the hang-up), waits for the reply the
// vector gives, and so on; then it ends its stream the way the vector
// does and waits for the server to close. What the server sent is
// compared with the vector's server bytes, reply texts the spec leaves
// free compared by meaning.
func serverConversation(c Case, conn Conn, timeout time.Duration) *Failure {
	tc := c.Conv
	clientBytes, err := tc.ClientBytes.Expand()
	if err != nil {
		return failf("vector: clientBytes: %v", err)
	}
	want, err := tc.ServerBytes.Expand()
	if err != nil {
		return failf("vector: serverBytes: %v", err)
	}
	cturns, sturns := splitTurns(clientBytes, true), splitTurns(want, false)
	p := &peer{conn: conn, timeout: timeout}
	var writeErr error
	for i, ct := range cturns {
		if writeErr == nil {
			writeErr = send(conn, ct.bytes, timeout)
		}
		if i < len(sturns) {
			p.readItems(sturns[i].items)
		}
	}
	// A server whose last word is an RST must close the connection by
	// itself [FRAME-7] [RPC-35]; any other ends when the client's stream
	// does, which the vectors all show as the end of the client's bytes.
	if !endsWithRST(sturns) {
		_ = conn.CloseWrite()
	}
	p.readToEnd()
	norm, toGot, notes := normalizeErrorMessages(p.got, want, tc.Server)
	if f := compareBytes("server bytes", norm, want, p.got, toGot, p.end); f != nil {
		f.Context = append(f.Context, notes...)
		if writeErr != nil {
			f.Context = append(f.Context, "writing the client's bytes failed: "+writeErr.Error())
		}
		return f
	}
	if !p.closed() {
		return failf("the server sent what the vector says but did not close the connection: %s", p.end)
	}
	return nil
}

// serverMessage sends a message vector that breaks inside the first
// request, and checks the server's reaction: no reply, at most one RST,
// and the connection closed [ERR-1] [RPC-35] [RPC-29]. The runner ends its
// own stream only where the vector's does (unexpected-eof); for every
// other error the server has seen all it needs and must close by itself.
func serverMessage(c Case, conn Conn, timeout time.Duration) *Failure {
	in, err := c.Msg.Input.Expand()
	if err != nil {
		return failf("vector: input: %v", err)
	}
	p := &peer{conn: conn, timeout: timeout}
	writeErr := send(conn, in, timeout)
	if c.Msg.ErrorClass == "unexpected-eof" {
		_ = conn.CloseWrite()
	}
	p.readToEnd()
	want := "nothing, or one RST (ff 01 00 00 00 00), then the end of the connection"
	if len(p.got) > 0 && !bytes.Equal(p.got, canonicalRST) {
		f := compareBytes("server bytes (want "+want+")", p.got, canonicalRST, nil, nil, p.end)
		if len(p.got) >= len(canonicalRST) && !bytes.HasPrefix(p.got, canonicalRST) {
			f.Detail += fmt.Sprintf("; the input is %s, which a server must not answer", c.Msg.ErrorClass)
		}
		return f
	}
	if !p.closed() {
		msg := fmt.Sprintf("the server did not close the connection after %s at offset %d: %s; want %s", c.Msg.ErrorClass, deref(c.Msg.ErrorOffset), p.end, want)
		if writeErr != nil {
			msg += "; writing the input failed: " + writeErr.Error()
		}
		return failf("%s", msg)
	}
	return nil
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// grantKey names a set of grants, "none" for the empty set.
func grantKey(grants []string) string {
	if len(grants) == 0 {
		return "none"
	}
	return strings.Join(grants, ",")
}
