package testvectors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/framerpc/framerpc/testvectors/format"
)

// The README states one rule for the encoded member of every valid and
// acceptable frame and message vector: encoded is input, rewritten the way a
// conforming writer would have written what was decoded, and each rewriting
// that changes a byte is named by a flag:
//
//   - NonCanonicalSplit: a complete message not split as [MSG-3] says is
//     re-split canonically;
//   - UnfinishedMessage: the frames of a message an RST interrupted form no
//     message, so they are left out [MSG-5];
//   - NonCanonicalRst: the RST is written as ff 01 00 00 00 00 [FRAME-7];
//   - BytesAfterRst: nothing after the RST is written [FRAME-7].
//
// A vector carries a flag exactly when its rewriting changes something, so
// encoded equals input exactly when it carries none of them. The rewriting
// below is derived from the input alone, independently of the generator, so
// that flags and encoded cannot drift apart unnoticed.

// encodeFlags are the flags of the rule, in the order above.
var encodeFlags = []string{"NonCanonicalSplit", "UnfinishedMessage", "NonCanonicalRst", "BytesAfterRst"}

// rawFrame is a frame of a valid or acceptable input.
type rawFrame struct {
	typ     byte
	final   byte
	length  uint32
	payload []byte
}

// rewrite applies the rule to in. messages says whether frames group into
// messages (message vectors) or stand alone (frame vectors). It returns the
// rewritten bytes and the flags whose rewriting changed something.
func rewrite(in []byte, messages bool) ([]byte, []string, error) {
	var out []byte
	changed := map[string]bool{}
	var open []rawFrame // the frames of the message under way
	for pos := 0; pos < len(in); {
		if len(in)-pos < 6 {
			return nil, nil, fmt.Errorf("a partial frame header at %d", pos)
		}
		f := rawFrame{typ: in[pos], final: in[pos+1], length: binary.LittleEndian.Uint32(in[pos+2 : pos+6])}
		if f.typ == 0xff {
			if len(open) > 0 {
				changed["UnfinishedMessage"] = true
			}
			if !bytes.Equal(in[pos:pos+6], []byte{0xff, 1, 0, 0, 0, 0}) {
				changed["NonCanonicalRst"] = true
			}
			if pos+6 < len(in) {
				changed["BytesAfterRst"] = true
			}
			out = append(out, 0xff, 1, 0, 0, 0, 0)
			return out, flagsOf(changed), nil
		}
		if f.final > 1 || int64(f.length) > int64(len(in)-pos-6) {
			return nil, nil, fmt.Errorf("a frame that is not well formed at %d", pos)
		}
		f.payload = in[pos+6 : pos+6+int(f.length)]
		pos += 6 + int(f.length)
		if !messages {
			out = appendFrame(out, f.typ, f.final, f.payload)
			continue
		}
		open = append(open, f)
		if f.final == 0 {
			continue
		}
		var body, as []byte
		for _, p := range open {
			body = append(body, p.payload...)
			as = appendFrame(as, p.typ, p.final, p.payload)
		}
		canon := canonicalMessage(nil, f.typ, body)
		if !bytes.Equal(as, canon) {
			changed["NonCanonicalSplit"] = true
		}
		out = append(out, canon...)
		open = nil
	}
	if len(open) > 0 {
		return nil, nil, fmt.Errorf("the input ends inside a message")
	}
	return out, flagsOf(changed), nil
}

func appendFrame(b []byte, typ, final byte, payload []byte) []byte {
	b = append(b, typ, final)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// canonicalMessage is the split of [MSG-3], restated here.
func canonicalMessage(b []byte, typ byte, body []byte) []byte {
	const maxPayload = 4194304
	for len(body) >= maxPayload {
		b = appendFrame(b, typ, 0, body[:maxPayload])
		body = body[maxPayload:]
	}
	return appendFrame(b, typ, 1, body)
}

func flagsOf(changed map[string]bool) []string {
	var out []string
	for _, f := range encodeFlags {
		if changed[f] {
			out = append(out, f)
		}
	}
	return out
}

// checkEncodeRule compares one vector's flags and encoded with the rule.
func checkEncodeRule(t *testing.T, file string, c format.Common, input format.Bytes, encoded *format.Bytes, messages bool) {
	t.Helper()
	if c.Result == format.Invalid {
		if encoded != nil {
			t.Errorf("%s tcId %d: an invalid test has an encoded member", file, c.TcID)
		}
		return
	}
	if encoded == nil {
		t.Errorf("%s tcId %d: a %s test has no encoded member", file, c.TcID, c.Result)
		return
	}
	in := expand(t, c.TcID, "input", input)
	want, changed, err := rewrite(in, messages)
	if err != nil {
		t.Errorf("%s tcId %d: input: %v", file, c.TcID, err)
		return
	}
	var flagged []string
	for _, f := range encodeFlags {
		if slices.Contains(c.Flags, f) {
			flagged = append(flagged, f)
		}
	}
	if !slices.Equal(flagged, changed) {
		t.Errorf("%s tcId %d: flags of the encode rule %v, but the rewriting of input changes %v", file, c.TcID, flagged, changed)
	}
	if d := diffBytes("encoded and the rewritten input", expand(t, c.TcID, "encoded", *encoded), want); d != "" {
		t.Errorf("%s tcId %d: %s", file, c.TcID, d)
	}
	if eq := bytes.Equal(in, want); eq != (len(flagged) == 0) {
		t.Errorf("%s tcId %d: encoded equals input: %v, but flags %v", file, c.TcID, eq, flagged)
	}
}

// TestEncodedFollowsFlags enforces the README's encode rule on every frame
// and message vector [MSG-3] [FRAME-7] [MSG-5].
func TestEncodedFollowsFlags(t *testing.T) {
	ff := loadFrameFile(t)
	for _, g := range ff.TestGroups {
		for _, tc := range g.Tests {
			checkEncodeRule(t, "frame_decode.json", tc.Common, tc.Input, tc.Encoded, false)
		}
	}
	mf := loadMessageFile(t)
	for _, g := range mf.TestGroups {
		for _, tc := range g.Tests {
			checkEncodeRule(t, "message_decode.json", tc.Common, tc.Input, tc.Encoded, true)
		}
	}
}
