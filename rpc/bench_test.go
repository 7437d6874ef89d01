package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/benchnet"
)

// Benchmarks. SmallCall and Octets report their throughput as a fraction
// of a raw baseline measured in the same run on the same kind of
// transport. allocs/op counts both sides: server and client run in this
// process.
//
//	go test -run '^$' -bench 'SmallCall|CPU' -benchtime 20000x ./rpc/
//	go test -run '^$' -bench Octets -benchtime 7x ./rpc/

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

const streamSize = 1 << 30

// BenchmarkOctets moves 1 GiB per variant and round on each transport of
// benchnet: the raw baselines (io.CopyBuffer at each of benchnet.RawSizes
// on a connection of its own), an octets reply read with io.Copy (the
// body's WriteTo) and with Read calls of 32 KiB, and a push of an octets
// request that the handler reads with io.Copy. Variants are interleaved
// round by round; each reports the MB/s of its median; "x-best-raw" is a
// variant's throughput over the best raw baseline's, "read32K-x-raw32K"
// the 32 KiB reader's over raw copying at 32 KiB. "B/GiB" is what the
// calls allocate, both sides, per GiB moved; "conn-heap-KiB" the heap a
// client and server connection hold after streaming both ways.
//
//	go test -run '^$' -bench Octets -benchtime 7x ./rpc/
func BenchmarkOctets(b *testing.B) {
	for _, t := range benchnet.Transports {
		b.Run(t.Name, func(b *testing.B) { benchOctets(b, t) })
	}
}

// serveBench serves s on one connection of t and returns the client of
// the other end; both end with the benchmark.
func serveBench(b *testing.B, t benchnet.Transport, s *Server) *Client {
	a, c, err := t.Pair()
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(c) }()
	cli := NewClient(a, nil)
	b.Cleanup(func() {
		cli.Close()
		<-served
	})
	return cli
}

