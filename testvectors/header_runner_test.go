package testvectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/rpc"
	"github.com/framerpc/framerpc/testvectors/format"
)

// socketpair returns the two ends of a Unix stream socketpair.
func socketpair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	a, b, err := unixpair.New()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// headerFixture is the server the header vectors are answered by (README:
// "Running a header test"): the fixture's Ping, JSON in and JSON out,
// replying {}; no extensions granted. No header vector names another
// endpoint of the fixture, so Ping alone answers every vector alike.
func headerFixture(t testing.TB) *rpc.Server {
	t.Helper()
	srv := rpc.NewServer(&rpc.ServerOptions{Extensions: []string{}})
	if err := srv.RegisterEndpoint("Ping", func(in *struct{}, out *struct{}) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return srv
}

// Expected bytes of the fixture, from the spec: the OK reply header of
// section 6 ([RPC-1], [RPC-2], [RPC-17]) and the JSON body {} as Go's
// json.Encoder writes it [RPC-18].
var (
	okReplyHeader = []byte(`{"Endpoint":"","DataType":2,"Accept":0,"Error":1,"ErrorMessage":""}` + "\n")
	pingReplyBody = []byte("{}\n")
	pingRequest   = []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n")
)

// readReplyHeader reads one reply header message and decodes it loosely:
// the runner checks what the spec fixes, not the server's error text.
func readReplyHeader(r *frame.Reader) ([]byte, *format.RPCHeader, error) {
	m, err := r.NextMessage(frame.TypeHeader)
	if err != nil {
		return nil, nil, err
	}
	b, err := m.AppendTo(nil)
	if err != nil {
		return nil, nil, err
	}
	var h format.RPCHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return b, nil, fmt.Errorf("reply header %q: %v", b, err)
	}
	return b, &h, nil
}

func TestHeaderVectors(t *testing.T) {
	f, err := format.Load[format.HeaderTest]("header_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := headerFixture(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
				t.Parallel()
				runHeaderVector(t, srv, tc)
			})
		}
	}
}

func runHeaderVector(t *testing.T, srv *rpc.Server, tc format.HeaderTest) {
	cli, sconn := socketpair(t)
	defer cli.Close()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sconn) }()
	if err := cli.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	in := expand(t, tc.TcID, "input", tc.Input)
	w := frame.NewWriter(cli)
	r := frame.NewReader(cli)
	// One Header frame, whatever its length: a header over 4096 bytes must
	// reach the server for it to refuse.
	if err := w.WriteFrame(frame.TypeHeader, true, in); err != nil {
		t.Fatalf("tcId %d: %v", tc.TcID, err)
	}

	if tc.Result == format.Invalid {
		// [RPC-41]: bad-header in a request, RST and close; a frame
		// error of section 5 likewise ([ERR-1], [RPC-35]).
		got, err := io.ReadAll(cli)
		if err != nil {
			t.Fatalf("tcId %d (%s): no RST and close from the server (it sent %x, then %v): it seems to have accepted the header and to wait for a body", tc.TcID, tc.ErrorClass, got, err)
		}
		if d := diffBytes("server bytes", got, []byte{0xff, 0x01, 0, 0, 0, 0}); d != "" {
			t.Fatalf("tcId %d (%s): want exactly an RST, then the end of the stream: %s", tc.TcID, tc.ErrorClass, d)
		}
		err = <-served
		if err == nil {
			t.Fatalf("tcId %d: Serve reported no error for a %s request", tc.TcID, tc.ErrorClass)
		}
		var frameErr *frame.ProtocolError
		var rpcErr *rpc.ProtocolError
		switch {
		case errors.As(err, &rpcErr):
			if rpcErr.Class.String() != tc.ErrorClass {
				t.Fatalf("tcId %d: server reported %s, want %s", tc.TcID, rpcErr.Class, tc.ErrorClass)
			}
		case errors.As(err, &frameErr):
			if frameErr.Class.String() != tc.ErrorClass || tc.ErrorOffset == nil || frameErr.Offset != *tc.ErrorOffset {
				t.Fatalf("tcId %d: server reported %s at %d, want %s at %v", tc.TcID, frameErr.Class, frameErr.Offset, tc.ErrorClass, tc.ErrorOffset)
			}
		default:
			t.Fatalf("tcId %d: server reported %v, want class %s", tc.TcID, err, tc.ErrorClass)
		}
		return
	}

	// The request body the decoded DataType announces [RPC-14].
	var err error
	switch tc.Header.DataType {
	case 2:
		err = w.WriteMessage(frame.TypeData, []byte("{}\n"))
	case 3:
		err = w.WriteMessage(frame.TypeData, nil)
	}
	if err != nil {
		t.Fatalf("tcId %d: writing the body: %v", tc.TcID, err)
	}
	raw, h, err := readReplyHeader(r)
	if err != nil {
		t.Fatalf("tcId %d: reading the reply: %v", tc.TcID, err)
	}
	if h.Error != *tc.Status {
		t.Fatalf("tcId %d: status %d (%q), want %d", tc.TcID, h.Error, h.ErrorMessage, *tc.Status)
	}
	if *tc.Status == 1 {
		if d := diffBytes("OK reply headers", raw, okReplyHeader); d != "" {
			t.Fatalf("tcId %d: %s", tc.TcID, d)
		}
		m, err := r.NextMessage(frame.TypeData)
		if err != nil {
			t.Fatalf("tcId %d: %v", tc.TcID, err)
		}
		body, err := m.AppendTo(nil)
		if err != nil || !bytes.Equal(body, pingReplyBody) {
			t.Fatalf("tcId %d: reply body %q, %v", tc.TcID, body, err)
		}
	} else if h.DataType != 1 || h.Endpoint != "" || h.Accept != 0 {
		// [RPC-2], [RPC-17]: a non-OK reply has DataType 1 and no body.
		t.Fatalf("tcId %d: non-OK reply header %q", tc.TcID, raw)
	}
	// The connection is still in sync: the next Ping is answered OK
	// ([RPC-15], [RPC-31]).
	if err := w.WriteMessage(frame.TypeHeader, pingRequest); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMessage(frame.TypeData, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	raw, _, err = readReplyHeader(r)
	if err != nil || !bytes.Equal(raw, okReplyHeader) {
		t.Fatalf("tcId %d: the next call got %q, %v", tc.TcID, raw, err)
	}
	if m, err := r.NextMessage(frame.TypeData); err != nil {
		t.Fatal(err)
	} else if _, err := m.Discard(); err != nil {
		t.Fatal(err)
	}
	// Hang up [RPC-34]: the server ends without an error [RPC-29].
	if err := w.WriteRST(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("tcId %d: Serve after the client's RST: %v", tc.TcID, err)
	}
}

