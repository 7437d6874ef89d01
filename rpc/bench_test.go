package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"
)

// Benchmarks. SmallCall and OctetsReply1GiB report, as "x-raw", their
// throughput as a fraction of a raw baseline measured in the same run on
// the same kind of transport, a unix socketpair. allocs/op counts both
// sides: server and client run in this process.
//
//	go test -run '^$' -bench 'SmallCall|CPU' -benchtime 20000x ./rpc/
//	go test -run '^$' -bench Octets -benchtime 3x ./rpc/

// Small is a ~100-byte JSON value.
type Small struct {
	Name     string
	Snapshot string
	TXG      uint64
	Flags    []string
}

var small = Small{Name: "pool/data/home", Snapshot: "zrepl_20171006_1000", TXG: 123456789, Flags: []string{"a", "bc"}}

// pingPong is the raw baseline: 100 bytes each way over its own
// socketpair, echoed by a goroutine.
type pingPong struct {
	a   net.Conn
	buf []byte
}

func newPingPong(b *testing.B) *pingPong {
	a, c := socketpair(b)
	b.Cleanup(func() {
		a.Close()
		c.Close()
	})
	go func() {
		buf := make([]byte, 100)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	return &pingPong{a: a, buf: make([]byte, 100)}
}

// run measures n round trips.
func (p *pingPong) run(b *testing.B, n int) time.Duration {
	start := time.Now()
	for range n {
		if _, err := p.a.Write(p.buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(p.a, p.buf); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkSmallCall alternates blocks of raw round trips and calls, so
// that both see the same machine load, and reports their ratio.
func BenchmarkSmallCall(b *testing.B) {
	s := NewServer(nil)
	if err := s.RegisterEndpoint("Ping", func(in *Small, out *Small) error {
		*out = *in
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	raw := newPingPong(b)
	p := newPair(b, s, nil)
	ctx := context.Background()
	var out Small
	if err := p.cli.Call(ctx, "Ping", &small, &out); err != nil {
		b.Fatal(err)
	}
	raw.run(b, 100)
	b.ReportAllocs()
	const block = 500
	var rawTime, ours time.Duration
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		rawTime += raw.run(b, n)
		b.StartTimer()
		start := time.Now()
		for range n {
			if err := p.cli.Call(ctx, "Ping", &small, &out); err != nil {
				b.Fatal(err)
			}
		}
		ours += time.Since(start)
		b.StopTimer()
	}
	b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(rawTime)/float64(ours), "x-raw")
}

// zeros is a source of n zero bytes that costs nothing to read.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > z.n {
		k = z.n
	}
	z.n -= k
	return int(k), nil
}

// sink is io.Discard without ReadFrom, so that the copy under test picks
// its own strategy.
type sink struct{}

func (sink) Write(p []byte) (int, error) { return len(p), nil }

const streamSize = 1 << 30

// copyBufferSize is the buffer of the raw baseline: the frame reader's.
const copyBufferSize = 64 << 10

func rawStream(b *testing.B) time.Duration {
	a, c := socketpair(b)
	defer c.Close()
	go func() {
		io.CopyBuffer(a, &zeros{n: streamSize}, make([]byte, copyBufferSize))
		a.Close()
	}()
	start := time.Now()
	n, err := io.CopyBuffer(sink{}, struct{ io.Reader }{c}, make([]byte, copyBufferSize))
	if err != nil || n != streamSize {
		b.Fatal(n, err)
	}
	return time.Since(start)
}

func BenchmarkOctetsReply1GiB(b *testing.B) {
	s := NewServer(nil)
	if err := s.RegisterEndpoint("Send", func(in *Small, out *io.Reader) error {
		*out = &zeros{n: streamSize}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	var raw, ours time.Duration
	p := newPair(b, s, nil)
	ctx := context.Background()
	buf := make([]byte, copyBufferSize)
	for range b.N {
		raw += rawStream(b)
		start := time.Now()
		b.StartTimer()
		var body io.Reader
		if err := p.cli.Call(ctx, "Send", &small, &body); err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(sink{}, body, buf)
		if err != nil || n != streamSize {
			b.Fatal(n, err)
		}
		b.StopTimer()
		ours += time.Since(start)
	}
	b.SetBytes(streamSize)
	b.ReportMetric(float64(streamSize)*float64(b.N)/raw.Seconds()/(1<<30), "raw-GiB/s")
	b.ReportMetric(float64(streamSize)*float64(b.N)/ours.Seconds()/(1<<30), "GiB/s")
	b.ReportMetric(float64(raw)/float64(ours), "x-raw")
}

// fakeConn replays a recorded stream and swallows what is written: the
// CPU cost of one side of a call, without the transport or the peer.
type fakeConn struct {
	r io.Reader
}

func (f *fakeConn) Read(p []byte) (int, error)  { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error) { return len(p), nil }
func (f *fakeConn) Close() error                { return nil }

// BenchmarkServerCPU and BenchmarkClientCPU are the work each side does for
// the call of BenchmarkSmallCall, minus the transport: what separates a
// call from a raw round trip.
func BenchmarkServerCPU(b *testing.B) {
	s := NewServer(nil)
	s.RegisterEndpoint("Ping", func(in *Small, out *Small) error { *out = *in; return nil })
	js, _ := json.Marshal(&small)
	one := cat(hdr(reqHeader("Ping", 2, 2)), data(string(js)+"\n"))
	in := bytes.Repeat(one, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	s.Serve(&fakeConn{r: bytes.NewReader(in)})
}

func BenchmarkClientCPU(b *testing.B) {
	js, _ := json.Marshal(&small)
	one := cat(hdr(repHeader(2, 1, "")), data(string(js)+"\n"))
	in := bytes.Repeat(one, b.N)
	c := NewClient(&fakeConn{r: bytes.NewReader(in)}, nil)
	var out Small
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Call(context.Background(), "Ping", &small, &out); err != nil {
			b.Fatal(err)
		}
	}
}