func benchOctets(b *testing.B, t benchnet.Transport) {
	vs, raws := benchnet.RawVariants(b, t, streamSize)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc
	s := NewServer(nil)
	if err := s.RegisterEndpoint("Send", func(in *Small, out *io.Reader) error {
		*out = &benchnet.Zeros{N: int64(in.TXG)}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := s.RegisterEndpoint("Count", func(in io.Reader, out *Small) error {
		n, err := io.Copy(benchnet.Sink{}, in)
		out.TXG = uint64(n)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	cli := serveBench(b, t, s)
	ctx := context.Background()
	buf := make([]byte, 32<<10)
	var allocated uint64
	measure := func(f func() error) (time.Duration, error) {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		start := time.Now()
		err := f()
		d := time.Since(start)
		runtime.ReadMemStats(&ms)
		allocated += ms.TotalAlloc - before
		return d, err
	}
	reply := func(n int64, buf []byte) error {
		var body io.Reader
		req := Small{TXG: uint64(n)}
		if err := cli.Call(ctx, "Send", &req, &body); err != nil {
			return err
		}
		got, err := benchnet.Drain(body, buf)
		if err == nil && got != n {
			err = fmt.Errorf("reply of %d bytes, want %d", got, n)
		}
		return err
	}
	push := func(n int64) error {
		var out Small
		z := benchnet.Zeros{N: n}
		if err := cli.Call(ctx, "Count", &z, &out); err != nil {
			return err
		}
		if out.TXG != uint64(n) {
			return fmt.Errorf("pushed %d bytes, server counted %d", n, out.TXG)
		}
		return nil
	}
	vs = append(vs,
		benchnet.Variant{Name: "reply", Run: func() (time.Duration, error) {
			return measure(func() error { return reply(streamSize, nil) })
		}},
		benchnet.Variant{Name: "reply-read32K", Run: func() (time.Duration, error) {
			return measure(func() error { return reply(streamSize, buf) })
		}},
		benchnet.Variant{Name: "push", Run: func() (time.Duration, error) {
			return measure(func() error { return push(streamSize) })
		}},
	)
	// Warm up: both ends' buffers grow to a full frame once.
	if err := reply(3*frame.MaxPayload, nil); err != nil {
		b.Fatal(err)
	}
	if err := push(3 * frame.MaxPayload); err != nil {
		b.Fatal(err)
	}
	// What a connection holds, both ends, once it has streamed both
	// ways: its buffers at their largest (streaming allocates nothing
	// more, B/GiB shows), so also its peak.
	runtime.GC()
	runtime.ReadMemStats(&ms)
	connHeap := ms.HeapAlloc - heapBefore
	var smp benchnet.Samples
	round := smp.Rounds(b, vs)
	for _, name := range smp.Names() {
		b.ReportMetric(smp.MBps(name, streamSize), name+"-MB/s")
		b.ReportMetric(float64(smp.CPU.Median(name).Milliseconds()), name+"-cpu-ms")
	}
	best := smp.Best(raws)
	b.ReportMetric(smp.MBps(best, streamSize), "best-raw-MB/s")
	b.ReportMetric(smp.Ratio("reply", best), "reply-x-best-raw")
	b.ReportMetric(smp.Ratio("push", best), "push-x-best-raw")
	b.ReportMetric(smp.Ratio("reply-read32K", "raw32K"), "read32K-x-raw32K")
	b.ReportMetric(float64(allocated)/float64(3*round), "B/GiB")
	b.ReportMetric(float64(connHeap)/(1<<10), "conn-heap-KiB")
}

// hidden hides an *os.File from the splice paths: the user-space path.
type hidden struct{ f *os.File }

func (h hidden) Read(p []byte) (int, error)  { return h.f.Read(p) }
func (h hidden) Write(p []byte) (int, error) { return h.f.Write(p) }
func (h hidden) Close() error                { return h.f.Close() }

// BenchmarkSplice moves 1 GiB per variant and round from a producer's
// pipe, as an octets reply, into a consumer's pipe, on the socketpair and
// over TCP: through user space at both ends ("user"), by splice(2) on the
// sending side, on the receiving side, and on both, interleaved round by
// round. "x-user" is a variant's throughput over the user-space path's,
// paired per round. (Without splice, as off Linux, all four are the same
// path.)
//
//	go test -run '^$' -bench Splice -benchtime 7x ./rpc/
func BenchmarkSplice(b *testing.B) {
	for _, t := range benchnet.Transports[:2] {
		b.Run(t.Name, func(b *testing.B) { benchSplice(b, t) })
	}
}

func benchSplice(b *testing.B, t benchnet.Transport) {
	chunk := make([]byte, 1<<20)
	s := NewServer(nil)
	if err := s.RegisterEndpoint("Pipe", func(in *Small, out *io.Reader) error {
		pr, pw, err := os.Pipe()
		if err != nil {
			return err
		}
		go func() {
			defer pw.Close()
			for left := int64(in.TXG); left > 0; {
				k := min(left, int64(len(chunk)))
				if _, err := pw.Write(chunk[:k]); err != nil {
					return
				}
				left -= k
			}
		}()
		*out = pr
		if in.Name == "user" {
			*out = hidden{pr}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	cli := serveBench(b, t, s)
	consumed := make([]byte, 1<<20)
	run := func(n int64, kernelSend, kernelRecv bool) (time.Duration, error) {
		dstR, dstW, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer dstR.Close()
		start := time.Now()
		consumer := make(chan int64, 1)
		go func() {
			var got int64
			for {
				k, err := dstR.Read(consumed)
				got += int64(k)
				if err != nil {
					break
				}
			}
			consumer <- got
		}()
		req := Small{TXG: uint64(n), Name: "user"}
		if kernelSend {
			req.Name = "file"
		}
		var body io.Reader
		err = cli.Call(context.Background(), "Pipe", &req, &body)
		if err == nil {
			var dst io.Writer = hidden{dstW}
			if kernelRecv {
				dst = dstW
			}
			_, err = io.Copy(dst, body)
		}
		dstW.Close()
		got := <-consumer
		if err != nil {
			return 0, err
		}
		if got != n {
			return 0, fmt.Errorf("consumer got %d of %d bytes", got, n)
		}
		return time.Since(start), nil
	}
	benchnet.SpliceRounds(b, streamSize, 3*frame.MaxPayload, run)
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

// BenchmarkServerCPUCtx is BenchmarkServerCPU with a handler that takes a
// context, which the server cancels if the client goes away while the
// handler runs.
func BenchmarkServerCPUCtx(b *testing.B) {
	s := NewServer(nil)
	s.RegisterEndpoint("Ping", func(ctx context.Context, in *Small, out *Small) error { *out = *in; return nil })
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
