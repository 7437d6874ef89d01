// Package pcapread turns a packet capture (pcap or pcapng) into the byte
// streams of its TCP connections, for framedump to decode as framerpc
// (spec/PROTOCOL.md section 2: framerpc runs over one reliable, ordered
// byte stream; this package rebuilds that stream from the packets).
//
// The formats and TCP reassembly are github.com/gopacket/gopacket's (pcapgo
// and reassembly, pure Go): retransmitted and overlapping segments are
// delivered once, out-of-order segments in order. What a capture cannot
// give back, a segment it never saw, ends that direction: its reader
// returns every byte before the hole and then a *GapError at the hole's
// stream offset. Nothing after a gap is kept, since a framerpc decoder
// cannot find the next frame boundary after a hole any more than a
// receiver could.
//
// Which side is the client. The side that sent the SYN (without ACK), or,
// when the capture missed the handshake, the side that connected to the
// port asked for (Options.Port), or else the side with the higher port (an
// ephemeral port against a listening one). Without a SYN a direction's
// stream starts at its first captured segment, which is offset 0.
//
// Memory. A capture may hold gigabytes; the directions' bytes are written
// to one temporary file as they are reassembled, and read back from there,
// so memory holds only what reassembly has not yet delivered and, per
// direction, 16 bytes for each run of its bytes in the file (one run for
// a bulk transfer; one per segment at worst, when many connections
// interleave). Reassembly buffers segments that arrive ahead of a hole; it
// holds at most about 15 MiB per connection, past which it gives up
// waiting and the hole becomes a gap.
package pcapread

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"
)

// GapError reports a hole in a direction's stream: bytes the capture never
// saw. The direction's reader returns it after every byte before Offset.
type GapError struct {
	// Offset is the stream offset of the first missing byte.
	Offset int64
	// Missing is how many bytes are missing, or -1 if not known.
	Missing int64
}

func (e *GapError) Error() string {
	if e.Missing < 0 {
		return fmt.Sprintf("capture misses bytes at stream offset %d", e.Offset)
	}
	return fmt.Sprintf("capture misses %d bytes at stream offset %d", e.Missing, e.Offset)
}

// Options select what Read keeps.
type Options struct {
	// Port, if not 0, keeps only connections with an endpoint on this TCP
	// port, and names the side that connects to it the client when no
	// SYN was captured.
	Port uint16
	// TempDir is where directions are spilled ("": os.TempDir()).
	TempDir string
}

// maxPendingPages bounds, per connection, the segments reassembly holds
// while it waits for a missing one (in pages of reassembly's size).
const maxPendingPages = 8192 // about 15 MiB

// Capture is the TCP connections of a capture file, in the order of their
// first packet. Close removes the temporary file.
type Capture struct {
	spill *spill
	Conns []*Conn
	// Truncated tells that the file ends inside a packet, as a capture
	// whose writer was killed does; the packets before it were read.
	Truncated bool
}

// Close removes the temporary file; the directions cannot be read after.
func (c *Capture) Close() error { return c.spill.close() }

// Conn is one TCP connection.
type Conn struct {
	// ClientAddr and ServerAddr are the two endpoints.
	ClientAddr, ServerAddr netip.AddrPort
	// Client is what the client sent, Server what the server sent.
	Client, Server *Direction
	// ClientBy says how the client was told from the server.
	ClientBy ClientRule
	first    int // index of the connection's first packet
}

// ClientRule is how Read told the client from the server.
type ClientRule uint8

// The rules, in the order Read tries them.
const (
	// BySYN: the client sent the SYN.
	BySYN ClientRule = iota
	// ByPort: no SYN was captured; the client connected to Options.Port.
	ByPort
	// ByHigherPort: no SYN, no port given (or both sides on it); the
	// client is the side with the higher port, an ephemeral port against
	// a listening one.
	ByHigherPort
)

func (r ClientRule) String() string {
	switch r {
	case BySYN:
		return "syn"
	case ByPort:
		return "port"
	case ByHigherPort:
		return "higher-port"
	}
	return fmt.Sprintf("ClientRule(%d)", uint8(r))
}

// Direction is one side's byte stream.
type Direction struct {
	spill  *spill
	chunks []chunk
	n      int64
	gap    *GapError
}

