// Package format defines the JSON layout of the framerpc test vector files
// (testvectors/*.json) and the byte-string encoding they share: the Go view
// of testvectors/schema/*.schema.json, described for humans in
// testvectors/README.md.
//
// Contract. Every byte string in a vector file is a Bytes value: either a
// lowercase hex string, or an array whose items are lowercase hex strings and
// pattern objects, concatenated in order. A pattern object stands for bytes
// too many to spell out; its bytes are fully defined by (pattern, start,
// length) and checked by its SHA-256, so any language can regenerate them.
// Bytes.Expand returns the bytes and fails if a pattern's digest does not
// match, so a corrupted or hand-edited file is never silently accepted.
package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Mod251 is the only pattern defined so far: byte i (0-based, within the
// part) is (start + i) mod 251. The modulus is prime so that the sequence
// does not repeat at any power-of-two period: a decoder that drops,
// duplicates or reorders a buffer-sized chunk produces different bytes.
const Mod251 = "mod251"

// Pattern describes length bytes of a named pattern.
type Pattern struct {
	Pattern string `json:"pattern"`
	Start   int    `json:"start"`
	Length  int64  `json:"length"`
	SHA256  string `json:"sha256"`
}

// Generate returns the pattern's bytes without checking the digest.
func (p Pattern) Generate() ([]byte, error) {
	if p.Pattern != Mod251 {
		return nil, fmt.Errorf("format: unknown pattern %q", p.Pattern)
	}
	if p.Start < 0 || p.Start > 250 || p.Length < 0 || p.Length > MaxExpand {
		return nil, fmt.Errorf("format: pattern %s start %d length %d out of range", p.Pattern, p.Start, p.Length)
	}
	b := make([]byte, p.Length)
	v := p.Start
	for i := range b {
		b[i] = byte(v)
		if v++; v == 251 {
			v = 0
		}
	}
	return b, nil
}

// NewPattern returns a Mod251 pattern part with its digest filled in.
func NewPattern(start int, length int64) Pattern {
	p := Pattern{Pattern: Mod251, Start: start % 251, Length: length}
	b, err := p.Generate()
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	p.SHA256 = hex.EncodeToString(sum[:])
	return p
}

// Part is one item of a Bytes value: literal bytes or a pattern.
type Part struct {
	Lit []byte
	Pat *Pattern
}

// Bytes is a byte string as the vector files write it.
type Bytes struct {
	Parts []Part
}

// Hex returns literal bytes decoded from hex; it panics on bad input, as it
// is meant for the readable Go sources of the vectors.
func Hex(s string) Bytes {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(fmt.Sprintf("format.Hex(%q): %v", s, err))
	}
	var v Bytes
	v.AppendLit(b)
	return v
}

// AppendLit appends literal bytes, merging with a literal tail.
func (v *Bytes) AppendLit(b []byte) {
	if len(b) == 0 {
		return
	}
	if n := len(v.Parts); n > 0 && v.Parts[n-1].Pat == nil {
		v.Parts[n-1].Lit = append(v.Parts[n-1].Lit, b...)
		return
	}
	v.Parts = append(v.Parts, Part{Lit: append([]byte(nil), b...)})
}

// AppendPattern appends a pattern part; an empty pattern adds nothing. A
// pattern that continues the pattern before it is merged into it, so that a
// body spread over frames reads as one pattern.
func (v *Bytes) AppendPattern(p Pattern) {
	if p.Length == 0 {
		return
	}
	if n := len(v.Parts); n > 0 && v.Parts[n-1].Pat != nil {
		last := v.Parts[n-1].Pat
		if last.Pattern == p.Pattern && int((int64(last.Start)+last.Length)%251) == p.Start {
			merged := NewPattern(last.Start, last.Length+p.Length)
			v.Parts[n-1].Pat = &merged
			return
		}
	}
	v.Parts = append(v.Parts, Part{Pat: &p})
}

// Append appends every part of o.
func (v *Bytes) Append(o Bytes) {
	for _, p := range o.Parts {
		if p.Pat != nil {
			v.AppendPattern(*p.Pat)
		} else {
			v.AppendLit(p.Lit)
		}
	}
}

// Len is the number of bytes v stands for.
func (v Bytes) Len() int64 {
	var n int64
	for _, p := range v.Parts {
		if p.Pat != nil {
			n += p.Pat.Length
		} else {
			n += int64(len(p.Lit))
		}
	}
	return n
}

// Expand returns the bytes, checking every pattern's length and digest.
func (v Bytes) Expand() ([]byte, error) {
	n, err := v.checkedLen()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, n)
	for _, p := range v.Parts {
		if p.Pat == nil {
			out = append(out, p.Lit...)
			continue
		}
		b, err := p.Pat.Generate()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != p.Pat.SHA256 {
			return nil, fmt.Errorf("format: %s pattern start %d length %d: sha256 %s, file says %s",
				p.Pat.Pattern, p.Pat.Start, p.Pat.Length, got, p.Pat.SHA256)
		}
		out = append(out, b...)
	}
	return out, nil
}

