package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapsynth"
	"github.com/framerpc/framerpc/internal/wire"
)

// fr is one frame's bytes: type, final byte, payload.
func fr(typ, final byte, payload []byte) []byte {
	b := []byte{typ, final, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[2:], uint32(len(payload)))
	return append(b, payload...)
}

// hdr is a frame header alone, with any length field.
func hdr(typ, final byte, length uint32) []byte {
	b := []byte{typ, final, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[2:], length)
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// item is what the test reads back of one framerpc tree item.
type item struct {
	Offset      int64
	Type        string
	Class, Rule string
	ErrOffset   int64
	Endpoint    string
	// Timeout is the header's framerpc.timeout as tshark prints it, ""
	// when it shows none.
	Timeout string
	Gap     int64
	// expert is the expert info's field and message (not compared with
	// the cases' want: checkExpert checks it against the rest).
	expert, expertMsg string
}

func (x item) String() string {
	return fmt.Sprintf("{Offset:%d Type:%s Class:%s Rule:%s ErrOffset:%d Endpoint:%s Timeout:%s Gap:%d}", x.Offset, x.Type, x.Class, x.Rule, x.ErrOffset, x.Endpoint, x.Timeout, x.Gap)
}

// checkExpert checks that an item's expert info is the one for its class,
// and that an error's message says the class, offset and rule as
// framedump's error lines do.
func checkExpert(t *testing.T, name string, x item) {
	t.Helper()
	want := ""
	switch {
	case x.Gap != 0:
		want = "framerpc.capture_gap"
	case x.Class == "undecoded":
		want = "framerpc.after_error"
	case x.Class != "":
		want = "framerpc." + strings.ReplaceAll(x.Class, "-", "_")
		prefix := fmt.Sprintf("%s at offset %d (0x%x) [%s]: ", x.Class, x.ErrOffset, x.ErrOffset, x.Rule)
		if !strings.HasPrefix(x.expertMsg, prefix) {
			t.Errorf("%s: expert message %q, want it to start with %q", name, x.expertMsg, prefix)
		}
	}
	if x.expert != want {
		t.Errorf("%s: item %v has expert info %q, want %q", name, x, x.expert, want)
	}
}

type dissectCase struct {
	name   string
	stream []byte
	// segs, if set, is how the stream is cut into segments (a missing
	// range is a segment the capture lost); noSYN leaves out the
	// handshake.
	segs  []pcapsynth.Segment
	noSYN bool
	// ooo: decoded with tcp.reassemble_out_of_order, which out-of-order
	// segments need and which hides holes.
	ooo  bool
	want []item
	// wireBody, if set, is the body of the case's last Header message:
	// the Go receiver's decoder (internal/wire) must judge it as the last
	// item of want does, rule and Timeout included.
	wireBody []byte
}

var ping = []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n")

// pingTimeout is ping with the deadline extension's Timeout member
// [RPC-44], its value given as raw JSON.
func pingTimeout(v string) []byte {
	return []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":"","Timeout":` + v + "}\n")
}

// timeoutCases check the Timeout member [RPC-44]: decoded in
// milliseconds when it is an integer literal from 0 to 4294967295, and
// bad-header [RPC-7] otherwise ([RPC-45]: whether or not the extension was
// granted, which the dissector does not need to know), as internal/wire
// decides for the same bytes.
func timeoutCases() []dissectCase {
	var cs []dissectCase
	for _, v := range []string{"250", "0", "4294967295"} {
		cs = append(cs, dissectCase{name: "Timeout " + v, stream: fr(1, 1, pingTimeout(v)), wireBody: pingTimeout(v),
			want: []item{{Offset: 0, Type: "0x01", Endpoint: "Ping", Timeout: v}}})
	}
	for _, v := range []string{"0250", "-1", "2.5", "25e1", "4294967296", `"250"`, "null", "[250]", "+1"} {
		cs = append(cs, dissectCase{name: "bad Timeout " + v, stream: fr(1, 1, pingTimeout(v)), wireBody: pingTimeout(v),
			want: []item{{Offset: 0, Type: "0x01", Class: "bad-header", Rule: "RPC-7", ErrOffset: 0}}})
	}
	return cs
}

