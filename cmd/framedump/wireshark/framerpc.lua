-- framerpc.lua: a Wireshark/tshark 4.x dissector for the framerpc protocol
-- (spec/PROTOCOL.md, sections 3 to 6, 9.1 and 9.3).
--
-- Install: copy this file into Wireshark's personal Lua plugins folder
-- (Help > About Wireshark > Folders, "Personal Lua Plugins", usually
-- ~/.local/lib/wireshark/plugins/), or load it for one run with
--   tshark -X lua_script:framerpc.lua -o framerpc.tcp_port:PORT -r x.pcap
-- The protocol has no well-known port: set it in the protocol preferences
-- (framerpc.tcp_port) or use "Decode As... > TCP port > FRAMERPC".
--
-- What it shows. Every frame becomes one "framerpc" tree item with its
-- stream offset (counted from the first byte of its direction, as the
-- spec's error offsets are), type, final flag and payload length. The last
-- frame of a message carries the message's body length; the last frame of
-- a Header or Trailer message carries the decoded members as filterable
-- fields (framerpc.endpoint, framerpc.datatype, framerpc.accept,
-- framerpc.status, framerpc.error_message, framerpc.extension, and
-- framerpc.timeout for the deadline extension's Timeout). Only the
-- first bytes of a long payload are put in the tree: a 4 MiB Data frame
-- would otherwise be copied whole into every field value and every export.
--
-- Why it keeps state. Offsets, the message a frame belongs to, and the
-- body of a Header message split over several frames all depend on every
-- frame before it in the same direction. TCP reassembly hands frames over
-- in stream order on the first pass, so the dissector computes each
-- frame's record then and stores it; later passes (the GUI redissects
-- packets at will) only render the stored records. A capture that misses
-- the start of a connection, or a segment inside it, loses the frame
-- boundaries: the dissector cannot resynchronise, as no receiver could.
--
-- Malformed input raises expert info naming the spec's error class and
-- rule ([FRAME-2] and so on); as for a receiver ([ERR-1]) nothing after
-- the first error in a direction is decoded.

local proto = Proto("framerpc", "framerpc")

local FRAME_HEADER = 6
local MAX_PAYLOAD = 4194304
local MAX_CONTROL = 4096
-- Payloads up to this length are put in the tree whole; longer ones only
-- their first PREVIEW bytes.
local WHOLE_PAYLOAD = 512
local PREVIEW = 64

local T_HEADER, T_DATA, T_TRAILER, T_RST = 0x01, 0x02, 0x03, 0xff
local type_names = { [T_HEADER] = "Header", [T_DATA] = "Data", [T_TRAILER] = "Trailer", [T_RST] = "RST" }
local final_names = { [0] = "more frames follow", [1] = "final" }
local kind_names = { [0] = "none", [1] = "None", [2] = "JSON", [3] = "Octets", [4] = "JSON+Octets" }
local status_names = { [0] = "none (request)", [1] = "OK", [2] = "RequestError", [3] = "ServerError", [4] = "Error" }

local f = {
	offset = ProtoField.uint64("framerpc.offset", "Stream offset", base.DEC),
	type = ProtoField.uint8("framerpc.type", "Type", base.HEX, type_names),
	final = ProtoField.uint8("framerpc.final", "Final", base.HEX, final_names),
	length = ProtoField.uint32("framerpc.length", "Length", base.DEC),
	payload = ProtoField.bytes("framerpc.payload", "Payload"),
	message_offset = ProtoField.uint64("framerpc.message_offset", "Message starts at offset", base.DEC),
	message_length = ProtoField.uint64("framerpc.message_length", "Message body length", base.DEC),
	message_frames = ProtoField.uint32("framerpc.message_frames", "Frames in message", base.DEC),
	header = ProtoField.string("framerpc.header", "Header"),
	trailer = ProtoField.string("framerpc.trailer", "Trailer"),
	endpoint = ProtoField.string("framerpc.endpoint", "Endpoint"),
	datatype = ProtoField.uint32("framerpc.datatype", "DataType", base.DEC, kind_names),
	accept = ProtoField.uint32("framerpc.accept", "Accept", base.DEC, kind_names),
	status = ProtoField.uint32("framerpc.status", "Status (Error)", base.DEC, status_names),
	error_message = ProtoField.string("framerpc.error_message", "ErrorMessage"),
	extension = ProtoField.string("framerpc.extension", "Extension"),
	-- The deadline extension's Timeout, in the unit [RPC-44] gives it.
	timeout = ProtoField.uint32("framerpc.timeout", "Timeout", base.DEC + base.UNIT_STRING, { " ms" }),
	error_class = ProtoField.string("framerpc.error_class", "Error class"),
	rule = ProtoField.string("framerpc.rule", "Rule"),
	error_offset = ProtoField.uint64("framerpc.error_offset", "Error at stream offset", base.DEC),
	gap = ProtoField.uint64("framerpc.gap", "Bytes missing from the capture", base.DEC),
	undecoded = ProtoField.bytes("framerpc.undecoded", "Not decoded"),
}
proto.fields = {
	f.offset, f.type, f.final, f.length, f.payload, f.message_offset, f.message_length,
	f.message_frames, f.header, f.trailer, f.endpoint, f.datatype, f.accept, f.status,
	f.error_message, f.extension, f.timeout, f.error_class, f.rule, f.error_offset, f.gap, f.undecoded,
}

local MALFORMED, ERROR = expert.group.MALFORMED, expert.severity.ERROR
-- One expert field per error class, so each can be filtered and counted.
local ex = {
	["unknown-type"] = ProtoExpert.new("framerpc.unknown_type", "unknown-type", MALFORMED, ERROR),
	["bad-flag"] = ProtoExpert.new("framerpc.bad_flag", "bad-flag", MALFORMED, ERROR),
	["frame-too-large"] = ProtoExpert.new("framerpc.frame_too_large", "frame-too-large", MALFORMED, ERROR),
	["message-too-large"] = ProtoExpert.new("framerpc.message_too_large", "message-too-large", MALFORMED, ERROR),
	["type-mismatch"] = ProtoExpert.new("framerpc.type_mismatch", "type-mismatch", MALFORMED, ERROR),
	["bad-header"] = ProtoExpert.new("framerpc.bad_header", "bad-header", MALFORMED, ERROR),
	["bad-trailer"] = ProtoExpert.new("framerpc.bad_trailer", "bad-trailer", MALFORMED, ERROR),
	-- An RST is a legitimate way to end a connection [RPC-34]; a
	-- non-canonical one is honoured too [FRAME-8].
	["reset"] = ProtoExpert.new("framerpc.reset", "reset", expert.group.SEQUENCE, expert.severity.NOTE),
	undecoded = ProtoExpert.new("framerpc.after_error", "not decoded after an error", expert.group.UNDECODED, expert.severity.WARN),
	gap = ProtoExpert.new("framerpc.capture_gap", "capture misses bytes", expert.group.SEQUENCE, expert.severity.WARN),
	missed = ProtoExpert.new("framerpc.not_first_pass", "frame not seen on the first pass", expert.group.UNDECODED, expert.severity.WARN),
}
proto.experts = {
	ex["unknown-type"], ex["bad-flag"], ex["frame-too-large"], ex["message-too-large"],
	ex["type-mismatch"], ex["bad-header"], ex["bad-trailer"], ex["reset"], ex.undecoded, ex.gap, ex.missed,
}

proto.prefs.tcp_port = Pref.uint("TCP port", 0, "The TCP port framerpc runs on (0: none; use Decode As)")

local registered_port = 0
function proto.prefs_changed()
	local t = DissectorTable.get("tcp.port")
	if registered_port ~= 0 then
		t:remove(registered_port, proto)
	end
	registered_port = proto.prefs.tcp_port
	if registered_port ~= 0 then
		t:add(registered_port, proto)
	end
end
DissectorTable.get("tcp.port"):add_for_decode_as(proto)

---------------------------------------------------------------------------
-- Header and Trailer bodies: strict JSON as spec section 6 decodes it.
---------------------------------------------------------------------------

-- fail aborts decoding with the rule the body breaks.
local function fail(rule, msg)
	error({ rule = rule, msg = msg }, 0)
end

local function utf8_char(cp)
	if cp < 0x80 then
		return string.char(cp)
	elseif cp < 0x800 then
		return string.char(0xc0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
	elseif cp < 0x10000 then
		return string.char(0xe0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
	end
	return string.char(0xf0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
		0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

-- utf8_len returns the length of the valid UTF-8 sequence at s[p], or nil.
local function utf8_len(s, p)
	local c = s:byte(p)
	local n, lo, hi
	if c < 0x80 then
		return 1
	elseif c >= 0xc2 and c <= 0xdf then
		n, lo, hi = 2, 0x80, 0xbf
	elseif c == 0xe0 then
		n, lo, hi = 3, 0xa0, 0xbf
	elseif c == 0xed then
		n, lo, hi = 3, 0x80, 0x9f
	elseif c >= 0xe1 and c <= 0xef then
		n, lo, hi = 3, 0x80, 0xbf
	elseif c == 0xf0 then
		n, lo, hi = 4, 0x90, 0xbf
	elseif c >= 0xf1 and c <= 0xf3 then
		n, lo, hi = 4, 0x80, 0xbf
	elseif c == 0xf4 then
		n, lo, hi = 4, 0x80, 0x8f
	else
		return nil
	end
	local c2 = s:byte(p + 1)
	if not c2 or c2 < lo or c2 > hi then
		return nil
	end
	for i = 2, n - 1 do
		local ci = s:byte(p + i)
		if not ci or ci < 0x80 or ci > 0xbf then
			return nil
		end
	end
	return n
end

local simple_escapes = { [0x22] = '"', [0x5c] = "\\", [0x2f] = "/", [0x62] = "\b", [0x66] = "\f", [0x6e] = "\n", [0x72] = "\r", [0x74] = "\t" }

-- decode_object decodes s as one JSON object whose known members have the
-- JSON types known gives, strictly as [RPC-3] to [RPC-8] say.
local function decode_object(s, known)
	local p, n = 1, #s

	local function ws()
		while p <= n do
			local c = s:byte(p)
			if c ~= 0x20 and c ~= 0x09 and c ~= 0x0a and c ~= 0x0d then
				return
			end
			p = p + 1
		end
	end

	local function hex4()
		local h = s:sub(p, p + 3)
		if not h:match("^%x%x%x%x$") then
			fail("RPC-8", "bad \\u escape at byte " .. (p - 1))
		end
		p = p + 4
		return tonumber(h, 16)
	end

	local function str()
		p = p + 1 -- the opening quote
		local out = {}
		while true do
			if p > n then
				fail("RPC-3", "unterminated string")
			end
			local c = s:byte(p)
			if c == 0x22 then
				p = p + 1
				return table.concat(out)
			elseif c == 0x5c then
				local e = s:byte(p + 1)
				p = p + 2
				if e == 0x75 then
					local cp = hex4()
					if cp >= 0xd800 and cp <= 0xdbff then
						if s:sub(p, p + 1) ~= "\\u" then
							fail("RPC-8", "lone high surrogate")
						end
						p = p + 2
						local lo = hex4()
						if lo < 0xdc00 or lo > 0xdfff then
							fail("RPC-8", "high surrogate without a low one")
						end
						cp = 0x10000 + (cp - 0xd800) * 0x400 + (lo - 0xdc00)
					elseif cp >= 0xdc00 and cp <= 0xdfff then
						fail("RPC-8", "lone low surrogate")
					end
					out[#out + 1] = utf8_char(cp)
				elseif e and simple_escapes[e] then
					out[#out + 1] = simple_escapes[e]
				else
					fail("RPC-8", "escape RFC 8259 does not define")
				end
			elseif c < 0x20 then
				fail("RPC-8", "unescaped control byte in a string")
			else
				local l = utf8_len(s, p)
				if not l then
					fail("RPC-8", "invalid UTF-8 in a string")
				end
				out[#out + 1] = s:sub(p, p + l - 1)
				p = p + l
			end
		end
	end

	local function digits()
		local c, start = s:byte(p), p
		while c and c >= 0x30 and c <= 0x39 do
			p = p + 1
			c = s:byte(p)
		end
		return p > start
	end

	-- number reads a JSON number (RFC 8259 grammar) and returns its text.
	local function number()
		local start = p
		if s:byte(p) == 0x2d then
			p = p + 1
		end
		if s:byte(p) == 0x30 then
			p = p + 1
		elseif not digits() then
			fail("RPC-3", "bad number at byte " .. (start - 1))
		end
		if s:byte(p) == 0x2e then
			p = p + 1
			if not digits() then
				fail("RPC-3", "bad number at byte " .. (start - 1))
			end
		end
		local c = s:byte(p)
		if c == 0x65 or c == 0x45 then
			p = p + 1
			c = s:byte(p)
			if c == 0x2b or c == 0x2d then
				p = p + 1
			end
			if not digits() then
				fail("RPC-3", "bad number at byte " .. (start - 1))
			end
		end
		return s:sub(start, p - 1)
	end

	-- integer reads the value of the known member name: an integer
	-- literal from 0 to 4294967295, nothing else [RPC-7].
	local function integer(name)
		local start = p
		if digits() then
			local v = s:sub(start, p - 1)
			local c = s:byte(p)
			if (#v == 1 or v:byte(1) ~= 0x30) and #v <= 10 and tonumber(v) <= 4294967295
				and c ~= 0x2e and c ~= 0x65 and c ~= 0x45 then
				return tonumber(v)
			end
		end
		fail("RPC-7", name .. " is not an integer literal from 0 to 4294967295")
	end

	-- strings reads the value of the known member name: an array of
	-- strings [RPC-7].
	local function strings(name)
		if s:byte(p) ~= 0x5b then
			fail("RPC-7", name .. " is not an array of strings")
		end
		p = p + 1
		ws()
		local list = {}
		if s:byte(p) == 0x5d then
			p = p + 1
			return list
		end
		while true do
			ws()
			if s:byte(p) ~= 0x22 then
				fail("RPC-7", name .. " is not an array of strings")
			end
			list[#list + 1] = str()
			ws()
			local c = s:byte(p)
			p = p + 1
			if c == 0x5d then
				return list
			elseif c ~= 0x2c then
				fail("RPC-3", "',' or ']' expected at byte " .. (p - 2))
			end
		end
	end

	-- value parses any JSON value nested depth levels deep and returns
	-- its kind and, for strings and numbers, its text.
	local value
	local function container(depth, close, member)
		if depth > 64 then
			fail("RPC-6", "values nested more than 64 levels deep")
		end
		p = p + 1
		ws()
		local items = {}
		if s:byte(p) == close then
			p = p + 1
			return items
		end
		while true do
			ws()
			if member then
				if s:byte(p) ~= 0x22 then
					fail("RPC-3", "member name expected at byte " .. (p - 1))
				end
				str()
				ws()
				if s:byte(p) ~= 0x3a then
					fail("RPC-3", "':' expected at byte " .. (p - 1))
				end
				p = p + 1
				ws()
			end
			local k, v = value(depth)
			items[#items + 1] = { kind = k, text = v }
			ws()
			local c = s:byte(p)
			p = p + 1
			if c == close then
				return items
			elseif c ~= 0x2c then
				fail("RPC-3", "',' expected at byte " .. (p - 2))
			end
		end
	end
	value = function(depth)
		local c = s:byte(p)
		if c == 0x22 then
			return "string", str()
		elseif c == 0x7b then
			return "object", container(depth + 1, 0x7d, true)
		elseif c == 0x5b then
			return "array", container(depth + 1, 0x5d, false)
		elseif c == 0x74 and s:sub(p, p + 3) == "true" or c == 0x6e and s:sub(p, p + 3) == "null" then
			p = p + 4
			return c == 0x74 and "bool" or "null"
		elseif c == 0x66 and s:sub(p, p + 4) == "false" then
			p = p + 5
			return "bool"
		elseif c == 0x2d or (c and c >= 0x30 and c <= 0x39) then
			return "number", number()
		end
		fail("RPC-3", "value expected at byte " .. (p - 1))
	end

	-- The object itself: its members, each known one checked against its
	-- JSON type [RPC-7], none twice [RPC-5], unknown ones skipped.
	ws()
	if s:byte(p) ~= 0x7b then
		fail("RPC-3", "not a JSON object")
	end
	p = p + 1
	local out, seen = {}, {}
	ws()
	if s:byte(p) == 0x7d then
		p = p + 1
	else
		while true do
			ws()
			if s:byte(p) ~= 0x22 then
				fail("RPC-3", "member name expected at byte " .. (p - 1))
			end
			local name = str()
			if seen[name] then
				fail("RPC-5", "member " .. name .. " appears twice")
			end
			seen[name] = true
			ws()
			if s:byte(p) ~= 0x3a then
				fail("RPC-3", "':' expected at byte " .. (p - 1))
			end
			p = p + 1
			ws()
			-- A known member's value is read as its type only, so that
			-- any other value breaks [RPC-7] whatever follows, as for a
			-- receiver: `"Timeout":0250` is a leading zero, not a
			-- syntax error after `0`.
			local want = known[name]
			if want == "integer" then
				out[name] = integer(name)
			elseif want == "string" then
				if s:byte(p) ~= 0x22 then
					fail("RPC-7", name .. " is not a string")
				end
				out[name] = str()
			elseif want == "strings" then
				out[name] = strings(name)
			else
				value(0)
			end
			ws()
			local c = s:byte(p)
			p = p + 1
			if c == 0x7d then
				break
			elseif c ~= 0x2c then
				fail("RPC-3", "',' or '}' expected at byte " .. (p - 2))
			end
		end
	end
	ws()
	if p <= n then
		fail("RPC-3", "bytes after the object at byte " .. (p - 1))
	end
	return out
end

local header_members = {
	Endpoint = "string", DataType = "integer", Accept = "integer", Error = "integer", ErrorMessage = "string",
	Extensions = "strings", Timeout = "integer",
}
-- A Trailer knows the same members as a header, each checked against its
-- type, though it uses only Error and ErrorMessage [RPC-48].
local trailer_members = header_members

-- decode_control decodes the body of a Header or Trailer message. It
-- returns the members (missing ones as their zero values [RPC-7]) or nil,
-- the rule broken and a reason.
local function decode_control(typ, body)
	local ok, res = pcall(decode_object, body, typ == T_HEADER and header_members or trailer_members)
	if not ok then
		if type(res) ~= "table" then
			return nil, "RPC-3", tostring(res)
		end
		return nil, res.rule, res.msg
	end
	local h = {
		Endpoint = res.Endpoint or "", DataType = res.DataType or 0, Accept = res.Accept or 0,
		Error = res.Error or 0, ErrorMessage = res.ErrorMessage or "", Extensions = res.Extensions,
		-- nil when absent: no limit, unlike a Timeout of 0 [RPC-45].
		Timeout = res.Timeout,
	}
	if typ == T_TRAILER and (h.Error < 1 or h.Error > 4) then
		return nil, "RPC-48", "trailer status " .. h.Error .. " is not 1 to 4"
	end
	return h
end

---------------------------------------------------------------------------
-- Frames: first-pass state and records.
---------------------------------------------------------------------------

local tcp_stream = Field.new("tcp.stream")
local tcp_seq = Field.new("tcp.seq")
local tcp_len = Field.new("tcp.len")

-- dirs holds, per direction of a TCP connection, the decoder's state on
-- the first pass; records the result for every frame, by where it sits in
-- the packet, so that later passes render exactly the same thing.
local dirs, records = {}, {}
function proto.init()
	dirs, records = {}, {}
end

-- direction returns the state of the direction pinfo's packet belongs to.
-- The addresses and ports identify it; tcp.stream, where the first pass
-- builds a tree (tshark -2 does not), also tells apart connections that
-- reuse the same addresses and ports.
local function direction(pinfo)
	local stream = tcp_stream()
	local key = (stream and tostring(stream.value) or "") .. " " .. tostring(pinfo.src) .. ":" .. pinfo.src_port
		.. " " .. tostring(pinfo.dst) .. ":" .. pinfo.dst_port
	local d = dirs[key]
	if not d then
		-- off: the stream offset of the next byte; msg: the open message;
		-- broken: the error after which nothing is decoded.
		d = { off = 0 }
		dirs[key] = d
	end
	return d
end

local function frame_error(rec, class, rule, offset, text)
	rec.err = { class = class, rule = rule, offset = offset, text = text }
end

-- check_header applies the checks of [FRAME-9] and then the message
-- layer's ([MSG-4], [MSG-7]) to a frame header at stream offset off.
local function check_header(rec, d, off)
	local t, fl, len = rec.type, rec.final, rec.length
	if t == T_RST then
		frame_error(rec, "reset", "FRAME-8", off,
			(fl == 1 and len == 0) and "RST" or "non-canonical RST, honoured without reading a payload")
		return false
	elseif not type_names[t] then
		frame_error(rec, "unknown-type", "FRAME-2", off, string.format("type byte 0x%02x", t))
	elseif fl > 1 then
		frame_error(rec, "bad-flag", "FRAME-3", off + 1, string.format("final byte 0x%02x", fl))
	elseif len > MAX_PAYLOAD then
		frame_error(rec, "frame-too-large", "FRAME-4", off + 2, "length " .. len .. " above 4194304")
	elseif d.msg and d.msg.type ~= t then
		frame_error(rec, "type-mismatch", "MSG-4", off,
			type_names[t] .. " frame inside a " .. type_names[d.msg.type] .. " message")
	elseif t ~= T_DATA and (d.msg and d.msg.length or 0) + len > MAX_CONTROL then
		frame_error(rec, "message-too-large", "MSG-7", off + 2,
			type_names[t] .. " message body would exceed 4096 bytes")
	else
		return true
	end
	return false
end

-- incomplete returns how many more bytes the frame at pos of tvb needs,
-- or nil if it is complete (or its header is invalid, which needs no more).
local function incomplete(tvb, pos)
	local avail = tvb:len() - pos
	if avail < FRAME_HEADER then
		return DESEGMENT_ONE_MORE_SEGMENT
	end
	local t, len = tvb(pos, 1):uint(), tvb(pos + 2, 4):le_uint()
	if t ~= T_RST and len <= MAX_PAYLOAD and avail < FRAME_HEADER + len then
		return FRAME_HEADER + len - avail
	end
	return nil
end

-- decode_frame computes the record of the frame at pos of tvb, on the
-- first pass. It returns nil and the number of bytes still needed when the
-- frame is not complete in tvb.
local function decode_frame(tvb, pos, d)
	local avail = tvb:len() - pos
	if d.broken then
		local rec = { undecoded = true, offset = d.off, size = avail }
		d.off = d.off + avail
		return rec
	end
	if avail < FRAME_HEADER then
		return nil, DESEGMENT_ONE_MORE_SEGMENT
	end
	local rec = {
		offset = d.off, type = tvb(pos, 1):uint(), final = tvb(pos + 1, 1):uint(),
		length = tvb(pos + 2, 4):le_uint(), size = FRAME_HEADER,
	}
	if not check_header(rec, d, d.off) then
		-- A receiver reads nothing after an RST or an invalid header
		-- [FRAME-5] [FRAME-8] [ERR-1].
		d.broken = rec.err
		d.off = d.off + FRAME_HEADER
		return rec
	end
	if avail < FRAME_HEADER + rec.length then
		return nil, FRAME_HEADER + rec.length - avail
	end
	rec.size = FRAME_HEADER + rec.length
	local m = d.msg
	if not m then
		m = { type = rec.type, offset = d.off, length = 0, frames = 0, parts = {} }
		d.msg = m
	end
	m.length = m.length + rec.length
	m.frames = m.frames + 1
	if rec.type ~= T_DATA and rec.length > 0 then
		m.parts[#m.parts + 1] = tvb:raw(pos + FRAME_HEADER, rec.length)
	end
	if rec.final == 1 then
		rec.msg = { offset = m.offset, length = m.length, frames = m.frames }
		if rec.type ~= T_DATA then
			local body = table.concat(m.parts)
			rec.body = body
			local h, rule, why = decode_control(rec.type, body)
			if h then
				rec.decoded = h
			else
				local class = rec.type == T_HEADER and "bad-header" or "bad-trailer"
				frame_error(rec, class, rule, m.offset, why)
				-- Both sides end the connection on these [RPC-41].
				d.broken = rec.err
			end
		end
		d.msg = nil
	end
	d.off = d.off + rec.size
	return rec
end

-- check_gap compares, on the first pass, where tvb starts on the stream
-- with where the direction's decoder is. TCP hands over a PDU that a lost
-- segment left incomplete never, and the data after it as if nothing were
-- missing, so without this check frames after a hole would get wrong
-- offsets. Only a tvb that is a piece of the packet itself can be placed
-- (tcp.seq is the packet's; a reassembled tvb starts where an earlier,
-- checked call asked for more). Relative sequence numbers start at 1 for
-- the first byte, with or without a SYN in the capture. Segments that
-- arrive out of order look like a hole unless TCP's
-- reassemble_out_of_order preference is on; with it on, TCP waits for a
-- missing segment forever and hands nothing over after a real hole. Where
-- the first
-- pass builds no tree (tshark -2 without a filter), TCP's fields are not
-- there and a hole goes unnoticed.
local function check_gap(tvb, d)
	if d.broken or tvb:offset() == 0 then
		return nil
	end
	local seq, len = tcp_seq(), tcp_len()
	if not seq or not len then
		return nil
	end
	local start = seq.value - 1 + len.value - tvb:reported_len()
	if start <= d.off then
		return nil
	end
	local rec = { gap = start - d.off, offset = d.off, size = tvb:len() }
	d.broken = rec
	d.off = start + tvb:len()
	return rec
end

local function summary(rec)
	if rec.gap then
		return "@" .. rec.offset .. " capture misses " .. rec.gap .. " bytes"
	elseif rec.undecoded then
		return "@" .. rec.offset .. " not decoded (after an error)"
	end
	-- The offset first, as framedump prints it, to match the two up.
	local s = "@" .. rec.offset .. " " .. (type_names[rec.type] or string.format("type 0x%02x", rec.type))
	if rec.type ~= T_RST then
		s = s .. (rec.final == 1 and " final" or (rec.final == 0 and " more" or "")) .. " len=" .. rec.length
	end
	local h = rec.decoded
	if h and rec.type == T_HEADER then
		if h.Endpoint ~= "" then
			s = s .. " " .. h.Endpoint .. " " .. (kind_names[h.DataType] or h.DataType) .. "->" .. (kind_names[h.Accept] or h.Accept)
		else
			s = s .. " " .. (status_names[h.Error] or ("status " .. h.Error))
			if h.Error == 1 then
				s = s .. " " .. (kind_names[h.DataType] or h.DataType)
			end
		end
		if h.ErrorMessage ~= "" then
			s = s .. " \"" .. h.ErrorMessage .. "\""
		end
		if h.Timeout then
			s = s .. " timeout=" .. h.Timeout .. "ms"
		end
		-- A hello asks for extensions and its reply grants them [RPC-25].
		if h.Extensions then
			s = s .. " extensions=[" .. table.concat(h.Extensions, ",") .. "]"
		end
	elseif h then
		s = s .. " " .. (status_names[h.Error] or h.Error)
		if h.ErrorMessage ~= "" then
			s = s .. " \"" .. h.ErrorMessage .. "\""
		end
	end
	if rec.err then
		s = s .. " [" .. rec.err.class .. " " .. rec.err.rule .. "]"
	end
	return s
end

local function render(rec, tvb, pos, tree)
	local item = tree:add(proto, tvb(pos, rec.size))
	item:append_text(", " .. summary(rec))
	item:add(f.offset, UInt64.new(rec.offset)):set_generated()
	if rec.gap then
		item:add(f.gap, UInt64.new(rec.gap)):set_generated()
		item:add(f.undecoded, tvb(pos, math.min(rec.size, PREVIEW)))
		item:add_proto_expert_info(ex.gap, string.format("capture misses %d bytes at stream offset %d (or they came out of order: see tcp.reassemble_out_of_order): frame boundaries are lost, nothing after is decoded", rec.gap, rec.offset))
		return
	end
	if rec.undecoded then
		item:add(f.undecoded, tvb(pos, math.min(rec.size, PREVIEW)))
		item:add_proto_expert_info(ex.undecoded, rec.size .. " bytes after an error in this direction are not protocol data [ERR-1]")
		return
	end
	item:add(f.type, tvb(pos, 1))
	item:add(f.final, tvb(pos + 1, 1))
	item:add_le(f.length, tvb(pos + 2, 4))
	if rec.size > FRAME_HEADER and rec.length > 0 then
		if rec.length <= WHOLE_PAYLOAD then
			item:add(f.payload, tvb(pos + FRAME_HEADER, rec.length))
		else
			item:add(f.payload, tvb(pos + FRAME_HEADER, PREVIEW))
				:append_text(" [first " .. PREVIEW .. " of " .. rec.length .. " bytes]")
		end
	end
	if rec.msg then
		item:add(f.message_offset, UInt64.new(rec.msg.offset)):set_generated()
		item:add(f.message_length, UInt64.new(rec.msg.length)):set_generated()
		item:add(f.message_frames, rec.msg.frames):set_generated()
	end
	if rec.body then
		local range = tvb(pos + FRAME_HEADER, rec.length)
		local text = rec.body:gsub("\n$", "")
		local sub = item:add(rec.type == T_HEADER and f.header or f.trailer, range, text)
		local h = rec.decoded
		if h then
			if rec.type == T_HEADER then
				sub:add(f.endpoint, range, h.Endpoint)
				sub:add(f.datatype, range, h.DataType)
				sub:add(f.accept, range, h.Accept)
			end
			sub:add(f.status, range, h.Error)
			sub:add(f.error_message, range, h.ErrorMessage)
			if rec.type == T_HEADER then
				-- In a Trailer these members are checked, then ignored
				-- [RPC-48]: nothing to show.
				for _, e in ipairs(h.Extensions or {}) do
					sub:add(f.extension, range, e)
				end
				if h.Timeout then
					sub:add(f.timeout, range, h.Timeout)
				end
			end
		end
	end
	if rec.err then
		local e = rec.err
		item:add(f.error_class, e.class):set_generated()
		item:add(f.rule, e.rule):set_generated()
		item:add(f.error_offset, UInt64.new(e.offset)):set_generated()
		item:add_proto_expert_info(ex[e.class], string.format("%s at offset %d (0x%x) [%s]: %s",
			e.class, e.offset, e.offset, e.rule, e.text))
	end
end

function proto.dissector(tvb, pinfo, tree)
	local d
	local pos, total = 0, tvb:len()
	-- Where a frame sits in the packet: TCP may call us twice for one
	-- packet (a reassembled frame, then the rest of the segment), on
	-- different tvbs.
	local base = pinfo.number .. "/" .. tvb:offset() .. "/" .. tvb:reported_len() .. "/"
	while pos < total do
		local key = base .. pos
		local rec = records[key]
		if not rec then
			if pinfo.visited then
				-- A frame that does not end in this tvb got no record on
				-- the first pass either: ask TCP for the rest again, as
				-- then.
				local need = incomplete(tvb, pos)
				if need then
					pinfo.desegment_offset = pos
					pinfo.desegment_len = need
					return total
				end
				-- Not reassembled the same way as on the first pass:
				-- nothing trustworthy to show.
				local item = tree:add(proto, tvb(pos))
				item:add_proto_expert_info(ex.missed)
				return total
			end
			local need
			if not d then
				d = direction(pinfo)
				rec = check_gap(tvb, d)
			end
			if not rec then
				rec, need = decode_frame(tvb, pos, d)
			end
			if not rec then
				pinfo.desegment_offset = pos
				pinfo.desegment_len = need
				return total
			end
			records[key] = rec
		end
		pinfo.cols.protocol = "framerpc"
		-- One packet may hold several frames, over several calls; each
		-- summary starts with "@", which tells ours from TCP's text.
		if tostring(pinfo.cols.info):sub(1, 1) == "@" then
			pinfo.cols.info:append(" | " .. summary(rec))
		else
			pinfo.cols.info:set(summary(rec))
		end
		render(rec, tvb, pos, tree)
		pos = pos + rec.size
	end
	return total
end
