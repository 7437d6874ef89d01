package fastjson

import (
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Unmarshal decodes data into v, which is what json.Unmarshal takes: a
// non-nil pointer.
//
// true: json.Unmarshal(data, v) would have returned nil, and v holds
// exactly what it would have left there.
//
// false: not handled; the caller must call json.Unmarshal(data, v). If
// data is not valid JSON, v is untouched; otherwise v may have been partly
// written, in ways that json.Unmarshal then overwrites identically (see the
// package documentation).
func Unmarshal(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	c := lookup(rv.Type())
	if c == nil || !valid(data) {
		return false
	}
	d := decoder{cursor: cursor{data: data}}
	d.space()
	// v itself is not settable: encoding/json goes through it to its
	// element, whatever the JSON value, null included.
	if !d.value(c.elem, rv.Elem(), 0) {
		return false
	}
	d.space()
	return d.p == len(d.data)
}

// decoder walks input that valid accepted, so it trusts the syntax and
// only checks what the Go type asks for.
type decoder struct {
	cursor
	buf []byte // unescaped string bytes
}

// cursor is a position in the input.
type cursor struct {
	data []byte
	p    int
}

func (c *cursor) space() {
	for c.p < len(c.data) {
		switch c.data[c.p] {
		case ' ', '\t', '\n', '\r':
			c.p++
		default:
			return
		}
	}
}

// value decodes the value at d.p into v, which is settable and of c's
// type. false declines the whole input.
func (d *decoder) value(c *codec, v reflect.Value, depth int) bool {
	if depth > maxDepth || d.p >= len(d.data) {
		return false
	}
	b := d.data[d.p]
	if b == 'n' {
		// encoding/json sets the first settable pointer, a slice, to nil;
		// null leaves anything else as it was.
		d.p += len("null")
		if c.kind == kPointer || c.kind == kSlice {
			v.SetZero()
		}
		return true
	}
	switch c.kind {
	case kPointer:
		if v.IsNil() {
			v.Set(reflect.New(c.typ.Elem()))
		}
		return d.value(c.elem, v.Elem(), depth+1)
	case kBool:
		switch b {
		case 't':
			v.SetBool(true)
			d.p += len("true")
			return true
		case 'f':
			v.SetBool(false)
			d.p += len("false")
			return true
		}
		return false
	case kString:
		if b != '"' {
			return false
		}
		s, ok := d.str()
		if !ok {
			return false
		}
		v.SetString(string(s))
		return true
	case kInt:
		n, ok := d.integer()
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case kUint:
		n, ok := d.unsigned()
		if !ok || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
		return true
	case kFloat32, kFloat64:
		lit, ok := d.number()
		if !ok {
			return false
		}
		bits := 64
		if c.kind == kFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(lit), bits)
		if err != nil || v.OverflowFloat(f) {
			return false
		}
		v.SetFloat(f)
		return true
	case kSlice:
		if b != '[' {
			return false
		}
		return d.array(c, v, depth)
	case kStruct:
		if b != '{' {
			return false
		}
		return d.object(c, v, depth)
	}
	return false
}

