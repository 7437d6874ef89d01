package dump

import (
	"io"

	"github.com/framerpc/framerpc/frame"
)

// Layers decodes src at the frame layer alone (layer.Frames: frames until
// the stream ends, as frame_decode.json reads them) or the message layer
// alone (layer.Expect: one message of each type in turn, then the end, as
// message_decode.json reads them). It is the view to compare with the test
// vectors.
func Layers(src io.Reader, out io.Writer, layer Layer, opts Options) (Outcome, error) {
	e := newEmitter(out, opts.JSON, false)
	w := &walker{out: e}
	s := newStream("", src, e, &opts)
	defer s.release()
	if layer.Frames {
		w.frames(s)
	} else {
		w.messages(s, layer.Expect)
	}
	return w.outcome, e.close()
}

func (w *walker) frames(s *stream) {
	for s.out.err == nil {
		h, err := s.r.ReadHeader()
		if err == io.EOF {
			s.end("eof", nil, SideAuto, "the stream ended at a frame boundary")
			return
		}
		if err != nil {
			w.fault(s.fault(err, 0))
			return
		}
		if h.Type == frame.TypeRST {
			// The Reader holds the reset it reports from now on.
			pe, _ := isReset(s.r.Err())
			s.end("reset", pe, SideAuto, "RST: the connection is over; nothing after it is read [FRAME-8]")
			return
		}
		for {
			n, err := s.r.ReadPayload(s.buf)
			s.payload(s.buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				w.fault(s.fault(err, 0))
				return
			}
		}
	}
}

func (w *walker) messages(s *stream, expect []frame.Type) {
	for _, t := range expect {
		m, err := s.next(t)
		if err == io.EOF {
			s.end("eof", nil, SideAuto, "the stream ended at a message boundary")
			return
		}
		if err != nil {
			w.stopped(s, err, 0, SideAuto, "RST where a message was expected or inside one: the message is incomplete [MSG-5]", "", "")
			return
		}
		n, err := s.readBody(m, func([]byte) {})
		if err != nil {
			w.stopped(s, err, 0, SideAuto, "RST inside a message: the message is incomplete [MSG-5]", "", "")
			return
		}
		s.out.emit(s.message(m, 0, "message", n))
	}
	_, err := s.r.ReadHeader()
	switch {
	case err == io.EOF:
		s.end("eof", nil, SideAuto, "the stream ended after the expected messages")
	case err != nil:
		w.fault(s.fault(err, 0))
	default:
		if pe, ok := isReset(s.r.Err()); ok {
			s.end("reset", pe, SideAuto, "RST after the expected messages: the connection is over [FRAME-8]")
			return
		}
		s.flush()
		w.fault(&Fault{Kind: "error", Offset: s.r.Offset() - frame.HeaderSize, Class: "out-of-step",
			Detail: "the stream goes on after the expected messages"})
	}
}
