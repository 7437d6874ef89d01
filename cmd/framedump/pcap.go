package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/framerpc/framerpc/cmd/framedump/internal/dump"
	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapread"
)

// connection is the heading of one TCP connection of a capture, in -json
// output: the objects after it, up to the next connection, are its
// conversation.
type connection struct {
	Kind  string `json:"kind"` // "connection"
	Index int    `json:"index"`
	// Client and Server are address:port.
	Client string `json:"client"`
	Server string `json:"server"`
	// ClientBy is how the client was told: syn, port or higher-port.
	ClientBy string `json:"clientBy"`
	// ClientBytes and ServerBytes are how many bytes of each stream the
	// capture holds before its end or its first gap.
	ClientBytes int64 `json:"clientBytes"`
	ServerBytes int64 `json:"serverBytes"`
}

var clientBy = map[pcapread.ClientRule]string{
	pcapread.BySYN:        "the client sent the SYN",
	pcapread.ByPort:       "no SYN captured; the client connected to -port",
	pcapread.ByHigherPort: "no SYN captured; the client has the higher port",
}

// capture prints the conversation view of every TCP connection in the
// capture file, each after a heading line.
func capture(file string, port uint16, stdout, stderr io.Writer, opts dump.Options) int {
	c, err := pcapread.ReadFile(file, pcapread.Options{Port: port})
	if err != nil {
		fmt.Fprintf(stderr, "framedump: %v\n", err)
		return exitUsage
	}
	defer c.Close()
	if c.Truncated {
		fmt.Fprintf(stderr, "framedump: %s ends inside a packet; decoding the packets before it\n", file)
	}
	if len(c.Conns) == 0 {
		on := ""
		if port != 0 {
			on = fmt.Sprintf(" on port %d", port)
		}
		fmt.Fprintf(stderr, "framedump: %s holds no TCP connection%s\n", file, on)
		return exitUsage
	}
	outcome := dump.Clean
	for i, conn := range c.Conns {
		if err := heading(stdout, i+1, conn, opts.JSON); err != nil {
			fmt.Fprintf(stderr, "framedump: writing the output: %v\n", err)
			return exitUsage
		}
		o, err := dump.Conversation(conn.Client.Open(), conn.Server.Open(), stdout, opts)
		if err != nil {
			fmt.Fprintf(stderr, "framedump: writing the output: %v\n", err)
			return exitUsage
		}
		// A segment the capture missed is a read error of the
		// reassembled stream; for the user the input is truncated.
		if o == dump.ReadError && (conn.Client.Gap() != nil || conn.Server.Gap() != nil) {
			o = dump.Violation
		}
		outcome = max(outcome, o) // Outcomes are ordered by severity
	}
	return exitStatus(outcome, nil, stderr)
}

func heading(w io.Writer, i int, c *pcapread.Conn, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(connection{Kind: "connection", Index: i, Client: c.ClientAddr.String(), Server: c.ServerAddr.String(),
			ClientBy: c.ClientBy.String(), ClientBytes: c.Client.Len(), ServerBytes: c.Server.Len()})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, "== connection %d: client %v -> server %v (%s); captured: client %d B, server %d B\n",
		i, c.ClientAddr, c.ServerAddr, clientBy[c.ClientBy], c.Client.Len(), c.Server.Len())
	return err
}
