// Package dump is framedump's engine: it decodes captured framerpc byte
// streams into events (frames, messages, exchanges, faults) and renders them
// as text or NDJSON.
//
// It implements no decoding of its own below the RPC layer. Frames and
// messages are read with package frame, which reports each frame header to
// the engine through Reader.SetFrameHook, and headers and trailers are
// decoded with internal/wire. So every malformed input gets exactly the
// class, rule and offset the library's own receiver gives it (spec sections
// 3 to 5), and the RPC-layer checks (sections 6 to 10: bad-header,
// bad-trailer, bad-reply) cite the rules rpc enforces.
//
// Memory is bounded whatever the capture: bodies are streamed through a
// fixed buffer, never held; a Header or Trailer message is at most 4096
// bytes [MSG-7]; a JSON preview, a hex dump and the offsets that map a
// header's bytes back to the stream are capped.
//
// Three entry points: Direction decodes one side's stream, Conversation both
// sides of a connection in exchange order (and can be fed any two
// io.Readers, e.g. streams reassembled from a packet capture), Layers the
// frame or message layer alone (the shape of the test vectors). Each returns
// the Outcome that sets the command's exit status.
package dump
