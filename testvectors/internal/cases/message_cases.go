package cases

import (
	"bytes"
	"strings"
)

// msgCase is one test of the message decode group. The decoder under test
// is told, at each message boundary, which message type the layer above
// expects (expect, space-separated hex bytes); it reads that message's body
// to its end, and after the last expected message it expects the stream to
// end. The frame checks of [FRAME-9] come first, then the message checks
// [MSG-4] and [MSG-7] in that order.
type msgCase struct {
	id      int
	comment string
	rules   []string
	flags   []string
	lenient bool
	expect  string
	build   func(s *Stream) End
}

type msgGroup struct {
	comment string
	cases   []msgCase
}

var (
	// pingBody is a JSON request body as Go's json.Encoder writes it.
	pingBody = []byte("{}\n")
	// okReply is a reply header in the original's field order.
	okReply = []byte(`{"Endpoint":"","DataType":2,"Accept":0,"Error":1,"ErrorMessage":""}` + "\n")
)

// frames writes body as frames of type t of the given payload sizes; the
// last one is final.
func frames(s *Stream, t byte, body []byte, sizes ...int) {
	for i, n := range sizes {
		s.Frame(t, i == len(sizes)-1, body[:n])
		body = body[n:]
	}
	if len(body) != 0 {
		panic("cases: frames sizes do not add up")
	}
}

// patFrames is frames with pattern payloads.
func patFrames(s *Stream, t byte, sizes ...int64) {
	for i, n := range sizes {
		s.FramePat(t, i == len(sizes)-1, n)
	}
}

func mismatch(id int, want, got byte) msgCase {
	return msgCase{id, "a " + typeName(got) + " frame where a " + typeName(want) + " message is expected: type-mismatch at 0, before its payload",
		rules("MSG-4"), flags("TypeMismatch", "FirstFrame"), false, typeHex(want),
		func(s *Stream) End { at := s.Head(got, 1, 3); s.Pay(abc); return Fail("type-mismatch", at) }}
}

func missingFinal(id int, t byte) msgCase {
	return msgCase{id, "a " + typeName(t) + " frame with final 00 and \"abc\", then end of stream: unexpected-eof at 9, the 3 bytes are not a complete body",
		rules("MSG-6", "ERR-2"), flags("MissingFinalFrame", "Truncated"), false, typeHex(t),
		func(s *Stream) End { s.Frame(t, false, abc); return EOF(s) }}
}

