// Package pcapsynth writes packet captures (pcap or pcapng, Ethernet, IPv4
// or IPv6, TCP) of conversations given as the bytes each side sent. It is the
// generator behind framedump's capture tests: a test states what went over
// the connection and how the capture mangled it (segments reordered,
// retransmitted, lost, no handshake), and gets a file that tcpdump could
// have written, instead of a hand-written hex dump. The real-capture test
// uses it as its fallback where packet capture is not permitted.
//
// The packets are built with gopacket's layers and written with its pcapgo
// writers, so checksums, lengths and file formats are those of a
// well-kept implementation, not this package's.
package pcapsynth

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Segment is one TCP segment of a connection: Len bytes of one direction's
// stream starting at stream offset Offset.
type Segment struct {
	FromServer bool
	Offset     int
	Len        int
}

// Conn is one TCP connection to synthesise.
type Conn struct {
	Client, Server netip.AddrPort
	// ClientBytes and ServerBytes are everything each side sent.
	ClientBytes, ServerBytes []byte
	// Segments are the data segments in capture order; nil means
	// Split(ClientBytes, ServerBytes, 1448), an ordinary capture.
	Segments []Segment
	// NoHandshake leaves out the SYN exchange, as in a capture started
	// while the connection was open; NoFIN leaves out the FIN exchange.
	NoHandshake, NoFIN bool
}

// Split cuts both streams into segments of at most mss bytes, in the order
// a conversation of alternating turns would put them on the wire: all of
// the client's bytes up to the server's first byte, and so on. Without the
// real turn boundaries it alternates one segment from each side, which is
// all reassembly needs.
func Split(client, server []byte, mss int) []Segment {
	var segs []Segment
	co, so := 0, 0
	for co < len(client) || so < len(server) {
		if co < len(client) {
			n := min(mss, len(client)-co)
			segs = append(segs, Segment{Offset: co, Len: n})
			co += n
		}
		if so < len(server) {
			n := min(mss, len(server)-so)
			segs = append(segs, Segment{FromServer: true, Offset: so, Len: n})
			so += n
		}
	}
	return segs
}

// Initial sequence numbers: arbitrary, high enough that the client's wraps
// around 2^32 within the first 64 KiB, which reassembly must get right.
const (
	clientISN = 0xffff0000
	serverISN = 0x10000000
)

// Packets returns the connection's packets as Ethernet frames, in capture
// order.
func (c *Conn) Packets() ([][]byte, error) {
	segs := c.Segments
	if segs == nil {
		segs = Split(c.ClientBytes, c.ServerBytes, 1448)
	}
	var out [][]byte
	// acked[side] is how much of side's stream (and its FIN) the other
	// side has seen, which is what its ACKs acknowledge: acknowledging
	// data before it was sent makes Wireshark take the data for a
	// spurious retransmission and hide it from the dissectors.
	var acked [2]uint32
	add := func(fromServer bool, flags string, off int, payload []byte) error {
		me := 0
		if fromServer {
			me = 1
		}
		b, err := c.packet(fromServer, flags, off, payload, acked[1-me])
		if err != nil {
			return err
		}
		out = append(out, b)
		if off >= 0 { // the SYN's sequence number comes before the stream
			end := uint32(off + len(payload))
			if strings.Contains(flags, "F") {
				end++
			}
			acked[me] = max(acked[me], end)
		}
		return nil
	}
	if !c.NoHandshake {
		if err := add(false, "S", -1, nil); err != nil {
			return nil, err
		}
		if err := add(true, "SA", -1, nil); err != nil {
			return nil, err
		}
		if err := add(false, "A", 0, nil); err != nil {
			return nil, err
		}
	}
	for _, s := range segs {
		src := c.ClientBytes
		if s.FromServer {
			src = c.ServerBytes
		}
		if s.Offset < 0 || s.Len < 0 || s.Offset+s.Len > len(src) {
			return nil, fmt.Errorf("pcapsynth: segment %+v outside a stream of %d bytes", s, len(src))
		}
		if err := add(s.FromServer, "PA", s.Offset, src[s.Offset:s.Offset+s.Len]); err != nil {
			return nil, err
		}
	}
	if !c.NoFIN {
		if err := add(false, "FA", len(c.ClientBytes), nil); err != nil {
			return nil, err
		}
		if err := add(true, "FA", len(c.ServerBytes), nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func macFor(a netip.AddrPort) net.HardwareAddr {
	b := a.Addr().As16()
	return net.HardwareAddr{0x02, 0, b[12], b[13], b[14], b[15]}
}

// packet builds one segment; off is the stream offset of its first byte
// (-1: the SYN, which takes the sequence number before the stream).
// ack is how much of the peer's stream the segment acknowledges.
func (c *Conn) packet(fromServer bool, flags string, off int, payload []byte, ack uint32) ([]byte, error) {
	src, dst := c.Client, c.Server
	isn, peerISN := uint32(clientISN), uint32(serverISN)
	if fromServer {
		src, dst = dst, src
		isn, peerISN = peerISN, isn
	}
	if src.Addr().Is4() != dst.Addr().Is4() {
		return nil, fmt.Errorf("pcapsynth: %v -> %v: one IPv4 and one IPv6 address", src, dst)
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()),
		DstPort: layers.TCPPort(dst.Port()),
		Seq:     isn + 1 + uint32(off),
		Window:  65535,
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'P':
			tcp.PSH = true
		case 'F':
			tcp.FIN = true
		}
	}
	if tcp.ACK {
		tcp.Ack = peerISN + 1 + ack
	}
	var ip interface {
		gopacket.NetworkLayer
		gopacket.SerializableLayer
	}
	ethType := layers.EthernetTypeIPv4
	if src.Addr().Is4() {
		ip = &layers.IPv4{
			Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
		}
	} else {
		ip = &layers.IPv6{
			Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
		}
		ethType = layers.EthernetTypeIPv6
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, err
	}
	eth := &layers.Ethernet{SrcMAC: macFor(src), DstMAC: macFor(dst), EthernetType: ethType}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Format is a capture file format.
type Format int

// The formats pcapgo writes.
const (
	PCAP Format = iota
	PCAPNG
)

// Write writes packets (Ethernet frames, as Packets returns them) to w in
// format f, one microsecond apart.
func Write(w io.Writer, f Format, packets [][]byte) error {
	type packetWriter interface {
		WritePacket(gopacket.CaptureInfo, []byte) error
	}
	var pw packetWriter
	var flush func() error
	switch f {
	case PCAP:
		p := pcapgo.NewWriter(w)
		if err := p.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
			return err
		}
		pw, flush = p, func() error { return nil }
	case PCAPNG:
		ng, err := pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
		if err != nil {
			return err
		}
		pw, flush = ng, ng.Flush
	default:
		return fmt.Errorf("pcapsynth: unknown format %d", f)
	}
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range packets {
		ci := gopacket.CaptureInfo{Timestamp: t.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p), Length: len(p)}
		if err := pw.WritePacket(ci, p); err != nil {
			return err
		}
	}
	return flush()
}

// Interleave merges the packet lists of several connections, one packet of
// each in turn, as concurrent connections appear in a capture.
func Interleave(conns ...[][]byte) [][]byte {
	var out [][]byte
	for i := 0; ; i++ {
		more := false
		for _, c := range conns {
			if i < len(c) {
				out = append(out, c[i])
				more = true
			}
		}
		if !more {
			return out
		}
	}
}