// array fills a slice the way encoding/json does: elements are decoded in
// place, into whatever the backing array holds up to its capacity; the
// slice grows one element at a time; an empty array gives an empty,
// non-nil slice.
func (d *decoder) array(c *codec, v reflect.Value, depth int) bool {
	d.p++ // [
	d.space()
	i := 0
	if d.data[d.p] == ']' {
		d.p++
	} else {
		for {
			if i >= v.Cap() {
				v.Grow(1)
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
			if !d.value(c.elem, v.Index(i), depth+1) {
				return false
			}
			i++
			d.space()
			if d.data[d.p] == ']' {
				d.p++
				break
			}
			d.p++ // ,
			d.space()
		}
	}
	if i < v.Len() {
		v.SetLen(i)
	}
	if i == 0 {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return true
}

// object decodes into a struct: a key picks the field of that exact name,
// or else the first field whose name matches ignoring ASCII case; unknown
// keys are skipped; a repeated key is decoded again.
func (d *decoder) object(c *codec, v reflect.Value, depth int) bool {
	d.p++ // {
	d.space()
	if d.data[d.p] == '}' {
		d.p++
		return true
	}
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		d.space()
		d.p++ // :
		d.space()
		if f := c.field(key); f != nil {
			if !d.value(f.c, v.Field(f.index), depth+1) {
				return false
			}
		} else {
			d.skipValue()
		}
		d.space()
		if d.data[d.p] == '}' {
			d.p++
			return true
		}
		d.p++ // ,
		d.space()
	}
}

// key returns an object key's bytes; keys with escapes or bytes outside
// ASCII are declined, because encoding/json's case folding is Unicode's
// (the Kelvin sign matches "k").
func (d *decoder) key() ([]byte, bool) {
	start := d.p + 1
	for i := start; i < len(d.data); i++ {
		switch b := d.data[i]; {
		case b == '"':
			d.p = i + 1
			return d.data[start:i], true
		case b == '\\' || b >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

func (c *codec) field(key []byte) *field {
	for i := range c.fields {
		if c.fields[i].name == string(key) {
			return &c.fields[i]
		}
	}
	for i := range c.fields {
		if equalFoldASCII(c.fields[i].name, key) {
			return &c.fields[i]
		}
	}
	return nil
}

func equalFoldASCII(name string, key []byte) bool {
	if len(name) != len(key) {
		return false
	}
	for i := range len(key) {
		a, b := name[i], key[i]
		if 'a' <= a && a <= 'z' {
			a -= 'a' - 'A'
		}
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// skipValue steps over a value of any kind: valid already checked it, so
// only strings need care (they may hold brackets).
func (d *decoder) skipValue() {
	level := 0
	for {
		switch d.data[d.p] {
		case '"':
			d.skipString()
			if level == 0 {
				return
			}
			continue
		case '{', '[':
			level++
		case '}', ']':
			level--
			if level == 0 {
				d.p++
				return
			}
		default:
			if level == 0 {
				d.skipLiteral()
				return
			}
		}
		d.p++
	}
}

func (d *decoder) skipString() {
	for d.p++; ; d.p++ {
		switch d.data[d.p] {
		case '\\':
			d.p++
		case '"':
			d.p++
			return
		}
	}
}

// skipLiteral steps over a number, true, false or null.
func (d *decoder) skipLiteral() {
	for d.p < len(d.data) {
		switch d.data[d.p] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return
		}
		d.p++
	}
}

// number returns the number literal at d.p, or false if the value there
// is not a number.
func (d *decoder) number() ([]byte, bool) {
	start := d.p
	if b := d.data[d.p]; b != '-' && (b < '0' || b > '9') {
		return nil, false
	}
	d.skipLiteral()
	return d.data[start:d.p], true
}

// integer parses a number literal as strconv.ParseInt(lit, 10, 64) does:
// digits with an optional minus sign; a fraction or an exponent is an
// error for encoding/json too.
func (d *decoder) integer() (int64, bool) {
	lit, ok := d.number()
	if !ok {
		return 0, false
	}
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	u, ok := digits(lit)
	if !ok {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// unsigned parses as strconv.ParseUint(lit, 10, 64): no sign at all.
func (d *decoder) unsigned() (uint64, bool) {
	lit, ok := d.number()
	if !ok {
		return 0, false
	}
	return digits(lit)
}

// digits parses a non-empty run of decimal digits that fits in a uint64.
func digits(s []byte) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for _, b := range s {
		if b < '0' || b > '9' {
			return 0, false
		}
		if n > (1<<64-1)/10 {
			return 0, false
		}
		n *= 10
		x := n + uint64(b-'0')
		if x < n {
			return 0, false
		}
		n = x
	}
	return n, true
}

// str returns the contents of the string at d.p, unescaped, with invalid
// UTF-8 and unpaired surrogates replaced by U+FFFD as encoding/json does.
// The result may alias d.data or d.buf.
func (d *decoder) str() ([]byte, bool) {
	start := d.p + 1
	i := start
	for ; ; i++ {
		b := d.data[i]
		if b == '"' {
			d.p = i + 1
			return d.data[start:i], true
		}
		if b == '\\' || b >= utf8.RuneSelf {
			break
		}
	}
	out := append(d.buf[:0], d.data[start:i]...)
	for {
		b := d.data[i]
		switch {
		case b == '"':
			d.p = i + 1
			d.buf = out
			return out, true
		case b < utf8.RuneSelf && b != '\\':
			out = append(out, b)
			i++
		case b >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
		default:
			var r rune
			r, i = d.escape(i)
			if r < 0 {
				return nil, false
			}
			out = utf8.AppendRune(out, r)
		}
	}
}

// escape decodes the escape sequence at data[i] (a backslash) and returns
// the rune and the index after it; a \u escape of a high surrogate takes a
// following \u low surrogate with it, and an unpaired surrogate becomes
// U+FFFD.
func (d *decoder) escape(i int) (rune, int) {
	switch d.data[i+1] {
	case '"', '\\', '/':
		return rune(d.data[i+1]), i + 2
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r := hex4(d.data[i+2 : i+6])
		i += 6
		if !utf16.IsSurrogate(r) {
			return r, i
		}
		if i+6 <= len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
			if pair := utf16.DecodeRune(r, hex4(d.data[i+2:i+6])); pair != unicode.ReplacementChar {
				return pair, i + 6
			}
		}
		return unicode.ReplacementChar, i
	}
	return -1, i
}

// hex4 decodes four hex digits that valid checked.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// valid reports whether data is one JSON value with optional white space
// around it, by RFC 8259's grammar, which is what encoding/json accepts
// (it takes any bytes but control characters inside strings). Nesting
// deeper than maxDepth is reported invalid: the fast path declines it.
func valid(data []byte) bool {
	s := scanner{cursor{data: data}}
	s.space()
	if !s.value(0) {
		return false
	}
	s.space()
	return s.p == len(s.data)
}

// scanner checks syntax only.
type scanner struct{ cursor }

// next returns the byte at s.p, or 0 at the end of the input (0 is never
// valid where a byte is expected).
func (s *scanner) next() byte {
	if s.p < len(s.data) {
		return s.data[s.p]
	}
	return 0
}

func (s *scanner) value(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch s.next() {
	case '{':
		s.p++
		s.space()
		if s.next() == '}' {
			s.p++
			return true
		}
		for {
			if s.next() != '"' || !s.str() {
				return false
			}
			s.space()
			if s.next() != ':' {
				return false
			}
			s.p++
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			switch s.next() {
			case ',':
				s.p++
				s.space()
			case '}':
				s.p++
				return true
			default:
				return false
			}
		}
	case '[':
		s.p++
		s.space()
		if s.next() == ']' {
			s.p++
			return true
		}
		for {
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			switch s.next() {
			case ',':
				s.p++
				s.space()
			case ']':
				s.p++
				return true
			default:
				return false
			}
		}
	case '"':
		return s.str()
	case 't':
		return s.word("true")
	case 'f':
		return s.word("false")
	case 'n':
		return s.word("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.number()
	}
	return false
}

func (s *scanner) word(w string) bool {
	if len(s.data)-s.p < len(w) || string(s.data[s.p:s.p+len(w)]) != w {
		return false
	}
	s.p += len(w)
	return true
}

// plain marks the bytes that stand for themselves inside a JSON string:
// not a quote, a backslash or a control character.
var plain = func() (t [256]bool) {
	for b := 0x20; b < 256; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// str checks the string at s.p (its opening quote).
func (s *scanner) str() bool {
	for s.p++; s.p < len(s.data); s.p++ {
		b := s.data[s.p]
		if plain[b] {
			continue
		}
		switch {
		case b == '"':
			s.p++
			return true
		case b < 0x20:
			return false
		case b == '\\':
			s.p++
			switch s.next() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s.data)-s.p < 5 {
					return false
				}
				for _, h := range s.data[s.p+1 : s.p+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.p += 4
			default:
				return false
			}
		}
	}
	return false
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at s.p.
func (s *scanner) number() bool {
	if s.next() == '-' {
		s.p++
	}
	switch b := s.next(); {
	case b == '0':
		s.p++
	case '1' <= b && b <= '9':
		s.digits()
	default:
		return false
	}
	if s.next() == '.' {
		s.p++
		if !s.digits() {
			return false
		}
	}
	if b := s.next(); b == 'e' || b == 'E' {
		s.p++
		if b := s.next(); b == '+' || b == '-' {
			s.p++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits steps over one or more digits; false if there is none.
func (s *scanner) digits() bool {
	start := s.p
	for s.p < len(s.data) && '0' <= s.data[s.p] && s.data[s.p] <= '9' {
		s.p++
	}
	return s.p > start
}
