package pcapread_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapread"
	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapsynth"
)

// pattern returns n bytes that do not repeat at any power-of-two period,
// so a dropped, repeated or misplaced segment shows.
func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i + seed) % 251)
	}
	return b
}

var (
	client1 = netip.MustParseAddrPort("10.0.0.1:40000")
	server1 = netip.MustParseAddrPort("10.0.0.2:7000")
	client2 = netip.MustParseAddrPort("10.0.0.3:40001")
	server2 = netip.MustParseAddrPort("10.0.0.2:7001")
)

// capture synthesises conns in format f and reads the file back.
func capture(t *testing.T, f pcapsynth.Format, opts pcapread.Options, conns ...*pcapsynth.Conn) *pcapread.Capture {
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
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	c, err := pcapread.Read(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		left, _ := os.ReadDir(opts.TempDir)
		if len(left) != 0 {
			t.Errorf("Close left %d temporary files", len(left))
		}
	})
	return c
}

// readAll reads a direction to its end and returns the bytes and the error
// that ended it (nil for a clean end).
func readAll(t *testing.T, d *pcapread.Direction) ([]byte, error) {
	t.Helper()
	b, err := io.ReadAll(d.Open())
	return b, err
}

func checkClean(t *testing.T, name string, d *pcapread.Direction, want []byte) {
	t.Helper()
	got, err := readAll(t, d)
	if err != nil {
		t.Errorf("%s: error %v, want a clean end", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes, want %d; first difference at %d", name, len(got), len(want), firstDiff(got, want))
	}
	if d.Len() != int64(len(want)) {
		t.Errorf("%s: Len %d, want %d", name, d.Len(), len(want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func checkConn(t *testing.T, c *pcapread.Conn, client, server netip.AddrPort, cb, sb []byte) {
	t.Helper()
	if c.ClientAddr != client || c.ServerAddr != server {
		t.Errorf("endpoints %v -> %v, want %v -> %v", c.ClientAddr, c.ServerAddr, client, server)
	}
	checkClean(t, "client", c.Client, cb)
	checkClean(t, "server", c.Server, sb)
}

// Two connections whose packets interleave, in both file formats; the
// client's stream is long enough for its sequence numbers to wrap.
func TestTwoConnections(t *testing.T) {
	for _, f := range []pcapsynth.Format{pcapsynth.PCAP, pcapsynth.PCAPNG} {
		a := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: pattern(200000, 1), ServerBytes: pattern(5000, 2)}
		b := &pcapsynth.Conn{Client: client2, Server: server2, ClientBytes: pattern(300, 3), ServerBytes: pattern(70000, 4)}
		c := capture(t, f, pcapread.Options{}, a, b)
		if len(c.Conns) != 2 {
			t.Fatalf("format %d: %d connections, want 2", f, len(c.Conns))
		}
		checkConn(t, c.Conns[0], client1, server1, a.ClientBytes, a.ServerBytes)
		checkConn(t, c.Conns[1], client2, server2, b.ClientBytes, b.ServerBytes)
		if by := c.Conns[0].ClientBy; by != pcapread.BySYN {
			t.Errorf("client told by %v with a handshake in the capture", by)
		}
	}
}

func TestPortFilter(t *testing.T) {
	a := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: pattern(10, 1), ServerBytes: pattern(20, 2)}
	b := &pcapsynth.Conn{Client: client2, Server: server2, ClientBytes: pattern(30, 3), ServerBytes: pattern(40, 4)}
	c := capture(t, pcapsynth.PCAP, pcapread.Options{Port: server2.Port()}, a, b)
	if len(c.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(c.Conns))
	}
	checkConn(t, c.Conns[0], client2, server2, b.ClientBytes, b.ServerBytes)
}

// Segments captured out of order, retransmitted whole, and retransmitted
// overlapping their neighbours, are each delivered once, in order.
func TestReorderAndRetransmit(t *testing.T) {
	cb, sb := pattern(10000, 5), pattern(10000, 6)
	segs := []pcapsynth.Segment{
		{Offset: 0, Len: 1000},
		{Offset: 2000, Len: 1000}, // ahead of a hole
		{Offset: 1000, Len: 1000}, // fills it
		{Offset: 1000, Len: 1000}, // retransmitted whole
		{Offset: 2500, Len: 2000}, // overlaps what was delivered
		{Offset: 6000, Len: 4000},
		{Offset: 4500, Len: 1500},
		{FromServer: true, Offset: 5000, Len: 5000},
		{FromServer: true, Offset: 0, Len: 3000},
		{FromServer: true, Offset: 2000, Len: 3000},
		{FromServer: true, Offset: 0, Len: 10000}, // everything again
	}
	conn := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: cb, ServerBytes: sb, Segments: segs}
	c := capture(t, pcapsynth.PCAPNG, pcapread.Options{}, conn)
	if len(c.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(c.Conns))
	}
	checkConn(t, c.Conns[0], client1, server1, cb, sb)
}