// MustExpand is Expand for the generator, whose own patterns cannot fail.
func (v Bytes) MustExpand() []byte {
	b, err := v.Expand()
	if err != nil {
		panic(err)
	}
	return b
}

// MarshalJSON writes a single literal (or nothing) as a hex string and
// anything with a pattern as an array.
func (v Bytes) MarshalJSON() ([]byte, error) {
	if len(v.Parts) == 0 {
		return []byte(`""`), nil
	}
	if len(v.Parts) == 1 && v.Parts[0].Pat == nil {
		return json.Marshal(hex.EncodeToString(v.Parts[0].Lit))
	}
	items := make([]any, len(v.Parts))
	for i, p := range v.Parts {
		if p.Pat != nil {
			items[i] = p.Pat
		} else {
			items[i] = hex.EncodeToString(p.Lit)
		}
	}
	return json.Marshal(items)
}

// UnmarshalJSON accepts exactly the two forms the schema allows and only
// lowercase hex.
func (v *Bytes) UnmarshalJSON(data []byte) error {
	*v = Bytes{}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		b, err := decodeHex(s)
		if err != nil {
			return err
		}
		v.AppendLit(b)
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("format: a byte string is a hex string or an array: %w", err)
	}
	for _, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '"' {
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return err
			}
			b, err := decodeHex(s)
			if err != nil {
				return err
			}
			// Keep parts as written rather than merging, so that a
			// re-encoded file is byte-identical.
			v.Parts = append(v.Parts, Part{Lit: b})
			continue
		}
		var p Pattern
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return fmt.Errorf("format: pattern object: %w", err)
		}
		v.Parts = append(v.Parts, Part{Pat: &p})
	}
	return nil
}

func decodeHex(s string) ([]byte, error) {
	if s != strings.ToLower(s) {
		return nil, errors.New("format: hex must be lowercase")
	}
	return hex.DecodeString(s)
}

// Note explains one flag of a file.
type Note struct {
	BugType     string `json:"bugType"`
	Description string `json:"description"`
}

// Results.
const (
	Valid      = "valid"
	Invalid    = "invalid"
	Acceptable = "acceptable"
)

// File is one vector file; T is the test type of its kind.
type File[T any] struct {
	Algorithm     string          `json:"algorithm"`
	Schema        string          `json:"schema"`
	Version       string          `json:"version"`
	NumberOfTests int             `json:"numberOfTests"`
	Header        []string        `json:"header"`
	Notes         map[string]Note `json:"notes"`
	TestGroups    []Group[T]      `json:"testGroups"`
}

// Group is a set of tests sharing a type and a comment.
type Group[T any] struct {
	Type    string `json:"type"`
	Comment string `json:"comment"`
	Tests   []T    `json:"tests"`
}

// Common holds the fields every test has.
type Common struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Rules   []string `json:"rules"`
	Flags   []string `json:"flags"`
	Result  string   `json:"result"`
}

// Outcome is how a decoder's run over the input ends. ErrorClass is empty
// when the stream ends cleanly; otherwise it is a class of spec section 5
// ("reset" included: a hang-up is a legitimate end) and ErrorOffset the
// offset the spec defines for it. EmittedBytes is then the number of
// payload (frame group) or body (message group) bytes that precede
// ErrorOffset: a streaming decoder may have delivered up to that many, never
// more, and none of them as a complete frame payload or body.
type Outcome struct {
	ErrorClass   string `json:"errorClass,omitempty"`
	ErrorOffset  *int64 `json:"errorOffset,omitempty"`
	EmittedBytes *int64 `json:"emittedBytes,omitempty"`
}

// Frame is a decoded frame. Type is one lowercase hex byte ("01").
type Frame struct {
	Type    string `json:"type"`
	Final   bool   `json:"final"`
	Length  int64  `json:"length"`
	Payload Bytes  `json:"payload"`
}

// FrameTest is a test of the frame decode group (frame_decode.json).
type FrameTest struct {
	Common
	Input Bytes `json:"input"`
	// Frames are the complete frames decoded, in order, before the end.
	Frames []Frame `json:"frames"`
	Outcome
	// Encoded (valid and acceptable tests) is what the reference writer
	// produces for Frames, followed by a canonical RST if the outcome is a
	// reset.
	Encoded *Bytes `json:"encoded,omitempty"`
}

// Message is a decoded message. Type is one lowercase hex byte.
type Message struct {
	Type   string `json:"type"`
	Length int64  `json:"length"`
	Body   Bytes  `json:"body"`
}

// MessageTest is a test of the message decode group (message_decode.json).
type MessageTest struct {
	Common
	// Expect is the message type the layer above expects at each
	// successive message boundary.
	Expect   []string  `json:"expect"`
	Input    Bytes     `json:"input"`
	Messages []Message `json:"messages"`
	Outcome
	// EmittedFrames (with an error) is the number of complete frames of
	// the unfinished message that precede the error.
	EmittedFrames *int64 `json:"emittedFrames,omitempty"`
	// Encoded (valid and acceptable tests): each message of Messages split
	// canonically [MSG-3], then a canonical RST if the outcome is a reset.
	Encoded *Bytes `json:"encoded,omitempty"`
}