// The cases follow spec section 5's table and Appendix A: each malformed
// header is reported with its class, its rule and the offset the spec
// defines, after the good frames before it, and nothing after it is
// decoded as frames [ERR-1].
var dissectCases = []dissectCase{
	{name: "good frames, then unknown-type", stream: cat(fr(2, 1, []byte("abc")), hdr(7, 5, 0xffffffff)),
		want: []item{{Offset: 0, Type: "0x02"}, {Offset: 9, Type: "0x07", Class: "unknown-type", Rule: "FRAME-2", ErrOffset: 9}}},
	{name: "bad-flag", stream: hdr(1, 5, 0xffffffff),
		want: []item{{Offset: 0, Type: "0x01", Class: "bad-flag", Rule: "FRAME-3", ErrOffset: 1}}},
	{name: "frame-too-large", stream: cat(fr(1, 1, ping), hdr(2, 1, 4194305)),
		want: []item{{Offset: 0, Type: "0x01", Endpoint: "Ping"}, {Offset: 78, Type: "0x02", Class: "frame-too-large", Rule: "FRAME-4", ErrOffset: 80}}},
	{name: "message-too-large in one frame", stream: hdr(1, 1, 4097),
		want: []item{{Offset: 0, Type: "0x01", Class: "message-too-large", Rule: "MSG-7", ErrOffset: 2}}},
	{name: "message-too-large over two frames", stream: cat(fr(3, 0, make([]byte, 4000)), hdr(3, 1, 97)),
		want: []item{{Offset: 0, Type: "0x03"}, {Offset: 4006, Type: "0x03", Class: "message-too-large", Rule: "MSG-7", ErrOffset: 4008}}},
	{name: "type-mismatch inside a message", stream: cat(fr(2, 0, []byte("abc")), fr(1, 1, ping)),
		want: []item{{Offset: 0, Type: "0x02"}, {Offset: 9, Type: "0x01", Class: "type-mismatch", Rule: "MSG-4", ErrOffset: 9}, {Offset: 15, Class: "undecoded"}}},
	{name: "non-canonical RST, bytes after it not read", stream: cat(hdr(0xff, 0, 9), []byte("after the RST")),
		want: []item{{Offset: 0, Type: "0xff", Class: "reset", Rule: "FRAME-8", ErrOffset: 0}, {Offset: 6, Class: "undecoded"}}},
	{name: "bad-header: wrong JSON type", stream: fr(1, 1, []byte(`{"Endpoint":1}`)), wireBody: []byte(`{"Endpoint":1}`),
		want: []item{{Offset: 0, Type: "0x01", Class: "bad-header", Rule: "RPC-7", ErrOffset: 0}}},
	{name: "bad-header: a member twice", stream: cat(fr(2, 1, nil), fr(1, 1, []byte(`{"Error":1,"Error":1}`))), wireBody: []byte(`{"Error":1,"Error":1}`),
		want: []item{{Offset: 0, Type: "0x02"}, {Offset: 6, Type: "0x01", Class: "bad-header", Rule: "RPC-5", ErrOffset: 6}}},
	// Every integer member is read as a receiver reads it: a leading
	// zero breaks [RPC-7], not the JSON grammar [RPC-3].
	{name: "bad-header: DataType with a leading zero", stream: fr(1, 1, []byte(`{"DataType":02}`)), wireBody: []byte(`{"DataType":02}`),
		want: []item{{Offset: 0, Type: "0x01", Class: "bad-header", Rule: "RPC-7", ErrOffset: 0}}},
	{name: "bad-header: invalid UTF-8", stream: fr(1, 1, []byte("{\"Endpoint\":\"\xff\"}")), wireBody: []byte("{\"Endpoint\":\"\xff\"}"),
		want: []item{{Offset: 0, Type: "0x01", Class: "bad-header", Rule: "RPC-8", ErrOffset: 0}}},
	{name: "bad-trailer: status 7", stream: fr(3, 1, []byte(`{"Error":7,"ErrorMessage":""}`)),
		want: []item{{Offset: 0, Type: "0x03", Class: "bad-trailer", Rule: "RPC-48", ErrOffset: 0}}},
	// A Trailer knows every member of a header, as internal/wire does
	// [RPC-48]: of their types they are ignored, of another type they
	// break [RPC-7]; a missing Error is no status.
	{name: "trailer: header members of their types", stream: fr(3, 1, []byte(`{"Error":1,"ErrorMessage":"","Endpoint":"x","DataType":9,"Extensions":[],"Timeout":5}`)),
		want: []item{{Offset: 0, Type: "0x03"}}},
	{name: "bad-trailer: Endpoint a number", stream: fr(3, 1, []byte(`{"Error":1,"ErrorMessage":"","Endpoint":5}`)),
		want: []item{{Offset: 0, Type: "0x03", Class: "bad-trailer", Rule: "RPC-7", ErrOffset: 0}}},
	{name: "bad-trailer: Extensions a string", stream: fr(3, 1, []byte(`{"Error":1,"Extensions":"trailer"}`)),
		want: []item{{Offset: 0, Type: "0x03", Class: "bad-trailer", Rule: "RPC-7", ErrOffset: 0}}},
	{name: "bad-trailer: no Error", stream: fr(3, 1, []byte(`{"ErrorMessage":""}`)),
		want: []item{{Offset: 0, Type: "0x03", Class: "bad-trailer", Rule: "RPC-48", ErrOffset: 0}}},
	// A header split over two frames, with an escaped member name
	// [RPC-4] and a 65-deep unknown member that is still fine (64 arrays
	// inside its value) [RPC-6].
	{name: "header over two frames", stream: cat(
		fr(1, 0, []byte(`{"Endp\u006fint":"Pi`)),
		fr(1, 1, []byte(`ng","x":`+nest(64)+`,"DataType":2}`))),
		want: []item{{Offset: 0, Type: "0x01"}, {Offset: 26, Type: "0x01", Endpoint: "Ping"}}},
	{name: "65 nested arrays", stream: fr(1, 1, []byte(`{"x":`+nest(65)+`}`)), wireBody: []byte(`{"x":` + nest(65) + `}`),
		want: []item{{Offset: 0, Type: "0x01", Class: "bad-header", Rule: "RPC-6", ErrOffset: 0}}},
	// The capture lost bytes 100 to 199: the frames before the hole are
	// shown, the hole is reported at its offset, and nothing after it
	// is decoded.
	{name: "capture gap", stream: cat(fr(2, 1, make([]byte, 94)), fr(2, 1, make([]byte, 194)), fr(2, 1, make([]byte, 94))),
		segs: []pcapsynth.Segment{{Offset: 0, Len: 100}, {Offset: 200, Len: 100}, {Offset: 300, Len: 100}},
		want: []item{{Offset: 0, Type: "0x02"}, {Offset: 100, Gap: 100}, {Offset: 300, Class: "undecoded"}}},
	// Segments out of order and retransmitted (tshark needs
	// tcp.reassemble_out_of_order for the first): the frames as sent.
	{name: "out of order, retransmitted", stream: cat(fr(1, 1, ping), fr(2, 1, make([]byte, 3000)), fr(2, 1, nil)),
		segs: []pcapsynth.Segment{{Offset: 0, Len: 1000}, {Offset: 2000, Len: 1000}, {Offset: 1000, Len: 1000},
			{Offset: 1000, Len: 1000}, {Offset: 2500, Len: 590}}, ooo: true,
		want: []item{{Offset: 0, Type: "0x01", Endpoint: "Ping"}, {Offset: 78, Type: "0x02"}, {Offset: 3084, Type: "0x02"}}},
	// Complete frames and the start of a frame that the next segments
	// finish, in one segment: on a second pass (the GUI, tshark -2) TCP
	// hands the segment over again, incomplete frame included.
	{name: "frames, then the start of a long one", stream: cat(fr(1, 1, ping), fr(2, 1, make([]byte, 3000)), fr(2, 1, nil)),
		segs: []pcapsynth.Segment{{Offset: 0, Len: 1000}, {Offset: 1000, Len: 1000}, {Offset: 2000, Len: 1090}},
		want: []item{{Offset: 0, Type: "0x01", Endpoint: "Ping"}, {Offset: 78, Type: "0x02"}, {Offset: 3084, Type: "0x02"}}},
	// A capture that starts after the handshake: offsets count from the
	// first captured byte.
	{name: "no handshake", stream: cat(fr(1, 1, ping), fr(2, 1, []byte("{}\n"))), noSYN: true,
		segs: []pcapsynth.Segment{{Offset: 0, Len: 50}, {Offset: 50, Len: 37}},
		want: []item{{Offset: 0, Type: "0x01", Endpoint: "Ping"}, {Offset: 78, Type: "0x02"}}},
}

