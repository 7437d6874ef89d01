package rpc

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/benchnet"
)

// Pool benchmarks, over a unix socket served by ServeListener:
//
//	go test -run '^$' -bench 'Pool' -benchtime 20000x ./rpc/
//	go test -run '^$' -bench 'PoolCallDuringPull' -benchtime 200x ./rpc/
func benchListener(b *testing.B) string {
	s := NewServer(nil)
	s.RegisterEndpoint("Ping", func(in *Small, out *Small) error { *out = *in; return nil })
	s.RegisterEndpoint("Send", func(in *Small, out *io.Reader) error {
		*out = &benchnet.Zeros{N: streamSize}
		return nil
	})
	addr := filepath.Join(b.TempDir(), "s")
	l, err := net.Listen("unix", addr)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeListener(l)
	}()
	b.Cleanup(func() {
		s.Shutdown(context.Background())
		<-done
	})
	return addr
}

// parallelCalls makes n small calls from 8 goroutines through c.
func parallelCalls(b *testing.B, c Caller, n int) time.Duration {
	const workers = 8
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		k := n / workers
		if w < n%workers {
			k++
		}
		wg.Go(func() {
			var out Small
			for range k {
				if err := c.Call(context.Background(), "Ping", &small, &out); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkPoolParallel: small calls from 8 goroutines through a Pool of
// 8 connections against the same calls through one Client on the same
// transport, in alternating blocks. calls/s is the pool's, "x-client"
// the pool's rate over the Client's.
func BenchmarkPoolParallel(b *testing.B) {
	addr := benchListener(b)
	b.StopTimer()
	conn, err := net.Dial("unix", addr)
	if err != nil {
		b.Fatal(err)
	}
	cli := NewClient(conn, nil)
	defer cli.Close()
	pool := NewPool(DialNet("unix", addr), &PoolOptions{MaxConns: 8})
	defer pool.Close()
	// Warm up: the pool's connections dialed, both paths' buffers grown.
	parallelCalls(b, cli, 800)
	parallelCalls(b, pool, 800)
	const block = 2000
	var single, pooled time.Duration
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		single += parallelCalls(b, cli, n)
		b.StartTimer()
		pooled += parallelCalls(b, pool, n)
		b.StopTimer()
	}
	b.ReportMetric(float64(b.N)/pooled.Seconds(), "calls/s")
	b.ReportMetric(float64(b.N)/single.Seconds(), "client-calls/s")
	b.ReportMetric(float64(single)/float64(pooled), "x-client")
}

// BenchmarkPoolCallDuringPull: the latency of small calls on a Pool while
// a 1 GiB octets reply is being read from the same Pool, against small
// calls on the idle Pool, alternating. The reported op is one small call
// made during the pull; one pull runs at a time and is restarted as
// needed. one-client-us is, for contrast, one such call on a single
// Client that is reading the pull: it waits for the stream's end.
func BenchmarkPoolCallDuringPull(b *testing.B) {
	addr := benchListener(b)
	b.StopTimer()
	pool := NewPool(DialNet("unix", addr), &PoolOptions{MaxConns: 2})
	defer pool.Close()
	ctx := context.Background()
	var out Small
	call := func() time.Duration {
		start := time.Now()
		if err := pool.Call(ctx, "Ping", &small, &out); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	call()
	var idle, busy []time.Duration
	var pulled int64
	var pullTime time.Duration
	for len(busy) < b.N {
		var body io.ReadCloser
		if err := pool.Call(ctx, "Send", &small, &body); err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		pullStart := time.Now()
		go func() {
			defer close(done)
			n, err := io.Copy(benchnet.Sink{}, body)
			if err != nil || n != streamSize {
				b.Error(n, err)
			}
			body.Close()
			pulled += n
		}()
	calls:
		for len(busy) < b.N {
			select {
			case <-done:
				break calls
			default:
			}
			b.StartTimer()
			busy = append(busy, call())
			b.StopTimer()
			time.Sleep(time.Millisecond)
		}
		<-done
		pullTime += time.Since(pullStart)
		// The same number of calls on the idle pool, as baseline.
		for len(idle) < len(busy) {
			idle = append(idle, call())
			time.Sleep(time.Millisecond)
		}
	}
	// For contrast, once: the same small call on one Client that is
	// reading the pull; it waits for the stream's end.
	conn, err := net.Dial("unix", addr)
	if err != nil {
		b.Fatal(err)
	}
	cli := NewClient(conn, nil)
	defer cli.Close()
	var body io.ReadCloser
	if err := cli.Call(ctx, "Send", &small, &body); err != nil {
		b.Fatal(err)
	}
	go func() {
		io.Copy(benchnet.Sink{}, body)
		body.Close()
	}()
	start := time.Now()
	if err := cli.Call(ctx, "Ping", &small, &out); err != nil {
		b.Fatal(err)
	}
	clientWait := time.Since(start)
	q := func(d []time.Duration, p float64) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[int(p*float64(len(s)-1))].Microseconds())
	}
	b.ReportMetric(q(busy, 0.5), "busy-p50-us")
	b.ReportMetric(q(busy, 0.99), "busy-p99-us")
	b.ReportMetric(q(idle, 0.5), "idle-p50-us")
	b.ReportMetric(q(idle, 0.99), "idle-p99-us")
	b.ReportMetric(float64(pulled)/pullTime.Seconds()/(1<<30), "pull-GiB/s")
	b.ReportMetric(float64(clientWait.Microseconds()), "one-client-us")
}
