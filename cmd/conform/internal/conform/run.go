package conform

import (
	"errors"
	"time"
)

// Options are what both roles share.
type Options struct {
	// Timeout bounds every wait for an implementation.
	Timeout time.Duration
	// Select, if set, chooses the vectors to play.
	Select func(file string, tcID int) bool
}

func (o Options) selected(c Case) bool { return o.Select == nil || o.Select(c.File, c.TcID) }

// RunServer plays every case against the server target reaches.
func RunServer(r *Reporter, o Options, transport string, cases []Case, t Target) {
	for _, c := range cases {
		if !o.selected(c) {
			continue
		}
		res := newResult("server", transport, c)
		f, err := playServer(c, t, o.Timeout)
		var un *Unavailable
		switch {
		case errors.As(err, &un):
			res.Outcome, res.Detail = NotRun, un.Reason
		case err != nil:
			res.setFailure(failf("connecting: %v", err))
		case f != nil:
			res.setFailure(f)
		default:
			res.Outcome = Pass
		}
		r.Add(res)
	}
}

// RunClient plays every case against the clients d starts, the protocol
// going over network ("tcp" or "unix").
func RunClient(r *Reporter, o Options, network string, cases []Case, d Driver) {
	for _, c := range cases {
		if !o.selected(c) {
			continue
		}
		res := newResult("client", network, c)
		if f := playClient(c, d, network, o.Timeout); f != nil {
			res.setFailure(f)
		} else {
			res.Outcome = Pass
		}
		r.Add(res)
	}
}
