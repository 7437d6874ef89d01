package cases

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/framerpc/framerpc/testvectors/format"
)

// hdrCase is one test of the header decode group: the body of a Header
// message that a server reads where it expects a request header, on a
// connection where no extension was negotiated.
//
// A valid case's input must be exactly what [RPC-1] makes a sender write for
// the decoded header (the generator checks it); an acceptable case decodes
// to the header given although no conforming sender writes it that way; an
// invalid case is rejected with class (bad-header unless said otherwise).
type hdrCase struct {
	id      int
	comment string
	rules   []string
	flags   []string
	result  string
	input   string
	h       *format.RPCHeader
	class   string
}

func req(ep string, dt, acc uint32) *format.RPCHeader {
	return &format.RPCHeader{Endpoint: ep, DataType: dt, Accept: acc}
}

func ping() *format.RPCHeader { return req("Ping", 2, 2) }

// canonicalHeader encodes a request or reply header as [RPC-1] says: the
// five members in order, no whitespace, then 0a.
func canonicalHeader(h *format.RPCHeader) string {
	return fmt.Sprintf(`{"Endpoint":%s,"DataType":%d,"Accept":%d,"Error":%d,"ErrorMessage":%s}`+"\n",
		jsonString(h.Endpoint), h.DataType, h.Accept, h.Error, jsonString(h.ErrorMessage))
}

// jsonString writes s as [RPC-1] says Go's encoding/json writes it with HTML
// escaping on.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// fixtureStatus is the status the fixture server (README: the header
// fixture) answers: its only endpoint Ping takes a JSON body and replies
// JSON, so a request for Ping with DataType 2 and Accept 2 is OK and every
// other well-formed request is RequestError [RPC-13].
func fixtureStatus(h *format.RPCHeader) uint32 {
	if h.Endpoint == "Ping" && h.DataType == 2 && h.Accept == 2 {
		return 1
	}
	return 2
}

// canonPing is the canonical Ping request header, 72 bytes.
var canonPing = canonicalHeader(ping())

// padded returns a Ping request header of exactly n bytes, made long by an
// unknown member in front.
func padded(n int) string {
	pre, post := `{"Pad":"`, `",`+canonPing[1:]
	return pre + strings.Repeat("x", n-len(pre)-len(post)) + post
}

// withMember returns the canonical Ping header with member (`"Name":value`)
// inserted first.
func withMember(member string) string { return "{" + member + "," + canonPing[1:] }

func nested(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }

const (
	valid      = format.Valid
	acceptable = format.Acceptable
	invalid    = format.Invalid
)

func badHeader(id int, comment string, rule string, flag string, input string) hdrCase {
	return hdrCase{id, comment, rules(rule), flags(flag), invalid, input, nil, "bad-header"}
}

