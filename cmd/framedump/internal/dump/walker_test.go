package dump

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// Streams built message by message, decoded, and the events checked: the
// RPC-layer checks framedump makes as rpc's server and client make them
// (sections 6 to 10), and what it shows of each message.

type streamBuilder struct {
	buf bytes.Buffer
	w   *frame.Writer
}

func newBuilder() *streamBuilder {
	b := &streamBuilder{}
	b.w = frame.NewWriter(&b.buf)
	return b
}

func (b *streamBuilder) msg(t frame.Type, body string) *streamBuilder {
	if err := b.w.WriteMessage(t, []byte(body)); err != nil {
		panic(err)
	}
	return b
}

func (b *streamBuilder) header(h wire.Header) *streamBuilder {
	return b.msg(frame.TypeHeader, string(wire.AppendHeader(nil, &h)))
}

func (b *streamBuilder) rst() *streamBuilder {
	if err := b.w.WriteRST(); err != nil {
		panic(err)
	}
	return b
}

func (b *streamBuilder) bytes() []byte { return b.buf.Bytes() }

func request(ep string, dt, accept wire.DataType) wire.Header {
	return wire.Header{Endpoint: ep, DataType: dt, Accept: accept}
}

func reply(dt wire.DataType, s wire.Status, msg string) wire.Header {
	return wire.Header{DataType: dt, Error: s, ErrorMessage: msg}
}

var hello = wire.Header{Endpoint: "framerpc:hello", DataType: wire.DataNone, Accept: wire.DataNone,
	Extensions: []string{"trailer", "multipart"}, HasExtensions: true}

func okTrailer() string { return string(wire.AppendTrailer(nil, wire.StatusOK, "")) }

type events []map[string]any

func decodeEvents(t *testing.T, out string) events {
	t.Helper()
	var evs events
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		evs = append(evs, m)
	}
	return evs
}

// find returns the events of a kind with the given field values.
func (e events) find(kind string, kv ...any) events {
	var r events
	for _, ev := range e {
		if ev["kind"] != kind {
			continue
		}
		ok := true
		for i := 0; i < len(kv); i += 2 {
			if fmt.Sprint(ev[kv[i].(string)]) != fmt.Sprint(kv[i+1]) {
				ok = false
			}
		}
		if ok {
			r = append(r, ev)
		}
	}
	return r
}

