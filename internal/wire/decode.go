package wire

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseError is a header or trailer object the strict decoder refuses. Its
// error class (bad-header or bad-trailer) depends on the message it came in,
// which the caller knows.
type ParseError struct {
	// Rule is the spec rule the object breaks, e.g. "RPC-5".
	Rule string
	// Offset is the byte of the object at which the decoder gave up.
	Offset int
	Detail string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("[%s] at byte %d: %s", e.Rule, e.Offset, e.Detail)
}

// MaxDepth bounds the nesting of arrays and objects in an unknown member's
// value [RPC-6], so a hostile header cannot exhaust the stack.
const MaxDepth = 64

// ParseHeader decodes a Header or Trailer object into h, strictly as
// [RPC-3] to [RPC-8] say; on error h holds no useful value and the error is
// a *ParseError. prevEndpoint, when equal to the received Endpoint, is
// reused for it: a connection that calls one endpoint repeatedly then
// decodes its headers without allocating.
func ParseHeader(b []byte, h *Header, prevEndpoint string) error {
	if parseCanonical(b, h, prevEndpoint) {
		return nil
	}
	return parseStrict(b, h, prevEndpoint)
}

// parser is the strict decoder of section 6: one JSON object, surrounded
// only by JSON whitespace; member names compared byte-exactly after
// unescaping; no name twice; unknown members validated and kept; known
// members of their exact JSON type; numbers integer literals in
// [0, 4294967295]; strings valid UTF-8 without lone surrogates.
type parser struct {
	b            []byte
	i            int
	prevEndpoint string
}

func (p *parser) fail(rule, format string, args ...any) error {
	return &ParseError{Rule: rule, Offset: p.i, Detail: fmt.Sprintf(format, args...)}
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

func (p *parser) expect(rule string, c byte) error {
	p.ws()
	if p.i >= len(p.b) {
		return p.fail(rule, "expected %q, found the end", c)
	}
	if p.b[p.i] != c {
		return p.fail(rule, "expected %q, found %q", c, p.b[p.i])
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
	fTimeout
)

var knownFields = [...]string{"Endpoint", "DataType", "Accept", "Error", "ErrorMessage", "Extensions", "Timeout"}

func parseStrict(b []byte, h *Header, prev string) error {
	*h = Header{}
	p := parser{b: b, prevEndpoint: prev}
	if err := p.expect("RPC-3", '{'); err != nil {
		return err
	}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
	} else if err := p.members(h); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.b) {
		return p.fail("RPC-3", "data after the object")
	}
	return nil
}

// members reads the members of the header object up to its closing brace.
func (p *parser) members(h *Header) error {
	var seen int
	for {
		p.ws()
		at := p.i
		name, err := p.strBytes("RPC-3")
		if err != nil {
			return err
		}
		if err := p.expect("RPC-3", ':'); err != nil {
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
			for _, u := range h.Unknown {
				if u.Name == string(name) {
					p.i = at
					return p.fail("RPC-5", "member %q appears twice", name)
				}
			}
			start := p.i
			if err := p.skip(0); err != nil {
				return err
			}
			h.Unknown = append(h.Unknown, Member{Name: string(name), Value: string(p.b[start:p.i])})
		} else {
			if seen&bit != 0 {
				p.i = at
				return p.fail("RPC-5", "member %q appears twice", name)
			}
			seen |= bit
			if err := p.known(bit, h); err != nil {
				return err
			}
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.fail("RPC-3", "object not closed")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("RPC-3", "expected ',' or '}', found %q", p.b[p.i])
		}
	}
}

func (p *parser) known(bit int, h *Header) error {
	var err error
	switch bit {
	case fEndpoint:
		var b []byte
		b, err = p.strBytes("RPC-7")
		if string(b) == p.prevEndpoint {
			// The same endpoint as last time: no new string.
			h.Endpoint = p.prevEndpoint
		} else {
			h.Endpoint = string(b)
		}
	case fErrorMessage:
		h.ErrorMessage, err = p.str("RPC-7")
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
		h.HasExtensions = true
		h.Extensions, err = p.strArray()
	case fTimeout:
		h.HasTimeout = true
		h.Timeout, err = p.num()
	}
	return err
}