var hdrGroups = []struct {
	comment string
	cases   []hdrCase
}{
	{
		comment: "Headers exactly as a conforming client writes them [RPC-1]; the fixture answers OK or RequestError [RPC-13].",
		cases: []hdrCase{
			{1, "the original's Ping request header, JSON body, JSON reply expected (spec section 6)", rules("RPC-1", "RPC-2", "RPC-13"), flags("OriginalBytes"), valid, canonPing, ping(), ""},
			{2, "Ping with DataType 1: not the body kind the endpoint takes, RequestError", rules("RPC-1", "RPC-13"), flags("WrongBodyKind"), valid, canonicalHeader(req("Ping", 1, 2)), req("Ping", 1, 2), ""},
			{3, "Ping with Accept 3: not the reply kind the endpoint gives, RequestError", rules("RPC-1", "RPC-13"), flags("WrongBodyKind"), valid, canonicalHeader(req("Ping", 2, 3)), req("Ping", 2, 3), ""},
			{4, "Ping with DataType 3, an octets body: RequestError after the body is consumed", rules("RPC-1", "RPC-13", "RPC-15"), flags("WrongBodyKind"), valid, canonicalHeader(req("Ping", 3, 2)), req("Ping", 3, 2), ""},
			{5, "an unknown endpoint: RequestError", rules("RPC-1", "RPC-13", "RPC-12"), flags("UnknownEndpoint"), valid, canonicalHeader(req("Pong", 2, 2)), req("Pong", 2, 2), ""},
			{6, "endpoint names are compared byte for byte: \"ping\" is unknown", rules("RPC-12", "RPC-13"), flags("UnknownEndpoint", "CaseVariant"), valid, canonicalHeader(req("ping", 2, 2)), req("ping", 2, 2), ""},
			{7, "an endpoint <Ping>, written with HTML escapes \\u003c and \\u003e as Go's encoder writes them", rules("RPC-1", "RPC-4"), flags("UnknownEndpoint", "Escapes"), valid, canonicalHeader(req("<Ping>", 2, 2)), req("<Ping>", 2, 2), ""},
			{8, "an endpoint with a quote, a backslash, a tab and U+2028, escaped as [RPC-1] says", rules("RPC-1", "RPC-8"), flags("UnknownEndpoint", "Escapes"), valid, canonicalHeader(req("a\"b\\c\td\u2028", 2, 2)), req("a\"b\\c\td\u2028", 2, 2), ""},
			{9, "an endpoint of non-ASCII UTF-8, written as itself", rules("RPC-1", "RPC-8"), flags("UnknownEndpoint", "Utf8"), valid, canonicalHeader(req("Pïng😀", 2, 2)), req("Pïng😀", 2, 2), ""},
			{10, "an empty endpoint name: unknown, RequestError", rules("RPC-12", "RPC-13"), flags("UnknownEndpoint"), valid, canonicalHeader(req("", 2, 2)), req("", 2, 2), ""},
			{11, "Ping with DataType 1 and Accept 1", rules("RPC-13"), flags("WrongBodyKind"), valid, canonicalHeader(req("Ping", 1, 1)), req("Ping", 1, 1), ""},
			{12, "an endpoint with the bytes 08 and 0c and an ampersand: written \\b, \\f and \\u0026, the short escapes and Go's HTML escaping [RPC-1]", rules("RPC-1", "RPC-8"), flags("UnknownEndpoint", "Escapes"), valid, canonicalHeader(req("a\bb\fc&d", 2, 2)), req("a\bb\fc&d", 2, 2), ""},
		},
	},
	{
		comment: "Headers a conforming client does not write but a receiver must accept: whitespace, member order, missing and unknown members, escapes [RPC-3] to [RPC-8].",
		cases: []hdrCase{
			{100, "no final 0a", rules("RPC-3"), flags("Whitespace"), acceptable, strings.TrimSuffix(canonPing, "\n"), ping(), ""},
			{101, "ends in 0d 0a", rules("RPC-3"), flags("Whitespace"), acceptable, strings.TrimSuffix(canonPing, "\n") + "\r\n", ping(), ""},
			{102, "leading space, tab, CR and LF", rules("RPC-3"), flags("Whitespace"), acceptable, " \t\r\n" + canonPing, ping(), ""},
			{103, "whitespace between every token", rules("RPC-3"), flags("Whitespace"), acceptable,
				"{ \"Endpoint\" :\t\"Ping\" ,\r\n\"DataType\" : 2 , \"Accept\" : 2 ,\n\"Error\":0 ,\"ErrorMessage\" : \"\" }\n", ping(), ""},
			{104, "members in another order", rules("RPC-6"), flags("Reordered"), acceptable,
				`{"ErrorMessage":"","Accept":2,"Error":0,"DataType":2,"Endpoint":"Ping"}`, ping(), ""},
			{105, "Error and ErrorMessage missing: they default to 0 and \"\"", rules("RPC-7"), flags("MissingMember"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2}`, ping(), ""},
			{106, "an unknown string member", rules("RPC-6"), flags("UnknownMember"), acceptable, withMember(`"Trace":"abc"`), ping(), ""},
			{107, "an unknown member holding a negative number with a fraction and an exponent", rules("RPC-6"), flags("UnknownMember"), acceptable, withMember(`"X":-1.5e3`), ping(), ""},
			{108, "an unknown member holding nested objects, arrays and literals", rules("RPC-6"), flags("UnknownMember"), acceptable,
				withMember(`"X":{"a":{"b":[1,2,{"c":null}],"d":true,"e":false},"f":[]}`), ping(), ""},
			{109, "an unknown member holding arrays nested 64 levels deep", rules("RPC-6"), flags("UnknownMember", "Depth"), acceptable, withMember(`"X":` + nested(64)), ping(), ""},
			{110, "\"endpoint\" in lower case is an unknown member, not Endpoint", rules("RPC-4", "RPC-6"), flags("CaseVariant", "UnknownMember"), acceptable,
				withMember(`"endpoint":"Pong"`), ping(), ""},
			{111, "only \"ENDPOINT\": an unknown member; Endpoint is missing, so \"\", RequestError", rules("RPC-4", "RPC-7"), flags("CaseVariant", "MissingMember"), acceptable,
				`{"ENDPOINT":"Ping","DataType":2,"Accept":2}`, req("", 2, 2), ""},
			{112, "the member name written \"Endp\\u006fint\" is Endpoint after unescaping", rules("RPC-4"), flags("Escapes"), acceptable,
				`{"Endp\u006fint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}`, ping(), ""},
			{113, "the endpoint written \"P\\u0069ng\"", rules("RPC-4", "RPC-8"), flags("Escapes"), acceptable,
				`{"Endpoint":"P\u0069ng","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}`, ping(), ""},
			{114, "every escape RFC 8259 defines, in an unknown member, upper-case hex included", rules("RPC-6", "RPC-8"), flags("Escapes", "UnknownMember"), acceptable,
				withMember(`"X":"\" \\ \/ \b \f \n \r \t \u00e9 \u00E9 \u0000"`), ping(), ""},
			{115, "a surrogate pair escape \\ud83d\\ude00 in an unknown member", rules("RPC-8"), flags("Escapes", "UnknownMember"), acceptable, withMember(`"X":"\ud83d\ude00"`), ping(), ""},
			{116, "Error 4 and an ErrorMessage in a request: ignored by the server", rules("RPC-2"), flags("IgnoredMember"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":4,"ErrorMessage":"x"}`, &format.RPCHeader{Endpoint: "Ping", DataType: 2, Accept: 2, Error: 4, ErrorMessage: "x"}, ""},
			{117, "Error 4294967295, the largest allowed integer, in a request: ignored", rules("RPC-2", "RPC-7"), flags("IgnoredMember", "NumberRange"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":4294967295,"ErrorMessage":""}`, &format.RPCHeader{Endpoint: "Ping", DataType: 2, Accept: 2, Error: 4294967295}, ""},
			{118, "Accept 4294967295: a valid number, not the endpoint's reply kind, RequestError", rules("RPC-7", "RPC-13"), flags("NumberRange", "WrongBodyKind"), valid,
				canonicalHeader(req("Ping", 2, 4294967295)), req("Ping", 2, 4294967295), ""},
			{119, "a Ping header of exactly 4096 bytes (MAX_CONTROL), long through an unknown member", rules("RPC-11", "MSG-7"), flags("Length"), acceptable, padded(maxControl), ping(), ""},
			{120, "the endpoint \"Ping\\u0008\" in the escape form of Go before 1.22: unknown, RequestError", rules("RPC-1", "RPC-8"), flags("Escapes", "UnknownEndpoint"), acceptable,
				`{"Endpoint":"Ping\u0008","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}`, req("Ping\b", 2, 2), ""},
			{125, "a Timeout member of 250 after ErrorMessage, as the deadline extension writes it [RPC-44]; this connection did not grant it, so the server ignores its value [RPC-45]", rules("RPC-44", "RPC-45", "RPC-7"), flags("IgnoredMember"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":"","Timeout":250}` + "\n", ping(), ""},
			{126, "Timeout 0 are valid integers (here Timeout 0)", rules("RPC-44", "RPC-7"), flags("IgnoredMember", "NumberRange"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":"","Timeout":0}` + "\n", ping(), ""},
			{127, "an Extensions member in a request that is not a hello, on a connection without a hello: an array of strings, so valid, and ignored: nothing is granted by it", rules("RPC-49", "RPC-26"), flags("IgnoredMember"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":"","Extensions":["trailer","multipart"]}` + "\n", ping(), ""},
			{128, "an empty Extensions member in a request that is not a hello: ignored", rules("RPC-49"), flags("IgnoredMember"), acceptable,
				`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":"","Extensions":[]}` + "\n", ping(), ""},
			{121, "raw non-ASCII UTF-8 and U+2028 unescaped in an unknown member", rules("RPC-8"), flags("Utf8", "UnknownMember"), acceptable, withMember("\"X\":\"é😀\u2028\""), ping(), ""},
			{122, "an unknown member named like a known one with different case, both present", rules("RPC-4", "RPC-5"), flags("CaseVariant", "UnknownMember"), acceptable,
				withMember(`"ENDPOINT":"x","DATATYPE":"y"`), ping(), ""},
			{123, "an empty unknown member name", rules("RPC-6"), flags("UnknownMember"), acceptable, withMember(`"":1`), ping(), ""},
			{124, "an unknown member holding a number inside 64 nested arrays: 64 levels", rules("RPC-6"), flags("UnknownMember", "Depth"), acceptable,
				withMember(`"X":` + strings.Repeat("[", 64) + "0" + strings.Repeat("]", 64)), ping(), ""},
		},
	},
	{
		comment: "Bodies that are not exactly one JSON object surrounded by JSON whitespace: bad-header [RPC-3]; the server resets the connection [RPC-41].",
		cases: []hdrCase{
			badHeader(200, "an empty body", "RPC-3", "NotAnObject", ""),
			badHeader(201, "whitespace only", "RPC-3", "NotAnObject", " \n"),
			badHeader(202, "an array", "RPC-3", "NotAnObject", "[]\n"),
			badHeader(203, "a string", "RPC-3", "NotAnObject", "\"Ping\"\n"),
			badHeader(204, "null", "RPC-3", "NotAnObject", "null\n"),
			badHeader(205, "a number", "RPC-3", "NotAnObject", "1\n"),
			badHeader(206, "two objects", "RPC-3", "TrailingData", strings.TrimSuffix(canonPing, "\n")+canonPing),
			badHeader(207, "an object followed by x", "RPC-3", "TrailingData", strings.TrimSuffix(canonPing, "\n")+"x"),
			badHeader(208, "an object followed by a NUL byte", "RPC-3", "TrailingData", canonPing+"\x00"),
			badHeader(209, "a trailing comma after the last member", "RPC-3", "Syntax", `{"Endpoint":"Ping","DataType":2,"Accept":2,}`),
			badHeader(210, "the closing brace missing", "RPC-3", "Syntax", `{"Endpoint":"Ping","DataType":2,"Accept":2`),
			badHeader(211, "single-quoted strings", "RPC-3", "Syntax", `{'Endpoint':'Ping','DataType':2,'Accept':2}`),
			badHeader(212, "an unquoted member name", "RPC-3", "Syntax", `{Endpoint:"Ping","DataType":2,"Accept":2}`),
			badHeader(213, "a UTF-8 byte order mark before the object: not JSON whitespace", "RPC-3", "Whitespace", "\xef\xbb\xbf"+canonPing),
			badHeader(214, "a form feed before the object: not JSON whitespace", "RPC-3", "Whitespace", "\f"+canonPing),
			badHeader(215, "a comment inside the object", "RPC-3", "Syntax", `{/* c */"Endpoint":"Ping","DataType":2,"Accept":2}`),
			badHeader(216, "a leading comma", "RPC-3", "Syntax", `{,"Endpoint":"Ping","DataType":2,"Accept":2}`),
			badHeader(217, "the body ends inside a string", "RPC-3", "Syntax", `{"Endpoint":"Pi`),
			badHeader(218, "a member without a value", "RPC-3", "Syntax", `{"Endpoint":,"DataType":2,"Accept":2}`),
			badHeader(219, "a non-breaking space (c2 a0) before the object", "RPC-3", "Whitespace", "\u00a0"+canonPing),
		},
	},
	{
		comment: "A member name twice, known or unknown, compared after unescaping: bad-header [RPC-5].",
		cases: []hdrCase{
			badHeader(300, "Endpoint twice with the same value", "RPC-5", "Duplicate", withMember(`"Endpoint":"Ping"`)),
			badHeader(301, "Endpoint twice with different values (Go's decoder would take the last)", "RPC-5", "Duplicate", withMember(`"Endpoint":"Pong"`)),
			badHeader(302, "an unknown member twice", "RPC-5", "Duplicate", withMember(`"X":1,"X":1`)),
			badHeader(303, "Endpoint and \"Endp\\u006fint\": the same name after unescaping", "RPC-5", "Duplicate", withMember(`"Endp\u006fint":"Ping"`)),
			badHeader(304, "DataType twice", "RPC-5", "Duplicate", withMember(`"DataType":2`)),
			badHeader(305, "ErrorMessage twice, a member the server otherwise ignores", "RPC-5", "Duplicate", withMember(`"ErrorMessage":""`)),
		},
	},
	{
		comment: "Known members of the wrong JSON type, and numbers that are not integer literals in [0, 4294967295]: bad-header [RPC-7]; DataType values no body kind has on this connection: bad-header [RPC-9].",
		cases: []hdrCase{
			badHeader(400, "Endpoint a number", "RPC-7", "WrongType", `{"Endpoint":1,"DataType":2,"Accept":2}`),
			badHeader(401, "Endpoint null", "RPC-7", "WrongType", `{"Endpoint":null,"DataType":2,"Accept":2}`),
			badHeader(402, "Endpoint an array", "RPC-7", "WrongType", `{"Endpoint":["Ping"],"DataType":2,"Accept":2}`),
			badHeader(403, "Endpoint an object", "RPC-7", "WrongType", `{"Endpoint":{},"DataType":2,"Accept":2}`),
			badHeader(404, "DataType a string \"2\"", "RPC-7", "WrongType", `{"Endpoint":"Ping","DataType":"2","Accept":2}`),
			badHeader(405, "DataType null", "RPC-7", "WrongType", `{"Endpoint":"Ping","DataType":null,"Accept":2}`),
			badHeader(406, "DataType true", "RPC-7", "WrongType", `{"Endpoint":"Ping","DataType":true,"Accept":2}`),
			badHeader(407, "DataType 2.0: a fraction", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":2.0,"Accept":2}`),
			badHeader(408, "DataType 2e0: an exponent", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":2e0,"Accept":2}`),
			badHeader(409, "DataType -2: a sign", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":-2,"Accept":2}`),
			badHeader(410, "DataType 02: a leading zero (not JSON)", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":02,"Accept":2}`),
			badHeader(411, "DataType -0", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":-0,"Accept":2}`),
			badHeader(412, "Accept 4294967296: one above the range", "RPC-7", "NumberRange", `{"Endpoint":"Ping","DataType":2,"Accept":4294967296}`),
			badHeader(413, "Accept 1e100", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":2,"Accept":1e100}`),
			badHeader(414, "Accept 2.5", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":2,"Accept":2.5}`),
			badHeader(415, "Error 4294967296 in a request: checked although ignored", "RPC-7", "NumberRange", `{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":4294967296}`),
			badHeader(416, "Error -1 in a request", "RPC-7", "NumberForm", `{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":-1}`),
			badHeader(417, "ErrorMessage a number", "RPC-7", "WrongType", `{"Endpoint":"Ping","DataType":2,"Accept":2,"ErrorMessage":0}`),
			badHeader(418, "ErrorMessage null", "RPC-7", "WrongType", `{"Endpoint":"Ping","DataType":2,"Accept":2,"ErrorMessage":null}`),
			badHeader(419, "DataType 18446744073709551618, far out of range", "RPC-7", "NumberRange", `{"Endpoint":"Ping","DataType":18446744073709551618,"Accept":2}`),
			badHeader(420, "DataType 0: no body kind, so the server cannot know what follows", "RPC-9", "DataTypeValue", canonicalHeader(req("Ping", 0, 2))),
			badHeader(421, "DataType 5", "RPC-9", "DataTypeValue", canonicalHeader(req("Ping", 5, 2))),
			{422, "DataType 4 without the multipart extension", rules("RPC-9", "RPC-26"), flags("DataTypeValue"), invalid, canonicalHeader(req("Ping", 4, 2)), nil, "bad-header"},
			badHeader(423, "DataType 4294967295", "RPC-9", "DataTypeValue", canonicalHeader(req("Ping", 4294967295, 2))),
			{424, "DataType missing: 0, as the original's decoder gave it, and therefore bad-header", rules("RPC-7", "RPC-9"), flags("MissingMember", "DataTypeValue"), invalid, `{"Endpoint":"Ping","Accept":2}`, nil, "bad-header"},
			{425, "an empty object: every member 0 or \"\", DataType 0", rules("RPC-7", "RPC-9"), flags("MissingMember", "DataTypeValue"), invalid, `{}`, nil, "bad-header"},
			{426, "Timeout a string: a known member of the wrong type, bad-header even where the extension is not granted", rules("RPC-44", "RPC-45", "RPC-7"), flags("WrongType"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Timeout":"250"}`, nil, "bad-header"},
			{427, "Timeout null", rules("RPC-44", "RPC-7"), flags("WrongType"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Timeout":null}`, nil, "bad-header"},
			{428, "Timeout -1: a sign", rules("RPC-44", "RPC-7"), flags("NumberForm"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Timeout":-1}`, nil, "bad-header"},
			{429, "Timeout 2.5: a fraction", rules("RPC-44", "RPC-7"), flags("NumberForm"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Timeout":2.5}`, nil, "bad-header"},
			{431, "Extensions a string in a request that is not a hello: a known member of the wrong type, bad-header although it would be ignored", rules("RPC-49", "RPC-7"), flags("WrongType"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Extensions":"trailer"}`, nil, "bad-header"},
			{432, "Extensions an array holding a number", rules("RPC-49", "RPC-7"), flags("WrongType"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Extensions":[1]}`, nil, "bad-header"},
			{433, "Extensions null", rules("RPC-49", "RPC-7"), flags("WrongType"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Extensions":null}`, nil, "bad-header"},
			{430, "Timeout given twice", rules("RPC-44", "RPC-5"), flags("WrongType"), invalid, `{"Endpoint":"Ping","DataType":2,"Accept":2,"Timeout":1,"Timeout":1}`, nil, "bad-header"},
		},
	},
	{
		comment: "Strings that are not valid: bad-header [RPC-8]. Go's decoder would replace or accept them; the protocol does not.",
		cases: []hdrCase{
			badHeader(500, "a byte ff in the endpoint", "RPC-8", "InvalidUtf8", `{"Endpoint":"Pi`+"\xff"+`ng","DataType":2,"Accept":2}`),
			badHeader(501, "a byte ff in an unknown member's value", "RPC-8", "InvalidUtf8", withMember("\"X\":\"\xff\"")),
			badHeader(502, "a byte ff in an unknown member's name", "RPC-8", "InvalidUtf8", withMember("\"X\xff\":1")),
			badHeader(503, "an overlong encoding c0 af", "RPC-8", "InvalidUtf8", withMember("\"X\":\"\xc0\xaf\"")),
			badHeader(504, "a UTF-16 surrogate encoded in UTF-8 (ed a0 80)", "RPC-8", "InvalidUtf8", withMember("\"X\":\"\xed\xa0\x80\"")),
			badHeader(505, "a truncated sequence e2 82 before the quote", "RPC-8", "InvalidUtf8", withMember("\"X\":\"\xe2\x82\"")),
			badHeader(506, "a continuation byte 80 alone", "RPC-8", "InvalidUtf8", withMember("\"X\":\"\x80\"")),
			badHeader(507, "a raw 01 byte in the endpoint", "RPC-8", "ControlChar", `{"Endpoint":"Pi`+"\x01"+`ng","DataType":2,"Accept":2}`),
			badHeader(508, "a raw tab in a string", "RPC-8", "ControlChar", withMember("\"X\":\"a\tb\"")),
			badHeader(509, "a raw newline in a string", "RPC-8", "ControlChar", withMember("\"X\":\"a\nb\"")),
			badHeader(510, "the escape \\x41", "RPC-8", "BadEscape", withMember(`"X":"\x41"`)),
			badHeader(511, "the escape \\' ", "RPC-8", "BadEscape", withMember(`"X":"\'"`)),
			badHeader(512, "\\u with three hex digits", "RPC-8", "BadEscape", withMember(`"X":"\u004"`)),
			badHeader(513, "\\U0041: upper-case U", "RPC-8", "BadEscape", withMember(`"X":"\U0041"`)),
			badHeader(514, "a lone high surrogate \\ud800", "RPC-8", "Surrogate", withMember(`"X":"\ud800"`)),
			badHeader(515, "a lone low surrogate \\udc00", "RPC-8", "Surrogate", withMember(`"X":"\udc00"`)),
			badHeader(516, "a high surrogate followed by \\u0041", "RPC-8", "Surrogate", withMember(`"X":"\ud800\u0041"`)),
			badHeader(517, "two high surrogates", "RPC-8", "Surrogate", withMember(`"X":"\ud800\ud800"`)),
			badHeader(518, "a lone surrogate in the endpoint", "RPC-8", "Surrogate", `{"Endpoint":"\udfff","DataType":2,"Accept":2}`),
			badHeader(519, "a lone surrogate in a member name", "RPC-8", "Surrogate", withMember(`"\ud800":1`)),
		},
	},
	{
		comment: "Length and depth limits.",
		cases: []hdrCase{
			{600, "a Ping header of 4097 bytes: the Header message is over MAX_CONTROL, message-too-large at the length field of its frame", rules("RPC-11", "MSG-7"), flags("Length"), invalid, padded(maxControl + 1), nil, "message-too-large"},
			badHeader(601, "an unknown member holding arrays nested 65 levels deep", "RPC-6", "Depth", withMember(`"X":`+nested(65))),
			badHeader(602, "an unknown member holding objects nested 65 levels deep", "RPC-6", "Depth", withMember(`"X":`+strings.Repeat(`{"a":`, 64)+"{}"+strings.Repeat("}", 64))),
			badHeader(603, "an unknown member holding invalid JSON (a bare word)", "RPC-6", "Syntax", withMember(`"X":nope`)),
			badHeader(604, "an unknown member holding a number inside 65 nested arrays: 65 levels", "RPC-6", "Depth", withMember(`"X":`+strings.Repeat("[", 65)+"0"+strings.Repeat("]", 65))),
		},
	},
}

var hdrNotes = map[string]note{
	"OriginalBytes":   {"LEGACY", "Bytes exactly as the original zrepl client wrote them."},
	"WrongBodyKind":   {"BASIC", "A DataType or Accept the fixture's endpoint does not have: RequestError, the body consumed first [RPC-13] [RPC-15]."},
	"UnknownEndpoint": {"BASIC", "An endpoint the fixture does not have: RequestError [RPC-13]."},
	"CaseVariant":     {"EDGE_CASE", "A name that differs from a known one only in letter case: compared byte for byte, it is another name [RPC-4] [RPC-12]."},
	"Escapes":         {"EDGE_CASE", "A string written with escapes; it is compared after unescaping [RPC-4]."},
	"Utf8":            {"EDGE_CASE", "Non-ASCII UTF-8 in a string."},
	"Whitespace":      {"EDGE_CASE", "Whitespace around or inside the object: only 20 09 0a 0d are JSON whitespace [RPC-3]."},
	"Reordered":       {"EDGE_CASE", "Members in another order than [RPC-1] writes them; order is free [RPC-6]."},
	"MissingMember":   {"EDGE_CASE", "A known member is missing and takes its zero value [RPC-7]."},
	"UnknownMember":   {"EDGE_CASE", "A member with an unknown name: ignored after its value is checked [RPC-6]."},
	"Depth":           {"EDGE_CASE", "A value nested at or past the 64-level limit on unknown members [RPC-6]. A scalar is at depth 0; each array or object around it adds one level."},
	"IgnoredMember":   {"LENIENCY", "Error or ErrorMessage set in a request, which a client must not do; the server ignores them [RPC-2]."},
	"NumberRange":     {"EDGE_CASE", "An integer at or past the limits 0 and 4294967295 [RPC-7]."},
	"Length":          {"EDGE_CASE", "A header at or past MAX_CONTROL, 4096 bytes [RPC-11] [MSG-7]."},
	"NotAnObject":     {"MALFORMED", "A body that is not a JSON object [RPC-3]."},
	"TrailingData":    {"MALFORMED", "Something other than whitespace after the object [RPC-3]."},
	"Syntax":          {"MALFORMED", "Not valid JSON [RPC-3]."},
	"Duplicate":       {"MALFORMED", "A member name that appears twice [RPC-5]."},
	"WrongType":       {"MALFORMED", "A known member of another JSON type than section 6 gives [RPC-7]."},
	"NumberForm":      {"MALFORMED", "A number with a sign, fraction, exponent or leading zero where an integer literal is required [RPC-7]."},
	"DataTypeValue":   {"MALFORMED", "A DataType that is no body kind on this connection: the server cannot know what follows [RPC-9]."},
	"InvalidUtf8":     {"MALFORMED", "Bytes that are not valid UTF-8 inside a string [RPC-8]."},
	"ControlChar":     {"MALFORMED", "An unescaped byte below 20 inside a string [RPC-8]."},
	"BadEscape":       {"MALFORMED", "An escape RFC 8259 does not define [RPC-8]."},
	"Surrogate":       {"MALFORMED", "A \\u escape of a UTF-16 surrogate that is not part of a high-low pair [RPC-8]."},
}

// HeaderFile builds header_decode.json.
func HeaderFile() *format.File[format.HeaderTest] {
	const name = "header_decode.json"
	k := newChecker(name, hdrNotes)
	f := &format.File[format.HeaderTest]{
		Algorithm: "framerpc-header-decode",
		Schema:    "header_decode.schema.json",
		Version:   Version,
		Header: []string{
			"RPC request headers of spec/PROTOCOL.md section 6: each input is the body of one Header message that a server reads where it expects a request header, on a connection without extensions.",
			"status is what the fixture server of testvectors/README.md answers; invalid headers make the server reset the connection [RPC-41].",
			"See testvectors/README.md for the meaning of every field.",
		},
	}
	for _, g := range hdrGroups {
		grp := format.Group[format.HeaderTest]{Type: "HeaderDecode", Comment: g.comment}
		for _, c := range g.cases {
			t := format.HeaderTest{
				Common: k.common(c.id, c.comment, c.rules, c.flags, c.result),
			}
			t.Input.AppendLit([]byte(c.input))
			switch c.result {
			case valid, acceptable:
				if c.h == nil || c.class != "" {
					panic(fmt.Sprintf("%s: tcId %d: a decodable header needs h and no class", name, c.id))
				}
				if canon := canonicalHeader(c.h) == c.input; canon != (c.result == valid) {
					panic(fmt.Sprintf("%s: tcId %d: result %s, but the input is canonical: %v", name, c.id, c.result, canon))
				}
				if c.h.DataType < 1 || c.h.DataType > 3 {
					panic(fmt.Sprintf("%s: tcId %d: DataType %d is bad-header here [RPC-9]", name, c.id, c.h.DataType))
				}
				t.Header = c.h
				t.Status = ptr(fixtureStatus(c.h))
			case invalid:
				if c.h != nil || c.class == "" {
					panic(fmt.Sprintf("%s: tcId %d: an invalid header needs a class and no h", name, c.id))
				}
				t.ErrorClass = c.class
				if c.class == "message-too-large" {
					// One Header frame: its length field is at offset 2.
					t.ErrorOffset = ptr(int64(2))
				} else if c.class != "bad-header" {
					panic(fmt.Sprintf("%s: tcId %d: class %s", name, c.id, c.class))
				}
			default:
				panic(fmt.Sprintf("%s: tcId %d: result %q", name, c.id, c.result))
			}
			grp.Tests = append(grp.Tests, t)
		}
		f.TestGroups = append(f.TestGroups, grp)
		f.NumberOfTests += len(grp.Tests)
	}
	f.Notes = k.notesOut()
	return f
}
