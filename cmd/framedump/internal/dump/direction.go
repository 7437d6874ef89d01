package dump

import "io"

// Direction decodes one side's stream, src, to out: every frame, every
// message as the RPC layer reads it, and where it stops. The side is
// opts.Side or, by default, decided from the first header. The error is a
// failure to write out; everything wrong with src is in the output and the
// Outcome.
func Direction(src io.Reader, out io.Writer, opts Options) (Outcome, error) {
	e := newEmitter(out, opts.JSON, false)
	w := &walker{out: e}
	s := newStream("", src, e, &opts)
	defer s.release()
	w.direction(s, opts.Side, 1)
	return w.outcome, e.close()
}

// direction decodes one side's exchanges from exchange i on.
func (w *walker) direction(s *stream, side Side, i int) Side {
	for ; ; i++ {
		x := newExchange(i)
		role := ""
		switch side {
		case SideClient:
			role = "request-header"
		case SideServer:
			role = "reply-header"
		}
		h, off, stop := w.header(s, side, x, role)
		if stop != nil {
			return side
		}
		if side == SideAuto {
			side = decideSide(h)
		}
		if side == SideClient {
			stop = w.afterRequestHeader(s, h, off, x)
		} else {
			stop = w.afterReplyHeader(s, h, off, x, nil)
		}
		if stop != nil {
			return side
		}
	}
}
