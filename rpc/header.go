package rpc

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/framerpc/framerpc/internal/fastjson"
)

// header is the JSON object of a Header message (section 6) and, with only
// Error and ErrorMessage used, of a Trailer message.
type header struct {
	Endpoint     string
	DataType     DataType
	Accept       DataType
	Error        Status
	ErrorMessage string
	// Extensions is sent only in a hello request and its reply [RPC-25].
	Extensions []string
	hasExt     bool
}

// appendHeader encodes h exactly as the original's json.Encoder did: the
// five fields in this order, then "\n" [RPC-1]. Extensions, when present,
// goes last.
func appendHeader(b []byte, h *header) []byte {
	b = append(b, `{"Endpoint":`...)
	b = fastjson.AppendString(b, h.Endpoint)
	b = append(b, `,"DataType":`...)
	b = strconv.AppendUint(b, uint64(h.DataType), 10)
	b = append(b, `,"Accept":`...)
	b = strconv.AppendUint(b, uint64(h.Accept), 10)
	b = append(b, `,"Error":`...)
	b = strconv.AppendUint(b, uint64(h.Error), 10)
	b = append(b, `,"ErrorMessage":`...)
	b = fastjson.AppendString(b, h.ErrorMessage)
	if h.hasExt {
		b = append(b, `,"Extensions":[`...)
		for i, e := range h.Extensions {
			if i > 0 {
				b = append(b, ',')
			}
			b = fastjson.AppendString(b, e)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendTrailer encodes the JSON object of a Trailer message [RPC-22].
func appendTrailer(b []byte, s Status, msg string) []byte {
	b = append(b, `{"Error":`...)
	b = strconv.AppendUint(b, uint64(s), 10)
	b = append(b, `,"ErrorMessage":`...)
	b = fastjson.AppendString(b, msg)
	return append(b, "}\n"...)
}

// headerError is a header or trailer the strict decoder refuses.
func headerError(class, rule, format string, args ...any) error {
	return &ProtocolError{Class: class, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// maxDepth bounds the nesting of values in unknown fields, so a hostile
// header cannot exhaust the stack.
const maxDepth = 64

// parser is the strict decoder of section 6 [RPC-3]..[RPC-8]: one JSON
// object, surrounded only by JSON whitespace; member names compared
// byte-exactly after unescaping; no name twice; unknown members skipped but
// validated; known members of their exact JSON type; numbers integer
// literals in [0, 4294967295]; strings valid UTF-8 without lone surrogates.
type parser struct {
	b     []byte
	i     int
	class string
	// prevEndpoint is reused for an equal Endpoint, sparing an allocation
	// per request on a connection that calls one endpoint repeatedly.
	prevEndpoint string
}

func (p *parser) fail(format string, args ...any) error {
	return headerError(p.class, "RPC-3", "at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) expect(c byte) error {
	p.ws()
	if p.i >= len(p.b) {
		return p.fail("expected %q, found the end", c)
	}
	if p.b[p.i] != c {
		return p.fail("expected %q, found %q", c, p.b[p.i])
	}
	p.i++
	return nil
}

// field bits for duplicate detection of the known names.
const (
	fEndpoint = 1 << iota
	fDataType
	fAccept
	fError
	fErrorMessage
	fExtensions
)

var knownFields = [...]string{"Endpoint", "DataType", "Accept", "Error", "ErrorMessage", "Extensions"}

// parseHeader decodes a Header (class bad-header) or Trailer (class
// bad-trailer) body into h.
func parseHeader(b []byte, h *header, class string) error {
	return parseHeaderPrev(b, h, class, "")
}

// parseHeaderPrev is parseHeader reusing prev for an equal Endpoint.
func parseHeaderPrev(b []byte, h *header, class, prev string) error {
	if fastHeader(b, h, prev) {
		return nil
	}
	return parseStrict(b, h, class, prev)
}

// parseStrict is the strict parser of section 6, without the fast path.
func parseStrict(b []byte, h *header, class, prev string) error {
	*h = header{}
	p := parser{b: b, class: class, prevEndpoint: prev}
	if err := p.expect('{'); err != nil {
		return err
	}
	var seen int
	var unknown []string
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
	} else {
		for {
			p.ws()
			name, err := p.strBytes()
			if err != nil {
				return err
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			p.ws()
			bit := 0
			for k, f := range knownFields {
				if string(name) == f {
					bit = 1 << k
				}
			}
			if bit == 0 {
				for _, u := range unknown {
					if u == string(name) {
						return p.fail("member %q appears twice", name)
					}
				}
				unknown = append(unknown, string(name))
				if err := p.skip(0); err != nil {
					return err
				}
			} else {
				if seen&bit != 0 {
					return p.fail("member %q appears twice", name)
				}
				seen |= bit
				if err := p.known(bit, h); err != nil {
					return err
				}
			}
			p.ws()
			if p.i >= len(p.b) {
				return p.fail("object not closed")
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == '}' {
				p.i++
				break
			}
			return p.fail("expected ',' or '}', found %q", p.b[p.i])
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return p.fail("data after the object")
	}
	return nil
}

func (p *parser) known(bit int, h *header) error {
	var err error
	switch bit {
	case fEndpoint:
		var b []byte
		b, err = p.strBytes()
		if string(b) == p.prevEndpoint {
			// The same endpoint as last time: no new string.
			h.Endpoint = p.prevEndpoint
		} else {
			h.Endpoint = string(b)
		}
	case fErrorMessage:
		h.ErrorMessage, err = p.str()
	case fDataType:
		var n uint32
		n, err = p.num()
		h.DataType = DataType(n)
	case fAccept:
		var n uint32
		n, err = p.num()
		h.Accept = DataType(n)
	case fError:
		var n uint32
		n, err = p.num()
		h.Error = Status(n)
	case fExtensions:
		h.hasExt = true
		h.Extensions, err = p.strArray()
	}
	return err
}

func (p *parser) num() (uint32, error) {
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		return 0, p.fail("negative number")
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	digits := p.b[start:p.i]
	if len(digits) == 0 {
		return 0, p.fail("expected an integer")
	}
	if len(digits) > 1 && digits[0] == '0' {
		return 0, p.fail("number with a leading zero")
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, p.fail("number is not an integer literal")
	}
	n, err := strconv.ParseUint(string(digits), 10, 32)
	if err != nil {
		return 0, p.fail("number %s out of range", digits)
	}
	return uint32(n), nil
}

func (p *parser) strArray() ([]string, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	out := []string{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		p.ws()
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// str reads a JSON string. The common case, no escapes, costs one
// allocation for the result (none for "").
func (p *parser) str() (string, error) {
	b, err := p.strBytes()
	return string(b), err
}

// strBytes reads a JSON string and returns its value, aliasing the input
// when it has no escapes.
func (p *parser) strBytes() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, p.fail("expected a string")
	}
	p.i++
	start := p.i
	var buf []byte
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			var v []byte
			if buf == nil {
				v = p.b[start:p.i]
			} else {
				v = append(buf, p.b[start:p.i]...)
			}
			p.i++
			return v, nil
		case c < 0x20:
			return nil, p.fail("control character 0x%02x in a string", c)
		case c == '\\':
			buf = append(buf, p.b[start:p.i]...)
			p.i++
			if p.i >= len(p.b) {
				return nil, p.fail("string not closed")
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xdc00 || p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
						return nil, p.fail("lone UTF-16 surrogate")
					}
					p.i += 2
					r2, err := p.hex4()
					if err != nil {
						return nil, err
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return nil, p.fail("invalid UTF-16 surrogate pair")
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return nil, p.fail("invalid escape \\%c", e)
			}
			start = p.i
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, p.fail("invalid UTF-8")
			}
			p.i += size
		}
	}
	return nil, p.fail("string not closed")
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.fail("short \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.fail("invalid \\u escape")
		}
	}
	p.i += 4
	return r, nil
}

// skip validates and steps over one JSON value of an unknown member.
// depth is the number of arrays and objects around the value [RPC-6].
func (p *parser) skip(depth int) error {
	p.ws()
	if p.i >= len(p.b) {
		return p.fail("expected a value, found the end")
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.str()
		return err
	case c == '{' || c == '[':
		if depth+1 > maxDepth {
			return p.fail("values nested deeper than %d", maxDepth)
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == closer {
			p.i++
			return nil
		}
		for {
			p.ws()
			if c == '{' {
				if _, err := p.str(); err != nil {
					return err
				}
				if err := p.expect(':'); err != nil {
					return err
				}
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			return p.expect(closer)
		}
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.anyNumber()
	}
	return p.fail("unexpected %q", p.b[p.i])
}

func (p *parser) lit(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return p.fail("invalid literal")
	}
	p.i += len(s)
	return nil
}

// anyNumber steps over an RFC 8259 number (in an unknown member any number
// is fine).
func (p *parser) anyNumber() error {
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	start := p.i
	n := digits()
	if n == 0 || (n > 1 && p.b[start] == '0') {
		return p.fail("invalid number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.fail("invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.fail("invalid number")
		}
	}
	return nil
}
