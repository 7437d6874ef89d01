package dump

import "unicode/utf8"

// preview keeps the first max bytes of a JSON body with the whitespace
// between tokens removed, scanning the rest without keeping it. It tracks
// only whether it is inside a string, which is all compaction needs; it
// does not validate.
type preview struct {
	out        []byte
	max        int
	inStr, esc bool
	cut        bool
}

func (p *preview) write(b []byte) {
	if p.cut {
		return
	}
	for _, c := range b {
		switch {
		case p.esc:
			p.esc = false
		case p.inStr:
			switch c {
			case '\\':
				p.esc = true
			case '"':
				p.inStr = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '"':
			p.inStr = true
		}
		if p.max >= 0 && len(p.out) >= p.max {
			p.cut = true
			return
		}
		p.out = append(p.out, c)
	}
}

// text is the preview, a rune cut in half at the end dropped.
func (p *preview) text() string {
	b := p.out
	if p.cut {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	return string(b)
}
