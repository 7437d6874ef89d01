package cases

import "bytes"

// frameCase is one test of the frame decode group. The decoder under test
// reads frame after frame, checking each header as [FRAME-9] orders, until
// the stream ends or an error (RST included) stops it. It knows nothing of
// messages: the message rules are the message group's.
type frameCase struct {
	id      int
	comment string
	rules   []string
	flags   []string
	// lenient marks an input no conforming sender writes but whose outcome
	// the spec fixes as a leniency: result "acceptable".
	lenient bool
	build   func(s *Stream) End
}

type frameGroup struct {
	comment string
	cases   []frameCase
}

func rules(ids ...string) []string { return ids }
func flags(f ...string) []string   { return f }

// Frequently used payloads.
var (
	abc    = []byte("abc")
	abcdef = []byte("abcdef")
	// pingHeader is the original's request header of SEED-WIRE.md and
	// spec Appendix A: 71 bytes of JSON and a newline.
	pingHeader = []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n")
)

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// unknownType builds a case for a type byte outside 01 02 03 ff.
func unknownType(id int, t byte, why string) frameCase {
	return frameCase{id, "type byte " + typeHex(t) + " (" + why + "): unknown-type at the type byte",
		rules("FRAME-2"), flags("UnknownType"), false,
		func(s *Stream) End { return Fail("unknown-type", s.Head(t, 1, 0)) }}
}

// badFlag builds a case for a final byte above 01 on a message type.
func badFlag(id int, t, flag byte) frameCase {
	return frameCase{id, "final byte " + typeHex(flag) + " on a " + typeName(t) + " frame: bad-flag at frame start + 1",
		rules("FRAME-3"), flags("BadFlag"), false,
		func(s *Stream) End { return Fail("bad-flag", s.Head(t, flag, 0)+1) }}
}

// tooLarge builds a case for a length above 4194304; the header is the
// whole input, as [FRAME-4] forbids reading a payload for it.
func tooLarge(id int, t byte, final bool, length uint32, why string) frameCase {
	return frameCase{id, typeName(t) + " frame declaring " + itoa(int64(length)) + " bytes (" + why + "): frame-too-large at the length field",
		rules("FRAME-4"), flags("FrameTooLarge", "BoundaryLength"), false,
		func(s *Stream) End { return Fail("frame-too-large", s.Head(t, flagByte(final), length)+2) }}
}

// truncatedData cuts the 12-byte frame 02 01 06 00 00 00 "abcdef" after n
// bytes (1 <= n <= 11).
func truncatedData(id int, n int) frameCase {
	full := append(header(tData, 1, 6), abcdef...)
	where, flag := "inside the frame header", "TruncatedHeader"
	if n >= headerSize {
		where, flag = "inside the payload", "TruncatedPayload"
	}
	return frameCase{id, "02 01 06 00 00 00 \"abcdef\" cut after " + itoa(int64(n)) + " bytes, " + where + ": unexpected-eof at " + itoa(int64(n)),
		rules("FRAME-6"), flags("Truncated", flag), false,
		func(s *Stream) End {
			if n < headerSize {
				s.Raw(full[:n])
			} else {
				s.Cut(tData, true, 6, abcdef[:n-headerSize])
			}
			return EOF(s)
		}}
}