// Len returns how many contiguous bytes were captured from the start.
func (d *Direction) Len() int64 { return d.n }

// Gap returns the first hole in the stream, or nil.
func (d *Direction) Gap() *GapError { return d.gap }

// Open returns a reader of the whole stream from offset 0: it returns
// every captured byte before the first gap, then the *GapError (or io.EOF
// if there is none). Readers are independent and may be opened at will.
func (d *Direction) Open() io.Reader {
	var end error = io.EOF
	if d.gap != nil {
		end = d.gap
	}
	return &chunkReader{f: d.spill.f, chunks: d.chunks, end: end}
}

// ReadFile reads the capture file at path; see Read.
func ReadFile(path string, opts Options) (*Capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Read(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// packetSource is what the pcap and pcapng readers have in common.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Read reads a pcap or pcapng capture to its end and reassembles its TCP
// connections. Packets other than TCP over IPv4 or IPv6 are ignored.
func Read(r io.Reader, opts Options) (*Capture, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("pcapread: not a capture file: %w", err)
	}
	var src packetSource
	// pcapng gives each interface its own link type.
	var linkType func(gopacket.CaptureInfo) (layers.LinkType, error)
	if binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("pcapread: pcapng: %w", err)
		}
		src = ng
		linkType = func(ci gopacket.CaptureInfo) (layers.LinkType, error) {
			intf, err := ng.Interface(ci.InterfaceIndex)
			return intf.LinkType, err
		}
	} else {
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcapread: %w", err)
		}
		src = p
		lt := p.LinkType()
		linkType = func(gopacket.CaptureInfo) (layers.LinkType, error) { return lt, nil }
	}

	a := &assembly{opts: opts, spill: &spill{dir: opts.TempDir}}
	c, err := a.run(src, linkType)
	if err != nil {
		a.spill.close()
		return nil, err
	}
	return c, nil
}

// run feeds every packet to reassembly and collects the connections.
func (a *assembly) run(src packetSource, linkType func(gopacket.CaptureInfo) (layers.LinkType, error)) (*Capture, error) {
	asm := reassembly.NewAssembler(reassembly.NewStreamPool(a))
	asm.MaxBufferedPagesPerConnection = maxPendingPages
	c := &Capture{spill: a.spill}
	for i := 0; ; i++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// A capture cut inside its last packet, as a killed
			// tcpdump leaves it: what came before is still good.
			c.Truncated = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pcapread: packet %d: %w", i+1, err)
		}
		lt, err := linkType(ci)
		if err != nil {
			return nil, fmt.Errorf("pcapread: packet %d: %w", i+1, err)
		}
		pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tcp, ok := pkt.TransportLayer().(*layers.TCP)
		if !ok || pkt.NetworkLayer() == nil || pkt.ErrorLayer() != nil {
			// Not TCP, or a packet too mangled to place in a stream.
			continue
		}
		if a.opts.Port != 0 && uint16(tcp.SrcPort) != a.opts.Port && uint16(tcp.DstPort) != a.opts.Port {
			continue
		}
		a.packet = i
		asm.AssembleWithContext(pkt.NetworkLayer().NetworkFlow(), tcp, &context{ci})
		if a.err != nil {
			return nil, a.err
		}
	}
	asm.FlushAll()
	if a.err != nil {
		return nil, a.err
	}
	for _, s := range a.streams {
		s.finish()
		c.Conns = append(c.Conns, s.conn)
	}
	sort.SliceStable(c.Conns, func(i, j int) bool { return c.Conns[i].first < c.Conns[j].first })
	return c, nil
}

type context struct{ ci gopacket.CaptureInfo }

func (c *context) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// assembly is the reassembly.StreamFactory; it keeps every stream it made,
// and the first error writing to the temporary file.
type assembly struct {
	opts    Options
	spill   *spill
	packet  int
	streams []*stream
	err     error
}

func addrPort(f gopacket.Flow, port gopacket.Flow, src bool) netip.AddrPort {
	ep, pp := f.Dst(), port.Dst()
	if src {
		ep, pp = f.Src(), port.Src()
	}
	addr, _ := netip.AddrFromSlice(ep.Raw())
	return netip.AddrPortFrom(addr.Unmap(), binary.BigEndian.Uint16(pp.Raw()))
}

