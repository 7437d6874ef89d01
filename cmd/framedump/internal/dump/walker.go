package dump

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// The RPC layer's sequencing (sections 7 to 9), as rpc's server and client
// follow it: which message each side sends next, what the hello granted,
// and where the two sides fall out of step.

// Extension names (section 9).
const (
	extTrailer   = "trailer"
	extMultipart = "multipart"
)

// halt says why a stream stopped: a clean End, an RST, or a Fault. Each is
// emitted when the halt is made.
type halt struct {
	end   *End
	fault *Fault
}

// walker holds what a conversation negotiated so far.
type walker struct {
	out     *emitter
	outcome Outcome

	helloSeen bool // a hello request was read
	asked     []string
	// grantKnown: the hello reply was read; granted holds its grants.
	grantKnown bool
	granted    []string
}

// tri says whether an extension is in use: yes, no, or maybe (a
// one-direction view of a client that asked for it, not knowing the
// answer; a Trailer after an octets body is then read if one comes).
type tri uint8

const (
	no tri = iota
	yes
	maybe
)

func (w *walker) ext(name string) tri {
	switch {
	case w.grantKnown:
		if slices.Contains(w.granted, name) {
			return yes
		}
		return no
	case w.helloSeen && slices.Contains(w.asked, name):
		return maybe
	}
	// [RPC-26]: no extension before a hello granted it.
	return no
}

func (w *walker) fault(f *Fault) *halt {
	w.out.emit(f)
	if f.Class == "read-error" {
		w.outcome = worse(w.outcome, ReadError)
	} else {
		w.outcome = worse(w.outcome, Violation)
	}
	return &halt{fault: f}
}

// stopped turns what stopped a message read into a halt: a frame-layer
// fault, a read error, an RST (with its meaning), or the end of the stream
// where a message was required (eofRule and what say which).
func (w *walker) stopped(s *stream, err error, ex int, side Side, resetMeaning, eofRule, what string) *halt {
	if pe, ok := isReset(err); ok {
		return &halt{end: s.end("reset", pe, side, resetMeaning)}
	}
	if err == io.EOF {
		s.flush()
		return w.fault(&Fault{Kind: "error", Stream: s.name, Offset: s.r.Offset(), Class: "unexpected-eof", Rule: eofRule,
			Detail: "the stream ended where " + what + " was due", Exchange: ex})
	}
	var f *Fault
	if errors.As(err, &f) {
		return w.fault(f)
	}
	return w.fault(s.fault(err, ex))
}

// boundary handles the end of a stream where a side would start its next
// message: a request header for a client, a reply header for a server.
func (w *walker) boundary(s *stream, err error, side Side, ex int) *halt {
	if err == io.EOF {
		meaning := "the stream ended at a message boundary"
		switch side {
		case SideClient:
			meaning = "the client closed its side at a message boundary: no more requests"
		case SideServer:
			meaning = "the server closed the connection at a message boundary"
		}
		return &halt{end: s.end("eof", nil, side, meaning)}
	}
	meaning := "RST at a message boundary: the sender ended the connection [FRAME-8]"
	switch side {
	case SideClient:
		meaning = "the client hung up with RST where its next request would start [RPC-34], which a server takes as the end [RPC-29]"
	case SideServer:
		meaning = "the server ended the connection with RST between replies: it met an error that ends the connection (section 10) [RPC-35]"
	}
	return w.stopped(s, err, ex, side, meaning, "", "")
}

const bodyResetMeaning = "RST where a body was due or inside it: the body is incomplete [MSG-5]; a sender whose stream source fails without the trailer extension ends the connection this way [RPC-23], as does a client that abandons its call [RPC-33]"

// newExchange is an exchange with no body seen yet.
func newExchange(i int) *Exchange {
	return &Exchange{Kind: "exchange", Index: i, RequestJSON: -1, RequestOctets: -1, ReplyJSON: -1, ReplyOctets: -1}
}

// afterRequestHeader checks a request header and reads the body it
// announces.
func (w *walker) afterRequestHeader(s *stream, h *wire.Header, hdrOff int64, x *Exchange) *halt {
	x.Endpoint, x.RequestType, x.Accept = h.Endpoint, h.DataType.String(), h.Accept.String()
	known := h.DataType >= wire.DataNone && h.DataType <= wire.DataOctets || h.DataType == wire.DataMultipart && w.ext(extMultipart) != no
	if !known {
		return w.fault(&Fault{Kind: "error", Stream: s.name, Offset: hdrOff, Class: "bad-header", Rule: "RPC-9",
			Detail:   fmt.Sprintf("request DataType %d is no body kind on this connection: the server cannot know which messages follow and ends the connection", h.DataType),
			Exchange: x.Index})
	}
	if h.Endpoint == "framerpc:hello" {
		x.Hello = true
		x.Asked = append([]string{}, h.Extensions...)
		if !w.helloSeen {
			w.helloSeen = true
			w.asked = x.Asked
		}
	}
	return w.body(s, x, h.DataType, "request")
}