func typeName(t byte) string {
	switch t {
	case tHeader:
		return "Header"
	case tData:
		return "Data"
	case tTrailer:
		return "Trailer"
	case tRST:
		return "RST"
	}
	return "type " + typeHex(t)
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

var frameGroups = []frameGroup{
	{
		comment: "Well-formed frames of every message type, final or not, alone and in sequence.",
		cases: []frameCase{
			{1, "empty stream: ends cleanly before any frame header", rules("FRAME-6"), flags("EmptyStream"), false,
				func(s *Stream) End { return Clean() }},
			{2, "empty final Header frame; complete with its 6-byte header", rules("FRAME-1", "FRAME-10"), flags("ZeroLength"), false,
				func(s *Stream) End { s.Frame(tHeader, true, nil); return Clean() }},
			{3, "empty final Data frame, the original's empty body", rules("FRAME-1", "FRAME-10"), flags("ZeroLength", "OriginalBytes"), false,
				func(s *Stream) End { s.Frame(tData, true, nil); return Clean() }},
			{4, "empty final Trailer frame", rules("FRAME-1", "FRAME-10"), flags("ZeroLength"), false,
				func(s *Stream) End { s.Frame(tTrailer, true, nil); return Clean() }},
			{5, "empty Header frame with final 00", rules("FRAME-1", "FRAME-10"), flags("ZeroLength", "NotFinal"), false,
				func(s *Stream) End { s.Frame(tHeader, false, nil); return Clean() }},
			{6, "empty Data frame with final 00", rules("FRAME-1", "FRAME-10"), flags("ZeroLength", "NotFinal"), false,
				func(s *Stream) End { s.Frame(tData, false, nil); return Clean() }},
			{7, "empty Trailer frame with final 00", rules("FRAME-1", "FRAME-10"), flags("ZeroLength", "NotFinal"), false,
				func(s *Stream) End { s.Frame(tTrailer, false, nil); return Clean() }},
			{8, "final Header frame with a 1-byte payload", rules("FRAME-1"), nil, false,
				func(s *Stream) End { s.Frame(tHeader, true, []byte("{")); return Clean() }},
			{9, "final Data frame with the 1-byte payload 00", rules("FRAME-1"), nil, false,
				func(s *Stream) End { s.Frame(tData, true, []byte{0}); return Clean() }},
			{10, "final Trailer frame with a 1-byte payload", rules("FRAME-1"), nil, false,
				func(s *Stream) End { s.Frame(tTrailer, true, []byte("}")); return Clean() }},
			{11, "Header frame, final 00, payload \"abc\"", rules("FRAME-1"), flags("NotFinal"), false,
				func(s *Stream) End { s.Frame(tHeader, false, abc); return Clean() }},
			{12, "Data frame, final 00, payload \"abc\"", rules("FRAME-1"), flags("NotFinal"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); return Clean() }},
			{13, "Trailer frame, final 00, payload \"abc\"", rules("FRAME-1"), flags("NotFinal"), false,
				func(s *Stream) End { s.Frame(tTrailer, false, abc); return Clean() }},
			{14, "the original's Ping request header frame, 01 01 48 00 00 00 and 72 bytes (spec Appendix A)", rules("FRAME-1"), flags("OriginalBytes"), false,
				func(s *Stream) End { s.Frame(tHeader, true, pingHeader); return Clean() }},
			{15, "a Header, a Data and a Trailer frame back to back: each header starts right after the previous payload", rules("FRAME-1"), flags("MultipleFrames"), false,
				func(s *Stream) End {
					s.Frame(tHeader, true, []byte("{}\n"))
					s.Frame(tData, true, abcdef)
					s.Frame(tTrailer, true, []byte("{}\n"))
					return Clean()
				}},
			{16, "two Data frames, final 00 then 01", rules("FRAME-1"), flags("MultipleFrames", "NotFinal"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); s.Frame(tData, true, []byte("def")); return Clean() }},
			{17, "ten empty Data frames with final 00, then an empty final one: each completes with its header", rules("FRAME-1", "FRAME-10"), flags("MultipleFrames", "ZeroLength", "NotFinal"), false,
				func(s *Stream) End {
					for range 10 {
						s.Frame(tData, false, nil)
					}
					s.Frame(tData, true, nil)
					return Clean()
				}},
			{18, "a Data payload that spells a canonical RST is payload, not a frame", rules("FRAME-1", "FRAME-8"), flags("PayloadLooksLikeHeader"), false,
				func(s *Stream) End { s.Frame(tData, true, canonicalRST); return Clean() }},
			{19, "a Data payload that spells a frame header (02 01 05 00 00 00) is payload", rules("FRAME-1"), flags("PayloadLooksLikeHeader"), false,
				func(s *Stream) End { s.Frame(tData, true, header(tData, 1, 5)); return Clean() }},
			{20, "a Data payload of all 256 byte values; length 00 01 00 00", rules("FRAME-1"), flags("ByteOrder"), false,
				func(s *Stream) End { s.Frame(tData, true, allBytes()); return Clean() }},
			{21, "mixed frame types with final 00 in sequence: valid at the frame layer, which does not group frames into messages", rules("FRAME-1"), flags("MultipleFrames", "NotFinal", "FrameLayerOnly"), false,
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					s.Frame(tHeader, false, abc)
					s.Frame(tTrailer, false, abc)
					return Clean()
				}},
		},
	},
	{
		comment: "Payload lengths at the boundaries of the u32le length field and of MAX_PAYLOAD (4194304).",
		cases: []frameCase{
			{100, "length 1: 01 00 00 00", rules("FRAME-1"), flags("BoundaryLength"), false,
				func(s *Stream) End { s.Frame(tData, true, []byte{0x5a}); return Clean() }},
			{101, "length 255: ff 00 00 00", rules("FRAME-1"), flags("BoundaryLength", "ByteOrder"), false,
				func(s *Stream) End { s.FramePat(tData, true, 255); return Clean() }},
			{102, "length 256: 00 01 00 00, 1 in a big-endian reading of the low bytes", rules("FRAME-1"), flags("BoundaryLength", "ByteOrder"), false,
				func(s *Stream) End { s.FramePat(tData, true, 256); return Clean() }},
			{103, "length 65535: ff ff 00 00", rules("FRAME-1"), flags("BoundaryLength", "ByteOrder", "LargePayload"), false,
				func(s *Stream) End { s.FramePat(tData, true, 65535); return Clean() }},
			{104, "length 65536: 00 00 01 00", rules("FRAME-1"), flags("BoundaryLength", "ByteOrder", "LargePayload"), false,
				func(s *Stream) End { s.FramePat(tData, true, 65536); return Clean() }},
			{105, "length 4194303 (ff ff 3f 00), one below MAX_PAYLOAD", rules("FRAME-1", "FRAME-4"), flags("BoundaryLength", "LargePayload"), false,
				func(s *Stream) End { s.FramePat(tData, true, maxPayload-1); return Clean() }},
			{106, "length 4194304 (00 00 40 00), exactly MAX_PAYLOAD, final", rules("FRAME-1", "FRAME-4"), flags("BoundaryLength", "LargePayload"), false,
				func(s *Stream) End { s.FramePat(tData, true, maxPayload); return Clean() }},
			{107, "a full 4194304-byte Data frame with final 00, then an empty final frame: the original's frames for a 4 MiB body", rules("FRAME-1", "FRAME-4", "FRAME-10"), flags("BoundaryLength", "LargePayload", "NotFinal", "OriginalBytes"), false,
				func(s *Stream) End { s.FramePat(tData, false, maxPayload); s.Frame(tData, true, nil); return Clean() }},
			{108, "Header frame of 4096 bytes (MAX_CONTROL)", rules("FRAME-1"), flags("BoundaryLength"), false,
				func(s *Stream) End { s.FramePat(tHeader, true, maxControl); return Clean() }},
			{109, "Header frame of 4097 bytes: the 4096-byte limit is a message rule [MSG-7], not a frame rule", rules("FRAME-1", "FRAME-4"), flags("BoundaryLength", "FrameLayerOnly"), false,
				func(s *Stream) End { s.FramePat(tHeader, true, maxControl+1); return Clean() }},
			{110, "Trailer frame of 4097 bytes: valid at the frame layer", rules("FRAME-1", "FRAME-4"), flags("BoundaryLength", "FrameLayerOnly"), false,
				func(s *Stream) End { s.FramePat(tTrailer, true, maxControl+1); return Clean() }},
			{111, "length 65537: 01 00 01 00, two non-adjacent bytes of the field set", rules("FRAME-1"), flags("BoundaryLength", "ByteOrder", "LargePayload"), false,
				func(s *Stream) End { s.FramePat(tData, true, 65537); return Clean() }},
		},
	},
	{
		comment: "RST, canonical and not. A receiver treats every frame of type ff as RST whatever its other bytes say, reads no payload for it and nothing after it.",
		cases: []frameCase{
			{200, "canonical RST ff 01 00 00 00 00: reset at 0", rules("FRAME-7", "FRAME-8"), flags("Rst"), false,
				func(s *Stream) End { return Reset(s.RST()) }},
			{201, "a Data frame, then RST: reset at the RST's type byte", rules("FRAME-7", "FRAME-8"), flags("Rst"), false,
				func(s *Stream) End { s.Frame(tData, true, abc); return Reset(s.RST()) }},
			{202, "a Data frame with final 00, then RST (a sender giving up half-way): reset", rules("FRAME-8"), flags("Rst", "NotFinal"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); return Reset(s.RST()) }},
			{203, "canonical RST followed by a whole Data frame the sender must not have sent: reset at 0, the frame is never read", rules("FRAME-7", "FRAME-8"), flags("Rst", "BytesAfterRst"), true,
				func(s *Stream) End {
					at := s.RST()
					s.Raw(append(header(tData, 1, 3), abc...))
					return Reset(at)
				}},
			{204, "non-canonical RST, final 00: ff 00 00 00 00 00", rules("FRAME-8"), flags("NonCanonicalRst"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 0, 0)) }},
			{205, "non-canonical RST, final 02: RST is recognized before the flag is checked", rules("FRAME-8", "FRAME-9"), flags("NonCanonicalRst", "ValidationOrder"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 2, 0)) }},
			{206, "non-canonical RST, final ff", rules("FRAME-8", "FRAME-9"), flags("NonCanonicalRst"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 0xff, 0)) }},
			{207, "non-canonical RST declaring 9 bytes, followed by 9 bytes: no payload is read for an RST", rules("FRAME-8"), flags("NonCanonicalRst", "BytesAfterRst"), true,
				func(s *Stream) End {
					at := s.Head(tRST, 1, 9)
					s.Raw([]byte("123456789"))
					return Reset(at)
				}},
			{208, "non-canonical RST declaring 5 bytes, then end of stream: reset, not unexpected-eof", rules("FRAME-8", "FRAME-6"), flags("NonCanonicalRst"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 1, 5)) }},
			{209, "non-canonical RST declaring ffffffff bytes: reset, not frame-too-large", rules("FRAME-8", "FRAME-9"), flags("NonCanonicalRst", "ValidationOrder"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 1, 0xffffffff)) }},
			{210, "non-canonical RST declaring 4194305 bytes", rules("FRAME-8", "FRAME-9"), flags("NonCanonicalRst", "ValidationOrder"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 1, maxPayload+1)) }},
			{211, "ff ff ff ff ff ff: an RST with every other field invalid", rules("FRAME-8", "FRAME-9"), flags("NonCanonicalRst", "ValidationOrder"), true,
				func(s *Stream) End { return Reset(s.Head(tRST, 0xff, 0xffffffff)) }},
			{212, "ff 00 09 00 00 00 and its 9 declared bytes (spec Appendix A): reset at 0", rules("FRAME-8"), flags("NonCanonicalRst", "BytesAfterRst"), true,
				func(s *Stream) End {
					at := s.Head(tRST, 0, 9)
					s.Raw([]byte("ignore me"))
					return Reset(at)
				}},
			{213, "two canonical RSTs: the first ends the stream", rules("FRAME-7", "FRAME-8"), flags("Rst", "BytesAfterRst"), true,
				func(s *Stream) End { at := s.RST(); s.RST(); return Reset(at) }},
			{214, "an empty Data frame, then RST", rules("FRAME-8", "FRAME-10"), flags("Rst", "ZeroLength"), false,
				func(s *Stream) End { s.Frame(tData, false, nil); return Reset(s.RST()) }},
			{215, "RST followed by an invalid header: never read, so no other error", rules("FRAME-8"), flags("Rst", "BytesAfterRst"), true,
				func(s *Stream) End { at := s.RST(); s.Head(0x07, 0x05, 0xffffffff); return Reset(at) }},
		},
	},
	{
		comment: "Type bytes other than 01 02 03 ff: unknown-type at the type byte, decided from the header alone.",
		cases: []frameCase{
			unknownType(300, 0x00, "zero"),
			unknownType(301, 0x04, "the value after Trailer"),
			unknownType(302, 0x05, "small"),
			unknownType(303, 0x0f, "low nibble set"),
			unknownType(304, 0x10, "high nibble set"),
			unknownType(305, 0x7f, "largest without the top bit"),
			unknownType(306, 0x80, "top bit alone"),
			unknownType(307, 0x81, "Header with the top bit set"),
			unknownType(308, 0xfe, "one below RST"),
			unknownType(309, 0xf1, "RST with bits cleared"),
			{310, "an SSH server's banner instead of framerpc: unknown-type 53 at 0", rules("FRAME-2"), flags("UnknownType", "PeerNotFramerpc"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Raw([]byte("SSH-2.0-OpenSSH_9.6\r\n"))) }},
			{311, "an HTTP response instead of framerpc: unknown-type 48 at 0", rules("FRAME-2"), flags("UnknownType", "PeerNotFramerpc"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Raw([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))) }},
			{312, "an unframed JSON request header: unknown-type 7b at 0", rules("FRAME-2"), flags("UnknownType", "PeerNotFramerpc"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Raw(pingHeader)) }},
			{313, "six zero bytes", rules("FRAME-2"), flags("UnknownType"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Head(0, 0, 0)) }},
			{314, "a valid Data frame, then type 04: unknown-type at the second frame's type byte", rules("FRAME-2", "FRAME-1"), flags("UnknownType", "MultipleFrames"), false,
				func(s *Stream) End { s.Frame(tData, true, abc); return Fail("unknown-type", s.Head(0x04, 1, 0)) }},
			{315, "type 09 declaring 10 bytes, then end of stream: unknown-type from the header alone, not unexpected-eof", rules("FRAME-2", "FRAME-5"), flags("UnknownType", "NoPayloadRead"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Head(0x09, 1, 10)) }},
			{316, "type 09 declaring 3 bytes, followed by them: error at the type byte, payload not read", rules("FRAME-2", "FRAME-5"), flags("UnknownType", "NoPayloadRead"), false,
				func(s *Stream) End { at := s.Head(0x09, 1, 3); s.Pay(abc); return Fail("unknown-type", at) }},
			{317, "an empty Data frame with final 00, then type 0a", rules("FRAME-2"), flags("UnknownType", "ZeroLength"), false,
				func(s *Stream) End { s.Frame(tData, false, nil); return Fail("unknown-type", s.Head(0x0a, 0, 0)) }},
		},
	},
	{
		comment: "Final bytes other than 00 and 01 on message types: bad-flag at the final byte (frame start + 1). The original took any non-zero value as true; framerpc rejects them (spec 11.1 row 1).",
		cases: []frameCase{
			badFlag(400, tData, 0x02),
			badFlag(401, tData, 0x03),
			badFlag(402, tData, 0x10),
			badFlag(403, tData, 0x7f),
			badFlag(404, tData, 0x80),
			badFlag(405, tData, 0xfe),
			badFlag(406, tData, 0xff),
			badFlag(407, tHeader, 0x02),
			badFlag(408, tTrailer, 0x02),
			badFlag(409, tHeader, 0xff),
			{410, "the original's Ping header frame with final ff, which the original read as final: bad-flag at 1", rules("FRAME-3"), flags("BadFlag", "OriginalLenient"), false,
				func(s *Stream) End {
					at := s.Head(tHeader, 0xff, uint32(len(pingHeader)))
					s.Pay(pingHeader)
					return Fail("bad-flag", at+1)
				}},
			{411, "a valid frame, then a Data frame with final 02: bad-flag at the second frame's start + 1", rules("FRAME-3"), flags("BadFlag", "MultipleFrames"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); return Fail("bad-flag", s.Head(tData, 2, 0)+1) }},
			{412, "final 02 on a frame declaring 5 bytes, then end of stream: bad-flag from the header alone", rules("FRAME-3", "FRAME-5"), flags("BadFlag", "NoPayloadRead"), false,
				func(s *Stream) End { return Fail("bad-flag", s.Head(tData, 2, 5)+1) }},
		},
	},
	{
		comment: "Lengths above MAX_PAYLOAD: frame-too-large at the length field (frame start + 2), with no payload read or allocated.",
		cases: []frameCase{
			tooLarge(500, tData, true, maxPayload+1, "MAX_PAYLOAD + 1, spec Appendix A"),
			tooLarge(501, tHeader, true, maxPayload+1, "MAX_PAYLOAD + 1"),
			tooLarge(502, tTrailer, true, maxPayload+1, "MAX_PAYLOAD + 1"),
			tooLarge(503, tData, false, maxPayload+1, "MAX_PAYLOAD + 1, final 00"),
			tooLarge(504, tData, true, 0x00800000, "8 MiB"),
			tooLarge(505, tData, true, 0x01000000, "2^24, only the fourth byte set"),
			tooLarge(506, tData, true, 0x7fffffff, "largest signed 32-bit value"),
			tooLarge(507, tData, true, 0x80000000, "negative as a signed 32-bit value"),
			tooLarge(508, tData, true, 0xffffffff, "largest u32, -1 as signed"),
			tooLarge(509, tData, true, 0x00400100, "MAX_PAYLOAD + 256"),
			{510, "a valid frame, then a Data frame declaring 4194305 bytes: frame-too-large at its start + 2", rules("FRAME-4"), flags("FrameTooLarge", "MultipleFrames"), false,
				func(s *Stream) End {
					s.Frame(tData, false, abc)
					return Fail("frame-too-large", s.Head(tData, 1, maxPayload+1)+2)
				}},
			{511, "a Data frame declaring 4194305 bytes followed by 16 of them: none is read", rules("FRAME-4", "FRAME-5"), flags("FrameTooLarge", "NoPayloadRead"), false,
				func(s *Stream) End {
					at := s.Head(tData, 1, maxPayload+1)
					s.Pay(bytes.Repeat([]byte{0xaa}, 16))
					return Fail("frame-too-large", at+2)
				}},
		},
	},
	{
		comment: "Headers with several invalid fields: only the first failing check in the order of [FRAME-9] is reported.",
		cases: []frameCase{
			{600, "07 05 ff ff ff ff: unknown-type at 0 (spec 3.2 example)", rules("FRAME-9", "FRAME-2"), flags("ValidationOrder", "UnknownType"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Head(0x07, 0x05, 0xffffffff)) }},
			{601, "01 05 ff ff ff ff: bad-flag at 1 (spec 3.2 example)", rules("FRAME-9", "FRAME-3"), flags("ValidationOrder", "BadFlag"), false,
				func(s *Stream) End { return Fail("bad-flag", s.Head(tHeader, 0x05, 0xffffffff)+1) }},
			{602, "00 00 ff ff ff ff: unknown-type before anything about the length", rules("FRAME-9", "FRAME-2"), flags("ValidationOrder", "UnknownType"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Head(0, 0, 0xffffffff)) }},
			{603, "02 02 01 00 40 00: bad-flag before frame-too-large", rules("FRAME-9", "FRAME-3"), flags("ValidationOrder", "BadFlag"), false,
				func(s *Stream) End { return Fail("bad-flag", s.Head(tData, 0x02, maxPayload+1)+1) }},
			{604, "03 ff ff ff ff ff: bad-flag on a Trailer frame before its length", rules("FRAME-9", "FRAME-3"), flags("ValidationOrder", "BadFlag"), false,
				func(s *Stream) End { return Fail("bad-flag", s.Head(tTrailer, 0xff, 0xffffffff)+1) }},
			{605, "fe 01 01 00 40 00: unknown-type before frame-too-large", rules("FRAME-9", "FRAME-2"), flags("ValidationOrder", "UnknownType"), false,
				func(s *Stream) End { return Fail("unknown-type", s.Head(0xfe, 1, maxPayload+1)) }},
		},
	},
	{
		comment: "Streams that end inside a frame: unexpected-eof at the stream's length, never a clean end; one case per position class.",
		cases: []frameCase{
			truncatedData(700, 1),
			truncatedData(701, 2),
			truncatedData(702, 3),
			truncatedData(703, 4),
			truncatedData(704, 5),
			truncatedData(705, 6),
			truncatedData(706, 7),
			truncatedData(707, 11),
			{708, "a Header frame declaring 72 bytes with 10 present", rules("FRAME-6"), flags("Truncated", "TruncatedPayload"), false,
				func(s *Stream) End { s.Cut(tHeader, true, uint32(len(pingHeader)), pingHeader[:10]); return EOF(s) }},
			{709, "a Trailer frame header cut after 3 bytes", rules("FRAME-6"), flags("Truncated", "TruncatedHeader"), false,
				func(s *Stream) End { s.Raw(header(tTrailer, 1, 0)[:3]); return EOF(s) }},
			{710, "a complete frame, then 1 byte of the next header", rules("FRAME-6"), flags("Truncated", "TruncatedHeader", "MultipleFrames"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); s.Raw([]byte{tData}); return EOF(s) }},
			{711, "a complete frame, then 5 bytes of the next header", rules("FRAME-6"), flags("Truncated", "TruncatedHeader", "MultipleFrames"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); s.Raw(header(tData, 1, 3)[:5]); return EOF(s) }},
			{712, "a complete frame, then a frame declaring 6 bytes with 2 present", rules("FRAME-6"), flags("Truncated", "TruncatedPayload", "MultipleFrames"), false,
				func(s *Stream) End { s.Frame(tData, false, abc); s.Cut(tData, true, 6, []byte("de")); return EOF(s) }},
			{713, "a lone ff: the header is incomplete, so unexpected-eof at 1, not reset", rules("FRAME-6", "FRAME-8"), flags("Truncated", "TruncatedHeader", "Rst"), false,
				func(s *Stream) End { s.Raw([]byte{tRST}); return EOF(s) }},
			{714, "ff 01 00 00 00: an RST cut one byte short", rules("FRAME-6", "FRAME-8"), flags("Truncated", "TruncatedHeader", "Rst"), false,
				func(s *Stream) End { s.Raw(canonicalRST[:5]); return EOF(s) }},
			{715, "a lone 07: an incomplete header is unexpected-eof even with an unknown type byte", rules("FRAME-6", "FRAME-5"), flags("Truncated", "TruncatedHeader", "UnknownType"), false,
				func(s *Stream) End { s.Raw([]byte{0x07}); return EOF(s) }},
			{716, "02 05 00: an incomplete header with a bad final byte", rules("FRAME-6", "FRAME-5"), flags("Truncated", "TruncatedHeader", "BadFlag"), false,
				func(s *Stream) End { s.Raw([]byte{tData, 0x05, 0x00}); return EOF(s) }},
			{717, "02 01 01 00 40: an incomplete header whose length would be too large", rules("FRAME-6", "FRAME-5"), flags("Truncated", "TruncatedHeader", "FrameTooLarge"), false,
				func(s *Stream) End { s.Raw(header(tData, 1, maxPayload+1)[:5]); return EOF(s) }},
			{718, "a 4194304-byte Data frame with one byte missing", rules("FRAME-6"), flags("Truncated", "TruncatedPayload", "LargePayload"), false,
				func(s *Stream) End { s.CutPat(tData, true, maxPayload, maxPayload-1); return EOF(s) }},
			{719, "a Data frame with final 00 declaring 3 bytes, cut after 1", rules("FRAME-6"), flags("Truncated", "TruncatedPayload", "NotFinal"), false,
				func(s *Stream) End { s.Cut(tData, false, 3, []byte("a")); return EOF(s) }},
		},
	},
}

