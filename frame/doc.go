// Package frame implements the frame and message layers of the framerpc
// protocol, sections 3 and 4 of spec/PROTOCOL.md.
//
// A frame is a 6-byte header (type, no-more-frames flag, little-endian
// payload length) followed by its payload. A message is a run of frames of
// one type whose last frame has the flag set. Header and Trailer messages
// carry at most 4096 bytes; Data messages are unbounded.
//
// A Reader decodes frames and messages from any byte stream. It validates
// every frame header before it reads or allocates any payload, so a hostile
// length costs nothing, and it reads through a bounded buffer so that a small
// frame costs one read call on the transport. A Writer encodes them; each
// frame leaves in one write (vectored on a net.Conn), and its message writer
// splits a body exactly as the original zrepl implementation did: full
// 4194304-byte frames, then a final frame with the rest, possibly empty.
//
// Error contract. Everything a Reader reports about the stream itself is a
// *ProtocolError carrying the error class, the spec rule and the byte offset
// on the stream where the problem was detected. Its Unwrap gives a sentinel
// (ErrUnknownType, ErrBadFlag, ErrFrameTooLarge, ErrMessageTooLarge,
// ErrTypeMismatch, ErrReset, io.ErrUnexpectedEOF), and errors.Is(err,
// ErrProtocol) holds for the classes that are the peer's fault. A stream that
// ends inside a frame or inside a message is always io.ErrUnexpectedEOF,
// never io.EOF: io.EOF is reported only at a message boundary. Every such
// error is sticky: the stream is no longer in a known state, and the only
// safe continuation is to close it (spec section 5).
//
// A Reader and a Writer are each meant for one goroutine at a time; a
// connection may use one of each concurrently.
package frame