// Load reads a vector file strictly: unknown fields are errors.
func Load[T any](path string) (*File[T], error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode[T](data, path)
}

// Marshal encodes a file the way the generator writes it: two-space
// indentation, no HTML escaping, a final newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RPCHeader is a decoded request header (spec section 6). A member missing
// from the input has its zero value [RPC-7].
type RPCHeader struct {
	Endpoint     string `json:"Endpoint"`
	DataType     uint32 `json:"DataType"`
	Accept       uint32 `json:"Accept"`
	Error        uint32 `json:"Error"`
	ErrorMessage string `json:"ErrorMessage"`
}

// HeaderTest is a test of the header decode group (header_decode.json):
// Input is the body of one Header message a server receives where it
// expects a request header, on a connection without extensions.
type HeaderTest struct {
	Common
	Input Bytes `json:"input"`
	// Header is the decoded header (valid and acceptable tests).
	Header *RPCHeader `json:"header,omitempty"`
	// Status is what the fixture server of README.md answers: 1 OK or 2
	// RequestError (valid and acceptable tests).
	Status *uint32 `json:"status,omitempty"`
	// ErrorClass (invalid tests): "bad-header", or a class of spec section
	// 5 for a message the frame layer rejects; ErrorOffset is given for
	// the latter only, counted in the framed stream.
	ErrorClass  string `json:"errorClass,omitempty"`
	ErrorOffset *int64 `json:"errorOffset,omitempty"`
}

// ConvMessage is one item a side sends in a conversation: a message (type
// 01, 02 or 03 with its body, framed with the canonical split [MSG-3]) or an
// RST (type ff, no body).
type ConvMessage struct {
	Type string `json:"type"`
	Body *Bytes `json:"body,omitempty"`
	// Text repeats a JSON body as text, for people reading the file;
	// Body is what counts.
	Text string `json:"text,omitempty"`
	// AnyErrorMessage marks a reply header whose ErrorMessage the spec
	// leaves to the implementation: a server under test may put any text
	// there, written as [RPC-1] says; the rest of the header is as given.
	AnyErrorMessage bool `json:"anyErrorMessage,omitempty"`
}

// CallBody is the request of a call: kind "json" (JSON text), "octets"
// (Body) or "multipart" (both).
type CallBody struct {
	Kind string `json:"kind"`
	JSON string `json:"json,omitempty"`
	Body *Bytes `json:"body,omitempty"`
	// FailAfterBody: the stream's source yields Body, then fails with
	// the error text "source failed" [RPC-23].
	FailAfterBody bool `json:"failAfterBody,omitempty"`
}

// CallResult is what the client's caller gets.
type CallResult struct {
	// Status of the reply header, when one arrived and was accepted.
	Status uint32 `json:"status,omitempty"`
	// ErrorMessage of a non-OK reply; absent when the text is the
	// implementation's choice.
	ErrorMessage *string `json:"errorMessage,omitempty"`
	// JSON is the JSON reply (json and multipart), as sent.
	JSON string `json:"json,omitempty"`
	// Body is the octets reply read before the stream ended.
	Body *Bytes `json:"body,omitempty"`
	// StreamStatus and StreamMessage: the failure a Trailer reported at
	// the end of the octets reply [RPC-22].
	StreamStatus  uint32 `json:"streamStatus,omitempty"`
	StreamMessage string `json:"streamMessage,omitempty"`
	// ErrorClass: the call (or the reading of its stream) failed with this
	// class of spec section 5 or 10 and the connection is over.
	ErrorClass string `json:"errorClass,omitempty"`
	// SourceError: the call fails with the failure of its own request
	// stream's source (after reading the reply, if one came) [RPC-23].
	SourceError bool `json:"sourceError,omitempty"`
}

// Call is one call the client makes.
type Call struct {
	Endpoint string   `json:"endpoint"`
	Request  CallBody `json:"request"`
	Accept   string   `json:"accept"`
	// Abandon: the caller closes the reply stream without reading it.
	Abandon bool       `json:"abandon,omitempty"`
	Result  CallResult `json:"result"`
}

// ConversationTest is a test of the conversation group
// (conversations.json): one connection from start to end.
type ConversationTest struct {
	Common
	// ClientExtensions: what the client asks for in its hello (none: it
	// never sends one). ServerExtensions: what the fixture server grants.
	ClientExtensions []string `json:"clientExtensions"`
	ServerExtensions []string `json:"serverExtensions"`
	// Replay: "both", or "server" / "client" when only one side can be
	// checked (the other side's bytes are not what a conforming peer of
	// that kind writes).
	Replay      string        `json:"replay"`
	Calls       []Call        `json:"calls"`
	Client      []ConvMessage `json:"client"`
	Server      []ConvMessage `json:"server"`
	ClientBytes Bytes         `json:"clientBytes"`
	ServerBytes Bytes         `json:"serverBytes"`
}
