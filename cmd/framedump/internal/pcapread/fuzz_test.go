package pcapread

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapsynth"
)

// FuzzRead feeds Read arbitrary files, seeded with small synthesised
// captures: it must not panic, and what it returns must be consistent:
// each direction reads back exactly Len bytes, then io.EOF or its gap.
func FuzzRead(f *testing.F) {
	conn := &pcapsynth.Conn{Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:7000"),
		ClientBytes: fuzzPattern(300, 1), ServerBytes: fuzzPattern(200, 2),
		Segments: []pcapsynth.Segment{{Offset: 0, Len: 100}, {Offset: 200, Len: 100}, {FromServer: true, Offset: 0, Len: 200}, {Offset: 100, Len: 100}}}
	packets, err := conn.Packets()
	if err != nil {
		f.Fatal(err)
	}
	for _, format := range []pcapsynth.Format{pcapsynth.PCAP, pcapsynth.PCAPNG} {
		var buf bytes.Buffer
		if err := pcapsynth.Write(&buf, format, packets); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	// One directory for every input: a directory per input would cost
	// more than the input itself.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, file []byte) {
		c, err := Read(bytes.NewReader(file), Options{TempDir: dir})
		if err != nil {
			return
		}
		defer c.Close()
		for _, cn := range c.Conns {
			for _, d := range []*Direction{cn.Client, cn.Server} {
				b, err := io.ReadAll(d.Open())
				if int64(len(b)) != d.Len() {
					t.Fatalf("read %d bytes, Len %d", len(b), d.Len())
				}
				var gap *GapError
				if d.Gap() != nil && (!errors.As(err, &gap) || gap != d.Gap()) || d.Gap() == nil && err != nil {
					t.Fatalf("read ended with %v, gap %v", err, d.Gap())
				}
			}
		}
	})
}

// fuzzPattern is n bytes of a mod-251 pattern from seed. (In package
// pcapread, unlike the other tests, so that go-118-fuzz-build can build
// the target: it does not support external test packages.)
func fuzzPattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i + seed) % 251)
	}
	return b
}
