package testvectors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"testing/iotest"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/fixture"
	"github.com/framerpc/framerpc/rpc"
	"github.com/framerpc/framerpc/testvectors/format"
)

// The conversation runner replays each side of a conversation vector
// against the real implementation of the other side:
//
//   - server replay: the vector's client bytes go into a real rpc.Server
//     running the fixture; everything it sends must equal the server bytes
//     (with the reply texts the spec leaves open compared by structure);
//   - client replay: a real rpc.Client makes the vector's calls against a
//     peer that sends the server bytes; each call's result must be as the
//     vector says, and everything the client sends must equal the client
//     bytes.

func loadConversations(t *testing.T) *format.File[format.ConversationTest] {
	t.Helper()
	f, err := format.Load[format.ConversationTest]("conversations.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readAll reads c to its end in the background.
func readAll(c net.Conn) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(c)
		ch <- b
	}()
	return ch
}

// readAllSignal is readAll closing first when the first byte arrives (if
// first is still open then).
func readAllSignal(c net.Conn, first chan struct{}) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() {
		var b []byte
		buf := make([]byte, 32<<10)
		signalled := false
		for {
			n, err := c.Read(buf)
			b = append(b, buf[:n]...)
			if n > 0 && !signalled {
				signalled = true
				select {
				case <-first:
				default:
					close(first)
				}
			}
			if err != nil {
				if !signalled {
					select {
					case <-first:
					default:
						close(first)
					}
				}
				ch <- b
				return
			}
		}
	}()
	return ch
}

// oneByteConn hands its reader one byte per Read, so that the RPC layer
// too meets every segmentation [FRAME-12]. It reads the socket through a
// buffer: what is tested is the reader's view, not the number of system
// calls.
type oneByteConn struct {
	net.Conn
	br *bufio.Reader
}

func (c oneByteConn) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return c.br.Read(p)
}

// segmentations are the two ways the runners hand a side its input: as the
// socket delivers it, and one byte per read.
var segmentations = []struct {
	name string
	wrap func(net.Conn) io.ReadWriteCloser
}{
	{"socket", func(c net.Conn) io.ReadWriteCloser { return c }},
	{"one-byte", func(c net.Conn) io.ReadWriteCloser { return oneByteConn{c, bufio.NewReader(c)} }},
}

// skipSegmentation: under the race detector, where each Read costs a
// hundred times more, the multi-megabyte conversations are replayed as the
// socket delivers them only; the frame and message runners already feed
// such payloads one byte at a time.
func skipSegmentation(tc format.ConversationTest, seg string) bool {
	return raceEnabled && seg == "one-byte" && tc.ClientBytes.Len()+tc.ServerBytes.Len() > 1<<20
}

func TestConversationsServer(t *testing.T) {
	runConversations(t, "client", replayToServer)
}

// runConversations replays every conversation not marked for the other
// side only, under every segmentation.
func runConversations(t *testing.T, otherSide string, replay func(*testing.T, format.ConversationTest, func(net.Conn) io.ReadWriteCloser)) {
	f := loadConversations(t)
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if tc.Replay == otherSide {
				continue
			}
			for _, seg := range segmentations {
				if skipSegmentation(tc, seg.name) {
					continue
				}
				t.Run(fmt.Sprintf("tcId=%d/%s", tc.TcID, seg.name), func(t *testing.T) {
					t.Parallel()
					replay(t, tc, seg.wrap)
				})
			}
		}
	}
}

// replayToServer sends a conversation's client bytes to a real server
// running the fixture and compares everything it answers.
func replayToServer(t *testing.T, tc format.ConversationTest, wrap func(net.Conn) io.ReadWriteCloser) {
	srv, err := fixture.NewServer(tc.ServerExtensions, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli, sconn := socketpair(t)
	defer cli.Close()
	if err := cli.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(wrap(sconn)) }()
	got := readAll(cli)
	in := expand(t, tc.TcID, "clientBytes", tc.ClientBytes)
	// The server may close before reading everything (after
	// an RST it must not read on): write errors are expected
	// then and say nothing.
	_, _ = cli.Write(in)
	_ = cli.(*net.UnixConn).CloseWrite()
	out := <-got
	// Closed before waiting, so that a server still reading (which would
	// be a bug the comparison reports) cannot hang the test.
	cli.Close()
	<-served
	compareServerBytes(t, tc, out)
}

