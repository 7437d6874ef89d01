package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/framerpc/framerpc/cmd/framedump/internal/dump"
	"github.com/framerpc/framerpc/frame"
)

// Exit statuses.
const (
	exitClean     = 0
	exitViolation = 1
	exitUsage     = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usageText = `usage:
  framedump [flags] FILE|-            one direction (- reads stdin)
  framedump [flags] -client FILE -server FILE
  framedump [flags] PREFIX            PREFIX.client.bin and PREFIX.server.bin
  framedump [flags] -pcap FILE [-port N]
  framedump tap -listen ADDR -connect ADDR -o PREFIX [-v]
  framedump tap -o PREFIX [-v] -- CMD [ARGS...]

Exit status: 0 clean, 1 the input violates the protocol or is truncated,
2 usage or I/O error. 'go doc github.com/framerpc/framerpc/cmd/framedump'
has the details.

flags:
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "tap" {
		return runTap(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("framedump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	var (
		opts           dump.Options
		side, expect   string
		client, server string
		frames         bool
		pcap           string
		port           uint
	)
	fs.BoolVar(&opts.JSON, "json", false, "NDJSON output: one object per frame, message, exchange, error and end (framedump.schema.json)")
	fs.BoolVar(&opts.Hex, "x", false, "hex and ASCII dump of each frame's payload, capped by -xlines")
	fs.IntVar(&opts.HexLines, "xlines", dump.DefaultHexLines, "with -x, the most lines of 16 bytes dumped per frame; -1: no cap")
	fs.IntVar(&opts.Width, "width", dump.DefaultWidth, "cut JSON bodies after this many bytes; -1: no cut (which holds a whole JSON body in memory)")
	fs.BoolVar(&opts.Sum, "sum", false, "add the SHA-256 of every octets body")
	fs.StringVar(&side, "side", "", "one direction: decode the stream as the `client`'s or the server's, instead of deciding from its content")
	fs.StringVar(&client, "client", "", "conversation view: the `file` of what the client sent")
	fs.StringVar(&server, "server", "", "conversation view: the `file` of what the server sent")
	fs.BoolVar(&frames, "frames", false, "frame layer only: frames until the stream ends (as frame_decode.json vectors are read)")
	fs.StringVar(&pcap, "pcap", "", "conversation view of every TCP connection in a pcap or pcapng capture `file`")
	fs.UintVar(&port, "port", 0, "with -pcap, only the connections on this TCP `port`; its side is the server")
	fs.StringVar(&expect, "expect", "", "message layer only: the message `types` expected in turn, e.g. 01,02 (as message_decode.json vectors are read)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitClean
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "framedump: "+format+"\n", a...)
		fs.Usage()
		return exitUsage
	}
	switch side {
	case "":
	case "client":
		opts.Side = dump.SideClient
	case "server":
		opts.Side = dump.SideServer
	default:
		return usage("-side is client or server, not %q", side)
	}
	if opts.Width == 0 || opts.HexLines == 0 {
		return usage("-width and -xlines take a positive number or -1")
	}
	var layer dump.Layer
	layer.Frames = frames
	if expect != "" {
		types, err := parseTypes(expect)
		if err != nil {
			return usage("-expect: %v", err)
		}
		layer.Expect = types
	}
	if frames && expect != "" {
		return usage("-frames and -expect exclude each other")
	}

	if port > 65535 {
		return usage("-port %d is not a TCP port", port)
	}
	if port != 0 && pcap == "" {
		return usage("-port goes with -pcap")
	}
	if pcap != "" {
		if fs.NArg() != 0 || client != "" || frames || expect != "" || side != "" {
			return usage("-pcap takes no FILE, -client, -server, -frames, -expect or -side")
		}
		return capture(pcap, uint16(port), stdout, stderr, opts)
	}
	if (client == "") != (server == "") {
		return usage("-client and -server go together")
	}
	if client != "" {
		if fs.NArg() != 0 || frames || expect != "" || side != "" {
			return usage("-client and -server take no FILE, -frames, -expect or -side")
		}
		return conversation(client, server, stdout, stderr, opts)
	}
	if fs.NArg() != 1 {
		return usage("one FILE, - or PREFIX expected")
	}
	name := fs.Arg(0)
	if name != "-" {
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			c, s := name+".client.bin", name+".server.bin"
			if exists(c) && exists(s) {
				if frames || expect != "" || side != "" {
					return usage("a PREFIX takes no -frames, -expect or -side")
				}
				return conversation(c, s, stdout, stderr, opts)
			}
		}
	}
	var src io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "framedump: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		src = f
	}
	var (
		out dump.Outcome
		err error
	)
	if frames || expect != "" {
		out, err = dump.Layers(src, stdout, layer, opts)
	} else {
		out, err = dump.Direction(src, stdout, opts)
	}
	return exitStatus(out, err, stderr)
}

func exists(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

func conversation(client, server string, stdout, stderr io.Writer, opts dump.Options) int {
	c, err := os.Open(client)
	if err != nil {
		fmt.Fprintf(stderr, "framedump: %v\n", err)
		return exitUsage
	}
	defer c.Close()
	s, err := os.Open(server)
	if err != nil {
		fmt.Fprintf(stderr, "framedump: %v\n", err)
		return exitUsage
	}
	defer s.Close()
	out, err := dump.Conversation(c, s, stdout, opts)
	return exitStatus(out, err, stderr)
}

func exitStatus(out dump.Outcome, err error, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "framedump: writing the output: %v\n", err)
		return exitUsage
	}
	switch out {
	case dump.Clean:
		return exitClean
	case dump.Violation:
		return exitViolation
	}
	return exitUsage
}

// parseTypes reads "01,02" or "Header,Data".
func parseTypes(s string) ([]frame.Type, error) {
	var types []frame.Type
	for _, f := range strings.Split(s, ",") {
		var t frame.Type
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "header":
			t = frame.TypeHeader
		case "data":
			t = frame.TypeData
		case "trailer":
			t = frame.TypeTrailer
		default:
			n, err := strconv.ParseUint(strings.TrimSpace(f), 16, 8)
			if err != nil {
				return nil, fmt.Errorf("%q is not a message type (01, 02, 03 or Header, Data, Trailer)", f)
			}
			t = frame.Type(n)
		}
		if !t.IsMessage() {
			return nil, fmt.Errorf("%q is not a message type (01, 02, 03 or Header, Data, Trailer)", f)
		}
		types = append(types, t)
	}
	return types, nil
}
