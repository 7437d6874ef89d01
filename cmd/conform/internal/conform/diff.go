package conform

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/framerpc/framerpc/testvectors/format"
)

// Failure is why a vector failed. Offset, Got and Want are set when bytes
// differ: Offset is the first differing byte in the implementation's
// stream, Got and Want the bytes there (-1: the stream ended).
type Failure struct {
	Detail  string
	Offset  int64
	Got     int
	Want    int
	Context []string
}

func (f *Failure) Error() string { return f.Detail }

func failf(format string, args ...any) *Failure {
	return &Failure{Detail: fmt.Sprintf(format, args...), Offset: -1}
}

// contextBytes is how many bytes either side of a difference are shown.
const contextBytes = 12

// compareBytes checks got against want byte for byte. toGot maps an offset
// of got's normalized form (the form compared) back to the
// implementation's own stream; nil is the identity. end says how the
// implementation's stream stopped, shown when got is short.
func compareBytes(what string, got, want []byte, orig []byte, toGot func(int) int, end string) *Failure {
	if bytes.Equal(got, want) {
		return nil
	}
	k := 0
	for k < len(got) && k < len(want) && got[k] == want[k] {
		k++
	}
	if toGot == nil {
		toGot = func(i int) int { return i }
	}
	if orig == nil {
		orig = got
	}
	g, w := -1, -1
	if k < len(got) {
		g = int(got[k])
	}
	if k < len(want) {
		w = int(want[k])
	}
	off := toGot(k)
	f := &Failure{Offset: int64(off), Got: g, Want: w}
	f.Detail = fmt.Sprintf("%s: first differing byte at offset %d: got %s want %s", what, off, byteName(g), byteName(w))
	if g < 0 && end != "" {
		f.Detail += " (" + end + ")"
	}
	if where := locate(want, k); where != "" {
		f.Detail += " (" + where + ")"
	}
	f.Context = []string{
		"got  " + hexContext(orig, off),
		"want " + hexContext(want, k),
	}
	// A header or trailer is JSON text: show both as text too.
	if gm, wm := messageAt(orig, off), messageAt(want, k); gm != nil && wm != nil && gm.typ == wm.typ && (gm.typ == typeHeader || gm.typ == typeTrailer) {
		f.Context = append(f.Context,
			fmt.Sprintf("got  %s %q", typeName(gm.typ), gm.body),
			fmt.Sprintf("want %s %q", typeName(wm.typ), wm.body))
	}
	return f
}

func typeName(t byte) string {
	switch t {
	case typeHeader:
		return "Header"
	case typeData:
		return "Data"
	case typeTrailer:
		return "Trailer"
	case typeRST:
		return "RST"
	}
	return fmt.Sprintf("type %02x", t)
}

// locate names the place of offset off in a well-framed stream b (the
// vector's side): which field of which frame.
func locate(b []byte, off int) string {
	pos, n := 0, 0
	for pos+frameHeaderLen <= len(b) {
		n++
		typ := b[pos]
		length := int(binary.LittleEndian.Uint32(b[pos+2:]))
		if typ == typeRST {
			length = 0
		}
		end := pos + frameHeaderLen + length
		if off < end || (off == end && end == len(b)) {
			frame := fmt.Sprintf("frame %d, %s, at offset %d", n, typeName(typ), pos)
			switch {
			case off == end:
				return "after the vector's last frame (" + frame + ")"
			case off == pos:
				return "the type byte of " + frame
			case off == pos+1:
				return "the final byte of " + frame
			case off < pos+frameHeaderLen:
				return "the length field of " + frame
			}
			return fmt.Sprintf("payload byte %d of %s", off-pos-frameHeaderLen, frame)
		}
		pos = end
	}
	return ""
}

// messageAt returns the complete message of b that holds offset off.
func messageAt(b []byte, off int) *message {
	for _, m := range messages(b) {
		if off >= m.start && off < m.end {
			return &m
		}
	}
	return nil
}

func byteName(b int) string {
	if b < 0 {
		return "end"
	}
	return fmt.Sprintf("%02x", b)
}

