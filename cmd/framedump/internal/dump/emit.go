package dump

import (
	"bufio"
	"io"
)

// emitter hands events to a renderer, keeping the first write error so a
// decode stops when its output is gone (framedump ... | head).
type emitter struct {
	w    *bufio.Writer
	json bool
	live bool
	err  error
	// conv: prefix lines with the stream's initial in the text view.
	conv bool
}

func newEmitter(w io.Writer, asJSON, conv bool) *emitter {
	return &emitter{w: bufio.NewWriterSize(w, 64<<10), json: asJSON, conv: conv}
}

func (e *emitter) emit(ev Event) {
	if e.err != nil {
		return
	}
	if e.json {
		e.err = writeJSON(e.w, ev)
	} else {
		e.err = e.text(ev)
	}
	if e.err == nil && e.live {
		e.err = e.w.Flush()
	}
}

func (e *emitter) close() error {
	if err := e.w.Flush(); e.err == nil {
		e.err = err
	}
	return e.err
}
