package wire

// parseCanonical decodes the canonical form of a header, the exact bytes
// AppendHeader writes when its strings are printable ASCII without
// escapes:
//
//	{"Endpoint":"…","DataType":N,"Accept":N,"Error":N,"ErrorMessage":"…"}\n
//
// which is what every conforming peer sends for an ordinary call. It
// reports false for anything else, which then goes through the strict
// parser; on what it accepts, both give the same result
// (TestCanonicalAgrees). It only saves time: the strict parser is the
// definition.
func parseCanonical(b []byte, h *Header, prev string) bool {
	i := 0
	lit := func(s string) bool {
		if len(b)-i < len(s) || string(b[i:i+len(s)]) != s {
			return false
		}
		i += len(s)
		return true
	}
	str := func() ([]byte, bool) {
		start := i
		for i < len(b) {
			c := b[i]
			if c == '"' {
				v := b[start:i]
				i++
				return v, true
			}
			if c < 0x20 || c >= 0x7f || c == '\\' {
				return nil, false
			}
			i++
		}
		return nil, false
	}
	num := func() (uint32, bool) {
		start := i
		var n uint64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 10 {
			n = n*10 + uint64(b[i]-'0')
			i++
		}
		d := i - start
		if d == 0 || (d > 1 && b[start] == '0') || n > 1<<32-1 || (i < len(b) && b[i] >= '0' && b[i] <= '9') {
			return 0, false
		}
		return uint32(n), true
	}
	if !lit(`{"Endpoint":"`) {
		return false
	}
	ep, ok := str()
	if !ok || !lit(`,"DataType":`) {
		return false
	}
	dt, ok := num()
	if !ok || !lit(`,"Accept":`) {
		return false
	}
	acc, ok := num()
	if !ok || !lit(`,"Error":`) {
		return false
	}
	st, ok := num()
	if !ok || !lit(`,"ErrorMessage":"`) {
		return false
	}
	msg, ok := str()
	if !ok || !lit(`}`) {
		return false
	}
	if i < len(b) && !(i == len(b)-1 && b[i] == '\n') {
		return false
	}
	*h = Header{DataType: DataType(dt), Accept: DataType(acc), Error: Status(st)}
	if string(ep) == prev {
		h.Endpoint = prev
	} else {
		h.Endpoint = string(ep)
	}
	h.ErrorMessage = string(msg)
	return true
}
