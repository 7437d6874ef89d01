package wire

import (
	"strconv"
	"unicode/utf8"
)

// AppendHeader encodes h exactly as the original's json.Encoder did: the
// five members in this order, then "\n" [RPC-1]. Timeout [RPC-44] and
// then Extensions, when present, follow them. Unknown members are never sent.
func AppendHeader(b []byte, h *Header) []byte {
	b = append(b, `{"Endpoint":`...)
	b = AppendString(b, h.Endpoint)
	b = append(b, `,"DataType":`...)
	b = strconv.AppendUint(b, uint64(h.DataType), 10)
	b = append(b, `,"Accept":`...)
	b = strconv.AppendUint(b, uint64(h.Accept), 10)
	b = append(b, `,"Error":`...)
	b = strconv.AppendUint(b, uint64(h.Error), 10)
	b = append(b, `,"ErrorMessage":`...)
	b = AppendString(b, h.ErrorMessage)
	if h.HasTimeout {
		b = append(b, `,"Timeout":`...)
		b = strconv.AppendUint(b, uint64(h.Timeout), 10)
	}
	if h.HasExtensions {
		b = append(b, `,"Extensions":[`...)
		for i, e := range h.Extensions {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, e)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// AppendTrailer encodes the JSON object of a Trailer message [RPC-22].
func AppendTrailer(b []byte, s Status, msg string) []byte {
	b = append(b, `{"Error":`...)
	b = strconv.AppendUint(b, uint64(s), 10)
	b = append(b, `,"ErrorMessage":`...)
	b = AppendString(b, msg)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string written the way [RPC-1] fixes
// it: the short escapes for `"` `\` and 08 0c 0a 0d 09, \u00XX for the
// other control bytes and for < > &, \u2028 and \u2029 escaped, and every
// byte that is not part of valid UTF-8 replaced by \ufffd. The rule is the
// spec's, written out here so that a change in encoding/json cannot move
// the bytes on the wire.
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