// compareServerBytes checks what a server sent against the vector: byte
// for byte, except that a reply header flagged anyErrorMessage may carry
// any ErrorMessage, written as [RPC-1] says.
func compareServerBytes(t *testing.T, tc format.ConversationTest, got []byte) {
	t.Helper()
	want := expand(t, tc.TcID, "serverBytes", tc.ServerBytes)
	loose := false
	for _, m := range tc.Server {
		loose = loose || m.AnyErrorMessage
	}
	if !loose {
		if d := diffBytes("server bytes", got, want); d != "" {
			t.Fatalf("tcId %d: %s", tc.TcID, d)
		}
		return
	}
	r := frame.NewReader(bytes.NewReader(got))
	var reframed bytes.Buffer
	w := frame.NewWriter(&reframed)
	for i, m := range tc.Server {
		typ := parseType(t, tc.TcID, m.Type)
		if typ == frame.TypeRST {
			h, err := r.ReadHeader()
			if err != nil || h.Type != frame.TypeRST {
				t.Fatalf("tcId %d: server item %d: %v %v, want RST", tc.TcID, i, h, err)
			}
			_ = w.WriteRST()
			continue
		}
		mr, err := r.NextMessage(typ)
		if err != nil {
			t.Fatalf("tcId %d: server message %d: %v", tc.TcID, i, err)
		}
		body, err := mr.AppendTo(nil)
		if err != nil {
			t.Fatalf("tcId %d: server message %d: %v", tc.TcID, i, err)
		}
		wantBody := expand(t, tc.TcID, "body", *m.Body)
		if m.AnyErrorMessage {
			var g, e format.RPCHeader
			if err := json.Unmarshal(body, &g); err != nil {
				t.Fatalf("tcId %d: server message %d: %q: %v", tc.TcID, i, body, err)
			}
			if err := json.Unmarshal(wantBody, &e); err != nil {
				t.Fatal(err)
			}
			g.ErrorMessage, e.ErrorMessage = "", ""
			if g != e {
				t.Fatalf("tcId %d: server message %d: header %q, want %q with any ErrorMessage", tc.TcID, i, body, wantBody)
			}
			// The whole header, text included, as [RPC-1] writes it.
			if !bytes.Equal(body, headerJSON(t, body)) {
				t.Fatalf("tcId %d: server message %d: %q is not encoded as [RPC-1] says", tc.TcID, i, body)
			}
		} else if d := diffBytes(fmt.Sprintf("server message %d bodies", i), body, wantBody); d != "" {
			t.Fatalf("tcId %d: %s", tc.TcID, d)
		}
		if err := w.WriteMessage(typ, body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ReadHeader(); err != io.EOF {
		t.Fatalf("tcId %d: the server sent more than the vector: %v", tc.TcID, err)
	}
	// The framing itself must be the canonical split [MSG-3].
	if d := diffBytes("server framing", got, reframed.Bytes()); d != "" {
		t.Fatalf("tcId %d: %s", tc.TcID, d)
	}
}

// headerJSON re-encodes a reply header the way [RPC-1] says, with Go's
// json.Encoder, which is what the rule is defined by.
func headerJSON(t *testing.T, body []byte) []byte {
	t.Helper()
	var h format.RPCHeader
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(h); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestConversationsClient(t *testing.T) {
	runConversations(t, "server", replayToClient)
}

// replayToClient makes a conversation's calls with a real client against a
// peer that sends the server bytes, and compares the results and everything
// the client sends.
func replayToClient(t *testing.T, tc format.ConversationTest, wrap func(net.Conn) io.ReadWriteCloser) {
	cconn, peer := socketpair(t)
	defer peer.Close()
	if err := peer.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// A server never speaks first: the server bytes go once the client
	// has sent something, or at once if the vector makes no call. (A
	// client may take an RST or the end of the stream that comes while
	// it is idle for the server closing the connection [RPC-42].)
	first := make(chan struct{})
	got := readAllSignal(peer, first)
	if len(tc.Calls) == 0 {
		close(first)
	}
	serverBytes := expand(t, tc.TcID, "serverBytes", tc.ServerBytes)
	// Where every call ends with the connection usable, the server waits
	// for the client's next request or hang-up, as a real one does:
	// closing its side at once would race the client's Close against its
	// idle read (which takes the end of the stream for the server closing
	// the idle connection, after which the client has no RST to send).
	// Where a call ends the connection (a truncation, an RST, a protocol
	// error) the server's side is closed at once: the client may need the
	// end of the stream to see it.
	hold := true
	for _, call := range tc.Calls {
		if call.Result.ErrorClass != "" {
			hold = false
		}
	}
	clientDone := make(chan struct{})
	go func() {
		<-first
		_, _ = peer.Write(serverBytes)
		if hold {
			<-clientDone
		}
		_ = peer.(*net.UnixConn).CloseWrite()
	}()
	c := rpc.NewClient(wrap(cconn), &rpc.ClientOptions{Extensions: tc.ClientExtensions})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, call := range tc.Calls {
		res := doCall(ctx, t, c, call)
		checkCallResult(t, tc.TcID, i, call.Result, res)
	}
	c.Close()
	close(clientDone)
	out := <-got
	if d := diffBytes("client bytes", out, expand(t, tc.TcID, "clientBytes", tc.ClientBytes)); d != "" {
		t.Fatalf("tcId %d: %s", tc.TcID, d)
	}
}

type callOutcome struct {
	status        uint32
	message       string
	json          []byte
	body          []byte
	streamStatus  uint32
	streamMessage string
	class         string
	sourceErr     bool
	err           error
}

// errFixtureSource is the failure of a request source with failAfterBody:
// the text the vectors give it.
var errFixtureSource = errors.New("source failed")

func doCall(ctx context.Context, t *testing.T, c *rpc.Client, call format.Call) callOutcome {
	t.Helper()
	var in any
	switch call.Request.Kind {
	case "json":
		in = json.RawMessage(call.Request.JSON)
	case "octets":
		in = io.Reader(bytes.NewReader(expand(t, 0, "request body", *call.Request.Body)))
		if call.Request.FailAfterBody {
			in = io.MultiReader(in.(io.Reader), iotest.ErrReader(errFixtureSource))
		}
	case "multipart":
		in = rpc.Push{Meta: json.RawMessage(call.Request.JSON), Body: bytes.NewReader(expand(t, 0, "request body", *call.Request.Body))}
	default:
		t.Fatalf("request kind %q", call.Request.Kind)
	}
	var o callOutcome
	var jsOut json.RawMessage
	var stream io.ReadCloser
	pull := &rpc.Pull{Meta: &jsOut}
	var out any
	switch call.Accept {
	case "json":
		out = &jsOut
	case "octets":
		out = &stream
	case "multipart":
		out = pull
	default:
		t.Fatalf("accept %q", call.Accept)
	}
	err := c.Call(ctx, call.Endpoint, in, out)
	if call.Request.FailAfterBody {
		o.sourceErr = errors.Is(err, errFixtureSource)
		o.err = err
		return o
	}
	if err != nil {
		var re *rpc.Error
		if errors.As(err, &re) {
			o.status, o.message = uint32(re.Status), re.Message
		} else {
			o.class, o.err = fixture.ErrorClass(err), err
		}
		return o
	}
	o.status, o.json = 1, jsOut
	if call.Accept == "multipart" {
		stream = pull.Body
	}
	if stream != nil && call.Abandon {
		stream.Close()
		o.body = []byte{}
		return o
	}
	if stream != nil {
		b, err := io.ReadAll(stream)
		stream.Close()
		o.body = b
		if err != nil {
			var re *rpc.Error
			if errors.As(err, &re) {
				o.streamStatus, o.streamMessage = uint32(re.Status), re.Message
			} else {
				o.class, o.err = fixture.ErrorClass(err), err
			}
		}
	}
	return o
}

func checkCallResult(t *testing.T, tcID, i int, want format.CallResult, got callOutcome) {
	t.Helper()
	if want.SourceError || got.sourceErr {
		if !want.SourceError || !got.sourceErr {
			t.Fatalf("tcId %d: call %d: %v; want the request source's own failure: %v", tcID, i, got.err, want.SourceError)
		}
		return
	}
	if got.class != want.ErrorClass {
		t.Fatalf("tcId %d: call %d: error class %q (%v), want %q", tcID, i, got.class, got.err, want.ErrorClass)
	}
	if want.ErrorClass != "" && got.status == 0 && want.Status != 0 {
		// The failure came from Call itself rather than from reading the
		// stream it would have returned: the same outcome for the caller,
		// with no byte of the body delivered.
		return
	}
	if got.status != want.Status {
		t.Fatalf("tcId %d: call %d: status %d (%q), want %d", tcID, i, got.status, got.message, want.Status)
	}
	if want.ErrorMessage != nil && got.message != *want.ErrorMessage {
		t.Fatalf("tcId %d: call %d: message %q, want %q", tcID, i, got.message, *want.ErrorMessage)
	}
	if want.JSON != "" && string(got.json) != want.JSON {
		t.Fatalf("tcId %d: call %d: JSON reply %s, want %s", tcID, i, got.json, want.JSON)
	}
	if want.Body != nil {
		if d := diffBytes("reply bodies", got.body, expand(t, tcID, "body", *want.Body)); d != "" {
			t.Fatalf("tcId %d: call %d: %s", tcID, i, d)
		}
	}
	if got.streamStatus != want.StreamStatus || got.streamMessage != want.StreamMessage {
		t.Fatalf("tcId %d: call %d: stream ended with %d %q, want %d %q", tcID, i, got.streamStatus, got.streamMessage, want.StreamStatus, want.StreamMessage)
	}
}

// TestFailedPushWithoutTrailerResets [RPC-23]: a client whose request
// stream's source fails on a connection without trailer must end the
// connection with RST. Conversation 25 cannot pin the client's bytes (the
// spec does not say whether the request header leaves before the RST), so
// this checks what it does fix: the client's stream ends with an RST, and
// the call fails with the source's error.
func TestFailedPushWithoutTrailerResets(t *testing.T) {
	cconn, peer := socketpair(t)
	defer peer.Close()
	if err := peer.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := readAll(peer)
	c := rpc.NewClient(cconn, &rpc.ClientOptions{Extensions: []string{}})
	var out json.RawMessage
	src := io.MultiReader(bytes.NewReader([]byte("0123456789")), iotest.ErrReader(errFixtureSource))
	err := c.Call(context.Background(), "Upload", src, &out)
	if !errors.Is(err, errFixtureSource) {
		t.Fatalf("Call: %v, want the source's failure", err)
	}
	c.Close()
	b := <-got
	if !bytes.HasSuffix(b, []byte{0xff, 0x01, 0, 0, 0, 0}) {
		t.Fatalf("the client sent %x and closed: no RST at the end", b)
	}
}
