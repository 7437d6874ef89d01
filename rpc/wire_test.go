package rpc

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
)

// Raw wire helpers: tests that pin bytes build and read the stream by hand,
// independently of the code under test.

// msg is a message of type t with body b in canonical frames [MSG-3].
func msg(t frame.Type, b string) []byte {
	var out []byte
	for len(b) >= frame.MaxPayload {
		out = frame.FrameHeader{Type: t, Length: frame.MaxPayload}.AppendHeader(out)
		out = append(out, b[:frame.MaxPayload]...)
		b = b[frame.MaxPayload:]
	}
	out = frame.FrameHeader{Type: t, Final: true, Length: uint32(len(b))}.AppendHeader(out)
	return append(out, b...)
}

func hdr(b string) []byte  { return msg(frame.TypeHeader, b) }
func data(b string) []byte { return msg(frame.TypeData, b) }
func trl(b string) []byte  { return msg(frame.TypeTrailer, b) }

var rst = []byte{0xff, 0x01, 0, 0, 0, 0}

func reqHeader(ep string, dt, acc int) string {
	return fmt.Sprintf(`{"Endpoint":%q,"DataType":%d,"Accept":%d,"Error":0,"ErrorMessage":""}`+"\n", ep, dt, acc)
}

func repHeader(dt, st int, m string) string {
	return fmt.Sprintf(`{"Endpoint":"","DataType":%d,"Accept":0,"Error":%d,"ErrorMessage":%q}`+"\n", dt, st, m)
}

const (
	helloReq   = `{"Endpoint":"framerpc:hello","DataType":1,"Accept":1,"Error":0,"ErrorMessage":"","Extensions":["trailer","multipart"]}` + "\n"
	helloRep   = `{"Endpoint":"","DataType":1,"Accept":0,"Error":1,"ErrorMessage":"","Extensions":["trailer","multipart"]}` + "\n"
	trailerOK  = `{"Error":1,"ErrorMessage":""}` + "\n"
	hangupWait = 10 * time.Second // a guard against hangs, never an assertion
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// readN reads exactly n bytes from c.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(hangupWait))
	defer c.SetReadDeadline(time.Time{})
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v (got %q)", n, err, b)
	}
	return b
}

func expectBytes(t testing.TB, c net.Conn, want []byte) {
	t.Helper()
	got := readN(t, c, len(want))
	if !bytes.Equal(got, want) {
		t.Fatalf("wire bytes differ\n got %s\nwant %s\n got %q\nwant %q", hex.EncodeToString(got), hex.EncodeToString(want), got, want)
	}
}

// expectEnd checks that the peer sends nothing more and closes.
func expectEnd(t testing.TB, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(hangupWait))
	defer c.SetReadDeadline(time.Time{})
	b, err := io.ReadAll(c)
	if err != nil && !strings.Contains(err.Error(), "reset by peer") {
		t.Fatalf("waiting for the end of the stream: %v", err)
	}
	if len(b) != 0 {
		t.Fatalf("unexpected bytes before the end: %x", b)
	}
}

// rawServer is a server connection driven by the test: it writes requests
// as bytes and reads the replies as bytes.
type rawServer struct {
	conn   net.Conn
	served chan error
}

func newRawServer(t testing.TB, s *Server) *rawServer {
	t.Helper()
	a, b := socketpair(t)
	r := &rawServer{conn: a, served: make(chan error, 1)}
	go func() { r.served <- s.Serve(b) }()
	t.Cleanup(func() {
		a.Close()
		<-r.served
	})
	return r
}

func (r *rawServer) send(t testing.TB, parts ...[]byte) {
	t.Helper()
	if _, err := r.conn.Write(cat(parts...)); err != nil {
		t.Fatal(err)
	}
}

// result waits for Serve to return.
func (r *rawServer) result(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.served:
		r.served <- err
		return err
	case <-time.After(hangupWait):
		t.Fatal("Serve did not return")
		return nil
	}
}

// rawClient is a client connection whose server side the test plays.
type rawClient struct {
	cli  *Client
	conn net.Conn
}

func newRawClient(t testing.TB, opts *ClientOptions) *rawClient {
	t.Helper()
	a, b := socketpair(t)
	r := &rawClient{cli: NewClient(a, opts), conn: b}
	t.Cleanup(func() {
		b.Close()
		r.cli.Close()
	})
	return r
}

// call runs fn (a call on r.cli) in the background; wait returns its error.
func (r *rawClient) call(fn func(c *Client) error) (wait func() error) {
	ch := make(chan error, 1)
	go func() { ch <- fn(r.cli) }()
	return func() error {
		select {
		case err := <-ch:
			return err
		case <-time.After(hangupWait):
			panic("call did not return")
		}
	}
}

func (r *rawClient) send(t testing.TB, parts ...[]byte) {
	t.Helper()
	if _, err := r.conn.Write(cat(parts...)); err != nil {
		t.Fatal(err)
	}
}
