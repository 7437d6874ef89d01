package peers

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/benchnet"
)

// socketTransports are the transports every peer runs on.
var socketTransports = benchnet.Transports[:2]

// callsPerRound is how many small calls a variant makes per round.
const callsPerRound = 2000

// BenchmarkSmallCall makes callsPerRound calls per variant and round:
// the raw ping-pong, framerpc with its default codec (encoding/json) and
// with SegmentioJSON, net/rpc with gob and with JSON-RPC, gRPC with JSON.
// It reports each variant's median ns per call, its allocations per call (client and server, both in this process), its
// throughput as a fraction of the raw ping-pong's ("-x-raw"), and
// framerpc's over each peer's ("framerpc-x-...": above 1, framerpc is
// faster).
func BenchmarkSmallCall(b *testing.B) {
	for _, t := range socketTransports {
		b.Run(t.Name, func(b *testing.B) { benchSmallCall(b, t) })
	}
}

func benchSmallCall(b *testing.B, t benchnet.Transport) {
	makers := []struct {
		name string
		new  func() (caller, error)
	}{
		{"raw", func() (caller, error) { return newRawPing(t) }},
		{"framerpc", func() (caller, error) { return newFramerpc(t, nil) }},
		{"framerpc-segmentio", func() (caller, error) { return newFramerpc(t, SegmentioJSON) }},
		{"netrpc-gob", func() (caller, error) { return newNetrpc(t, false) }},
		{"netrpc-jsonrpc", func() (caller, error) { return newNetrpc(t, true) }},
		{"grpc-json", func() (caller, error) { return newGRPC(t) }},
	}
	mallocs := map[string]uint64{}
	var vs []benchnet.Variant
	for _, m := range makers {
		c, err := m.new()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		// Warm up: connections, buffers, gRPC's lazy dial.
		for range 100 {
			if err := c.call(); err != nil {
				b.Fatal(m.name, err)
			}
		}
		name := m.name
		vs = append(vs, benchnet.Variant{Name: name, Run: func() (time.Duration, error) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			start := time.Now()
			for range callsPerRound {
				if err := c.call(); err != nil {
					return 0, err
				}
			}
			d := time.Since(start)
			runtime.ReadMemStats(&ms)
			mallocs[name] += ms.Mallocs - before
			return d, nil
		}})
	}
	var s benchnet.Samples
	round := s.Rounds(b, vs)
	for _, m := range makers {
		b.ReportMetric(float64(s.Median(m.name).Nanoseconds())/callsPerRound, m.name+"-ns/call")
		b.ReportMetric(float64(mallocs[m.name])/float64(round*callsPerRound), m.name+"-allocs/call")
		if m.name != "raw" {
			b.ReportMetric(s.Ratio(m.name, "raw"), m.name+"-x-raw")
		}
		if m.name != "raw" && !strings.HasPrefix(m.name, "framerpc") {
			b.ReportMetric(s.Ratio("framerpc", m.name), "framerpc-x-"+m.name)
		}
	}
}

const streamSize = 1 << 30

// grpcSizes are the message sizes of gRPC's server stream.
var grpcSizes = []int{32 << 10, 256 << 10, 1 << 20}

// BenchmarkStream moves 1 GiB per variant and round from server to
// client: raw copying at each of benchnet.RawSizes, a framerpc octets
// reply read with io.Copy, and gRPC server streaming in messages of each
// of grpcSizes. Each reports MB/s and its ratio to the best raw baseline.
func BenchmarkStream(b *testing.B) {
	for _, t := range socketTransports {
		b.Run(t.Name, func(b *testing.B) { benchStream(b, t) })
	}
}

func benchStream(b *testing.B, t benchnet.Transport) {
	vs, raws := benchnet.RawVariants(b, t, streamSize)
	streamers := []struct {
		name string
		s    streamer
	}{}
	f, err := newFramerpc(t, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	streamers = append(streamers, struct {
		name string
		s    streamer
	}{"framerpc", f})
	for _, size := range grpcSizes {
		g, err := newGRPC(t)
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close()
		streamers = append(streamers, struct {
			name string
			s    streamer
		}{"grpc" + benchnet.SizeName(size), grpcStreamer{g, size}})
	}
	var names []string
	for _, st := range streamers {
		if err := st.s.stream(16 << 20); err != nil {
			b.Fatal(st.name, err)
		}
		names = append(names, st.name)
		vs = append(vs, benchnet.Variant{Name: st.name, Run: func() (time.Duration, error) {
			start := time.Now()
			err := st.s.stream(streamSize)
			return time.Since(start), err
		}})
	}
	var s benchnet.Samples
	s.Rounds(b, vs)
	best := s.Best(raws)
	b.ReportMetric(s.MBps(best, streamSize), "best-raw-MB/s")
	for _, name := range append(raws, names...) {
		b.ReportMetric(s.MBps(name, streamSize), name+"-MB/s")
	}
	for _, name := range names {
		b.ReportMetric(s.Ratio(name, best), name+"-x-best-raw")
	}
}