// body reads the messages of a body of kind dt [RPC-14], dir being
// "request" or "reply".
func (w *walker) body(s *stream, x *Exchange, dt wire.DataType, dir string) *halt {
	side := SideClient
	if dir == "reply" {
		side = SideServer
	}
	if dt.HasJSON() {
		m, err := s.next(frame.TypeData)
		if err != nil {
			return w.stopped(s, err, x.Index, side, bodyResetMeaning, "RPC-14", "the "+dir+"'s JSON body")
		}
		ev, err := s.jsonBody(m, x.Index, dir+"-json")
		if err != nil {
			return w.stopped(s, err, x.Index, side, bodyResetMeaning, "", "")
		}
		s.out.emit(ev)
		if dir == "request" {
			x.RequestJSON = ev.Length
		} else {
			x.ReplyJSON = ev.Length
		}
	}
	if !dt.HasOctets() {
		return nil
	}
	m, err := s.next(frame.TypeData)
	if err != nil {
		return w.stopped(s, err, x.Index, side, bodyResetMeaning, "RPC-14", "the "+dir+"'s octets body")
	}
	ev, err := s.octets(m, x.Index, dir+"-octets")
	if err != nil {
		return w.stopped(s, err, x.Index, side, bodyResetMeaning, "", "")
	}
	s.out.emit(ev)
	if dir == "request" {
		x.RequestOctets = ev.Length
	} else {
		x.ReplyOctets = ev.Length
	}
	switch w.ext(extTrailer) {
	case no:
		return nil
	case maybe:
		if t, ok := s.r.PeekType(); !ok || t != frame.TypeTrailer {
			return nil
		}
	}
	tail, h := w.trailer(s, x, dir)
	if dir == "request" {
		x.RequestTrailer = tail
	} else {
		x.ReplyTrailer = tail
	}
	return h
}

// trailer reads the Trailer message after an octets body [RPC-22].
func (w *walker) trailer(s *stream, x *Exchange, dir string) (*Tail, *halt) {
	side := SideClient
	if dir == "reply" {
		side = SideServer
	}
	m, err := s.next(frame.TypeTrailer)
	if err != nil {
		return nil, w.stopped(s, err, x.Index, side, bodyResetMeaning, "RPC-22", "the Trailer of the "+dir+"'s octets body")
	}
	h, ev, err := s.header(m, x.Index, dir+"-trailer", "bad-trailer")
	if ev != nil {
		s.out.emit(ev)
	}
	if err != nil {
		return nil, w.stopped(s, err, x.Index, side, bodyResetMeaning, "", "")
	}
	if !h.Error.Valid() {
		return nil, w.fault(&Fault{Kind: "error", Stream: s.name, Offset: m.Offset(), Class: "bad-trailer", Rule: "RPC-48",
			Detail: fmt.Sprintf("trailer status %d is not 1 to 4", h.Error), Exchange: x.Index})
	}
	return &Tail{Status: h.Error.String(), ErrorMessage: h.ErrorMessage}, nil
}

// afterReplyHeader checks a reply header against its request (req nil:
// not known, one-direction view) and reads the body it announces.
func (w *walker) afterReplyHeader(s *stream, h *wire.Header, hdrOff int64, x *Exchange, req *wire.Header) *halt {
	x.Status, x.ErrorMessage, x.ReplyType = h.Error.String(), h.ErrorMessage, h.DataType.String()
	bad := func(rule, format string, args ...any) *halt {
		return w.fault(&Fault{Kind: "error", Stream: s.name, Offset: hdrOff, Class: "bad-reply", Rule: rule,
			Detail: fmt.Sprintf(format, args...), Exchange: x.Index})
	}
	if !h.Error.Valid() {
		return bad("RPC-10", "reply status %d is not 1 to 4", h.Error)
	}
	hello := req != nil && req.Endpoint == "framerpc:hello" || req == nil && h.HasExtensions && h.Error == wire.StatusOK
	if hello && req != nil {
		x.Hello = true
	}
	if h.Error != wire.StatusOK {
		if hello && !w.grantKnown {
			// [RPC-26]: a refused hello grants nothing.
			w.grantKnown, w.granted = true, nil
		}
		return nil
	}
	if hello {
		x.Hello = true
		x.Granted = append([]string{}, h.Extensions...)
		if req != nil {
			if h.DataType != wire.DataNone {
				return bad("RPC-25", "hello reply with DataType %d, not 1", h.DataType)
			}
			for _, e := range h.Extensions {
				if !slices.Contains(req.Extensions, e) {
					return bad("RPC-25", "hello reply grants %q, which the client did not ask for", e)
				}
			}
		}
		if !w.grantKnown {
			w.grantKnown, w.granted = true, x.Granted
		}
		return nil
	}
	if req != nil && h.DataType != req.Accept {
		return bad("RPC-17", "OK reply with DataType %d (%v) to a request that accepts %d (%v): the client resets the connection",
			h.DataType, h.DataType, req.Accept, req.Accept)
	}
	if h.DataType < wire.DataNone || h.DataType > wire.DataMultipart {
		return bad("RPC-17", "OK reply with DataType %d, which is no body kind", h.DataType)
	}
	return w.body(s, x, h.DataType, "reply")
}

// header starts the next Header message of s and decodes it.
func (w *walker) header(s *stream, side Side, x *Exchange, role string) (*wire.Header, int64, *halt) {
	m, err := s.next(frame.TypeHeader)
	if err != nil {
		return nil, 0, w.boundary(s, err, side, x.Index)
	}
	h, ev, err := s.header(m, x.Index, role, "bad-header")
	if ev != nil {
		if role == "" {
			// The first header of a one-direction view decides the side; one
			// that does not decode leaves it unknown.
			ev.Role = "header"
			if h != nil {
				ev.Role = "request-header"
				if decideSide(h) == SideServer {
					ev.Role = "reply-header"
				}
			}
		}
		s.out.emit(ev)
	}
	if err != nil {
		return nil, 0, w.stopped(s, err, x.Index, side, bodyResetMeaning, "", "")
	}
	return h, m.Offset(), nil
}

// decideSide: a request header names an endpoint, or at least has Error 0
// as a client fills it [RPC-2]; a reply header has neither.
func decideSide(h *wire.Header) Side {
	if h.Endpoint != "" || h.Error == 0 {
		return SideClient
	}
	return SideServer
}
