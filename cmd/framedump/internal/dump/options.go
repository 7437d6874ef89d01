package dump

import "github.com/framerpc/framerpc/frame"

// Side is which end of a connection wrote a stream.
type Side uint8

// The sides. SideAuto decides from the first header: a request header
// (non-empty Endpoint, or Error 0) is the client's, a reply header the
// server's.
const (
	SideAuto Side = iota
	SideClient
	SideServer
)

func (s Side) String() string {
	switch s {
	case SideClient:
		return "client"
	case SideServer:
		return "server"
	}
	return "unknown"
}

// Options control what is decoded and shown.
type Options struct {
	// Side forces the one-direction view's side.
	Side Side
	// Width cuts JSON bodies after this many bytes (compacted); 0 means
	// DefaultWidth, negative no cut.
	Width int
	// Sum adds the SHA-256 of every octets body.
	Sum bool
	// Hex adds a hex dump of each frame's payload, HexLines lines of 16
	// bytes at most (0: DefaultHexLines; negative: no cap).
	Hex      bool
	HexLines int
	// JSON selects NDJSON output, one object per event, instead of text.
	JSON bool
	// Live flushes the output after every event, for a view that follows a
	// connection as it happens.
	Live bool
}

// Defaults.
const (
	DefaultWidth    = 120
	DefaultHexLines = 4
)

func (o Options) width() int {
	if o.Width == 0 {
		return DefaultWidth
	}
	return o.Width
}

// hexCap is the most payload bytes dumped per frame, -1 for all.
func (o Options) hexCap() int64 {
	switch {
	case !o.Hex:
		return 0
	case o.HexLines < 0:
		return -1
	case o.HexLines == 0:
		return DefaultHexLines * 16
	}
	return int64(o.HexLines) * 16
}

// Outcome is how a decode ended; it sets framedump's exit status.
type Outcome uint8

// The outcomes, in increasing severity.
const (
	// Clean: every stream ended at a message boundary or with an RST
	// where a peer may send one.
	Clean Outcome = iota
	// Violation: a stream breaks the protocol or is truncated (exit 1).
	Violation
	// ReadError: a source failed with an error other than io.EOF (exit 2).
	ReadError
)

func worse(a, b Outcome) Outcome { return max(a, b) }

// Layer selects the frame or message layer view for Layers.
type Layer struct {
	// Frames: frames only, as the frame decode vectors read them.
	Frames bool
	// Expect: the message types expected at successive message boundaries,
	// as the message decode vectors give them; the stream must end after
	// the last.
	Expect []frame.Type
}