var msgGroups = []msgGroup{
	{
		comment: "Well-formed messages of every type: empty, single-frame, split in every way the frame rules allow, in sequence.",
		cases: []msgCase{
			{1, "empty Header message 01 01 00 00 00 00", rules("MSG-1", "MSG-3", "FRAME-10"), flags("EmptyMessage"), false, "01",
				func(s *Stream) End { s.Frame(tHeader, true, nil); return Clean() }},
			{2, "empty Data message 02 01 00 00 00 00, the original's empty body", rules("MSG-1", "MSG-3", "FRAME-10"), flags("EmptyMessage", "OriginalBytes"), false, "02",
				func(s *Stream) End { s.Frame(tData, true, nil); return Clean() }},
			{3, "empty Trailer message", rules("MSG-1", "MSG-3", "FRAME-10"), flags("EmptyMessage"), false, "03",
				func(s *Stream) End { s.Frame(tTrailer, true, nil); return Clean() }},
			{4, "the original's Ping request header, one frame (spec Appendix A)", rules("MSG-1"), flags("OriginalBytes"), false, "01",
				func(s *Stream) End { s.Frame(tHeader, true, pingHeader); return Clean() }},
			{5, "an original request: Ping header message, then the JSON body \"{}\\n\" as a Data message", rules("MSG-1"), flags("OriginalBytes", "MultipleMessages"), false, "01 02",
				func(s *Stream) End {
					s.Frame(tHeader, true, pingHeader)
					s.Frame(tData, true, pingBody)
					return Clean()
				}},
			{6, "an original-style OK reply header and a JSON reply body", rules("MSG-1"), flags("OriginalBytes", "MultipleMessages"), false, "01 02",
				func(s *Stream) End {
					s.Frame(tHeader, true, okReply)
					s.Frame(tData, true, []byte("{\"Pong\":true}\n"))
					return Clean()
				}},
			{7, "a Data body \"abcdef\" in two frames, 3 + 3", rules("MSG-1", "MSG-2"), flags("NonCanonicalSplit"), false, "02",
				func(s *Stream) End { frames(s, tData, abcdef, 3, 3); return Clean() }},
			{8, "a Data body \"abcdef\" in three frames, 1 + 4 + 1", rules("MSG-1", "MSG-2"), flags("NonCanonicalSplit"), false, "02",
				func(s *Stream) End { frames(s, tData, abcdef, 1, 4, 1); return Clean() }},
			{9, "a zero-length frame first, then the whole body", rules("MSG-2", "FRAME-10"), flags("NonCanonicalSplit", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End { frames(s, tData, abcdef, 0, 6); return Clean() }},
			{10, "a zero-length frame in the middle", rules("MSG-2", "FRAME-10"), flags("NonCanonicalSplit", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End { frames(s, tData, abcdef, 3, 0, 3); return Clean() }},
			{11, "the whole body with final 00, then an empty final frame", rules("MSG-2", "FRAME-10"), flags("NonCanonicalSplit", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End { frames(s, tData, abcdef, 6, 0); return Clean() }},
			{12, "zero-length frames before, between and after the payload frames", rules("MSG-2", "FRAME-10"), flags("NonCanonicalSplit", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End { frames(s, tData, abcdef, 0, 0, 2, 0, 4, 0); return Clean() }},
			{13, "three empty frames with final 00 and an empty final frame: an empty body", rules("MSG-2", "FRAME-10"), flags("NonCanonicalSplit", "ZeroLengthFrame", "EmptyMessage"), false, "02",
				func(s *Stream) End { frames(s, tData, nil, 0, 0, 0, 0); return Clean() }},
			{14, "the Ping header split after its first byte", rules("MSG-2"), flags("NonCanonicalSplit"), false, "01",
				func(s *Stream) End { frames(s, tHeader, pingHeader, 1, len(pingHeader)-1); return Clean() }},
			{15, "a Trailer body in two frames", rules("MSG-2"), flags("NonCanonicalSplit"), false, "03",
				func(s *Stream) End { frames(s, tTrailer, []byte(`{"Status":1}`), 5, 7); return Clean() }},
			{16, "a 300-byte Data body in 300 one-byte frames", rules("MSG-2"), flags("NonCanonicalSplit", "ManyFrames"), false, "02",
				func(s *Stream) End {
					sizes := make([]int, 300)
					for i := range sizes {
						sizes[i] = 1
					}
					frames(s, tData, bytes.Repeat([]byte("xyz"), 100), sizes...)
					return Clean()
				}},
			{17, "a 4096-byte Header body in 512 frames of 8 bytes", rules("MSG-2", "MSG-7"), flags("NonCanonicalSplit", "ManyFrames", "ControlLimit"), false, "01",
				func(s *Stream) End {
					sizes := make([]int64, 512)
					for i := range sizes {
						sizes[i] = 8
					}
					patFrames(s, tHeader, sizes...)
					return Clean()
				}},
			{18, "two exchanges' worth of messages: Header, Data, Header, Data", rules("MSG-1"), flags("MultipleMessages"), false, "01 02 01 02",
				func(s *Stream) End {
					s.Frame(tHeader, true, pingHeader)
					s.Frame(tData, true, pingBody)
					s.Frame(tHeader, true, okReply)
					s.Frame(tData, true, nil)
					return Clean()
				}},
			{19, "Header, Data and Trailer messages, the Data message in two frames", rules("MSG-1", "MSG-2"), flags("MultipleMessages", "NonCanonicalSplit"), false, "01 02 03",
				func(s *Stream) End {
					s.Frame(tHeader, true, []byte("{}\n"))
					frames(s, tData, abcdef, 2, 4)
					s.Frame(tTrailer, true, []byte("{}\n"))
					return Clean()
				}},
			{20, "empty stream where a Header message is expected: a clean end at a message boundary", rules("FRAME-6"), flags("EmptyStream"), false, "01",
				func(s *Stream) End { return Clean() }},
			{21, "a complete Header message, then end of stream where a Data message is expected: a message decoder reports the end at a message boundary; the RPC layer, which knows the Data message belongs to the exchange, turns it into unexpected-eof [ERR-3] (conversation 27)", rules("FRAME-6", "ERR-3"), flags("EmptyStream", "MultipleMessages"), false, "01 02",
				func(s *Stream) End { s.Frame(tHeader, true, pingHeader); return Clean() }},
			{22, "a Data message whose payload spells an RST and a Header frame", rules("MSG-1", "FRAME-1"), flags("PayloadLooksLikeHeader"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, true, append(append([]byte{}, canonicalRST...), header(tHeader, 1, 0)...))
					return Clean()
				}},
		},
	},
	{
		comment: "Header and Trailer messages around MAX_CONTROL (4096 bytes in total): message-too-large at the length field of the frame header that would take the body over 4096, before its payload is read.",
		cases: []msgCase{
			{100, "a 4096-byte Header body in one frame: the largest Header message", rules("MSG-7", "MSG-3"), flags("ControlLimit"), false, "01",
				func(s *Stream) End { s.FramePat(tHeader, true, maxControl); return Clean() }},
			{101, "a 4095-byte Header body", rules("MSG-7"), flags("ControlLimit"), false, "01",
				func(s *Stream) End { s.FramePat(tHeader, true, maxControl-1); return Clean() }},
			{102, "a 4096-byte Header body as 4095 + 1", rules("MSG-7", "MSG-2"), flags("ControlLimit", "NonCanonicalSplit"), false, "01",
				func(s *Stream) End { patFrames(s, tHeader, 4095, 1); return Clean() }},
			{103, "a 4096-byte Header body as 2048 + 2048 + an empty final frame", rules("MSG-7", "MSG-2"), flags("ControlLimit", "NonCanonicalSplit", "ZeroLengthFrame"), false, "01",
				func(s *Stream) End { patFrames(s, tHeader, 2048, 2048, 0); return Clean() }},
			{104, "a 4096-byte Trailer body", rules("MSG-7"), flags("ControlLimit"), false, "03",
				func(s *Stream) End { s.FramePat(tTrailer, true, maxControl); return Clean() }},
			{105, "01 01 01 10 00 00 and nothing else: message-too-large at 2 from the header alone (spec Appendix A)", rules("MSG-7", "FRAME-5"), flags("ControlLimit", "NoPayloadRead"), false, "01",
				func(s *Stream) End { return Fail("message-too-large", s.Head(tHeader, 1, maxControl+1)+2) }},
			{106, "a 4097-byte Header frame with its payload present: message-too-large at 2, payload not read", rules("MSG-7"), flags("ControlLimit"), false, "01",
				func(s *Stream) End {
					at := s.Head(tHeader, 1, maxControl+1)
					s.PayPat(maxControl + 1)
					return Fail("message-too-large", at+2)
				}},
			{107, "a 4097-byte Trailer frame: message-too-large at 2", rules("MSG-7"), flags("ControlLimit"), false, "03",
				func(s *Stream) End { return Fail("message-too-large", s.Head(tTrailer, 1, maxControl+1)+2) }},
			{108, "4096 bytes with final 00, then a 1-byte final frame: message-too-large at the second header's length field", rules("MSG-7"), flags("ControlLimit"), false, "01",
				func(s *Stream) End {
					s.FramePat(tHeader, false, maxControl)
					at := s.Head(tHeader, 1, 1)
					s.Pay([]byte("x"))
					return Fail("message-too-large", at+2)
				}},
			{109, "4000 bytes, then a frame declaring 97: message-too-large at the second header's length field", rules("MSG-7"), flags("ControlLimit"), false, "01",
				func(s *Stream) End {
					s.FramePat(tHeader, false, 4000)
					return Fail("message-too-large", s.Head(tHeader, 1, 97)+2)
				}},
			{110, "1 byte, then a frame declaring 4096: the total, not the frame, is limited", rules("MSG-7"), flags("ControlLimit"), false, "01",
				func(s *Stream) End {
					s.Frame(tHeader, false, []byte("{"))
					return Fail("message-too-large", s.Head(tHeader, 1, maxControl)+2)
				}},
			{111, "2048 + 2048 with final 00, then a frame declaring 1 byte", rules("MSG-7"), flags("ControlLimit"), false, "01",
				func(s *Stream) End {
					s.FramePat(tHeader, false, 2048)
					s.FramePat(tHeader, false, 2048)
					return Fail("message-too-large", s.Head(tHeader, 1, 1)+2)
				}},
			{112, "4096 bytes with final 00, then empty frames: an empty frame never exceeds the limit", rules("MSG-7", "MSG-2"), flags("ControlLimit", "ZeroLengthFrame", "NonCanonicalSplit"), false, "01",
				func(s *Stream) End { patFrames(s, tHeader, maxControl, 0, 0); return Clean() }},
			{113, "a Header frame declaring 4194304 bytes: a valid frame header, but message-too-large", rules("MSG-7", "FRAME-9"), flags("ControlLimit", "ValidationOrder"), false, "01",
				func(s *Stream) End { return Fail("message-too-large", s.Head(tHeader, 0, maxPayload)+2) }},
			{114, "a Header frame declaring 4194305 bytes: frame-too-large comes first", rules("FRAME-9", "FRAME-4", "MSG-7"), flags("ControlLimit", "ValidationOrder"), false, "01",
				func(s *Stream) End { return Fail("frame-too-large", s.Head(tHeader, 1, maxPayload+1)+2) }},
			{115, "a 4097-byte Data body: Data messages have no limit at this layer", rules("MSG-8"), flags("ControlLimit"), false, "02",
				func(s *Stream) End { s.FramePat(tData, true, maxControl+1); return Clean() }},
			{116, "a Trailer of 4000 bytes, then a frame declaring 97", rules("MSG-7"), flags("ControlLimit"), false, "03",
				func(s *Stream) End {
					s.FramePat(tTrailer, false, 4000)
					return Fail("message-too-large", s.Head(tTrailer, 1, 97)+2)
				}},
			{117, "01 02 01 10 00 00: bad-flag before message-too-large", rules("FRAME-9", "FRAME-3"), flags("ControlLimit", "ValidationOrder"), false, "01",
				func(s *Stream) End { return Fail("bad-flag", s.Head(tHeader, 2, maxControl+1)+1) }},
			{118, "a complete Data message, then a 4097-byte Trailer", rules("MSG-7"), flags("ControlLimit", "MultipleMessages"), false, "02 03",
				func(s *Stream) End {
					s.Frame(tData, true, abc)
					return Fail("message-too-large", s.Head(tTrailer, 1, maxControl+1)+2)
				}},
		},
	},
	{
		comment: "Large Data bodies, split canonically and not. The encoded bytes are always the canonical split of [MSG-3].",
		cases: []msgCase{
			{200, "a 4194304-byte body, canonical: a full frame with final 00, then an empty final frame", rules("MSG-3", "MSG-8", "FRAME-10"), flags("LargeBody", "OriginalBytes"), false, "02",
				func(s *Stream) End { patFrames(s, tData, maxPayload, 0); return Clean() }},
			{201, "an 8388618-byte body, canonical: 4194304 + 4194304 + 10 (the example of spec section 4)", rules("MSG-3", "MSG-8"), flags("LargeBody", "OriginalBytes"), false, "02",
				func(s *Stream) End { patFrames(s, tData, maxPayload, maxPayload, 10); return Clean() }},
			{202, "a 4194305-byte body as 1 + 4194304: accepted; re-encoded as 4194304 + 1", rules("MSG-2", "MSG-3"), flags("LargeBody", "NonCanonicalSplit"), false, "02",
				func(s *Stream) End { patFrames(s, tData, 1, maxPayload); return Clean() }},
			{203, "a 4194304-byte body in one final frame: accepted; re-encoded as a full frame and an empty final frame", rules("MSG-2", "MSG-3"), flags("LargeBody", "NonCanonicalSplit"), false, "02",
				func(s *Stream) End { s.FramePat(tData, true, maxPayload); return Clean() }},
			{204, "a 4194303-byte body in one final frame, canonical", rules("MSG-3"), flags("LargeBody"), false, "02",
				func(s *Stream) End { s.FramePat(tData, true, maxPayload-1); return Clean() }},
		},
	},
	{
		comment: "Streams that end inside a message: unexpected-eof, never the end of the body (the original's silent truncation, spec 11.1 row 4).",
		cases: []msgCase{
			missingFinal(300, tData),
			missingFinal(301, tHeader),
			missingFinal(302, tTrailer),
			{303, "an empty Data frame with final 00, then end of stream: unexpected-eof at 6", rules("MSG-6"), flags("MissingFinalFrame", "Truncated", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, nil); return EOF(s) }},
			{304, "three Data frames with final 00, then end of stream", rules("MSG-6"), flags("MissingFinalFrame", "Truncated"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, false, []byte("ab"))
					s.Frame(tData, false, []byte("cd"))
					s.Frame(tData, false, []byte("ef"))
					return EOF(s)
				}},
			{305, "a Data frame with final 00, then 3 bytes of the next header", rules("FRAME-6"), flags("Truncated", "TruncatedHeader"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, abc); s.Raw(header(tData, 1, 3)[:3]); return EOF(s) }},
			{306, "a Data frame with final 00, then a final frame declaring 3 bytes with 1 present", rules("FRAME-6"), flags("Truncated", "TruncatedPayload"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, abc); s.Cut(tData, true, 3, []byte("d")); return EOF(s) }},
			{307, "02 01 05 00 00 and end of stream: unexpected-eof at 5 (spec Appendix A)", rules("FRAME-6"), flags("Truncated", "TruncatedHeader"), false, "02",
				func(s *Stream) End { s.Raw(header(tData, 1, 5)[:5]); return EOF(s) }},
			{308, "a full 4194304-byte Data frame with final 00, then end of stream: the 4 MiB are not a complete body", rules("MSG-6", "ERR-2"), flags("MissingFinalFrame", "Truncated", "LargeBody", "OriginalDefect"), false, "02",
				func(s *Stream) End { s.FramePat(tData, false, maxPayload); return EOF(s) }},
			{309, "a complete Header message, then a Data frame with final 00 and end of stream", rules("MSG-6"), flags("MissingFinalFrame", "Truncated", "MultipleMessages"), false, "01 02",
				func(s *Stream) End { s.Frame(tHeader, true, pingHeader); s.Frame(tData, false, abc); return EOF(s) }},
			{310, "a lone 01 where a Header message is expected: unexpected-eof at 1", rules("FRAME-6"), flags("Truncated", "TruncatedHeader"), false, "01",
				func(s *Stream) End { s.Raw([]byte{tHeader}); return EOF(s) }},
			{311, "a Header frame of the Ping header cut after 40 payload bytes", rules("FRAME-6"), flags("Truncated", "TruncatedPayload"), false, "01",
				func(s *Stream) End { s.Cut(tHeader, true, uint32(len(pingHeader)), pingHeader[:40]); return EOF(s) }},
		},
	},
	{
		comment: "Frames of the wrong type: as the first frame where the layer above expects another type, and inside a message. type-mismatch at the type byte, before the payload.",
		cases: []msgCase{
			{400, "the original's Ping request header sent inside a Data frame, where a Header is expected: type-mismatch at 0 (the original answered it, spec 11.1 row 3)", rules("MSG-4"), flags("TypeMismatch", "FirstFrame", "OriginalDefect"), false, "01",
				func(s *Stream) End {
					at := s.Head(tData, 1, uint32(len(pingHeader)))
					s.Pay(pingHeader)
					return Fail("type-mismatch", at)
				}},
			mismatch(401, tData, tHeader),
			mismatch(402, tData, tTrailer),
			mismatch(403, tTrailer, tData),
			mismatch(404, tTrailer, tHeader),
			mismatch(405, tHeader, tTrailer),
			{406, "02 00 03 00 00 00 \"abc\" then a Header frame: type-mismatch at 9 (spec Appendix A)", rules("MSG-4", "MSG-1"), flags("TypeMismatch", "InsideMessage"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					at := s.Head(tHeader, 1, uint32(len(pingHeader)))
					s.Pay(pingHeader)
					return Fail("type-mismatch", at)
				}},
			{407, "a Header frame with final 00, then a Data frame", rules("MSG-4", "MSG-1"), flags("TypeMismatch", "InsideMessage"), false, "01",
				func(s *Stream) End {
					s.Frame(tHeader, false, []byte("{"))
					at := s.Head(tData, 1, 1)
					s.Pay([]byte("}"))
					return Fail("type-mismatch", at)
				}},
			{408, "a Data frame with final 00, then a Trailer frame", rules("MSG-4", "MSG-1"), flags("TypeMismatch", "InsideMessage"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					return Fail("type-mismatch", s.Head(tTrailer, 1, 0))
				}},
			{409, "empty Data frames with final 00, then an empty Header frame", rules("MSG-4", "MSG-1"), flags("TypeMismatch", "InsideMessage", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, false, nil)
					s.Frame(tData, false, nil)
					return Fail("type-mismatch", s.Head(tHeader, 1, 0))
				}},
			{410, "a Data frame declaring 4097 bytes where a Header is expected: type-mismatch, checked before message-too-large", rules("MSG-4", "MSG-7", "FRAME-9"), flags("TypeMismatch", "FirstFrame", "ValidationOrder"), false, "01",
				func(s *Stream) End { return Fail("type-mismatch", s.Head(tData, 1, maxControl+1)) }},
			{411, "a Data frame with final 02 where a Header is expected: bad-flag, a frame check, comes first", rules("FRAME-9", "FRAME-3", "MSG-4"), flags("TypeMismatch", "FirstFrame", "ValidationOrder"), false, "01",
				func(s *Stream) End { return Fail("bad-flag", s.Head(tData, 2, 0)+1) }},
			{412, "a Trailer frame declaring 4194305 bytes inside a Data message: frame-too-large comes first", rules("FRAME-9", "FRAME-4", "MSG-4"), flags("TypeMismatch", "InsideMessage", "ValidationOrder"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					return Fail("frame-too-large", s.Head(tTrailer, 1, maxPayload+1)+2)
				}},
			{413, "a complete Header message, then a Header frame where the Data message is expected", rules("MSG-4"), flags("TypeMismatch", "FirstFrame", "MultipleMessages"), false, "01 02",
				func(s *Stream) End {
					s.Frame(tHeader, true, pingHeader)
					at := s.Head(tHeader, 1, uint32(len(pingHeader)))
					s.Pay(pingHeader)
					return Fail("type-mismatch", at)
				}},
			{414, "a complete Header message, then a Data message interrupted by a Header frame", rules("MSG-4"), flags("TypeMismatch", "InsideMessage", "MultipleMessages"), false, "01 02",
				func(s *Stream) End {
					s.Frame(tHeader, true, pingHeader)
					s.Frame(tData, false, abc)
					s.Frame(tData, false, []byte("def"))
					return Fail("type-mismatch", s.Head(tHeader, 1, 0))
				}},
			{415, "a Header frame declaring 72 bytes where a Data message is expected, then end of stream: type-mismatch from the header alone", rules("MSG-4", "FRAME-5"), flags("TypeMismatch", "FirstFrame", "NoPayloadRead"), false, "02",
				func(s *Stream) End { return Fail("type-mismatch", s.Head(tHeader, 1, uint32(len(pingHeader)))) }},
		},
	},
	{
		comment: "RST where a message is expected and inside a message: reset at the RST, and the part of a body before it is never a complete body.",
		cases: []msgCase{
			{500, "canonical RST where a Header message is expected: reset at 0", rules("MSG-5", "FRAME-8"), flags("Rst"), false, "01",
				func(s *Stream) End { return Reset(s.RST()) }},
			{501, "a Data frame with final 00 and \"abc\", then RST: reset at 9; 3 bytes emitted, no complete body", rules("MSG-5", "ERR-2"), flags("Rst", "InsideMessage", "UnfinishedMessage"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, abc); return Reset(s.RST()) }},
			{502, "RST inside a Header message", rules("MSG-5"), flags("Rst", "InsideMessage", "UnfinishedMessage"), false, "01",
				func(s *Stream) End { s.Frame(tHeader, false, pingHeader[:20]); return Reset(s.RST()) }},
			{503, "a complete request (Header and Data), then RST where the next Header is expected: the original's hang-up", rules("MSG-5", "FRAME-7"), flags("Rst", "MultipleMessages", "OriginalBytes"), false, "01 02 01",
				func(s *Stream) End {
					s.Frame(tHeader, true, pingHeader)
					s.Frame(tData, true, pingBody)
					return Reset(s.RST())
				}},
			{504, "a non-canonical RST ff 00 03 00 00 00 inside a Data message, followed by 3 bytes that are not read", rules("MSG-5", "FRAME-8"), flags("NonCanonicalRst", "InsideMessage", "UnfinishedMessage", "BytesAfterRst"), true, "02",
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					at := s.Head(tRST, 0, 3)
					s.Raw([]byte("def"))
					return Reset(at)
				}},
			{505, "an empty Data frame with final 00, then RST", rules("MSG-5"), flags("Rst", "InsideMessage", "UnfinishedMessage", "ZeroLengthFrame"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, nil); return Reset(s.RST()) }},
			{506, "a full 4194304-byte Data frame with final 00, then RST: the 4 MiB are emitted but never a complete body", rules("MSG-5", "ERR-2"), flags("Rst", "InsideMessage", "UnfinishedMessage", "LargeBody"), false, "02",
				func(s *Stream) End { s.FramePat(tData, false, maxPayload); return Reset(s.RST()) }},
			{507, "ff 00 09 00 00 00 where a Data message is expected (spec Appendix A): reset at 0", rules("MSG-5", "FRAME-8"), flags("NonCanonicalRst", "BytesAfterRst"), true, "02",
				func(s *Stream) End { at := s.Head(tRST, 0, 9); s.Raw([]byte("123456789")); return Reset(at) }},
			{508, "RST inside a Trailer message", rules("MSG-5"), flags("Rst", "InsideMessage", "UnfinishedMessage"), false, "03",
				func(s *Stream) End { s.Frame(tTrailer, false, []byte("{")); return Reset(s.RST()) }},
			{509, "RST with a non-zero length inside a Header message, at the end of the stream", rules("MSG-5", "FRAME-8"), flags("NonCanonicalRst", "InsideMessage", "UnfinishedMessage"), true, "01",
				func(s *Stream) End { s.Frame(tHeader, false, []byte("{")); return Reset(s.Head(tRST, 1, 100)) }},
		},
	},
	{
		comment: "Frame errors met while a message is expected or under way: the frame checks of [FRAME-9] apply first, at the offsets of spec section 5.",
		cases: []msgCase{
			{600, "type 04 where a Data message is expected: unknown-type, not type-mismatch", rules("FRAME-2", "FRAME-9"), flags("UnknownType", "ValidationOrder"), false, "02",
				func(s *Stream) End { return Fail("unknown-type", s.Head(0x04, 1, 0)) }},
			{601, "type 04 inside a Data message", rules("FRAME-2"), flags("UnknownType", "InsideMessage"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, abc); return Fail("unknown-type", s.Head(0x04, 1, 0)) }},
			{602, "a Data frame with final 02 inside a Data message", rules("FRAME-3"), flags("BadFlag", "InsideMessage"), false, "02",
				func(s *Stream) End { s.Frame(tData, false, abc); return Fail("bad-flag", s.Head(tData, 2, 0)+1) }},
			{603, "a Data frame declaring 4194305 bytes inside a Data message", rules("FRAME-4"), flags("FrameTooLarge", "InsideMessage"), false, "02",
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					return Fail("frame-too-large", s.Head(tData, 1, maxPayload+1)+2)
				}},
			{604, "a complete Header message, then type 00 where a Data message is expected", rules("FRAME-2"), flags("UnknownType", "MultipleMessages"), false, "01 02",
				func(s *Stream) End { s.Frame(tHeader, true, pingHeader); return Fail("unknown-type", s.Head(0, 0, 0)) }},
			{605, "an HTTP request where a Header message is expected", rules("FRAME-2"), flags("UnknownType", "PeerNotFramerpc"), false, "01",
				func(s *Stream) End { return Fail("unknown-type", s.Raw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))) }},
		},
	},
}

