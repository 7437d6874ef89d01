package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapsynth"
)

// writeCapture synthesises conns into a capture file and returns its path.
func writeCapture(t *testing.T, f pcapsynth.Format, conns ...*pcapsynth.Conn) string {
	t.Helper()
	var lists [][][]byte
	for _, c := range conns {
		p, err := c.Packets()
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, p)
	}
	var buf bytes.Buffer
	if err := pcapsynth.Write(&buf, f, pcapsynth.Interleave(lists...)); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func shipped(t *testing.T, name string) (client, server []byte) {
	t.Helper()
	c, err := os.ReadFile(filepath.Join(captures, name+".client.bin"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.ReadFile(filepath.Join(captures, name+".server.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func addr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// Each connection of a capture gets a heading, then exactly the
// conversation view the two streams give as files; -port keeps one.
func TestPcapConnections(t *testing.T) {
	names := []string{"json-call", "trailer-octets", "truncated"}
	var conns []*pcapsynth.Conn
	for i, n := range names {
		c, s := shipped(t, n)
		conns = append(conns, &pcapsynth.Conn{Client: addr(fmt.Sprintf("10.0.0.1:%d", 40000+i)), Server: addr(fmt.Sprintf("10.0.0.2:%d", 7000+i)),
			ClientBytes: c, ServerBytes: s})
	}
	for _, format := range []pcapsynth.Format{pcapsynth.PCAP, pcapsynth.PCAPNG} {
		file := writeCapture(t, format, conns...)
		out, errOut, code := framedump("-pcap", file)
		// The truncated capture makes the whole run exit 1.
		if code != exitViolation || errOut != "" {
			t.Fatalf("framedump -pcap: exit %d, stderr %q; want exit 1", code, errOut)
		}
		var want strings.Builder
		for i, n := range names {
			fmt.Fprintf(&want, "== connection %d: client %v -> server %v (the client sent the SYN); captured: client %d B, server %d B\n",
				i+1, conns[i].Client, conns[i].Server, len(conns[i].ClientBytes), len(conns[i].ServerBytes))
			conv, _, _ := framedump(filepath.Join(captures, n))
			want.WriteString(conv)
		}
		if out != want.String() {
			t.Errorf("format %d: framedump -pcap output differs from the headings and the files' conversations:\n%s\nwant:\n%s", format, out, want.String())
		}

		out, _, code = framedump("-pcap", file, "-port", "7001")
		conv, _, _ := framedump(filepath.Join(captures, "trailer-octets"))
		if code != exitClean || !strings.HasPrefix(out, "== connection 1: client 10.0.0.1:40001 -> server 10.0.0.2:7001 ") || !strings.HasSuffix(out, conv) {
			t.Errorf("-port 7001: exit %d, output:\n%s", code, out)
		}
	}
}

// A segment the capture missed ends that direction with an error line at
// the gap's offset; the other direction and the exchanges before it are
// decoded; the exit status is 1, as for a truncated input.
func TestPcapGap(t *testing.T) {
	c, s := shipped(t, "octets-reply")
	segs := []pcapsynth.Segment{{Offset: 0, Len: len(c)}, {FromServer: true, Offset: 0, Len: 2000}, {FromServer: true, Offset: 3000, Len: len(s) - 3000}}
	file := writeCapture(t, pcapsynth.PCAP, &pcapsynth.Conn{Client: addr("10.0.0.1:40000"), Server: addr("10.0.0.2:7000"), ClientBytes: c, ServerBytes: s, Segments: segs})
	out, errOut, code := framedump("-pcap", file, "-port", "7000")
	if code != exitViolation {
		t.Errorf("exit %d, want 1; stderr %q", code, errOut)
	}
	if !strings.Contains(out, "captured: client 105 B, server 2000 B") {
		t.Errorf("heading does not give the bytes before the gap:\n%s", out)
	}
	want := "S error at offset 2000 (0x7d0): read-error: capture misses 1000 bytes at stream offset 2000"
	if !strings.Contains(out, want) {
		t.Errorf("no line %q in\n%s", want, out)
	}

	out, _, _ = framedump("-pcap", file, "-json")
	objs := checkNDJSON(t, loadSchema(t), out)
	var found bool
	for _, o := range objs {
		if o["kind"] == "error" && o["stream"] == "server" && o["class"] == "read-error" && num(t, o["offset"]) == 2000 {
			found = true
		}
	}
	if !found {
		t.Errorf("-json: no read-error object at offset 2000:\n%s", out)
	}
}

// Without the handshake the heading says how the client was told.
func TestPcapNoHandshake(t *testing.T) {
	c, s := shipped(t, "json-call")
	conn := &pcapsynth.Conn{Client: addr("10.0.0.1:1000"), Server: addr("10.0.0.2:7000"), ClientBytes: c, ServerBytes: s, NoHandshake: true}
	file := writeCapture(t, pcapsynth.PCAP, conn)
	out, _, code := framedump("-pcap", file, "-port", "7000")
	if code != exitClean || !strings.HasPrefix(out, "== connection 1: client 10.0.0.1:1000 -> server 10.0.0.2:7000 (no SYN captured; the client connected to -port)") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestPcapUsage(t *testing.T) {
	c, s := shipped(t, "json-call")
	file := writeCapture(t, pcapsynth.PCAP, &pcapsynth.Conn{Client: addr("10.0.0.1:40000"), Server: addr("10.0.0.2:7000"), ClientBytes: c, ServerBytes: s})
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-port", "7000", "x"}, "-port goes with -pcap"},
		{[]string{"-pcap", file, "x"}, "-pcap takes no FILE"},
		{[]string{"-pcap", file, "-frames"}, "-pcap takes no FILE"},
		{[]string{"-pcap", file, "-port", "70000"}, "not a TCP port"},
		{[]string{"-pcap", "testdata/no-such-file"}, "no such file"},
		{[]string{"-pcap", filepath.Join(captures, "json-call.client.bin")}, "pcapread"},
		{[]string{"-pcap", file, "-port", "7001"}, "no TCP connection on port 7001"},
	} {
		out, errOut, code := framedump(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.msg) || out != "" {
			t.Errorf("framedump %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.msg)
		}
	}
}
