package dump

import "fmt"

// The events a decode produces, in stream order. Their JSON encodings are
// framedump's NDJSON output, one object per event; the field names are
// stable and described by cmd/framedump/framedump.schema.json.

// Event is one of *Frame, *Message, *Exchange, *Fault, *End.
type Event interface{ kind() string }

// Frame is one frame header and, with -x, the start of its payload.
type Frame struct {
	Kind string `json:"kind"` // "frame"
	// Stream is "client" or "server" in the conversation view, absent in
	// the one-direction view.
	Stream string `json:"stream,omitempty"`
	Offset int64  `json:"offset"`
	Type   string `json:"type"` // Header, Data, Trailer, RST
	Final  bool   `json:"final"`
	Length uint32 `json:"length"`
	// Canonical is false for an RST other than ff 01 00 00 00 00 [FRAME-8].
	Canonical bool `json:"canonical"`
	// Hex is the payload's hex dump, 16 bytes a line, with -x; HexOmitted
	// counts the payload bytes beyond the cap.
	Hex        []string `json:"hex,omitempty"`
	HexOmitted int64    `json:"hexOmitted,omitempty"`
}

// Header is a decoded Header or Trailer object, every member shown
// (section 6); Unknown lists members the protocol does not define, which
// receivers ignore [RPC-6].
type Header struct {
	Endpoint      string   `json:"Endpoint"`
	DataType      uint32   `json:"DataType"`
	Accept        uint32   `json:"Accept"`
	Error         uint32   `json:"Error"`
	ErrorMessage  string   `json:"ErrorMessage"`
	Extensions    []string `json:"Extensions,omitempty"`
	HasExtensions bool     `json:"hasExtensions"`
	// Timeout is the deadline extension's member, when present [RPC-44].
	Timeout *uint32  `json:"Timeout,omitempty"`
	Unknown []Member `json:"unknown,omitempty"`
}

// Member is an unknown header member: its name and its JSON value as sent.
type Member struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Message is one complete message.
type Message struct {
	Kind   string `json:"kind"` // "message"
	Stream string `json:"stream,omitempty"`
	// Exchange numbers the exchange the message belongs to, from 1; 0 in
	// the frame and message layer views.
	Exchange int    `json:"exchange,omitempty"`
	Offset   int64  `json:"offset"`
	Type     string `json:"type"`
	Length   int64  `json:"length"`
	Frames   int64  `json:"frames"`
	// Role is what the message is at this point of the exchange:
	// request-header, reply-header, request-json, request-octets,
	// reply-json, reply-octets, request-trailer, reply-trailer; "header"
	// for a first header of unknown side that does not decode; "message" in
	// the message layer view.
	Role   string  `json:"role"`
	Header *Header `json:"header,omitempty"`
	// JSON is a JSON body with the whitespace between tokens removed, cut
	// after Width bytes (JSONCut then says so).
	JSON    *string `json:"json,omitempty"`
	JSONCut bool    `json:"jsonCut,omitempty"`
	// SHA256 of an octets body, with -sum.
	SHA256 string `json:"sha256,omitempty"`
}

// Exchange is the outcome of one call in the conversation view.
type Exchange struct {
	Kind     string `json:"kind"` // "exchange"
	Index    int    `json:"index"`
	Endpoint string `json:"endpoint"`
	// Hello: the negotiation exchange; Asked and Granted its extensions.
	Hello   bool     `json:"hello"`
	Asked   []string `json:"asked,omitempty"`
	Granted []string `json:"granted,omitempty"`
	// RequestType and Accept are the request header's body kinds; absent
	// when no request header was read.
	RequestType string `json:"requestType,omitempty"`
	Accept      string `json:"accept,omitempty"`
	// RequestJSON and RequestOctets are body sizes in bytes (-1: none).
	RequestJSON    int64 `json:"requestJSON"`
	RequestOctets  int64 `json:"requestOctets"`
	RequestTrailer *Tail `json:"requestTrailer,omitempty"`
	// Status of the reply header; absent when no reply header was read.
	Status       string `json:"status,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	ReplyType    string `json:"replyType,omitempty"`
	ReplyJSON    int64  `json:"replyJSON"`
	ReplyOctets  int64  `json:"replyOctets"`
	ReplyTrailer *Tail  `json:"replyTrailer,omitempty"`
	// Complete: both sides reached the end of the exchange in step.
	Complete bool `json:"complete"`
	// OutOfStep says where and why the two sides fell out of step or the
	// conversation stopped in this exchange.
	OutOfStep string `json:"outOfStep,omitempty"`
}

// Tail is a trailer's status [RPC-22].
type Tail struct {
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
}

// Fault is the line printed where decoding stopped: a protocol violation,
// a truncation, or a read error of the source.
type Fault struct {
	Kind   string `json:"kind"` // "error"
	Stream string `json:"stream,omitempty"`
	Offset int64  `json:"offset"`
	// Class is an error class of spec sections 5 or 10, or "read-error"
	// when the source itself failed.
	Class  string `json:"class"`
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail"`
	// Missing is, for a capture that stops inside a frame, how many bytes
	// of that frame are missing (of its header alone when the header is
	// incomplete).
	Missing int64 `json:"missing,omitempty"`
	// Exchange is the exchange in progress, if any.
	Exchange int `json:"exchange,omitempty"`
}

// End closes a stream that did not fail: a clean end at a message
// boundary, or an RST, with what it means there.
type End struct {
	Kind   string `json:"kind"` // "end"
	Stream string `json:"stream,omitempty"`
	Offset int64  `json:"offset"`
	// How is "eof" or "reset".
	How string `json:"how"`
	// Class and Rule, for a reset: what the library's receiver reports.
	Class   string `json:"class,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Meaning string `json:"meaning"`
	// Side is the side the stream was decoded as: client, server, or
	// unknown (one-direction view only).
	Side string `json:"side,omitempty"`
}

func (*Frame) kind() string    { return "frame" }
func (*Message) kind() string  { return "message" }
func (*Exchange) kind() string { return "exchange" }
func (*Fault) kind() string    { return "error" }
func (*End) kind() string      { return "end" }

// Error makes a Fault usable as the error that stopped a decode.
func (f *Fault) Error() string {
	return fmt.Sprintf("error at offset %d (0x%x): %s [%s]: %s", f.Offset, f.Offset, f.Class, f.Rule, f.Detail)
}
