// Package frame implements the frame and message layers of the framerpc
// protocol, sections 3 and 4 of spec/PROTOCOL.md.
//
// A frame is a 6-byte header (type, final flag, little-endian payload
// length) followed by its payload. A message is a run of frames of one type
// whose last frame has the final flag set. Header and Trailer messages
// carry at most 4096 bytes; Data messages are unbounded.
//
// A Reader decodes frames and messages from any byte stream. It validates
// every frame header before it reads or allocates any payload, so a hostile
// length costs nothing, and it reads through a bounded buffer so that a small
// frame costs one read call on the transport. A Writer encodes them: a small
// frame leaves in one write, a large one in one vectored write, and a
// Writer from NewBufferedWriter gathers the frames of a turn until Flush.
// Its message writer splits a body exactly as the original zrepl
// implementation did: full 4194304-byte frames, then a final frame with the
// rest, possibly empty.
//
// Messages are the level most users want: Reader.NextMessage,
// Writer.WriteMessage and Writer.NewMessage. The frame-level calls
// (Reader.ReadHeader, Reader.ReadPayload, Writer.WriteFrame,
// ParseFrameHeader, FrameHeader.AppendHeader) are low-level: they exist for
// tools that must see or produce every frame as it is, conformance tests and
// capture decoders, and leave the message rules to their caller.
//
// # Errors
//
// Everything a Reader reports about the stream itself is a *ProtocolError
// carrying the error class of spec section 5, the spec rule and the byte
// offset on the stream where the problem was detected; errors.As finds it
// through any wrapping. For the facts a caller reacts to without looking at
// the class, errors.Is works too: ErrProtocol matches the classes that are
// the peer's fault, ErrReset a reset, io.ErrUnexpectedEOF a truncation. A
// stream that ends inside a frame or inside a message is always
// io.ErrUnexpectedEOF, never io.EOF: io.EOF is reported only at a message
// boundary. Every such error is sticky: the stream is no longer in a known
// state, and the only safe continuation is to close it. The other
// sentinels (ErrInvalid, ErrDiscardLimit, ErrMessageOpen,
// ErrWriterClosed) report how the caller used a Reader or Writer.
//
// A Reader and a Writer are each meant for one goroutine at a time; a
// connection may use one of each concurrently.
package frame
