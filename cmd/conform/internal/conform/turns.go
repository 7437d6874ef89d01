package conform

import "encoding/binary"

// Frame types as the spec numbers them (section 3).
const (
	typeHeader  = 0x01
	typeData    = 0x02
	typeTrailer = 0x03
	typeRST     = 0xff
)

const (
	frameHeaderLen = 6
	maxPayload     = 4194304
)

var canonicalRST = []byte{0xff, 0x01, 0, 0, 0, 0}

// turn is one side's share of an exchange: the bytes it sends from one
// request header (client) or reply header (server) up to the next, and the
// items (message types, or typeRST) they hold, which is what the runner
// reads when it waits for the other side's share.
type turn struct {
	bytes []byte
	items []byte
}

// splitTurns cuts one side's bytes of a conversation vector into turns: a
// Header message at a message boundary starts a turn; Data and Trailer
// messages belong to the turn they follow. A client's RST at a message
// boundary is a turn of its own, the hang-up, which nothing answers (with
// hangUps); a server's RST is part of the reply it ends. The scan is lenient
// on purpose: a vector may end with a partial frame (a truncated stream),
// which stays in the last turn's bytes without being an item.
func splitTurns(b []byte, hangUps bool) []turn {
	var turns []turn
	cur := -1
	atBoundary := true
	add := func(start, end int, item bool, typ byte) {
		if cur < 0 || (item && atBoundary && (typ == typeHeader || (hangUps && typ == typeRST))) {
			turns = append(turns, turn{})
			cur = len(turns) - 1
		}
		turns[cur].bytes = append(turns[cur].bytes, b[start:end]...)
		if item && atBoundary {
			turns[cur].items = append(turns[cur].items, typ)
		}
	}
	pos := 0
	for pos < len(b) {
		if len(b)-pos < frameHeaderLen {
			add(pos, len(b), false, 0)
			break
		}
		typ, final := b[pos], b[pos+1]
		if typ == typeRST {
			add(pos, pos+frameHeaderLen, true, typeRST)
			pos += frameHeaderLen
			atBoundary = true
			continue
		}
		n := int(binary.LittleEndian.Uint32(b[pos+2:]))
		if typ < typeHeader || typ > typeTrailer || final > 1 || n > maxPayload || pos+frameHeaderLen+n > len(b) {
			add(pos, len(b), false, 0)
			break
		}
		end := pos + frameHeaderLen + n
		add(pos, end, true, typ)
		atBoundary = final == 1
		pos = end
	}
	return turns
}

// endsWithRST reports whether a side's last item is an RST: that side then
// closes the connection on its own, and the runner waits for it to.
func endsWithRST(turns []turn) bool {
	if len(turns) == 0 {
		return false
	}
	it := turns[len(turns)-1].items
	return len(it) > 0 && it[len(it)-1] == typeRST
}
