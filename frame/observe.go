package frame

// Observation hooks for tools that show a stream as it is decoded
// (cmd/framedump). They add no decoding of their own: every frame a caller
// sees through them has passed the same checks as any other, so a tool built
// on them reports the library's classes, rules and offsets for every
// malformed input.

// SetFrameHook makes r call f with every frame header it accepts, and the
// stream offset of that header, before the frame is used: before its payload
// is read and before the message layer checks it ([MSG-4], [MSG-7]), so a
// frame the message layer then rejects is seen too. Headers that fail the
// frame layer's own checks ([FRAME-9]) are reported by the error instead.
// f must not call r. A nil f removes the hook.
func (r *Reader) SetFrameHook(f func(h FrameHeader, off int64)) { r.hook = f }

// PeekType reports the type byte of the next frame header without consuming
// anything, for a caller at a message boundary that must choose which
// message to ask NextMessage for where the protocol allows two (a Trailer
// or the next Header after an octets body, when the tool does not know
// whether the trailer extension was granted). It reads at least one byte
// from the transport if none is buffered. ok is false when the Reader is
// inside a frame, has failed, or the transport has no byte to give; the
// caller then calls NextMessage, which reports the end or the error.
func (r *Reader) PeekType() (t Type, ok bool) {
	if r.err != nil || r.left > 0 {
		return 0, false
	}
	for r.w == r.r {
		if r.fill() != nil {
			return 0, false
		}
	}
	return Type(r.buf[r.r]), true
}