// TestHeaderEncode is the encode direction of the header group: for every
// valid header a client can be made to send (DataType and Accept 2 or 3,
// Error 0, ErrorMessage ""), a real rpc.Client must write exactly the
// vector's input as its request header [RPC-1] [RPC-2], except an empty
// endpoint name, which it refuses to send [RPC-12].
func TestHeaderEncode(t *testing.T) {
	f, err := format.Load[format.HeaderTest]("header_decode.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			h := tc.Header
			if tc.Result != format.Valid || h.Error != 0 || h.ErrorMessage != "" ||
				h.DataType < 2 || h.DataType > 3 || h.Accept < 2 || h.Accept > 3 {
				continue
			}
			n++
			t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
				t.Parallel()
				cconn, peer := socketpair(t)
				defer peer.Close()
				if err := peer.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				c := rpc.NewClient(cconn, &rpc.ClientOptions{Extensions: []string{}})
				defer c.Close()
				var in any = json.RawMessage(`{}`)
				if h.DataType == 3 {
					in = bytes.NewReader(nil)
				}
				var jsOut json.RawMessage
				var stream io.ReadCloser
				var out any = &jsOut
				if h.Accept == 3 {
					out = &stream
				}
				if h.Endpoint == "" {
					// [RPC-12] An empty name is valid on the wire (the
					// server answers RequestError) but the client refuses
					// to send it.
					if err := c.Call(context.Background(), h.Endpoint, in, out); !errors.Is(err, rpc.ErrBadCall) {
						t.Fatalf("tcId %d: calling the empty endpoint: %v, want ErrBadCall", tc.TcID, err)
					}
					return
				}
				done := make(chan error, 1)
				go func() { done <- c.Call(context.Background(), h.Endpoint, in, out) }()
				m, err := frame.NewReader(peer).NextMessage(frame.TypeHeader)
				if err != nil {
					t.Fatalf("tcId %d: %v", tc.TcID, err)
				}
				got, err := m.AppendTo(nil)
				if err != nil {
					t.Fatalf("tcId %d: %v", tc.TcID, err)
				}
				if d := diffBytes("request headers", got, expand(t, tc.TcID, "input", tc.Input)); d != "" {
					t.Fatalf("tcId %d: %s", tc.TcID, d)
				}
				peer.Close()
				<-done
			})
		}
	}
	if n == 0 {
		t.Fatal("no header vector to encode")
	}
}
