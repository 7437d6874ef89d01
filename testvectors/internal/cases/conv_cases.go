package cases

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/framerpc/framerpc/testvectors/format"
)

// Conv builds one conversation: what the client sends, what the server
// answers, and what each call gives its caller. Every byte follows from the
// spec: headers as [RPC-1] encodes them, bodies as section 7 and 9 lay them
// out, messages split canonically [MSG-3]; the server side is the
// fixture of README.md ("The conformance fixture").
type Conv struct {
	client, server []format.ConvMessage
	calls          []format.Call
	trailer        bool // "trailer" granted
}

var allExts = []string{"trailer", "multipart"}

// withDeadline is every extension, deadline included [RPC-44].
var withDeadline = []string{"trailer", "multipart", "deadline"}

func msg(t byte, body []byte) format.ConvMessage {
	var b format.Bytes
	b.AppendLit(body)
	m := format.ConvMessage{Type: typeHex(t), Body: &b}
	if t != tData || (len(body) > 0 && (body[0] == '{' || body[0] == '[')) {
		// Header, Trailer and JSON Data bodies read as text.
		if utf8.Valid(body) && len(body) <= 256 {
			m.Text = string(body)
		}
	}
	return m
}

func msgPat(t byte, n int64) format.ConvMessage {
	var b format.Bytes
	if n <= literalMax {
		b.AppendLit(pattern(n))
	} else {
		b.AppendPattern(format.NewPattern(0, n))
	}
	return format.ConvMessage{Type: typeHex(t), Body: &b}
}

func pattern(n int64) []byte {
	b, err := format.Pattern{Pattern: format.Mod251, Length: n}.Generate()
	if err != nil {
		panic(err)
	}
	return b
}

var rstMsg = format.ConvMessage{Type: typeHex(tRST)}

func extList(exts []string) string {
	q := make([]string, len(exts))
	for i, e := range exts {
		q[i] = jsonString(e)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// replyHeader is a reply header [RPC-2]: Endpoint "", Accept 0.
func replyHeader(dt, status uint32, msg string) []byte {
	return []byte(canonicalHeader(&format.RPCHeader{DataType: dt, Error: status, ErrorMessage: msg}))
}

// trailerBody is a Trailer message's JSON [RPC-22].
func trailerBody(status uint32, msg string) []byte {
	return []byte(fmt.Sprintf(`{"Error":%d,"ErrorMessage":%s}`+"\n", status, jsonString(msg)))
}

// Hello is the hello exchange [RPC-25]: the client asks for asked, the
// server grants granted.
func (v *Conv) Hello(asked, granted []string) {
	h := strings.TrimSuffix(canonicalHeader(&format.RPCHeader{Endpoint: "framerpc:hello", DataType: 1, Accept: 1}), "}\n")
	v.client = append(v.client, msg(tHeader, []byte(h+`,"Extensions":`+extList(asked)+"}\n")))
	r := strings.TrimSuffix(string(replyHeader(1, 1, "")), "}\n")
	v.server = append(v.server, msg(tHeader, []byte(r+`,"Extensions":`+extList(granted)+"}\n")))
	v.trailer = slices.Contains(granted, "trailer")
}

// HelloRefused is an original server's answer to a hello: RequestError,
// for an endpoint it does not know [RPC-26].
func (v *Conv) HelloRefused(asked []string, text string) {
	h := strings.TrimSuffix(canonicalHeader(&format.RPCHeader{Endpoint: "framerpc:hello", DataType: 1, Accept: 1}), "}\n")
	v.client = append(v.client, msg(tHeader, []byte(h+`,"Extensions":`+extList(asked)+"}\n")))
	v.server = append(v.server, msg(tHeader, replyHeader(1, 2, text)))
}

var kinds = map[string]uint32{"json": 2, "octets": 3, "multipart": 4}

// octets appends an octets body: one Data message, then with trailer an OK
// Trailer [RPC-22].
func (v *Conv) octets(side *[]format.ConvMessage, body format.ConvMessage) {
	*side = append(*side, body)
	if v.trailer {
		*side = append(*side, msg(tTrailer, trailerBody(1, "")))
	}
}

// Call sends a request: kind json (js), octets (n pattern bytes) or
// multipart (both), with the reply kind accept.
func (v *Conv) Call(ep, kind, js string, n int64, accept string) {
	v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req(ep, kinds[kind], kinds[accept])))))
	c := format.Call{Endpoint: ep, Request: format.CallBody{Kind: kind}, Accept: accept}
	if kind == "json" || kind == "multipart" {
		// A JSON body as json.Encoder writes it: the value, then 0a [RPC-18].
		v.client = append(v.client, msg(tData, []byte(js+"\n")))
		c.Request.JSON = js
	}
	if kind == "octets" || kind == "multipart" {
		m := msgPat(tData, n)
		v.octets(&v.client, m)
		c.Request.Body = m.Body
	}
	v.calls = append(v.calls, c)
}

// CallTimeout is Call with the deadline extension's Timeout member in
// the request header, after the five original members [RPC-44].
func (v *Conv) CallTimeout(ep, kind, js string, n int64, accept string, timeout uint32) {
	v.Call(ep, kind, js, n, accept)
	for i := len(v.client) - 1; i >= 0; i-- {
		if v.client[i].Type == typeHex(tHeader) {
			h := strings.TrimSuffix(canonicalHeader(req(ep, kinds[kind], kinds[accept])), "}\n")
			v.client[i] = msg(tHeader, []byte(fmt.Sprintf(`%s,"Timeout":%d}`+"\n", h, timeout)))
			break
		}
	}
}

