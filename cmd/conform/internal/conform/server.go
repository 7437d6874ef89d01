package conform

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/framerpc/framerpc/testvectors/format"
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
	switch {
	case c.Conv != nil:
		f = serverConversation(c.Conv, conn, timeout)
	case c.Msg != nil:
		f = serverMessage(c, conn, timeout)
	default:
		f = serverHeader(c.Hdr, conn, timeout)
	}
	if err := conn.Close(); err != nil && f == nil {
		f = failf("%v", err)
	}
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
func serverConversation(tc *format.ConversationTest, conn Conn, timeout time.Duration) *Failure {
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

// The bytes of a header test (README, "Running a header test"): the OK reply
// to Ping and its body, and a sample RequestError header whose text is the
// server's to choose.
var (
	okReplyHeader = []byte(`{"Endpoint":"","DataType":2,"Accept":0,"Error":1,"ErrorMessage":""}` + "\n")
	pingBody      = []byte("{}\n")
	requestError  = []byte(`{"Endpoint":"","DataType":1,"Accept":0,"Error":2,"ErrorMessage":"any text"}` + "\n")
)

// frameBytes is one frame.
func frameBytes(typ byte, payload []byte) []byte {
	b := []byte{typ, 1, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[2:], uint32(len(payload)))
	return append(b, payload...)
}

// serverHeader sends a header vector's input as the request header of a
// new connection, as the README's "Running a header test" says. An invalid header
// must be answered with an RST and the end of the connection, nothing
// else ([RPC-41], [ERR-1]). A valid or acceptable one is followed by the
// body its DataType announces, and must be answered with the vector's
// status; the canonical Ping request that follows must then be answered OK
// (the connection stayed in sync, [RPC-15] [RPC-31]), and the client's RST
// must end the connection [RPC-29]. It runs as a conversation made up from
// those bytes.
func serverHeader(tc *format.HeaderTest, conn Conn, timeout time.Duration) *Failure {
	in, err := tc.Input.Expand()
	if err != nil {
		return failf("vector: input: %v", err)
	}
	// One Header frame, whatever its length: a header over 4096 bytes
	// must reach the server for it to refuse.
	req := frameBytes(typeHeader, in)
	if tc.Result == format.Invalid {
		p := &peer{conn: conn, timeout: timeout}
		writeErr := send(conn, req, timeout)
		p.readToEnd()
		if f := compareBytes("server bytes (want an RST, then the end of the connection)", p.got, canonicalRST, nil, nil, p.end); f != nil {
			if len(p.got) == 0 && !p.closed() {
				f.Context = append(f.Context, "the server seems to have accepted the header and to wait for its body")
			}
			return f
		}
		if !p.closed() {
			msg := fmt.Sprintf("the server sent its RST for %s but did not close the connection: %s", tc.ErrorClass, p.end)
			if writeErr != nil {
				msg += "; writing the input failed: " + writeErr.Error()
			}
			return failf("%s", msg)
		}
		return nil
	}
	if tc.Header == nil || tc.Status == nil {
		return failf("vector: a %s header test without header or status", tc.Result)
	}
	switch tc.Header.DataType {
	case 2:
		req = append(req, frameBytes(typeData, pingBody)...)
	case 3:
		req = append(req, frameBytes(typeData, nil)...)
	}
	req = append(req, frameBytes(typeHeader, pingRequest)...)
	req = append(req, frameBytes(typeData, pingBody)...)
	req = append(req, canonicalRST...)
	okReply := append(frameBytes(typeHeader, okReplyHeader), frameBytes(typeData, pingBody)...)
	var want []byte
	var items []format.ConvMessage
	if *tc.Status == 1 {
		want = append(append(want, okReply...), okReply...)
		items = []format.ConvMessage{{Type: "01"}, {Type: "02"}, {Type: "01"}, {Type: "02"}}
	} else {
		want = append(append(want, frameBytes(typeHeader, requestError)...), okReply...)
		items = []format.ConvMessage{{Type: "01", AnyErrorMessage: true}, {Type: "01"}, {Type: "02"}}
	}
	var cb, sb format.Bytes
	cb.AppendLit(req)
	sb.AppendLit(want)
	return serverConversation(&format.ConversationTest{ClientBytes: cb, ServerBytes: sb, Server: items}, conn, timeout)
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
