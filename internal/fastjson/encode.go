package fastjson

import (
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// AppendEncode appends to dst what json.NewEncoder(w).Encode(v) writes
// with the default options (HTML escaping, a trailing newline). false: not
// handled, and dst comes back with its original length; use encoding/json.
func AppendEncode(dst []byte, v any) ([]byte, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return dst, false
	}
	c := lookup(rv.Type())
	if c == nil {
		return dst, false
	}
	out, ok := c.encode(dst, rv, 0)
	if !ok {
		return dst, false
	}
	return append(out, '\n'), true
}

func (c *codec) encode(b []byte, v reflect.Value, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return b, false
	}
	switch c.kind {
	case kBool:
		return strconv.AppendBool(b, v.Bool()), true
	case kInt:
		return strconv.AppendInt(b, v.Int(), 10), true
	case kUint:
		return strconv.AppendUint(b, v.Uint(), 10), true
	case kFloat32:
		return appendFloat(b, v.Float(), 32)
	case kFloat64:
		return appendFloat(b, v.Float(), 64)
	case kString:
		return AppendString(b, v.String()), true
	case kPointer:
		if v.IsNil() {
			return append(b, "null"...), true
		}
		return c.elem.encode(b, v.Elem(), depth+1)
	case kSlice:
		if v.IsNil() {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = c.elem.encode(b, v.Index(i), depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case kStruct:
		b = append(b, '{')
		first := true
		for i := range c.fields {
			f := &c.fields[i]
			fv := v.Field(f.index)
			if f.omitEmpty && isEmpty(f.c.kind, fv) || f.omitZero && fv.IsZero() {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.key...)
			var ok bool
			if b, ok = f.c.encode(b, fv, depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

// isEmpty is encoding/json's test for omitempty: structs are never empty.
func isEmpty(k kind, v reflect.Value) bool {
	switch k {
	case kSlice, kString:
		return v.Len() == 0
	case kStruct:
		return false
	}
	return v.IsZero()
}

// appendFloat writes a float as encoding/json does: the shortest decimal
// that reads back to the same value, in exponent form below 1e-6 and from
// 1e21 up (compared at the float's own precision), with a one-digit
// negative exponent written without its leading zero. NaN and infinities
// are an error there and declined here.
func appendFloat(b []byte, f float64, bits int) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) || bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// AppendString quotes s as encoding/json does with HTML escaping: '<', '>'
// and '&' as \u escapes, the common control characters by their short
// escapes and the others as \u00XX, invalid UTF-8 as \ufffd, and U+2028
// and U+2029 escaped for JavaScript.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
