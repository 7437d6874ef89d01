package dump

import (
	"fmt"
	"io"

	"github.com/framerpc/framerpc/frame"
)

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
	e.live = opts.Live
	w := &walker{out: e}
	c := newStream("client", client, e, &opts)
	s := newStream("server", server, e, &opts)
	defer c.release()
	defer s.release()
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