// hexContext shows b around off, the byte at off in brackets.
func hexContext(b []byte, off int) string {
	start := max(0, off-contextBytes)
	end := min(len(b), off+contextBytes+1)
	var sb strings.Builder
	fmt.Fprintf(&sb, "@%d:", start)
	for i := start; i < end; i++ {
		if i == off {
			fmt.Fprintf(&sb, " [%02x]", b[i])
		} else {
			fmt.Fprintf(&sb, " %02x", b[i])
		}
	}
	if off >= len(b) {
		sb.WriteString(" [end]")
	} else if end < len(b) {
		sb.WriteString(" ...")
	}
	return sb.String()
}

// message is one complete message (or RST) found in a stream.
type message struct {
	typ        byte
	start, end int
	body       []byte
}

// messages scans a stream into its complete messages, stopping at the
// first thing that is not one.
func messages(b []byte) []message {
	var out []message
	pos := 0
	for pos+frameHeaderLen <= len(b) {
		m := message{typ: b[pos], start: pos}
		if m.typ == typeRST {
			m.end = pos + frameHeaderLen
			out = append(out, m)
			return out
		}
		for {
			if pos+frameHeaderLen > len(b) {
				return out
			}
			typ, final := b[pos], b[pos+1]
			n := int(binary.LittleEndian.Uint32(b[pos+2:]))
			if typ != m.typ || typ < typeHeader || typ > typeTrailer || final > 1 || n > maxPayload || pos+frameHeaderLen+n > len(b) {
				return out
			}
			m.body = append(m.body, b[pos+frameHeaderLen:pos+frameHeaderLen+n]...)
			pos += frameHeaderLen + n
			if final == 1 {
				break
			}
		}
		m.end = pos
		out = append(out, m)
	}
	return out
}

// replacement is a span of the implementation's stream replaced by the
// vector's sample in the normalized form.
type replacement struct{ normEnd, delta int }

// normalizeErrorMessages replaces, in what a server sent, each reply
// header the vector marks anyErrorMessage by the vector's sample, provided
// it is the same header but for its ErrorMessage and is written as [RPC-1]
// says, text included: the spec leaves that text to the server and fixes
// everything else. A header that fails either check is left as sent, so
// the byte comparison points at it.
func normalizeErrorMessages(got, want []byte, items []format.ConvMessage) ([]byte, func(int) int, []string) {
	gm, wm := messages(got), messages(want)
	var out []byte
	var reps []replacement
	var notes []string
	last := 0
	for i, it := range items {
		if !it.AnyErrorMessage || i >= len(gm) || i >= len(wm) || gm[i].typ != typeHeader {
			continue
		}
		if why := sameButErrorMessage(gm[i].body, wm[i].body); why != "" {
			notes = append(notes, fmt.Sprintf("reply header at offset %d: %s", gm[i].start, why))
			continue
		}
		out = append(out, got[last:gm[i].start]...)
		out = append(out, want[wm[i].start:wm[i].end]...)
		reps = append(reps, replacement{normEnd: len(out), delta: (gm[i].end - gm[i].start) - (wm[i].end - wm[i].start)})
		last = gm[i].end
	}
	out = append(out, got[last:]...)
	toGot := func(k int) int {
		off := k
		for _, r := range reps {
			if r.normEnd <= k {
				off += r.delta
			}
		}
		return off
	}
	return out, toGot, notes
}

// sameButErrorMessage compares two reply header bodies member by member,
// ignoring ErrorMessage, and checks the first is encoded as [RPC-1] says.
func sameButErrorMessage(got, want []byte) string {
	var g, w format.RPCHeader
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Sprintf("not a reply header of the five members: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Sprintf("the vector's sample: %v", err)
	}
	g.ErrorMessage, w.ErrorMessage = "", ""
	if g != w {
		return fmt.Sprintf("%+v differs from the vector's %+v in more than ErrorMessage", g, w)
	}
	if enc := encodeHeader(got); !bytes.Equal(enc, got) {
		return fmt.Sprintf("%q is not encoded as [RPC-1] says: %q", got, enc)
	}
	return ""
}

// encodeHeader re-encodes a reply header as [RPC-1] defines it, which is
// Go's json.Encoder with HTML escaping over the five members in order.
func encodeHeader(body []byte) []byte {
	var h format.RPCHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return nil
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(h); err != nil {
		return nil
	}
	return buf.Bytes()
}