// frameNotes explains the flags of frame_decode.json.
var frameNotes = map[string]note{
	"EmptyStream":            {"EDGE_CASE", "The stream has no bytes at all: a clean end before any frame header [FRAME-6]."},
	"ZeroLength":             {"EDGE_CASE", "A frame of length 0. It is complete with its 6-byte header; a receiver must not wait for or read any further byte to finish it [FRAME-10] (the original issued a zero-length read here, which hangs on some transports)."},
	"NotFinal":               {"BASIC", "A frame whose final byte is 00: more frames of its message follow."},
	"OriginalBytes":          {"LEGACY", "Bytes exactly as the original zrepl implementation wrote them; a conforming receiver must accept them (spec section 11)."},
	"MultipleFrames":         {"BASIC", "Several frames back to back: each header starts right after the previous payload [FRAME-1]."},
	"PayloadLooksLikeHeader": {"EDGE_CASE", "A payload whose bytes spell a frame header; it is payload, nothing else."},
	"ByteOrder":              {"EDGE_CASE", "A length whose value differs if the u32 is read big-endian, signed, or from fewer bytes."},
	"FrameLayerOnly":         {"EDGE_CASE", "Valid as frames, but not as a message (mixed types, a Header over 4096 bytes); the frame decoder knows nothing of messages, and message_decode.json covers the message rule."},
	"BoundaryLength":         {"EDGE_CASE", "A length at or next to a limit: MAX_PAYLOAD 4194304, MAX_CONTROL 4096, or a byte boundary of the length field."},
	"LargePayload":           {"EDGE_CASE", "A payload described by a pattern rather than spelled in hex (README: Byte strings)."},
	"Rst":                    {"BASIC", "A canonical RST ff 01 00 00 00 00 [FRAME-7]: the peer hung up. The outcome is errorClass reset at the RST's offset."},
	"NonCanonicalRst":        {"LENIENCY", "A frame of type ff whose final byte is not 01 or whose length is not 0. No conforming sender writes it; the receiver still treats it as RST, reads no payload and nothing after it [FRAME-8]."},
	"BytesAfterRst":          {"LENIENCY", "Bytes follow an RST, which a sender must not send [FRAME-7]; the receiver must not read them [FRAME-8]."},
	"ValidationOrder":        {"MALFORMED", "Several header fields are invalid at once; only the first failing check in the order of [FRAME-9] is reported."},
	"UnknownType":            {"MALFORMED", "A type byte other than 01 02 03 ff [FRAME-2]."},
	"PeerNotFramerpc":        {"MALFORMED", "The peer speaks another protocol (an SSH banner, HTTP, unframed JSON): the first byte is an unknown type."},
	"NoPayloadRead":          {"MALFORMED", "An invalid header followed by payload bytes or by the end of the stream: the error is decided from the 6 header bytes alone, before any payload is read [FRAME-5]."},
	"BadFlag":                {"MALFORMED", "A final byte other than 00 and 01 on a message frame [FRAME-3]."},
	"OriginalLenient":        {"LEGACY", "Input the original accepted and framerpc rejects on purpose (spec section 11.1)."},
	"FrameTooLarge":          {"MALFORMED", "A length above 4194304 [FRAME-4]."},
	"Truncated":              {"TRUNCATED", "The stream ends inside a frame: unexpected-eof at the stream's length, never a clean end [FRAME-6]."},
	"TruncatedHeader":        {"TRUNCATED", "The stream ends after 1 to 5 bytes of a frame header."},
	"TruncatedPayload":       {"TRUNCATED", "The stream ends after a complete frame header, before the last byte of its payload."},
}
