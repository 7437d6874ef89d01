package cases

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/framerpc/framerpc/testvectors/format"
)

// Version is the protocol version the vectors check (spec/PROTOCOL.md,
// "Version 1"); it is the files' "version".
const Version = "1"

type note struct{ bugType, description string }

// bugTypes is the closed list a note's bugType comes from (README).
var bugTypes = []string{"BASIC", "EDGE_CASE", "MALFORMED", "TRUNCATED", "LEGACY", "KNOWN_DEFECT", "LENIENCY"}

var ruleID = regexp.MustCompile(`^[A-Z]+-[0-9]+$`)

// checker collects the consistency checks every file must pass: the
// generator refuses to write a file that breaks one, so a mistake in a case
// stops generation loudly instead of producing a wrong vector.
type checker struct {
	file  string
	ids   map[int]bool
	notes map[string]note
	used  map[string]bool
}

func newChecker(file string, notes map[string]note) *checker {
	for f, n := range notes {
		if !slices.Contains(bugTypes, n.bugType) {
			panic(fmt.Sprintf("%s: note %s: bugType %q not in the closed list", file, f, n.bugType))
		}
	}
	return &checker{file: file, ids: map[int]bool{}, notes: notes, used: map[string]bool{}}
}

func (k *checker) common(id int, comment string, rules, flags []string, result string) format.Common {
	if id <= 0 || k.ids[id] {
		panic(fmt.Sprintf("%s: tcId %d is not positive or not unique", k.file, id))
	}
	k.ids[id] = true
	if comment == "" || len(rules) == 0 {
		panic(fmt.Sprintf("%s: tcId %d needs a comment and at least one rule", k.file, id))
	}
	for _, r := range rules {
		if !ruleID.MatchString(r) {
			panic(fmt.Sprintf("%s: tcId %d: %q is not a rule ID", k.file, id, r))
		}
	}
	for _, f := range flags {
		if _, ok := k.notes[f]; !ok {
			panic(fmt.Sprintf("%s: tcId %d: flag %q has no note", k.file, id, f))
		}
		k.used[f] = true
	}
	return format.Common{TcID: id, Comment: comment, Rules: slices.Clone(rules), Flags: append([]string{}, flags...), Result: result}
}

func (k *checker) notesOut() map[string]format.Note {
	out := map[string]format.Note{}
	for f, n := range k.notes {
		if !k.used[f] {
			panic(fmt.Sprintf("%s: note %q is used by no test", k.file, f))
		}
		out[f] = format.Note{BugType: n.bugType, Description: n.description}
	}
	return out
}

// result derives the result from the outcome: an error other than a reset
// means the input is invalid; a reset ends a conforming stream (a hang-up)
// unless the case says the input is a leniency.
func result(file string, id int, end End, lenient bool) string {
	switch {
	case end.Class != "" && end.Class != "reset":
		if lenient {
			panic(fmt.Sprintf("%s: tcId %d: a leniency cannot end in %s", file, id, end.Class))
		}
		return format.Invalid
	case lenient:
		return format.Acceptable
	}
	return format.Valid
}

func checkEnd(file string, id int, s *Stream, end End) int64 {
	if end.Class == "" {
		return s.Len()
	}
	if end.Off < 0 || end.Off > s.Len() {
		panic(fmt.Sprintf("%s: tcId %d: error offset %d outside the %d-byte input", file, id, end.Off, s.Len()))
	}
	if end.Class == "unexpected-eof" && end.Off != s.Len() {
		panic(fmt.Sprintf("%s: tcId %d: unexpected-eof must be at the stream's length", file, id))
	}
	return end.Off
}

func setOutcome(o *format.Outcome, end End, emitted int64) {
	if end.Class == "" {
		return
	}
	o.ErrorClass = end.Class
	o.ErrorOffset = ptr(end.Off)
	o.EmittedBytes = ptr(emitted)
}