// A segment the capture never saw: the direction's reader returns every
// byte before it, then a *GapError at its offset; the other direction is
// intact.
func TestGap(t *testing.T) {
	cb, sb := pattern(3000, 7), pattern(9000, 8)
	segs := []pcapsynth.Segment{
		{Offset: 0, Len: 3000},
		{FromServer: true, Offset: 0, Len: 4000},
		// 4000 to 5500 lost
		{FromServer: true, Offset: 5500, Len: 3500},
	}
	conn := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: cb, ServerBytes: sb, Segments: segs}
	c := capture(t, pcapsynth.PCAP, pcapread.Options{}, conn)
	checkClean(t, "client", c.Conns[0].Client, cb)
	got, err := readAll(t, c.Conns[0].Server)
	var gap *pcapread.GapError
	if !errors.As(err, &gap) {
		t.Fatalf("server: error %v, want a *GapError", err)
	}
	if gap.Offset != 4000 || gap.Missing != 1500 {
		t.Errorf("gap %+v, want offset 4000, 1500 missing", *gap)
	}
	if !bytes.Equal(got, sb[:4000]) {
		t.Errorf("server: %d bytes before the gap, want the first 4000", len(got))
	}
	if g := c.Conns[0].Server.Gap(); g == nil || *g != *gap {
		t.Errorf("Gap() = %v, want %v", g, gap)
	}
}

// A hole right before the FIN is a gap too, not a clean end.
func TestGapBeforeFIN(t *testing.T) {
	cb, sb := pattern(100, 9), pattern(3000, 10)
	segs := []pcapsynth.Segment{{Offset: 0, Len: 100}, {FromServer: true, Offset: 0, Len: 1000}}
	conn := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: cb, ServerBytes: sb, Segments: segs}
	c := capture(t, pcapsynth.PCAP, pcapread.Options{}, conn)
	_, err := readAll(t, c.Conns[0].Server)
	var gap *pcapread.GapError
	if !errors.As(err, &gap) || gap.Offset != 1000 || gap.Missing != 2000 {
		t.Fatalf("server: error %v, want a gap of 2000 bytes at 1000", err)
	}
}

// Without the handshake, the client is the side connecting to the port
// asked for, else the side with the higher port.
func TestNoHandshake(t *testing.T) {
	cb, sb := pattern(500, 11), pattern(600, 12)
	// The client's port is lower than the server's here, so only the
	// port option gets the sides right.
	lowClient := netip.MustParseAddrPort("10.0.0.1:1000")
	conn := func() *pcapsynth.Conn {
		return &pcapsynth.Conn{Client: lowClient, Server: server1, ClientBytes: cb, ServerBytes: sb, NoHandshake: true,
			// The server speaks first in the capture.
			Segments: []pcapsynth.Segment{{FromServer: true, Offset: 0, Len: 600}, {Offset: 0, Len: 500}}}
	}
	c := capture(t, pcapsynth.PCAP, pcapread.Options{Port: server1.Port()}, conn())
	if by := c.Conns[0].ClientBy; by != pcapread.ByPort {
		t.Errorf("client told by %v, want port", by)
	}
	checkConn(t, c.Conns[0], lowClient, server1, cb, sb)

	c = capture(t, pcapsynth.PCAP, pcapread.Options{}, conn())
	if by := c.Conns[0].ClientBy; by != pcapread.ByHigherPort {
		t.Errorf("client told by %v, want higher-port", by)
	}
	checkConn(t, c.Conns[0], server1, lowClient, sb, cb)
}

func TestNotACapture(t *testing.T) {
	for _, in := range []string{"", "abc", "this is not a capture file"} {
		if c, err := pcapread.Read(bytes.NewReader([]byte(in)), pcapread.Options{}); err == nil {
			c.Close()
			t.Errorf("Read(%q) succeeded", in)
		}
	}
	if _, err := pcapread.ReadFile(filepath.Join(t.TempDir(), "missing.pcap"), pcapread.Options{}); err == nil {
		t.Error("ReadFile of a missing file succeeded")
	}
}

