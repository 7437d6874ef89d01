// Framedump decodes captured framerpc byte streams the way tshark decodes
// packets, and records live connections.
//
// Usage:
//
//	framedump [flags] FILE|-                       one direction (- reads stdin)
//	framedump [flags] -client FILE -server FILE    the conversation view
//	framedump [flags] PREFIX                       PREFIX.client.bin and PREFIX.server.bin
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
// # Exit status
//
// 0: every stream ended cleanly (at a message boundary, or by an RST where
// a peer may send one). 1: an input violates the protocol or is truncated.
// 2: usage error, a file that cannot be opened, a source that fails to
// read, or output that cannot be written.
package main