// CallFailingUpload sends n pattern bytes to Upload from a source that then
// fails with "source failed" [RPC-23]: with trailer, the Data message ends
// with its final frame and a failure Trailer follows (status 4, Error, as
// the source's error is no *rpc.Error); without, the client sends RST
// instead and closes.
func (v *Conv) CallFailingUpload(n int64) {
	v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req("Upload", 3, 2)))))
	m := msgPat(tData, n)
	c := format.Call{Endpoint: "Upload", Request: format.CallBody{Kind: "octets", Body: m.Body, FailAfterBody: true}, Accept: "json"}
	if v.trailer {
		v.client = append(v.client, m, msg(tTrailer, trailerBody(4, "source failed")))
	} else {
		// The n bytes are less than a frame: under the canonical split
		// nothing of them has left, and RST takes the final frame's place.
		v.client = append(v.client, rstMsg)
	}
	c.Result = format.CallResult{SourceError: true}
	v.calls = append(v.calls, c)
}

func (v *Conv) last() *format.CallResult { return &v.calls[len(v.calls)-1].Result }

// ReplyJSON is an OK reply with a JSON body [RPC-17].
func (v *Conv) ReplyJSON(js string) {
	v.server = append(v.server, msg(tHeader, replyHeader(2, 1, "")), msg(tData, []byte(js+"\n")))
	*v.last() = format.CallResult{Status: 1, JSON: js}
}

// ReplyOctets is an OK reply with n pattern bytes.
func (v *Conv) ReplyOctets(n int64) {
	v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")))
	m := msgPat(tData, n)
	v.octets(&v.server, m)
	*v.last() = format.CallResult{Status: 1, Body: m.Body}
}

// ReplyPull is an OK multipart reply: JSON, then n pattern bytes [RPC-27].
func (v *Conv) ReplyPull(js string, n int64) {
	v.server = append(v.server, msg(tHeader, replyHeader(4, 1, "")), msg(tData, []byte(js+"\n")))
	m := msgPat(tData, n)
	v.octets(&v.server, m)
	*v.last() = format.CallResult{Status: 1, JSON: js, Body: m.Body}
}

// ReplyError is a non-OK reply: DataType 1, no body [RPC-17]. An empty
// text stands for one the spec leaves to the server.
func (v *Conv) ReplyError(status uint32, text string) {
	m := msg(tHeader, replyHeader(1, status, text))
	r := format.CallResult{Status: status}
	if text == "" {
		m.AnyErrorMessage = true
		// For a client replay the fixture needs some text; this one.
		m = msg(tHeader, replyHeader(1, status, "fixture error text"))
		m.AnyErrorMessage = true
	} else {
		r.ErrorMessage = ptr(text)
	}
	v.server = append(v.server, m)
	*v.last() = r
}

// ClientRST: the client hangs up [RPC-34].
func (v *Conv) ClientRST() { v.client = append(v.client, rstMsg) }

// ServerRST: the server resets the connection.
func (v *Conv) ServerRST() { v.server = append(v.server, rstMsg) }

type convCase struct {
	id         int
	comment    string
	rules      []string
	flags      []string
	clientExts []string
	serverExts []string
	replay     string
	build      func(v *Conv)
}

var none = []string{}

const (
	both       = "both"
	serverOnly = "server"
	clientOnly = "client"
)