func (p *parser) num() (uint32, error) {
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		return 0, p.fail("RPC-7", "negative number")
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	digits := p.b[start:p.i]
	if len(digits) == 0 {
		return 0, p.fail("RPC-7", "expected an integer")
	}
	if len(digits) > 1 && digits[0] == '0' {
		p.i = start
		return 0, p.fail("RPC-7", "number with a leading zero")
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, p.fail("RPC-7", "number is not an integer literal")
	}
	n, err := strconv.ParseUint(string(digits), 10, 32)
	if err != nil {
		p.i = start
		return 0, p.fail("RPC-7", "number %s out of range", digits)
	}
	return uint32(n), nil
}

func (p *parser) strArray() ([]string, error) {
	if err := p.expect("RPC-7", '['); err != nil {
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
		s, err := p.str("RPC-7")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		if err := p.expect("RPC-3", ']'); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// str reads a JSON string. The common case, no escapes, costs one
// allocation for the result (none for "").
func (p *parser) str(notString string) (string, error) {
	b, err := p.strBytes(notString)
	return string(b), err
}

// strBytes reads a JSON string and returns its value, aliasing the input
// when it has no escapes. notString is the rule broken when the value is
// not a string at all; a string whose content is invalid breaks [RPC-8],
// one that is never closed [RPC-3].
func (p *parser) strBytes(notString string) ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, p.fail(notString, "expected a string")
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
			return nil, p.fail("RPC-8", "control character 0x%02x in a string", c)
		case c == '\\':
			buf = append(buf, p.b[start:p.i]...)
			var err error
			if buf, err = p.escape(buf); err != nil {
				return nil, err
			}
			start = p.i
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, p.fail("RPC-8", "invalid UTF-8")
			}
			p.i += size
		}
	}
	return nil, p.fail("RPC-3", "string not closed")
}

// escape decodes the escape sequence at p.i (its backslash) onto buf.
func (p *parser) escape(buf []byte) ([]byte, error) {
	p.i++
	if p.i >= len(p.b) {
		return nil, p.fail("RPC-3", "string not closed")
	}
	e := p.b[p.i]
	p.i++
	switch e {
	case '"', '\\', '/':
		return append(buf, e), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return nil, err
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
				return nil, p.fail("RPC-8", "lone UTF-16 surrogate")
			}
			p.i += 2
			r2, err := p.hex4()
			if err != nil {
				return nil, err
			}
			r = utf16.DecodeRune(r, r2)
			if r == utf8.RuneError {
				return nil, p.fail("RPC-8", "invalid UTF-16 surrogate pair")
			}
		}
		return utf8.AppendRune(buf, r), nil
	}
	p.i -= 2
	return nil, p.fail("RPC-8", "invalid escape \\%c", e)
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.fail("RPC-8", "short \\u escape")
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
			return 0, p.fail("RPC-8", "invalid \\u escape")
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
		return p.fail("RPC-6", "expected a value, found the end")
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.strBytes("RPC-6")
		return err
	case c == '{' || c == '[':
		return p.skipComposite(c, depth)
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.anyNumber()
	}
	return p.fail("RPC-6", "unexpected %q", p.b[p.i])
}

// skipComposite steps over the array or object opened by c at p.i.
func (p *parser) skipComposite(c byte, depth int) error {
	if depth+1 > MaxDepth {
		return p.fail("RPC-6", "values nested deeper than %d", MaxDepth)
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
			if _, err := p.strBytes("RPC-6"); err != nil {
				return err
			}
			if err := p.expect("RPC-6", ':'); err != nil {
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
		return p.expect("RPC-6", closer)
	}
}

func (p *parser) lit(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return p.fail("RPC-6", "invalid literal")
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
		return p.fail("RPC-6", "invalid number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.fail("RPC-6", "invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.fail("RPC-6", "invalid number")
		}
	}
	return nil
}
