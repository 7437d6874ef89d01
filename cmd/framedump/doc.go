// Framedump decodes captured framerpc byte streams the way tshark decodes
// packets, and records live connections.
//
// Usage:
//
//	framedump [flags] FILE|-                       one direction (- reads stdin)
//	framedump [flags] -client FILE -server FILE    the conversation view
//	framedump [flags] PREFIX                       PREFIX.client.bin and PREFIX.server.bin
//	framedump [flags] -pcap FILE [-port N]         every TCP connection of a pcap or pcapng capture
//	framedump tap -listen ADDR -connect ADDR -o PREFIX [-v]
//	framedump tap -o PREFIX [-v] -- CMD [ARGS...]
//
// # One direction
//
// Given one side's bytes, framedump prints a line per frame (its stream
// offset in decimal and hex, type, final flag, payload length) and, below
// the last frame of each message, what the message is at that point of the
// protocol: a request or reply header with every member (unknown members
// marked "unknown:"), a JSON body compacted and cut at -width bytes, an
// octets body's length (and with -sum its SHA-256), a trailer's status and
// message. Whether the stream is the client's or the server's is decided
// from its first header (a request names an endpoint; a reply does not) and
// can be forced with -side.
//
// # Conversation
//
// Given both sides (-client and -server, or a PREFIX naming the two files
// tap writes), framedump prints each exchange in order: the request's
// frames and messages (lines starting with C), the reply's (S), then a line
// starting with == giving the call's outcome: endpoint, body kinds and
// sizes, status and error message, trailer statuses; for the hello, the
// extensions asked for and granted. If the two sides fall out of step (one
// breaks the protocol, resets, or ends early) that exchange says where and
// why, and the other side is then decoded alone to its end.
//
// # Errors
//
// Everything decodable before a fault is printed, then one line:
//
//	error at offset N (0x…): CLASS [RULE-ID]: explanation
//
// CLASS is an error class of spec/PROTOCOL.md sections 5 and 10
// (unknown-type, bad-flag, frame-too-large, message-too-large,
// type-mismatch, unexpected-eof, bad-header, bad-trailer, bad-reply), or
// out-of-step (a stream goes on where it must end) or read-error (the
// source itself failed). Frames and messages are decoded by package frame,
// so a malformed input gets the same class, rule and offset as the
// library's own receiver reports. A capture that stops inside a frame is
// reported as unexpected-eof with how many bytes of the frame are missing.
//
// An RST is not an error: framedump says what it means where it occurs (a
// client hanging up between calls; a server ending the connection; a
// stream source that failed without the trailer extension).
//
// # Output
//
// -json prints NDJSON instead: one object per frame, message, exchange,
// error and stream end, with the field names described by
// framedump.schema.json (JSON Schema draft 2020-12) next to this file. -x
// adds a hex and ASCII dump of each frame's payload, -xlines lines of 16
// bytes at most (-1: all).
//
// The vectors' views: -frames decodes the frame layer alone, as
// testvectors/frame_decode.json reads its inputs, and -expect 01,02,...
// the message layer alone with the given message types expected in turn,
// as testvectors/message_decode.json does. They show an implementer where
// and why their bytes differ from the library's reading.
//
// # Memory
//
// A capture of any size is decoded in constant memory: payloads are
// streamed through a fixed buffer, never held. -x keeps one frame's capped
// dump.
//
// # Recording: framedump tap
//
// framedump tap -listen ADDR -connect ADDR -o PREFIX accepts connections on
// ADDR (host:port, or unix:/path for a Unix socket), relays each to a new
// connection to the -connect address, and records connection 1 as
// PREFIX.client.bin and PREFIX.server.bin, connection N as
// PREFIX-N.client.bin and PREFIX-N.server.bin, until interrupted.
//
// framedump tap -o PREFIX -- CMD ARGS runs CMD and relays framedump's own
// standard input to CMD's and CMD's standard output to its own, recording
// both: put it in front of the server command of an ssh pipe
// (ssh host framedump tap -o /tmp/cap -- prog serve --stdio) to record the
// session. CMD's standard error is framedump's.
//
// With -v, each connection is also decoded live, in the conversation view
// (-json: NDJSON), on standard output for -listen and on standard error for
// a command. The tap forwards every byte as soon as it is read and records
// it afterwards: it changes and delays nothing but the copy, and a live view
// that falls behind is cut off, never the connection. The end of one side's
// stream reaches the other as a half-close; a session ends when the server's
// side ends or either side fails. tap exits 0, or 2 when it cannot listen,
// cannot write a capture, or the command fails.
//
// # Packet captures
//
// Most TCP services are debugged from packet captures. Capture the
// server's port, from before the connection starts (frame boundaries are
// found from the first byte of each direction):
//
//	tcpdump -i lo -w x.pcap port 7000
//
// (-B 65536 if tcpdump reports packets dropped by the kernel: loopback
// delivers bulk data in 64 KiB segments). Then
//
//	framedump -pcap x.pcap -port 7000
//
// reads the capture (pcap or pcapng), rebuilds each TCP connection's two
// byte streams, and prints for each connection a heading line and then the
// conversation view, exactly as for the two streams in files; -json makes
// the heading a "connection" object, and the objects after it, up to the
// next one, are that connection's. -port keeps the connections on that
// port; without it, every TCP connection is decoded. The client is the
// side that sent the SYN; if the capture has no SYN, the side that
// connected to -port, else the side with the higher port.
//
// Retransmitted, overlapping and out-of-order segments are handled (by
// github.com/gopacket/gopacket's TCP reassembly). A segment the capture
// never saw ends its direction: everything before it is decoded, then
//
//	S error at offset 2000 (0x7d0): read-error: capture misses 1000 bytes at stream offset 2000
//
// and nothing after it, since the next frame boundary cannot be found;
// such a capture exits 1, as a truncated input does. The streams are kept
// in a temporary file while they are decoded, so a capture of any size
// needs little memory.
//
// The same capture in Wireshark or tshark: wireshark/framerpc.lua, next to
// this file, is a dissector showing each frame with the same stream
// offsets, the headers as filterable fields (framerpc.endpoint,
// framerpc.status, ...) and malformed frames as expert info with the
// spec's class and rule. Copy it into Wireshark's personal Lua plugins
// folder (Help > About Wireshark > Folders; usually
// ~/.local/lib/wireshark/plugins/) and set the port in Preferences >
// Protocols > FRAMERPC, or use Decode As; with tshark, load it for one run:
//
//	tshark -r x.pcap -X lua_script:cmd/framedump/wireshark/framerpc.lua -o framerpc.tcp_port:7000
//
// wireshark/README.md lists its fields and what it can and cannot check;
// README.md shows both tools on the same real capture.
//
// # Exit status
//
// 0: every stream ended cleanly (at a message boundary, or by an RST where
// a peer may send one). 1: an input violates the protocol or is truncated
// (for -pcap, also: the capture misses a segment).
// 2: usage error, a file that cannot be opened, a source that fails to
// read, or output that cannot be written.
package main

// The golden files of TestGolden, from the shipped captures.
//go:generate go test -run ^TestGolden$ -count=1 -update