func direction(t *testing.T, in []byte, opts Options) (events, Outcome) {
	t.Helper()
	var out bytes.Buffer
	opts.JSON = true
	o, err := Direction(bytes.NewReader(in), &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	return decodeEvents(t, out.String()), o
}

func conversation(t *testing.T, c, s []byte) (events, Outcome) {
	t.Helper()
	var out bytes.Buffer
	o, err := Conversation(bytes.NewReader(c), bytes.NewReader(s), &out, Options{JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	return decodeEvents(t, out.String()), o
}

// wantFault checks the one error event.
func wantFault(t *testing.T, evs events, o Outcome, class, rule string, off int64) {
	t.Helper()
	f := evs.find("error")
	if len(f) != 1 || f[0]["class"] != class || f[0]["rule"] != rule || f[0]["offset"] != float64(off) {
		t.Fatalf("want one %s [%s] at %d, got %v", class, rule, off, f)
	}
	if o != Violation {
		t.Fatalf("outcome %v, want Violation", o)
	}
}

// Unknown members are shown with their values as sent [RPC-6]; a JSON body
// is compacted and cut at the width.
func TestShowsUnknownMembersAndCutsJSON(t *testing.T) {
	in := newBuilder().
		msg(frame.TypeHeader, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":"","X-Trace": [1, {"a":2}]}`).
		msg(frame.TypeData, "{ \"a\" : \"0123456789abcdef\" }\n").rst().bytes()
	evs, o := direction(t, in, Options{Width: 12})
	if o != Clean {
		t.Fatalf("outcome %v", o)
	}
	h := evs.find("message", "role", "request-header")[0]["header"].(map[string]any)
	u := h["unknown"].([]any)[0].(map[string]any)
	if u["name"] != "X-Trace" || u["value"] != `[1, {"a":2}]` {
		t.Fatalf("unknown member shown as %v", u)
	}
	body := evs.find("message", "role", "request-json")[0]
	if body["json"] != `{"a":"012345` || body["jsonCut"] != true || body["length"] != float64(29) {
		t.Fatalf("JSON body shown as %v", body)
	}
	var text bytes.Buffer
	Direction(bytes.NewReader(in), &text, Options{Width: 12})
	if !strings.Contains(text.String(), `unknown:"X-Trace"=[1, {"a":2}]`) || !strings.Contains(text.String(), `{"a":"012345...`) {
		t.Fatalf("text view:\n%s", text.String())
	}
}

// A header error is placed at the stream byte where the decoder gave up,
// even when the header is split over frames [RPC-5].
func TestHeaderErrorOffsetAcrossFrames(t *testing.T) {
	var b streamBuilder
	b.w = frame.NewWriter(&b.buf)
	first, second := `{"Endpoint":"Ping",`, `"DataType":1,"DataType":2}`
	b.w.WriteFrame(frame.TypeHeader, false, []byte(first))
	b.w.WriteFrame(frame.TypeHeader, true, []byte(second))
	var h wire.Header
	perr := wire.ParseHeader([]byte(first+second), &h, "").(*wire.ParseError)
	want := int64(2*frame.HeaderSize + perr.Offset)
	evs, o := direction(t, b.bytes(), Options{})
	wantFault(t, evs, o, "bad-header", "RPC-5", want)
}

// -side decides how the stream is read: a request header read as a reply
// has status 0 [RPC-10].
func TestForcedSide(t *testing.T) {
	in := newBuilder().header(request("Ping", wire.DataNone, wire.DataJSON)).rst().bytes()
	evs, o := direction(t, in, Options{})
	if o != Clean || len(evs.find("message", "role", "request-header")) != 1 {
		t.Fatalf("auto side: %v %v", o, evs)
	}
	evs, o = direction(t, in, Options{Side: SideServer})
	wantFault(t, evs, o, "bad-reply", "RPC-10", 0)
}

// One direction of a client that asked for trailers: whether a Trailer
// follows an octets body is read from the stream [RPC-22], [RPC-26].
func TestClientTrailerUnknownGrant(t *testing.T) {
	in := newBuilder().header(hello).
		header(request("Upload", wire.DataOctets, wire.DataJSON)).msg(frame.TypeData, "abc").msg(frame.TypeTrailer, okTrailer()).
		header(request("Upload", wire.DataOctets, wire.DataJSON)).msg(frame.TypeData, "de").
		rst().bytes()
	evs, o := direction(t, in, Options{})
	if o != Clean || len(evs.find("message", "role", "request-trailer")) != 1 || len(evs.find("message", "role", "request-octets")) != 2 {
		t.Fatalf("outcome %v, events %v", o, evs)
	}
	// Without a hello no Trailer may come: one is a type-mismatch [MSG-4].
	in = newBuilder().header(request("Upload", wire.DataOctets, wire.DataJSON)).msg(frame.TypeData, "abc").msg(frame.TypeTrailer, okTrailer()).bytes()
	evs, o = direction(t, in, Options{})
	wantFault(t, evs, o, "type-mismatch", "MSG-4", 6+74+6+3)
}

// The conversation view checks each reply against its request.
func TestConversationChecks(t *testing.T) {
	t.Run("RPC-17", func(t *testing.T) {
		c := newBuilder().header(request("Get", wire.DataNone, wire.DataJSON)).rst().bytes()
		s := newBuilder().header(reply(wire.DataOctets, wire.StatusOK, "")).msg(frame.TypeData, "x").bytes()
		evs, o := conversation(t, c, s)
		wantFault(t, evs, o, "bad-reply", "RPC-17", 0)
		if x := evs.find("exchange", "index", 1); len(x) != 1 || x[0]["outOfStep"] == nil {
			t.Fatalf("exchange: %v", x)
		}
	})
	t.Run("RPC-25", func(t *testing.T) {
		asked := hello
		asked.Extensions = []string{"trailer"}
		granted := reply(wire.DataNone, wire.StatusOK, "")
		granted.Extensions, granted.HasExtensions = []string{"trailer", "multipart"}, true
		evs, o := conversation(t, newBuilder().header(asked).bytes(), newBuilder().header(granted).bytes())
		wantFault(t, evs, o, "bad-reply", "RPC-25", 0)
	})
	t.Run("RPC-9", func(t *testing.T) {
		c := newBuilder().header(request("Push", wire.DataMultipart, wire.DataJSON)).bytes()
		evs, o := conversation(t, c, newBuilder().rst().bytes())
		wantFault(t, evs, o, "bad-header", "RPC-9", 0)
		// The server's RST is then read on its own: what a server does.
		if e := evs.find("end", "stream", "server", "how", "reset"); len(e) != 1 {
			t.Fatalf("server side: %v", evs)
		}
	})
	t.Run("RPC-22 RPC-48", func(t *testing.T) {
		c := newBuilder().header(hello).header(request("Get", wire.DataJSON, wire.DataOctets)).msg(frame.TypeData, "{}\n").bytes()
		s := newBuilder().header(func() wire.Header {
			h := reply(wire.DataNone, wire.StatusOK, "")
			h.Extensions, h.HasExtensions = []string{"trailer"}, true
			return h
		}()).header(reply(wire.DataOctets, wire.StatusOK, "")).msg(frame.TypeData, "xyz").
			msg(frame.TypeTrailer, `{"Error":7,"ErrorMessage":""}`).bytes()
		evs, o := conversation(t, c, s)
		f := evs.find("error")
		if len(f) != 1 || f[0]["class"] != "bad-trailer" || f[0]["rule"] != "RPC-48" || o != Violation {
			t.Fatalf("got %v", f)
		}
	})
	t.Run("RPC-28", func(t *testing.T) {
		c := newBuilder().header(request("Get", wire.DataNone, wire.DataNone)).rst().bytes()
		s := newBuilder().header(reply(wire.DataNone, wire.StatusOK, "")).header(reply(wire.DataNone, wire.StatusOK, "")).bytes()
		evs, o := conversation(t, c, s)
		wantFault(t, evs, o, "out-of-step", "RPC-28", int64(len(s)/2))
	})
	t.Run("RPC-30", func(t *testing.T) {
		c := newBuilder().header(request("Get", wire.DataNone, wire.DataNone)).bytes()
		evs, o := conversation(t, c, nil)
		wantFault(t, evs, o, "unexpected-eof", "RPC-30", 0)
	})
}

// A capture that stops inside a frame header says how much is missing.
func TestTruncatedHeader(t *testing.T) {
	evs, o := direction(t, []byte{0x01, 0x01, 0x10}, Options{})
	wantFault(t, evs, o, "unexpected-eof", "FRAME-6", 3)
	if f := evs.find("error")[0]; f["missing"] != float64(3) || !strings.Contains(f["detail"].(string), "header alone") {
		t.Fatalf("got %v", f)
	}
}

// The deadline extension's Timeout member [RPC-44] is shown in text and
// in NDJSON, and absent where the header has none.
func TestTimeoutMember(t *testing.T) {
	h := request("Ping", wire.DataJSON, wire.DataJSON)
	h.Timeout, h.HasTimeout = 250, true
	in := newBuilder().header(h).msg(frame.TypeData, "{}\n").header(request("Ping", wire.DataJSON, wire.DataJSON)).msg(frame.TypeData, "{}\n").bytes()
	evs, _ := direction(t, in, Options{})
	var timeouts []any
	for _, ev := range evs {
		if hd, ok := ev["header"].(map[string]any); ok {
			timeouts = append(timeouts, hd["Timeout"])
		}
	}
	if len(timeouts) != 2 || fmt.Sprint(timeouts[0]) != "250" || timeouts[1] != nil {
		t.Fatalf("Timeout in NDJSON: %v", timeouts)
	}
	var out bytes.Buffer
	if _, err := Direction(bytes.NewReader(in), &out, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "Timeout=250ms") != 1 {
		t.Fatalf("text:\n%s", out.String())
	}
}
