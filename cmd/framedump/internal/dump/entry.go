package dump

import (
	"fmt"
	"io"

	"github.com/framerpc/framerpc/frame"
)

// Direction decodes one side's stream, src, to out: every frame, every
// message as the RPC layer reads it, and where it stops. The side is
// opts.Side or, by default, decided from the first header. The error is a
// failure to write out; everything wrong with src is in the output and the
// Outcome.
func Direction(src io.Reader, out io.Writer, opts Options) (Outcome, error) {
	e := newEmitter(out, opts.JSON, false)
	w := &walker{out: e}
	s := newStream("", src, e, &opts)
	w.direction(s, opts.Side, 1)
	return w.outcome, e.close()
}

// Conversation decodes both directions of one connection in exchange
// order: each request, then its reply, then the exchange's outcome. client
// is what the client sent, server what the server sent; they are read
// alternately, one message at a time, so each may be any io.Reader (a file,
// a pipe, a stream reassembled from packets) as long as reading one does not
// wait for the other to be read. A read error other than io.EOF from either
// is reported as an error line at the offset where that stream's bytes stop.
//
// When the two sides fall out of step (a violation on one side, a reset, a
// stream that ends early), the exchange says where and why, and the other
// side is then decoded alone to its end.
func Conversation(client, server io.Reader, out io.Writer, opts Options) (Outcome, error) {
	e := newEmitter(out, opts.JSON, true)
	w := &walker{out: e}
	c := newStream("client", client, e, &opts)
	s := newStream("server", server, e, &opts)
	w.conversation(c, s)
	return w.outcome, e.close()
}

func (w *walker) conversation(c, s *stream) {
	for i := 1; ; i++ {
		x := newExchange(i)
		req, off, stop := w.header(c, SideClient, x, "request-header")
		if stop != nil {
			if stop.fault == nil {
				// The client ended between exchanges; so must the server.
				w.afterHangup(s, i)
				return
			}
			w.outOfStep(x, c, stop)
			w.direction(s, SideServer, i)
			return
		}
		if stop := w.afterRequestHeader(c, req, off, x); stop != nil {
			w.outOfStep(x, c, stop)
			w.direction(s, SideServer, i)
			return
		}
		rep, off, stop := w.header(s, SideServer, x, "reply-header")
		if stop != nil && stop.fault == nil && stop.end.How == "eof" {
			// A server that closes where a reply is due fails the call
			// [RPC-30].
			stop = w.fault(&Fault{Kind: "error", Stream: "server", Offset: stop.end.Offset, Class: "unexpected-eof", Rule: "RPC-30",
				Detail: fmt.Sprintf("the server's stream ended where the reply to exchange %d was due", i), Exchange: i})
		}
		if stop == nil {
			stop = w.afterReplyHeader(s, rep, off, x, req)
		}
		if stop != nil {
			w.outOfStep(x, s, stop)
			w.direction(c, SideClient, i+1)
			return
		}
		x.Complete = true
		w.out.emit(x)
	}
}

// outOfStep emits exchange x, stopped by what happened on stream st.
func (w *walker) outOfStep(x *Exchange, st *stream, h *halt) {
	if h.fault != nil {
		f := h.fault
		switch f.Class {
		case "read-error":
			x.OutOfStep = fmt.Sprintf("the %s's stream could not be read past offset %d: %s", st.name, f.Offset, f.Detail)
		case "unexpected-eof":
			x.OutOfStep = fmt.Sprintf("the %s's stream ends at offset %d, inside this exchange [%s]: the call cannot complete", st.name, f.Offset, f.Rule)
		default:
			x.OutOfStep = fmt.Sprintf("the %s's stream breaks the protocol at offset %d: %s [%s]; its peer ends the connection (section 10)", st.name, f.Offset, f.Class, f.Rule)
		}
	} else {
		x.OutOfStep = fmt.Sprintf("the %s's stream at offset %d: %s", st.name, h.end.Offset, h.end.Meaning)
	}
	w.out.emit(x)
}

// afterHangup checks that the server sent nothing after the client's last
// request had its reply.
func (w *walker) afterHangup(s *stream, i int) {
	_, err := s.next(frame.TypeHeader)
	if err == nil {
		s.flush()
		w.fault(&Fault{Kind: "error", Stream: "server", Offset: s.r.Offset() - frame.HeaderSize, Class: "out-of-step", Rule: "RPC-28",
			Detail: "the server sent a Header message after the client's last request was answered", Exchange: i})
		return
	}
	w.boundary(s, err, SideServer, i)
}

// Layers decodes src at the frame layer alone (layer.Frames: frames until
// the stream ends, as frame_decode.json reads them) or the message layer
// alone (layer.Expect: one message of each type in turn, then the end, as
// message_decode.json reads them). It is the view to compare with the test
// vectors.
func Layers(src io.Reader, out io.Writer, layer Layer, opts Options) (Outcome, error) {
	e := newEmitter(out, opts.JSON, false)
	w := &walker{out: e}
	s := newStream("", src, e, &opts)
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
			off := s.r.Offset() - frame.HeaderSize
			s.end("reset", &frame.ProtocolError{Class: frame.ClassReset, Rule: "FRAME-8", Offset: off}, SideAuto,
				"RST: the connection is over; nothing after it is read [FRAME-8]")
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
		if _, ok := isReset(s.r.Err()); ok {
			s.end("reset", s.r.Err().(*frame.ProtocolError), SideAuto, "RST after the expected messages: the connection is over [FRAME-8]")
			return
		}
		s.flush()
		w.fault(&Fault{Kind: "error", Offset: s.r.Offset() - frame.HeaderSize, Class: "out-of-step",
			Detail: "the stream goes on after the expected messages"})
	}
}