func init() { dissectCases = append(dissectCases, timeoutCases()...) }

func nest(n int) string {
	return string(bytes.Repeat([]byte("["), n)) + "1" + string(bytes.Repeat([]byte("]"), n))
}

const serverPort = 7000

// TestDissectorErrors runs every case as the client's stream of its own
// connection in one synthesised capture, and reads tshark's tree back.
func TestDissectorErrors(t *testing.T) {
	needTools(t)
	var lists [][][]byte
	for i, c := range dissectCases {
		conn := &pcapsynth.Conn{
			Client:      netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+i)),
			Server:      netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), serverPort),
			ClientBytes: c.stream, Segments: c.segs, NoHandshake: c.noSYN,
		}
		p, err := conn.Packets()
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, p)
	}
	var buf bytes.Buffer
	if err := pcapsynth.Write(&buf, pcapsynth.PCAPNG, pcapsynth.Interleave(lists...)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cases.pcapng")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	inOrder := dissectByPort(t, file, serverPort)
	outOfOrder := dissectByPort(t, file, serverPort, "-o", "tcp.reassemble_out_of_order:TRUE")
	// Two passes: the second shows what the first recorded.
	if twoPass := dissectByPort(t, file, serverPort, "-2"); fmt.Sprint(twoPass) != fmt.Sprint(inOrder) {
		t.Errorf("with -2:\n%v\nin one pass:\n%v", twoPass, inOrder)
	}
	// Decode As instead of the port preference: the same.
	decodeAs := dissectByPort(t, file, 0, "-d", fmt.Sprintf("tcp.port==%d,framerpc", serverPort))
	if fmt.Sprint(decodeAs) != fmt.Sprint(inOrder) {
		t.Errorf("with Decode As:\n%v\nwith the port preference:\n%v", decodeAs, inOrder)
	}
	for i, c := range dissectCases {
		items := inOrder[40000+i]
		if c.ooo {
			items = outOfOrder[40000+i]
		}
		if fmt.Sprint(items) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, items, c.want)
		}
		for _, x := range items {
			checkExpert(t, c.name, x)
		}
		if c.wireBody != nil {
			checkWire(t, c.name, c.wireBody, c.want[len(c.want)-1])
		}
	}
}

