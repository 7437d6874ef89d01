package rpc

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

// Byte-exact transcripts of the main exchanges. They pin the wire: any
// change to what either side sends fails here first.

type exchange struct {
	name       string
	req, reply []byte
}

func logExchange(t *testing.T, e exchange) {
	t.Helper()
	if testing.Verbose() {
		t.Logf("%s\n request %s\n   reply %s", e.name, hex.EncodeToString(e.req), hex.EncodeToString(e.reply))
	}
}

// TestServerTranscripts plays the client by hand against a reference
// server.
func TestServerTranscripts(t *testing.T) {
	checkGoroutines(t)
	s := testServer(t, nil)

	// Exchanges of the original protocol: no hello, so no extension.
	original := []exchange{
		{"RPC-1 RPC-2 RPC-14 RPC-18 json call",
			cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"hi","N":1}`+"\n")),
			cat(hdr(repHeader(2, 1, "")), data(`{"Text":"hi","N":2}`+"\n"))},
		{"RPC-21 RPC-26 octets reply without trailer",
			cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"ab","N":2}`+"\n")),
			cat(hdr(repHeader(3, 1, "")), data("abab"))},
		{"RPC-21 empty octets reply",
			cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"ab","N":0}`+"\n")),
			cat(hdr(repHeader(3, 1, "")), data(""))},
		{"RPC-13 RPC-17 RequestError unknown endpoint",
			cat(hdr(reqHeader("Nope", 2, 2)), data(`{}`+"\n")),
			hdr(repHeader(1, 2, `unknown endpoint "Nope"`))},
		{"RPC-13 RequestError wrong DataType",
			cat(hdr(reqHeader("Echo", 3, 2)), data("raw")),
			hdr(repHeader(1, 2, `endpoint "Echo" takes a JSON body, not an octets body`))},
		{"RPC-13 RequestError wrong Accept",
			cat(hdr(reqHeader("Echo", 2, 3)), data("{}\n")),
			hdr(repHeader(1, 2, `endpoint "Echo" replies with a JSON body, not an octets body`))},
		{"RPC-18 RequestError undecodable JSON",
			cat(hdr(reqHeader("Echo", 2, 2)), data(`{"N":"x"}`+"\n")),
			hdr(repHeader(1, 2, `decoding the request body of "Echo": json: cannot unmarshal string into Go struct field Msg.N of type int`))},
		{"RPC-19 Error from the handler",
			cat(hdr(reqHeader("Fail", 2, 2)), data(`{"Text":"x"}`+"\n")),
			hdr(repHeader(1, 4, "failed: x"))},
		{"RPC-19 handler-chosen ServerError",
			cat(hdr(reqHeader("Status", 2, 2)), data(`{"Text":"mine","N":3}`+"\n")),
			hdr(repHeader(1, 3, "mine"))},
		{"RPC-19 ServerError from a panic",
			cat(hdr(reqHeader("Panic", 2, 2)), data(`{"Text":"x"}`+"\n")),
			hdr(repHeader(1, 3, `handler "Panic" panicked: boom x`))},
		{"RPC-14 octets request",
			cat(hdr(reqHeader("Count", 3, 2)), data("12345")),
			cat(hdr(repHeader(2, 1, "")), data(`{"Text":"","N":5}`+"\n"))},
		{"RPC-15 octets request drained after a short read",
			cat(hdr(reqHeader("Head", 3, 2)), data("abcdefgh")),
			cat(hdr(repHeader(2, 1, "")), data(`{"Text":"abc","N":3}`+"\n"))},
		{"RPC-26 Accept 4 without multipart",
			cat(hdr(reqHeader("PullMeta", 2, 4)), data(`{}`+"\n")),
			hdr(repHeader(1, 2, `Accept JSON+Octets needs the "multipart" extension, not granted on this connection`))},
	}

	r := newRawServer(t, s)
	for _, e := range original {
		logExchange(t, e)
		r.send(t, e.req)
		expectBytes(t, r.conn, e.reply)
	}
	// RPC-29 RPC-34: the original client's hang-up ends Serve without error.
	r.send(t, rst)
	if err := r.result(t); err != nil {
		t.Fatalf("Serve after hang-up: %v", err)
	}

	// With both extensions.
	ext := []exchange{
		{"RPC-25 hello", hdr(helloReq), hdr(helloRep)},
		{"RPC-22 octets reply with trailer",
			cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"ok","N":1}`+"\n")),
			cat(hdr(repHeader(3, 1, "")), data("ok"), trl(trailerOK))},
		{"RPC-23 failing source ends with a failure trailer",
			cat(hdr(reqHeader("FailingStream", 2, 3)), data(`{"Text":"q","N":3}`+"\n")),
			cat(hdr(repHeader(3, 1, "")), data("xxx"), trl(`{"Error":4,"ErrorMessage":"source died: q"}`+"\n"))},
		{"RPC-22 octets request with trailer",
			cat(hdr(reqHeader("Count", 3, 2)), data("1234"), trl(trailerOK)),
			cat(hdr(repHeader(2, 1, "")), data(`{"Text":"","N":4}`+"\n"))},
		{"RPC-23 octets request with failure trailer reaches the handler",
			cat(hdr(reqHeader("Count", 3, 2)), data("12"), trl(`{"Error":2,"ErrorMessage":"client source broke"}`+"\n")),
			hdr(repHeader(1, 2, "client source broke"))},
		{"RPC-27 multipart push",
			cat(hdr(reqHeader("PushMeta", 4, 2)), data(`{"Text":"m","N":0}`+"\n"), data("body"), trl(trailerOK)),
			cat(hdr(repHeader(2, 1, "")), data(`{"Text":"m:body","N":4}`+"\n"))},
		{"RPC-27 multipart reply",
			cat(hdr(reqHeader("PullMeta", 2, 4)), data(`{"Text":"q","N":2}`+"\n")),
			cat(hdr(repHeader(4, 1, "")), data(`{"Text":"q","N":2}`+"\n"), data("qq"), trl(trailerOK))},
		{"RPC-39 second hello",
			hdr(helloReq),
			hdr(repHeader(1, 2, "hello already exchanged on this connection"))},
		{"RPC-15 RPC-27 rejected multipart request drained",
			cat(hdr(reqHeader("Nope", 4, 2)), data(`{}`+"\n"), data("zzz"), trl(trailerOK)),
			hdr(repHeader(1, 2, `unknown endpoint "Nope"`))},
		{"RPC-31 still usable",
			cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"hi","N":1}`+"\n")),
			cat(hdr(repHeader(2, 1, "")), data(`{"Text":"hi","N":2}`+"\n"))},
	}
	r = newRawServer(t, s)
	for _, e := range ext {
		logExchange(t, e)
		r.send(t, e.req)
		expectBytes(t, r.conn, e.reply)
	}
	r.conn.Close()
	if err := r.result(t); err != nil {
		t.Fatalf("Serve after a clean end: %v", err)
	}
}

// TestClientTranscripts plays the server by hand against a reference
// client.
func TestClientTranscripts(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()

	t.Run("RPC-1 RPC-40 json call is the original's bytes", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		wait := r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{Text: "hi", N: 1}, &out) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"hi","N":1}`+"\n")))
		r.send(t, hdr(repHeader(2, 1, "")), data(`{"Text":"hi","N":2}`+"\n"))
		if err := wait(); err != nil || out != (Msg{"hi", 2}) {
			t.Fatalf("%v %+v", err, out)
		}
		// RPC-34: hang-up.
		r.cli.Close()
		expectBytes(t, r.conn, rst)
		expectEnd(t, r.conn)
	})

	t.Run("RPC-17 RPC-36 error reply with an original DataType", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		wait := r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{}, &out) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n")))
		// RPC-17: the DataType of a non-OK reply is ignored, whatever it is.
		r.send(t, hdr(`{"Endpoint":"","DataType":0,"Accept":0,"Error":2,"ErrorMessage":"no"}`+"\n"))
		mustStatus(t, wait(), StatusRequestError, "no")
		wait = r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{}, &out) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n")))
		r.send(t, hdr(repHeader(2, 1, "")), data(`{"Text":"z","N":0}`+"\n"))
		if err := wait(); err != nil || out.Text != "z" {
			t.Fatal(err, out)
		}
	})

	t.Run("RPC-25 RPC-26 original server refuses the hello", func(t *testing.T) {
		r := newRawClient(t, nil)
		var body io.Reader
		wait := r.call(func(c *Client) error { return c.Call(ctx, "Stream", &Msg{Text: "ab", N: 2}, &body) })
		expectBytes(t, r.conn, hdr(helloReq))
		r.send(t, hdr(repHeader(1, 2, `unknown endpoint "framerpc:hello"`)))
		expectBytes(t, r.conn, cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"ab","N":2}`+"\n")))
		r.send(t, hdr(repHeader(3, 1, "")), data("abab"))
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(body)
		if err != nil || string(b) != "abab" {
			t.Fatalf("%q %v", b, err)
		}
		// RPC-26: an octets request to that server carries no trailer.
		var out Msg
		wait = r.call(func(c *Client) error { return c.Call(ctx, "Count", strings.NewReader("xyz"), &out) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Count", 3, 2)), data("xyz")))
		r.send(t, hdr(repHeader(2, 1, "")), data(`{"N":3}`+"\n"))
		if err := wait(); err != nil || out.N != 3 {
			t.Fatal(err, out)
		}
		// RPC-26: multipart was not granted: refused before sending.
		err = r.cli.Call(ctx, "PushMeta", Push{Meta: &Msg{}, Body: strings.NewReader("")}, &out)
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("got %v, want ErrUnsupported", err)
		}
	})

	t.Run("RPC-40 no extensions asked: never a hello", func(t *testing.T) {
		r := newRawClient(t, &ClientOptions{Extensions: []string{}})
		var body io.Reader
		wait := r.call(func(c *Client) error { return c.Call(ctx, "Stream", &Msg{Text: "ab", N: 2}, &body) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"ab","N":2}`+"\n")))
		r.send(t, hdr(repHeader(3, 1, "")), data("ab"))
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(body); err != nil || string(b) != "ab" {
			t.Fatalf("%q %v", b, err)
		}
	})

	t.Run("RPC-23 failing push source without the trailer extension sends RST", func(t *testing.T) {
		r := newRawClient(t, &ClientOptions{Extensions: []string{}})
		var out Msg
		src := io.MultiReader(strings.NewReader("12"), errReader{errors.New("disk gone")})
		wait := r.call(func(c *Client) error { return c.Call(ctx, "Count", src, &out) })
		// The header and the complete frames before the failure, then RST:
		// never a final frame that would make "12" look like the body.
		expectBytes(t, r.conn, cat(hdr(reqHeader("Count", 3, 2)), []byte{0xff, 0x01, 0, 0, 0, 0}))
		if err := wait(); err == nil || !strings.Contains(err.Error(), "disk gone") {
			t.Fatalf("got %v", err)
		}
		if err := r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{}, &out) })(); !errors.Is(err, ErrClosed) {
			t.Fatalf("later call: %v", err)
		}
	})

	t.Run("RPC-22 RPC-23 failing push source sends a failure trailer", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		src := io.MultiReader(strings.NewReader("12"), errReader{errors.New("disk gone")})
		wait := r.call(func(c *Client) error { return c.Call(ctx, "Count", src, &out) })
		expectBytes(t, r.conn, hdr(helloReq))
		r.send(t, hdr(helloRep))
		expectBytes(t, r.conn, cat(hdr(reqHeader("Count", 3, 2)), data("12"), trl(`{"Error":4,"ErrorMessage":"disk gone"}`+"\n")))
		r.send(t, hdr(repHeader(1, 4, "disk gone")))
		err := wait()
		if err == nil || !strings.Contains(err.Error(), "disk gone") {
			t.Fatalf("got %v", err)
		}
		mustStatus(t, err, StatusError, "disk gone")
		// RPC-22: a streamed reply ends with the trailer; a failure trailer
		// is an *Error for the reader and the connection stays usable.
		var body io.ReadCloser
		wait = r.call(func(c *Client) error { return c.Call(ctx, "Stream", &Msg{}, &body) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"","N":0}`+"\n")))
		r.send(t, hdr(repHeader(3, 1, "")), data("par"), trl(`{"Error":3,"ErrorMessage":"producer died"}`+"\n"))
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(body)
		if string(b) != "par" {
			t.Fatalf("got %q", b)
		}
		mustStatus(t, err, StatusServerError, "producer died")
		wait = r.call(func(c *Client) error { return c.Call(ctx, "Echo", &Msg{}, &out) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("Echo", 2, 2)), data(`{"Text":"","N":0}`+"\n")))
		r.send(t, hdr(repHeader(2, 1, "")), data(`{"N":7}`+"\n"))
		if err := wait(); err != nil || out.N != 7 {
			t.Fatal(err, out)
		}
	})

	t.Run("RPC-27 multipart request and reply", func(t *testing.T) {
		r := newRawClient(t, nil)
		var out Msg
		wait := r.call(func(c *Client) error {
			return c.Call(ctx, "PushMeta", &Push{Meta: &Msg{Text: "m"}, Body: strings.NewReader("body")}, &out)
		})
		expectBytes(t, r.conn, hdr(helloReq))
		r.send(t, hdr(helloRep))
		expectBytes(t, r.conn, cat(hdr(reqHeader("PushMeta", 4, 2)), data(`{"Text":"m","N":0}`+"\n"), data("body"), trl(trailerOK)))
		r.send(t, hdr(repHeader(2, 1, "")), data(`{"Text":"m:body","N":4}`+"\n"))
		if err := wait(); err != nil || out.Text != "m:body" {
			t.Fatal(err, out)
		}
		pull := Pull{Meta: &out}
		wait = r.call(func(c *Client) error { return c.Call(ctx, "PullMeta", &Msg{Text: "q", N: 2}, &pull) })
		expectBytes(t, r.conn, cat(hdr(reqHeader("PullMeta", 2, 4)), data(`{"Text":"q","N":2}`+"\n")))
		r.send(t, hdr(repHeader(4, 1, "")), data(`{"Text":"q","N":2}`+"\n"), data("qq"), trl(trailerOK))
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(pull.Body)
		if err != nil || string(b) != "qq" || out != (Msg{"q", 2}) {
			t.Fatalf("%q %v %+v", b, err, out)
		}
	})
}

// [RPC-25] [RPC-26] A server grants only what it is configured to grant;
// an extension not granted changes nothing on the wire.
func TestPartialGrant(t *testing.T) {
	checkGoroutines(t)
	r := newRawServer(t, testServer(t, &ServerOptions{Extensions: []string{ExtMultipart}}))
	r.send(t, hdr(`{"Endpoint":"framerpc:hello","DataType":1,"Accept":1,"Error":0,"ErrorMessage":"","Extensions":["x","multipart","trailer","multipart"]}`+"\n"))
	expectBytes(t, r.conn, hdr(`{"Endpoint":"","DataType":1,"Accept":0,"Error":1,"ErrorMessage":"","Extensions":["multipart"]}`+"\n"))
	r.send(t, hdr(reqHeader("PullMeta", 2, 4)), data(`{"Text":"q","N":2}`+"\n"))
	expectBytes(t, r.conn, cat(hdr(repHeader(4, 1, "")), data(`{"Text":"q","N":2}`+"\n"), data("qq")))
	r.send(t, hdr(reqHeader("Stream", 2, 3)), data(`{"Text":"ab","N":1}`+"\n"))
	expectBytes(t, r.conn, cat(hdr(repHeader(3, 1, "")), data("ab")))

	none := newRawServer(t, testServer(t, &ServerOptions{Extensions: []string{}}))
	none.send(t, hdr(helloReq))
	expectBytes(t, none.conn, hdr(`{"Endpoint":"","DataType":1,"Accept":0,"Error":1,"ErrorMessage":"","Extensions":[]}`+"\n"))
	// RPC-9: DataType 4 was not granted.
	none.send(t, hdr(reqHeader("PushMeta", 4, 2)))
	expectBytes(t, none.conn, rst)
}