// A file cut inside its last packet (a killed tcpdump) still gives what
// came before, and says it was truncated.
func TestTruncatedFile(t *testing.T) {
	conn := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: pattern(3000, 13), ServerBytes: pattern(100, 14), NoFIN: true,
		Segments: []pcapsynth.Segment{{Offset: 0, Len: 1000}, {FromServer: true, Offset: 0, Len: 100}, {Offset: 1000, Len: 2000}}}
	packets, err := conn.Packets()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pcapsynth.Write(&buf, pcapsynth.PCAP, packets); err != nil {
		t.Fatal(err)
	}
	cut := buf.Bytes()[:buf.Len()-10]
	c, err := pcapread.Read(bytes.NewReader(cut), pcapread.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Truncated {
		t.Error("Truncated false for a file cut inside a packet")
	}
	checkClean(t, "client", c.Conns[0].Client, conn.ClientBytes[:1000])
	checkClean(t, "server", c.Conns[0].Server, conn.ServerBytes)
}

// Thousands of connections share one temporary file: a file per direction
// would run out of file descriptors. Their segments interleave, so each
// direction's bytes lie in many runs of the file.
func TestManyConnectionsOneFile(t *testing.T) {
	const n = 3000
	var conns []*pcapsynth.Conn
	for i := range n {
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000)
		conns = append(conns, &pcapsynth.Conn{Client: cl, Server: server1, ClientBytes: pattern(3000, i), ServerBytes: pattern(2000, i+1)})
	}
	dir := t.TempDir()
	c := capture(t, pcapsynth.PCAP, pcapread.Options{TempDir: dir}, conns...)
	if len(c.Conns) != n {
		t.Fatalf("%d connections, want %d", len(c.Conns), n)
	}
	for i, cn := range c.Conns {
		checkConn(t, cn, conns[i].Client, server1, conns[i].ClientBytes, conns[i].ServerBytes)
	}
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 1 {
		t.Errorf("%d temporary files (%v), want 1", len(files), err)
	}
}

// A packet whose TCP header is cut short (found by FuzzRead: it crashed
// Read) is skipped; the connection around it is read as usual.
func TestMangledPacket(t *testing.T) {
	conn := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: pattern(100, 15), ServerBytes: pattern(100, 16)}
	packets, err := conn.Packets()
	if err != nil {
		t.Fatal(err)
	}
	// Ethernet, IPv4, then 10 of the TCP header's 20 bytes.
	cut := bytes.Clone(packets[3][:14+20+10])
	var buf bytes.Buffer
	if err := pcapsynth.Write(&buf, pcapsynth.PCAP, append([][]byte{cut}, packets...)); err != nil {
		t.Fatal(err)
	}
	c, err := pcapread.Read(&buf, pcapread.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(c.Conns))
	}
	checkConn(t, c.Conns[0], client1, server1, conn.ClientBytes, conn.ServerBytes)
}

// Reassembly holds at most about 15 MiB waiting for a missing segment;
// past that the hole is a gap even if the segment comes later. Without
// the bound, a capture with an early hole would be held in memory whole.
func TestPendingBound(t *testing.T) {
	const total = 24 << 20
	cb := pattern(total, 17)
	segs := []pcapsynth.Segment{{Offset: 0, Len: 1000}}
	for off := 2000; off < total; off += 60000 {
		segs = append(segs, pcapsynth.Segment{Offset: off, Len: min(60000, total-off)})
	}
	segs = append(segs, pcapsynth.Segment{Offset: 1000, Len: 1000}) // far too late
	conn := &pcapsynth.Conn{Client: client1, Server: server1, ClientBytes: cb, Segments: segs}
	c := capture(t, pcapsynth.PCAP, pcapread.Options{}, conn)
	gap := c.Conns[0].Client.Gap()
	if gap == nil || gap.Offset != 1000 || gap.Missing != 1000 {
		t.Fatalf("gap %v, want 1000 bytes missing at 1000", gap)
	}
}

// IPv6 connections (::1 is as common as 127.0.0.1) are read the same way.
func TestIPv6(t *testing.T) {
	cl, sv := netip.MustParseAddrPort("[::1]:40000"), netip.MustParseAddrPort("[::1]:7000")
	conn := &pcapsynth.Conn{Client: cl, Server: sv, ClientBytes: pattern(5000, 18), ServerBytes: pattern(7000, 19)}
	c := capture(t, pcapsynth.PCAPNG, pcapread.Options{Port: 7000}, conn)
	if len(c.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(c.Conns))
	}
	checkConn(t, c.Conns[0], cl, sv, conn.ClientBytes, conn.ServerBytes)
}