// checkWire checks that the Go receiver's decoder judges body as the
// dissector must: the same rule, or the same Timeout.
func checkWire(t *testing.T, name string, body []byte, want item) {
	t.Helper()
	var h wire.Header
	err := wire.ParseHeader(body, &h, "")
	var pe *wire.ParseError
	switch {
	case want.Class == "bad-header":
		if !errors.As(err, &pe) || pe.Rule != want.Rule {
			t.Errorf("%s: internal/wire says %v, the dissector's case wants bad-header [%s]", name, err, want.Rule)
		}
	case err != nil:
		t.Errorf("%s: internal/wire rejects the header: %v", name, err)
	case h.HasTimeout != (want.Timeout != "") || h.HasTimeout && fmt.Sprint(h.Timeout) != want.Timeout:
		t.Errorf("%s: internal/wire decodes Timeout %d (present %v), the dissector's case wants %q", name, h.Timeout, h.HasTimeout, want.Timeout)
	}
}

// dissectByPort runs tshark with the dissector (and extra options) and
// returns the framerpc items of each client port, in order.
func dissectByPort(t *testing.T, file string, port int, extra ...string) map[int][]item {
	t.Helper()
	res := map[int][]item{}
	for _, p := range tshark(t, file, port, "framerpc", "framerpc tcp", extra...) {
		var tcp map[string]json.RawMessage
		if err := json.Unmarshal(p["tcp"], &tcp); err != nil {
			t.Fatalf("tcp layer: %v", err)
		}
		src := int(jnum(t, tcp, "tcp.srcport"))
		for _, it := range layerItems(t, p["framerpc"]) {
			x := item{Offset: jnum(t, it, "framerpc.offset"), Type: jstr(t, it, "framerpc.type"),
				Class: jstr(t, it, "framerpc.error_class"), Rule: jstr(t, it, "framerpc.rule"),
				ErrOffset: jnum(t, it, "framerpc.error_offset"), Gap: jnum(t, it, "framerpc.gap")}
			if _, ok := it["framerpc.undecoded"]; ok && x.Gap == 0 {
				x.Class = "undecoded"
			}
			x.Endpoint = jstr(t, subtree(t, it, "framerpc.header"), "framerpc.endpoint")
			x.Timeout = jstr(t, subtree(t, it, "framerpc.header"), "framerpc.timeout")
			if raw, ok := it["_ws.expert"]; ok {
				var e map[string]json.RawMessage
				if err := json.Unmarshal(raw, &e); err != nil {
					t.Fatalf("_ws.expert: %v", err)
				}
				for k := range e {
					if strings.HasPrefix(k, "framerpc.") {
						x.expert = k
					}
				}
				x.expertMsg = jstr(t, e, "_ws.expert.message")
			}
			res[src] = append(res[src], x)
		}
	}
	return res
}