// FrameFile builds frame_decode.json.
func FrameFile() *format.File[format.FrameTest] {
	const name = "frame_decode.json"
	k := newChecker(name, frameNotes)
	f := &format.File[format.FrameTest]{
		Algorithm: "framerpc-frame-decode",
		Schema:    "frame_decode.schema.json",
		Version:   Version,
		Header: []string{
			"Frame layer of spec/PROTOCOL.md, sections 3 and 5: each input is a byte stream decoded frame by frame.",
			"A frame decoder knows nothing of messages; message_decode.json covers the message layer.",
			"See testvectors/README.md for the meaning of every field.",
		},
	}
	for _, g := range frameGroups {
		grp := format.Group[format.FrameTest]{Type: "FrameDecode", Comment: g.comment}
		for _, c := range g.cases {
			var s Stream
			end := c.build(&s)
			limit := checkEnd(name, c.id, &s, end)
			t := format.FrameTest{
				Common: k.common(c.id, c.comment, c.rules, c.flags, result(name, c.id, end, c.lenient)),
				Input:  s.in,
				Frames: []format.Frame{},
			}
			var last int64
			for _, fr := range s.completeBefore(limit) {
				t.Frames = append(t.Frames, format.Frame{Type: typeHex(fr.typ), Final: fr.final, Length: fr.payload.Len(), Payload: fr.payload})
				last = fr.end
			}
			if end.Class == "" && last != s.Len() {
				panic(fmt.Sprintf("%s: tcId %d: a clean end must follow a complete frame", name, c.id))
			}
			setOutcome(&t.Outcome, end, s.payloadBefore(0, limit))
			if t.Result != format.Invalid {
				var enc format.Bytes
				for _, fr := range t.Frames {
					encodeFrame(&enc, typeByte(fr.Type), fr.Final, fr.Payload)
				}
				if end.Class == "reset" {
					enc.AppendLit(canonicalRST)
				}
				t.Encoded = &enc
			}
			grp.Tests = append(grp.Tests, t)
		}
		f.TestGroups = append(f.TestGroups, grp)
		f.NumberOfTests += len(grp.Tests)
	}
	f.Notes = k.notesOut()
	return f
}

// MessageFile builds message_decode.json.
func MessageFile() *format.File[format.MessageTest] {
	const name = "message_decode.json"
	k := newChecker(name, msgNotes)
	f := &format.File[format.MessageTest]{
		Algorithm: "framerpc-message-decode",
		Schema:    "message_decode.schema.json",
		Version:   Version,
		Header: []string{
			"Message layer of spec/PROTOCOL.md, sections 4 and 5: each input is a byte stream decoded as the messages listed in expect.",
			"encoded is the canonical split [MSG-3] of the decoded messages, as the reference writer produces it.",
			"See testvectors/README.md for the meaning of every field.",
		},
	}
	for _, g := range msgGroups {
		grp := format.Group[format.MessageTest]{Type: "MessageDecode", Comment: g.comment}
		for _, c := range g.cases {
			var s Stream
			end := c.build(&s)
			limit := checkEnd(name, c.id, &s, end)
			expect := splitHex(c.expect)
			t := format.MessageTest{
				Common:   k.common(c.id, c.comment, c.rules, c.flags, result(name, c.id, end, c.lenient)),
				Expect:   expect,
				Input:    s.in,
				Messages: []format.Message{},
			}
			// Group the complete frames before the end into messages
			// by their final flag [MSG-1].
			var open []frameRec
			var msgEnd int64
			for _, fr := range s.completeBefore(limit) {
				open = append(open, fr)
				if !fr.final {
					continue
				}
				var body format.Bytes
				for _, p := range open {
					if p.typ != fr.typ {
						panic(fmt.Sprintf("%s: tcId %d: a message of mixed types", name, c.id))
					}
					body.Append(p.payload)
				}
				i := len(t.Messages)
				if i >= len(expect) || expect[i] != typeHex(fr.typ) {
					panic(fmt.Sprintf("%s: tcId %d: message %d of type %02x not expected", name, c.id, i, fr.typ))
				}
				t.Messages = append(t.Messages, format.Message{Type: typeHex(fr.typ), Length: body.Len(), Body: body})
				open, msgEnd = nil, fr.end
			}
			if end.Class == "" {
				if len(open) > 0 || msgEnd != s.Len() {
					panic(fmt.Sprintf("%s: tcId %d: a clean end must be at a message boundary", name, c.id))
				}
			} else {
				if len(t.Messages) >= len(expect) {
					panic(fmt.Sprintf("%s: tcId %d: the error must happen while a message is expected", name, c.id))
				}
				for _, p := range open {
					if typeHex(p.typ) != expect[len(t.Messages)] {
						panic(fmt.Sprintf("%s: tcId %d: unfinished message of an unexpected type", name, c.id))
					}
				}
				t.EmittedFrames = ptr(int64(len(open)))
			}
			setOutcome(&t.Outcome, end, s.payloadBefore(msgEnd, limit))
			if t.Result != format.Invalid {
				var enc format.Bytes
				for _, m := range t.Messages {
					canonicalSplit(&enc, typeByte(m.Type), m.Body)
				}
				if end.Class == "reset" {
					enc.AppendLit(canonicalRST)
				}
				t.Encoded = &enc
			}
			grp.Tests = append(grp.Tests, t)
		}
		f.TestGroups = append(f.TestGroups, grp)
		f.NumberOfTests += len(grp.Tests)
	}
	f.Notes = k.notesOut()
	return f
}

// Render returns every generated file by its path relative to testvectors/.
func Render() (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, v := range map[string]any{
		"frame_decode.json":   FrameFile(),
		"message_decode.json": MessageFile(),
		"header_decode.json":  HeaderFile(),
		"conversations.json":  ConversationFile(),
	} {
		b, err := format.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}