// msgNotes explains the flags of message_decode.json.
var msgNotes = map[string]note{
	"EmptyMessage":           {"EDGE_CASE", "A message with an empty body; canonically the single frame TT 01 00 00 00 00 [MSG-3]."},
	"EmptyStream":            {"EDGE_CASE", "The stream ends at a message boundary: the message decoder reports a clean end, even if the layer above expected another message; whether that is a clean end of the connection is the layer above's to say [ERR-3]."},
	"OriginalBytes":          {"LEGACY", "Bytes exactly as the original zrepl implementation wrote them; a conforming receiver must accept them (spec section 11)."},
	"OriginalDefect":         {"KNOWN_DEFECT", "Input that the original mishandled; the vector holds the corrected behaviour of spec section 11.1."},
	"MultipleMessages":       {"BASIC", "Several messages back to back."},
	"NonCanonicalSplit":      {"EDGE_CASE", "A body split otherwise than [MSG-3] says; a receiver must deliver the same body whatever the split [MSG-2]. The encoded field holds the canonical split, which differs from the input."},
	"ZeroLengthFrame":        {"EDGE_CASE", "A zero-length frame inside a message, which completes with its header [FRAME-10] and adds nothing to the body [MSG-2]."},
	"ManyFrames":             {"EDGE_CASE", "Hundreds of small frames in one message."},
	"ControlLimit":           {"EDGE_CASE", "A Header or Trailer body around MAX_CONTROL, 4096 bytes [MSG-7]."},
	"NoPayloadRead":          {"MALFORMED", "The error is decided from the frame header alone, before any payload is read, even when the stream ends right after the header."},
	"ValidationOrder":        {"MALFORMED", "Several checks fail at once; the first in the order of [FRAME-9] (frame checks, then [MSG-4], then [MSG-7]) is reported."},
	"LargeBody":              {"EDGE_CASE", "A body of MAX_PAYLOAD bytes or more, described by a pattern (README: Byte strings)."},
	"MissingFinalFrame":      {"TRUNCATED", "The stream ends at a frame boundary inside a message, after a frame with final 00 [MSG-6]."},
	"Truncated":              {"TRUNCATED", "The stream ends inside a message: unexpected-eof, never the end of the body [ERR-2]."},
	"TruncatedHeader":        {"TRUNCATED", "The stream ends after 1 to 5 bytes of a frame header."},
	"TruncatedPayload":       {"TRUNCATED", "The stream ends inside a payload."},
	"TypeMismatch":           {"MALFORMED", "A frame of another message type than the one expected [MSG-4]."},
	"FirstFrame":             {"MALFORMED", "The wrong frame is the first of the message the layer above expects."},
	"InsideMessage":          {"MALFORMED", "The event happens after a frame with final 00, inside a message."},
	"Rst":                    {"BASIC", "A canonical RST: the peer hung up. The outcome is errorClass reset at the RST's offset; a partial body is never complete [MSG-5]."},
	"NonCanonicalRst":        {"LENIENCY", "A frame of type ff whose final byte is not 01 or whose length is not 0, honoured as RST without reading a payload [FRAME-8]. The encoded field holds the canonical RST."},
	"BytesAfterRst":          {"LENIENCY", "Bytes follow an RST; the receiver must not read them [FRAME-8]. The encoded field ends with the RST."},
	"UnfinishedMessage":      {"TRUNCATED", "An RST interrupts a message: its frames before the RST form no message [MSG-5], so the encoded field leaves them out and differs from the input."},
	"UnknownType":            {"MALFORMED", "A type byte other than 01 02 03 ff [FRAME-2]."},
	"BadFlag":                {"MALFORMED", "A final byte other than 00 and 01 [FRAME-3]."},
	"FrameTooLarge":          {"MALFORMED", "A length above 4194304 [FRAME-4]."},
	"PeerNotFramerpc":        {"MALFORMED", "The peer speaks another protocol."},
	"PayloadLooksLikeHeader": {"EDGE_CASE", "A payload whose bytes spell frame headers; it is body, nothing else."},
}

func splitHex(s string) []string { return strings.Fields(s) }