func (a *assembly) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	s := &stream{a: a, conn: &Conn{Client: &Direction{spill: a.spill}, Server: &Direction{spill: a.spill}, first: a.packet}}
	s.dir[0].spill, s.dir[1].spill = a.spill, a.spill
	// reassembly's "client to server" is the direction of the first
	// packet seen, which need not be the client's.
	s.side[0] = addrPort(netFlow, tcpFlow, true)
	s.side[1] = addrPort(netFlow, tcpFlow, false)
	s.synFrom = -1
	s.base = [2]int64{-1, -1}
	s.fin = [2]int64{-1, -1}
	a.streams = append(a.streams, s)
	return s
}

// stream collects the two directions of one connection; index 0 is
// reassembly's TCPDirClientToServer.
type stream struct {
	a       *assembly
	conn    *Conn
	side    [2]netip.AddrPort
	dir     [2]Direction
	synFrom int // the side that sent the SYN, -1 if none seen
	// base is each direction's sequence number of stream offset 0, once
	// known; fin the stream offset its FIN ends at, or -1.
	base [2]int64
	fin  [2]int64
}

func index(d reassembly.TCPFlowDirection) int {
	if d == reassembly.TCPDirClientToServer {
		return 0
	}
	return 1
}

func (s *stream) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	i := index(dir)
	if tcp.SYN && !tcp.ACK {
		s.synFrom = i
	} else if tcp.SYN {
		s.synFrom = 1 - i
	}
	// Without a handshake in the capture, a direction starts with its
	// first segment; reassembly would otherwise wait for a SYN forever.
	if nextSeq < 0 && !tcp.SYN {
		*start = true
	}
	if s.base[i] < 0 {
		s.base[i] = int64(tcp.Seq)
		if tcp.SYN {
			s.base[i] = int64(tcp.Seq + 1)
		}
	}
	// A FIN tells where the stream ends, so that a hole right before it
	// is a gap too, not a clean end.
	if tcp.FIN && s.fin[i] < 0 {
		s.fin[i] = int64(tcp.Seq + uint32(len(tcp.Payload)) - uint32(s.base[i]))
	}
	return true
}

func (s *stream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	dir, _, _, skip := sg.Info()
	d := &s.dir[index(dir)]
	n, _ := sg.Lengths()
	if d.gap == nil && skip != 0 {
		d.gap = &GapError{Offset: d.n, Missing: int64(skip)}
	}
	if d.gap != nil || n == 0 || s.a.err != nil {
		return
	}
	var err error
	if d.chunks, err = s.a.spill.append(d.chunks, sg.Fetch(n)); err != nil {
		s.a.err = err
		return
	}
	d.n += int64(n)
}

// ReassemblyComplete keeps the connection in reassembly's pool, so that the
// packets after both FINs (the last ACKs, a TCP RST for unread data) stay
// with it instead of making a new, empty connection; a new SYN on the
// same addresses still starts a new one.
func (s *stream) ReassemblyComplete(reassembly.AssemblerContext) bool { return false }

// finish decides which side is the client and fills in the Conn.
func (s *stream) finish() {
	c := s.conn
	client := s.synFrom
	if client < 0 {
		p0, p1 := s.side[0].Port(), s.side[1].Port()
		c.ClientBy = ByPort
		switch {
		case s.a.opts.Port != 0 && p1 == s.a.opts.Port && p0 != p1:
			client = 0
		case s.a.opts.Port != 0 && p0 == s.a.opts.Port && p0 != p1:
			client = 1
		case p0 >= p1:
			client, c.ClientBy = 0, ByHigherPort
		default:
			client, c.ClientBy = 1, ByHigherPort
		}
	}
	for i := range s.dir {
		d := &s.dir[i]
		if d.gap == nil && s.fin[i] > d.n {
			d.gap = &GapError{Offset: d.n, Missing: s.fin[i] - d.n}
		}
	}
	c.ClientAddr, c.ServerAddr = s.side[client], s.side[1-client]
	*c.Client, *c.Server = s.dir[client], s.dir[1-client]
}