var convGroups = []struct {
	comment string
	cases   []convCase
}{
	{
		comment: "Exchanges the original could perform: the client asks for no extension, so no hello is sent and every byte is the original's.",
		cases: []convCase{
			{1, "a JSON call to Echo, then the client hangs up", rules("RPC-1", "RPC-2", "RPC-17", "RPC-18", "RPC-34", "RPC-29"), flags("OriginalCompatible"), none, nil, both,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.ReplyJSON(`{"Text":"hi"}`)
					v.ClientRST()
				}},
			{2, "two JSON calls on one connection", rules("RPC-31", "RPC-28"), flags("OriginalCompatible"), none, nil, both,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"a"}`, 0, "json")
					v.ReplyJSON(`{"Text":"a"}`)
					v.Call("Echo", "json", `{"Text":"b"}`, 0, "json")
					v.ReplyJSON(`{"Text":"b"}`)
					v.ClientRST()
				}},
			{3, "the handler returns an error: status 4 Error with its text, no body; the connection stays usable", rules("RPC-19", "RPC-17", "RPC-36"), flags("OriginalCompatible", "ErrorStatus"), none, nil, both,
				func(v *Conv) {
					v.Call("Fail", "json", `{}`, 0, "json")
					v.ReplyError(4, "failed: x")
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{4, "an unknown endpoint: RequestError after the request body is consumed; the next call is in sync", rules("RPC-13", "RPC-15", "RPC-36"), flags("OriginalCompatible", "ErrorStatus", "OriginalDefect"), none, nil, both,
				func(v *Conv) {
					v.Call("Nope", "json", `{"Text":"x"}`, 0, "json")
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"y"}`, 0, "json")
					v.ReplyJSON(`{"Text":"y"}`)
					v.ClientRST()
				}},
			{5, "the handler panics: ServerError, and the server goes on serving", rules("RPC-19", "RPC-36"), flags("OriginalCompatible", "ErrorStatus"), none, nil, both,
				func(v *Conv) {
					v.Call("Panic", "json", `{}`, 0, "json")
					v.ReplyError(3, "")
					v.Call("Echo", "json", `{"Text":"z"}`, 0, "json")
					v.ReplyJSON(`{"Text":"z"}`)
					v.ClientRST()
				}},
			{6, "an octets body sent to Echo, which takes JSON: RequestError after the body is consumed", rules("RPC-13", "RPC-15", "RPC-14"), flags("OriginalCompatible", "ErrorStatus", "OriginalDefect"), none, nil, both,
				func(v *Conv) {
					v.Call("Echo", "octets", "", 300, "json")
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"y"}`, 0, "json")
					v.ReplyJSON(`{"Text":"y"}`)
					v.ClientRST()
				}},
			{7, "Echo asked for an octets reply: RequestError (Accept is not the endpoint's reply kind)", rules("RPC-13", "RPC-17"), flags("OriginalCompatible", "ErrorStatus"), none, nil, both,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"x"}`, 0, "octets")
					v.ReplyError(2, "")
					v.ClientRST()
				}},
			{8, "an octets reply of 10 bytes", rules("RPC-17", "RPC-21"), flags("OriginalCompatible", "Octets"), none, nil, both,
				func(v *Conv) {
					v.Call("Download", "json", `{"N":10}`, 0, "octets")
					v.ReplyOctets(10)
					v.ClientRST()
				}},
			{9, "an empty octets reply: the single frame 02 01 00 00 00 00", rules("RPC-21", "MSG-3", "FRAME-10"), flags("OriginalCompatible", "Octets"), none, nil, both,
				func(v *Conv) {
					v.Call("Download", "json", `{"N":0}`, 0, "octets")
					v.ReplyOctets(0)
					v.ClientRST()
				}},
			{10, "an octets reply of exactly 4194304 bytes: a full frame and an empty final frame (the original hung on the latter over net.Pipe)", rules("RPC-21", "MSG-3", "FRAME-10"), flags("OriginalCompatible", "Octets", "LargeBody"), none, nil, both,
				func(v *Conv) {
					v.Call("Download", "json", `{"N":4194304}`, 0, "octets")
					v.ReplyOctets(maxPayload)
					v.ClientRST()
				}},
			{11, "an octets request of 5 bytes, JSON reply", rules("RPC-14", "RPC-21"), flags("OriginalCompatible", "Octets"), none, nil, both,
				func(v *Conv) {
					v.Call("Upload", "octets", "", 5, "json")
					v.ReplyJSON(`{"N":5}`)
					v.ClientRST()
				}},
			{20, "a JSON body of exactly 512 bytes plus its 0a: read to the end of its message, so the next call is in sync (the original left a byte behind)", rules("RPC-16", "RPC-18"), flags("OriginalCompatible", "OriginalDefect"), none, nil, both,
				func(v *Conv) {
					js := `{"Text":"` + strings.Repeat("x", 512-11) + `"}`
					v.Call("Echo", "json", js, 0, "json")
					v.ReplyJSON(js)
					v.Call("Echo", "json", `{"Text":"next"}`, 0, "json")
					v.ReplyJSON(`{"Text":"next"}`)
					v.ClientRST()
				}},
			{21, "a JSON body of 1101 bytes, over the fixture's 1024-byte limit: discarded, RequestError, the connection stays usable", rules("RPC-16", "RPC-36"), flags("OriginalCompatible", "ErrorStatus"), none, nil, both,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"`+strings.Repeat("y", 1100-11)+`"}`, 0, "json")
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"next"}`, 0, "json")
					v.ReplyJSON(`{"Text":"next"}`)
					v.ClientRST()
				}},
			{22, "a JSON body that is not JSON: RequestError, the connection stays usable", rules("RPC-16", "RPC-36"), flags("ErrorStatus"), none, nil, serverOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":}`, 0, "json")
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"next"}`, 0, "json")
					v.ReplyJSON(`{"Text":"next"}`)
					v.ClientRST()
				}},
			{23, "a call to a reserved framerpc: name other than the hello: no such endpoint, RequestError", rules("RPC-24", "RPC-12"), flags("ErrorStatus"), none, nil, serverOnly,
				func(v *Conv) {
					v.Call("framerpc:nope", "json", `{}`, 0, "json")
					v.ReplyError(2, "")
					v.ClientRST()
				}},
			{24, "the caller closes an octets reply without reading it: the client resets the connection", rules("RPC-32"), flags("OriginalCompatible", "HangUp"), none, nil, both,
				func(v *Conv) {
					v.Call("Download", "json", `{"N":10}`, 0, "octets")
					v.ReplyOctets(10)
					v.calls[len(v.calls)-1].Abandon = true
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Bytes{})}
					v.ClientRST()
				}},
			{25, "the client's request source fails after 10 bytes, without trailer: RST instead of the final frame; the server ends without replying. Server replay only: whether a client sends the request header before that RST is not fixed by the spec", rules("RPC-23", "RPC-55", "RPC-29"), flags("OriginalCompatible", "FailedSource"), none, nil, serverOnly,
				func(v *Conv) { v.CallFailingUpload(10) }},
			{26, "an unknown endpoint with an octets body of 5000 bytes: a server may send its RequestError before it has consumed the body, then consumes it [RPC-43]. The order of the two directions cannot be seen in their bytes: what is checked is that a client which writes its whole request before reading, as the original did, gets the refusal and that the next call is in sync", rules("RPC-43", "RPC-15", "RPC-13"), flags("OriginalCompatible", "ErrorStatus"), none, nil, both,
				func(v *Conv) {
					v.Call("Nope", "octets", "", 5000, "json")
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"y"}`, 0, "json")
					v.ReplyJSON(`{"Text":"y"}`)
					v.ClientRST()
				}},
			{12, "the reply's source fails after 10 bytes, without trailer: no frame after the failure, so the 10 bytes, which are in no frame yet under the canonical split, never go out, and RST takes the Data message's place [RPC-55]; the short body is never complete", rules("RPC-23", "RPC-55", "RPC-21", "ERR-2"), flags("OriginalCompatible", "FailedSource"), none, nil, both,
				func(v *Conv) {
					v.Call("BrokenDownload", "json", `{"N":10}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")))
					v.ServerRST()
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Bytes{}), ErrorClass: "reset"}
				}},
			{13, "the client hangs up at once: RST, and the server ends without sending anything", rules("RPC-29", "RPC-34"), flags("OriginalCompatible", "HangUp"), none, nil, both,
				func(v *Conv) { v.ClientRST() }},
			{14, "the client closes the stream after a call without RST: a clean end where a request is expected", rules("RPC-29"), flags("OriginalCompatible", "HangUp"), none, nil, serverOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.ReplyJSON(`{"Text":"hi"}`)
				}},
			{15, "the server's stream ends inside an octets reply: unexpected-eof, not the end of the body", rules("RPC-21", "ERR-2", "FRAME-6"), flags("Truncated"), none, nil, clientOnly,
				func(v *Conv) {
					v.Call("Download", "json", `{"N":10}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")))
					// A non-final frame of 4 bytes, then nothing: written
					// as a raw item below (see cutServer).
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("00010203")), ErrorClass: "unexpected-eof"}
				}},
			{16, "the stream ends where a reply header is expected: the call fails with unexpected-eof", rules("RPC-30", "ERR-3"), flags("Truncated"), none, nil, clientOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					*v.last() = format.CallResult{ErrorClass: "unexpected-eof"}
				}},
			{17, "a reply header with status 7: bad-reply; the client resets the connection", rules("RPC-10", "RPC-41"), flags("BadReply"), none, nil, clientOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.server = append(v.server, msg(tHeader, replyHeader(1, 7, "")))
					*v.last() = format.CallResult{ErrorClass: "bad-reply"}
					v.ClientRST()
				}},
			{18, "an OK reply whose DataType (3) is not the call's Accept (2): bad-reply", rules("RPC-17", "RPC-41"), flags("BadReply"), none, nil, clientOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msg(tData, []byte("x")))
					*v.last() = format.CallResult{ErrorClass: "bad-reply"}
					v.ClientRST()
				}},
			{19, "the server resets instead of replying: the call fails with reset, and the client sends nothing more", rules("MSG-5", "RPC-35"), flags("HangUp"), none, nil, clientOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.ServerRST()
					*v.last() = format.CallResult{ErrorClass: "reset"}
				}},
			{27, "the client's stream ends right after a request header that announces a JSON body: a message boundary, but the body is due, so unexpected-eof [ERR-3]; the server sends nothing, not even RST [ERR-1], and closes", rules("ERR-3", "RPC-14", "ERR-1"), flags("Truncated"), none, nil, serverOnly,
				func(v *Conv) {
					v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req("Echo", 2, 2)))))
					v.calls = append(v.calls, format.Call{Endpoint: "Echo", Request: format.CallBody{Kind: "json", JSON: `{"Text":"hi"}`}, Accept: "json",
						Result: format.CallResult{ErrorClass: "unexpected-eof"}})
				}},
			{28, "the server's stream ends right after an OK reply header that announces a JSON body: unexpected-eof [ERR-3], and the client sends no RST [ERR-1]", rules("ERR-3", "RPC-14", "ERR-1"), flags("Truncated"), none, nil, clientOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.server = append(v.server, msg(tHeader, replyHeader(2, 1, "")))
					*v.last() = format.CallResult{ErrorClass: "unexpected-eof"}
				}},
			{29, "JSON whitespace before the value of a JSON request body: accepted [RPC-52], and Echo answers the value", rules("RPC-52", "RPC-18"), flags("Whitespace"), none, nil, serverOnly,
				func(v *Conv) {
					v.Call("Echo", "json", " \t\r\n"+`{"Text":"ws"}`, 0, "json")
					v.ReplyJSON(`{"Text":"ws"}`)
					v.ClientRST()
				}},
			{30, "a JSON request body of exactly 1024 bytes, the final 0a included: at the fixture's limit, accepted [RPC-54]", rules("RPC-54", "RPC-16"), flags("OriginalCompatible", "JSONLimit"), none, nil, both,
				func(v *Conv) {
					js := `{"Text":"` + strings.Repeat("w", 1023-11) + `"}`
					v.Call("Echo", "json", js, 0, "json")
					v.ReplyJSON(js)
					v.ClientRST()
				}},
			{31, "a JSON request body of 1025 bytes, a 1024-byte value and its 0a: the 0a counts, so it is over the fixture's limit: RequestError, and the next call is in sync [RPC-54]", rules("RPC-54", "RPC-16", "RPC-36"), flags("OriginalCompatible", "ErrorStatus", "JSONLimit"), none, nil, both,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"`+strings.Repeat("v", 1024-11)+`"}`, 0, "json")
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"next"}`, 0, "json")
					v.ReplyJSON(`{"Text":"next"}`)
					v.ClientRST()
				}},
			{32, "a JSON body with < & and >: a receiver takes them as written, and the fixture writes its reply as Go's encoder does, with \\u003c \\u0026 \\u003e [RPC-18]. Server replay only: a client's JSON encoder may escape the request", rules("RPC-18", "RPC-1"), flags("OriginalCompatible", "Escapes"), none, nil, serverOnly,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"<a&b>"}`, 0, "json")
					v.ReplyJSON(`{"Text":"\u003ca\u0026b\u003e"}`)
					v.ClientRST()
				}},
		},
	},
	{
		comment: "Extensions (section 9): the hello exchange, trailers, multipart bodies, and stream-end status with success and failure.",
		cases: []convCase{
			{100, "an octets reply with trailer: hello right before the call, then Data and an OK Trailer", rules("RPC-25", "RPC-40", "RPC-22", "RPC-21"), flags("Hello", "Trailer", "Octets"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":10}`, 0, "octets")
					v.ReplyOctets(10)
					v.ClientRST()
				}},
			{101, "a JSON call needs no extension: the hello comes only before the first call with a stream", rules("RPC-40", "RPC-25"), flags("Hello", "Trailer"), nil, nil, both,
				func(v *Conv) {
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.ReplyJSON(`{"Text":"hi"}`)
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.ReplyOctets(2)
					v.Call("Download", "json", `{"N":3}`, 0, "octets")
					v.ReplyOctets(3)
					v.ClientRST()
				}},
			{102, "an octets request with trailer: the client ends its stream with an OK Trailer", rules("RPC-22", "RPC-14"), flags("Hello", "Trailer", "Octets"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Upload", "octets", "", 5, "json")
					v.ReplyJSON(`{"N":5}`)
					v.ClientRST()
				}},
			{103, "a multipart request: JSON metadata and a stream pushed together (DataType 4)", rules("RPC-27", "RPC-22"), flags("Hello", "Multipart", "Trailer"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Push", "multipart", `{"Text":"hi"}`, 5, "json")
					v.ReplyJSON(`{"Text":"hi","N":5}`)
					v.ClientRST()
				}},
			{104, "a multipart reply: JSON metadata and a stream (Accept 4)", rules("RPC-27", "RPC-22"), flags("Hello", "Multipart", "Trailer"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Pull", "json", `{"N":3}`, 0, "multipart")
					v.ReplyPull(`{"N":3}`, 3)
					v.ClientRST()
				}},
			{105, "the reply's source fails after 10 bytes, with trailer: the final frame, then a failure Trailer; the connection stays usable", rules("RPC-23", "RPC-22", "RPC-36"), flags("Hello", "Trailer", "FailedSource"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("BrokenDownload", "json", `{"N":10}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 10), msg(tTrailer, trailerBody(4, "source failed")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex(fmt.Sprintf("%x", pattern(10)))), StreamStatus: 4, StreamMessage: "source failed"}
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{106, "the client asks only for trailer and gets it", rules("RPC-25", "RPC-26"), flags("Hello", "Trailer"), []string{"trailer"}, nil, both,
				func(v *Conv) {
					v.Hello([]string{"trailer"}, []string{"trailer"})
					v.Call("Download", "json", `{"N":1}`, 0, "octets")
					v.ReplyOctets(1)
					v.ClientRST()
				}},
			{107, "a server that grants nothing answers the hello OK with an empty list; the stream goes without trailer", rules("RPC-25", "RPC-26"), flags("Hello"), nil, none, both,
				func(v *Conv) {
					v.Hello(allExts, none)
					v.Call("Download", "json", `{"N":4}`, 0, "octets")
					v.ReplyOctets(4)
					v.ClientRST()
				}},
			{108, "a server that grants only trailer, asked for both", rules("RPC-25"), flags("Hello", "Trailer"), nil, []string{"trailer"}, both,
				func(v *Conv) {
					v.Hello(allExts, []string{"trailer"})
					v.Call("Download", "json", `{"N":4}`, 0, "octets")
					v.ReplyOctets(4)
					v.ClientRST()
				}},
			{109, "an original server refuses the hello with RequestError: no extension, and the call goes as the original's", rules("RPC-26", "RPC-25"), flags("Hello", "OriginalCompatible"), nil, nil, clientOnly,
				func(v *Conv) {
					v.HelloRefused(allExts, "no such endpoint")
					v.Call("Download", "json", `{"N":4}`, 0, "octets")
					v.ReplyOctets(4)
					v.ClientRST()
				}},
			{110, "a second hello is answered RequestError and changes nothing", rules("RPC-39"), flags("Hello", "Trailer"), nil, nil, serverOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.HelloRefused(allExts, "fixture error text")
					v.server[len(v.server)-1].AnyErrorMessage = true
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.ReplyOctets(2)
					v.ClientRST()
				}},
			{112, "the client's request source fails after 10 bytes, with trailer: final frame, failure Trailer; the server replies (the handler saw the failure) and the call reports the source's failure", rules("RPC-23", "RPC-22"), flags("Hello", "Trailer", "FailedSource"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.CallFailingUpload(10)
					v.server = append(v.server, msg(tHeader, replyHeader(1, 4, "fixture error text")))
					v.server[len(v.server)-1].AnyErrorMessage = true
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{113, "a Trailer with status 7: bad-trailer; the client resets the connection", rules("RPC-22", "RPC-41"), flags("Hello", "Trailer", "BadTrailer"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2), msg(tTrailer, trailerBody(7, "")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), ErrorClass: "bad-trailer"}
					v.ClientRST()
				}},
			{114, "a Trailer whose body is not a JSON object: bad-trailer", rules("RPC-22", "RPC-3", "RPC-41"), flags("Hello", "Trailer", "BadTrailer"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2), msg(tTrailer, []byte("[1]\n")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), ErrorClass: "bad-trailer"}
					v.ClientRST()
				}},
			{115, "a Trailer with Error given twice: bad-trailer", rules("RPC-22", "RPC-5", "RPC-41"), flags("Hello", "Trailer", "BadTrailer"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2), msg(tTrailer, []byte(`{"Error":1,"Error":1,"ErrorMessage":""}`+"\n")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), ErrorClass: "bad-trailer"}
					v.ClientRST()
				}},
			{116, "the stream ends where the Trailer is expected: unexpected-eof, the body is not complete", rules("RPC-22", "RPC-21", "ERR-2"), flags("Hello", "Trailer", "Truncated"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), ErrorClass: "unexpected-eof"}
				}},
			{117, "a client that stopped sending a refused stream [RPC-43]: after 10 bytes it ends the Data message and sends a failure Trailer; the server, which refused the unknown endpoint, consumes both and reads the next call in sync. Server replay only: where a client stops depends on when the refusal reaches it", rules("RPC-43", "RPC-23", "RPC-36"), flags("Hello", "Trailer", "ErrorStatus"), nil, nil, serverOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req("Nope", 3, 2)))), msgPat(tData, 10),
						msg(tTrailer, trailerBody(4, "the server replied before the end of the request")))
					v.calls = append(v.calls, format.Call{Endpoint: "Nope", Request: format.CallBody{Kind: "octets", Body: msgPat(tData, 10).Body}, Accept: "json"})
					v.ReplyError(2, "")
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{118, "the deadline extension [RPC-44]: the client asks for it and the server grants it; the request header carries Timeout 1 after ErrorMessage; the Expire handler's context ends 1 ms after the request was read, it sees the deadline exceeded, and the reply is status 4 Error, context deadline exceeded. The next call's Timeout is far away and changes nothing. Server replay only: the Timeout a client sends is the time left on its context", rules("RPC-44", "RPC-45", "RPC-1", "RPC-25"), flags("Hello", "Deadline", "ErrorStatus"), withDeadline, withDeadline, serverOnly,
				func(v *Conv) {
					v.Hello(withDeadline, withDeadline)
					v.CallTimeout("Expire", "octets", "", 3, "json", 1)
					v.ReplyError(4, "context deadline exceeded")
					v.CallTimeout("Echo", "json", `{"Text":"next"}`, 0, "json", 60000)
					v.ReplyJSON(`{"Text":"next"}`)
					v.ClientRST()
				}},
			{119, "a client asks for deadline, the server grants only trailer and multipart: the client never sends Timeout, though its calls have a deadline [RPC-26]", rules("RPC-44", "RPC-26", "RPC-25"), flags("Hello", "Deadline", "Trailer"), withDeadline, nil, both,
				func(v *Conv) {
					v.Hello(withDeadline, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.ReplyOctets(2)
					v.ClientRST()
				}},
			{120, "a hello with Accept 2: the server ignores Accept and answers as for Accept 1 [RPC-50]", rules("RPC-50", "RPC-25"), flags("Hello", "Trailer"), nil, nil, serverOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.client[len(v.client)-1] = msg(tHeader, []byte(`{"Endpoint":"framerpc:hello","DataType":1,"Accept":2,"Error":0,"ErrorMessage":"","Extensions":["trailer","multipart"]}`+"\n"))
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.ReplyOctets(2)
					v.ClientRST()
				}},
			{121, "a hello reply that lists its grants in another order than asked, one of them twice: the client takes them as a set [RPC-51], and the stream has its Trailer", rules("RPC-51", "RPC-25"), flags("Hello", "Trailer"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					r := strings.TrimSuffix(string(replyHeader(1, 1, "")), "}\n")
					v.server[len(v.server)-1] = msg(tHeader, []byte(r+`,"Extensions":["multipart","trailer","trailer"]}`+"\n"))
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.ReplyOctets(2)
					v.ClientRST()
				}},
			{122, "an Extensions member in a reply that is not the hello's: ignored, the client takes no extension from it, and the stream goes without Trailer [RPC-49]", rules("RPC-49", "RPC-26"), flags("Hello", "IgnoredMember"), nil, none, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, none)
					v.Call("Download", "json", `{"N":3}`, 0, "octets")
					v.ReplyOctets(3)
					v.Call("Echo", "json", `{"Text":"hi"}`, 0, "json")
					v.ReplyJSON(`{"Text":"hi"}`)
					r := strings.TrimSuffix(string(replyHeader(2, 1, "")), "}\n")
					v.server[len(v.server)-2] = msg(tHeader, []byte(r+`,"Extensions":["trailer"]}`+"\n"))
					v.Call("Download", "json", `{"N":3}`, 0, "octets")
					v.ReplyOctets(3)
					v.ClientRST()
				}},
			{123, "an OK Trailer with the other members of the header table, of their types: known, checked, ignored [RPC-48]", rules("RPC-48", "RPC-22"), flags("Hello", "Trailer", "IgnoredMember"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2),
						msg(tTrailer, []byte(`{"Error":1,"ErrorMessage":"","Endpoint":"x","DataType":9,"Accept":9,"Extensions":[],"Timeout":5}`+"\n")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001"))}
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{124, "a Trailer whose Endpoint is a number: a known member of the wrong type, bad-trailer, although Endpoint means nothing in a Trailer [RPC-48]", rules("RPC-48", "RPC-7", "RPC-41"), flags("Hello", "Trailer", "BadTrailer"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2), msg(tTrailer, []byte(`{"Error":1,"ErrorMessage":"","Endpoint":5}`+"\n")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), ErrorClass: "bad-trailer"}
					v.ClientRST()
				}},
			{125, "a Trailer without Error: 0, no status, bad-trailer [RPC-48]", rules("RPC-48", "RPC-41"), flags("Hello", "Trailer", "BadTrailer"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2), msg(tTrailer, []byte(`{"ErrorMessage":""}`+"\n")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), ErrorClass: "bad-trailer"}
					v.ClientRST()
				}},
			{126, "a Trailer with status 4 and no ErrorMessage: a failure with the text \"\"; the connection stays usable [RPC-48]", rules("RPC-48", "RPC-22", "RPC-36"), flags("Hello", "Trailer", "FailedSource"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Download", "json", `{"N":2}`, 0, "octets")
					v.server = append(v.server, msg(tHeader, replyHeader(3, 1, "")), msgPat(tData, 2), msg(tTrailer, []byte(`{"Error":4}`+"\n")))
					*v.last() = format.CallResult{Status: 1, Body: ptr(format.Hex("0001")), StreamStatus: 4, StreamMessage: ""}
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{127, "octets requests to Upload ending in failure Trailers with status 2, then 3: the handler gets each status unchanged and, returning the error, replies with it [RPC-53]", rules("RPC-53", "RPC-22", "RPC-19"), flags("Hello", "Trailer", "FailedSource", "ErrorStatus"), nil, nil, serverOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					for _, st := range []uint32{2, 3} {
						v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req("Upload", 3, 2)))), msgPat(tData, 4),
							msg(tTrailer, trailerBody(st, "the client's source failed")))
						v.calls = append(v.calls, format.Call{Endpoint: "Upload", Request: format.CallBody{Kind: "octets", Body: msgPat(tData, 4).Body}, Accept: "json"})
						v.ReplyError(st, "")
					}
					v.Call("Echo", "json", `{"Text":"after"}`, 0, "json")
					v.ReplyJSON(`{"Text":"after"}`)
					v.ClientRST()
				}},
			{128, "with trailer, the client's stream ends after the Data message of an octets request, where its Trailer is due: unexpected-eof [ERR-3]; the server sends no reply and no RST, and closes", rules("ERR-3", "RPC-14", "RPC-22", "ERR-1"), flags("Hello", "Trailer", "Truncated"), nil, nil, serverOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req("Upload", 3, 2)))), msgPat(tData, 4))
					v.calls = append(v.calls, format.Call{Endpoint: "Upload", Request: format.CallBody{Kind: "octets", Body: msgPat(tData, 4).Body}, Accept: "json",
						Result: format.CallResult{ErrorClass: "unexpected-eof"}})
				}},
			{129, "the client's stream ends between the JSON part and the octets part of a multipart request: unexpected-eof [ERR-3]; the server sends no reply and no RST, and closes", rules("ERR-3", "RPC-14", "RPC-27", "ERR-1"), flags("Hello", "Multipart", "Truncated"), nil, nil, serverOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.client = append(v.client, msg(tHeader, []byte(canonicalHeader(req("Push", 4, 2)))), msg(tData, []byte(`{"Text":"hi"}`+"\n")))
					v.calls = append(v.calls, format.Call{Endpoint: "Push", Request: format.CallBody{Kind: "multipart", JSON: `{"Text":"hi"}`, Body: msgPat(tData, 0).Body}, Accept: "json",
						Result: format.CallResult{ErrorClass: "unexpected-eof"}})
				}},
			{130, "the server's stream ends between the JSON part and the octets part of a multipart reply: the call fails with unexpected-eof [ERR-3], and the client sends no RST", rules("ERR-3", "RPC-14", "RPC-27", "ERR-1"), flags("Hello", "Multipart", "Truncated"), nil, nil, clientOnly,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Pull", "json", `{"N":3}`, 0, "multipart")
					v.server = append(v.server, msg(tHeader, replyHeader(4, 1, "")), msg(tData, []byte(`{"N":3}`+"\n")))
					*v.last() = format.CallResult{ErrorClass: "unexpected-eof"}
				}},
			{111, "an empty octets request and an empty octets reply with trailer", rules("RPC-22", "MSG-3"), flags("Hello", "Trailer", "Octets"), nil, nil, both,
				func(v *Conv) {
					v.Hello(allExts, allExts)
					v.Call("Upload", "octets", "", 0, "json")
					v.ReplyJSON(`{"N":0}`)
					v.Call("Download", "json", `{"N":0}`, 0, "octets")
					v.ReplyOctets(0)
					v.ClientRST()
				}},
		},
	},
}

var convNotes = map[string]note{
	"OriginalCompatible": {"LEGACY", "An exchange the original could perform: the bytes are the original's."},
	"ErrorStatus":        {"BASIC", "A reply with a status other than OK; no body follows [RPC-17]."},
	"OriginalDefect":     {"KNOWN_DEFECT", "The original replied without consuming the request body and desynchronised; the next call shows the connection is in sync [RPC-15]."},
	"Octets":             {"BASIC", "An octets body [RPC-21]."},
	"LargeBody":          {"EDGE_CASE", "A body of MAX_PAYLOAD bytes or more, described by a pattern."},
	"FailedSource":       {"BASIC", "A stream whose source fails part way [RPC-23]."},
	"HangUp":             {"BASIC", "A side ends the connection."},
	"Truncated":          {"TRUNCATED", "The stream ends in the middle of an exchange: unexpected-eof [ERR-3]."},
	"Whitespace":         {"EDGE_CASE", "JSON whitespace where a conforming sender writes none."},
	"JSONLimit":          {"EDGE_CASE", "A JSON body at the fixture's 1024-byte limit, which counts every byte of the body [RPC-54]."},
	"Escapes":            {"EDGE_CASE", "Characters a JSON string escapes: < > & written as Go's encoder writes them [RPC-1] [RPC-18]."},
	"IgnoredMember":      {"EDGE_CASE", "A known member where it means nothing: checked for its type, then ignored [RPC-48] [RPC-49]."},
	"BadReply":           {"MALFORMED", "A reply header the client cannot accept: bad-reply [RPC-10] [RPC-17]."},
	"Hello":              {"BASIC", "The hello exchange negotiates extensions [RPC-25]."},
	"Trailer":            {"BASIC", "With the trailer extension every octets body ends with a Trailer message [RPC-22]."},
	"Multipart":          {"BASIC", "DataType 4: JSON metadata and a stream in one body [RPC-27]."},
	"Deadline":           {"BASIC", "The deadline extension: a request header carries the time left to the caller [RPC-44]."},
	"BadTrailer":         {"MALFORMED", "A Trailer message that is not a valid trailer: bad-trailer [RPC-22]."},
}

// cutServer holds raw bytes appended to the server side of a case after
// its messages: the part of a frame a truncated stream ends with.
var cutServer = map[int][]byte{
	15: append(header(tData, 0, 4), 0, 1, 2, 3),
}

func frameMessages(ms []format.ConvMessage) format.Bytes {
	var out format.Bytes
	for _, m := range ms {
		if m.Type == typeHex(tRST) {
			out.AppendLit(canonicalRST)
			continue
		}
		canonicalSplit(&out, typeByte(m.Type), *m.Body)
	}
	return out
}

// ConversationFile builds conversations.json.
func ConversationFile() *format.File[format.ConversationTest] {
	const name = "conversations.json"
	k := newChecker(name, convNotes)
	f := &format.File[format.ConversationTest]{
		Algorithm: "framerpc-conversation",
		Schema:    "conversations.schema.json",
		Version:   Version,
		Header: []string{
			"Whole connections of spec/PROTOCOL.md sections 6 to 10: what the client sends, what the fixture server of testvectors/README.md (The conformance fixture) answers, and what each call gives its caller.",
			"Each side's bytes are its messages, each split canonically [MSG-3], in order; clientBytes and serverBytes spell them out.",
			"See testvectors/README.md for the meaning of every field.",
		},
	}
	for _, g := range convGroups {
		grp := format.Group[format.ConversationTest]{Type: "Conversation", Comment: g.comment}
		for _, c := range g.cases {
			var v Conv
			c.build(&v)
			t := format.ConversationTest{
				Common:           k.common(c.id, c.comment, c.rules, c.flags, valid),
				ClientExtensions: c.clientExts,
				ServerExtensions: c.serverExts,
				Replay:           c.replay,
				Calls:            append([]format.Call{}, v.calls...),
				Client:           append([]format.ConvMessage{}, v.client...),
				Server:           append([]format.ConvMessage{}, v.server...),
				ClientBytes:      frameMessages(v.client),
				ServerBytes:      frameMessages(v.server),
			}
			if c.clientExts == nil {
				t.ClientExtensions = allExts
			}
			if c.serverExts == nil {
				t.ServerExtensions = allExts
			}
			if raw, ok := cutServer[c.id]; ok {
				t.ServerBytes.AppendLit(raw)
			}
			if c.replay != both && c.replay != serverOnly && c.replay != clientOnly {
				panic(fmt.Sprintf("%s: tcId %d: replay %q", name, c.id, c.replay))
			}
			grp.Tests = append(grp.Tests, t)
		}
		f.TestGroups = append(f.TestGroups, grp)
		f.NumberOfTests += len(grp.Tests)
	}
	f.Notes = k.notesOut()
	return f
}
