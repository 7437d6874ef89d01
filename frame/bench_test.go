package frame

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/benchnet"
	"github.com/framerpc/framerpc/internal/unixpair"
)

func socketpair(tb testing.TB) (net.Conn, net.Conn) {
	tb.Helper()
	a, b, err := unixpair.New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

const streamSize = 1 << 30

// readSizes are the fixed Read sizes measured against raw copying with a
// buffer of the same size.
var readSizes = []int{32 << 10, 1 << 20}

// BenchmarkStream moves 1 GiB per variant and round on each transport:
// the raw baselines (io.CopyBuffer with each of benchnet.RawSizes), then
// the same bytes as one Data message written with io.Copy (ReaderFrom) and
// read with io.Copy (WriterTo) or with Read calls of a fixed size. Variants
// are interleaved round by round; each reports the MB/s of its median,
// "x-best-raw" is the copy's throughput over the best raw baseline's, and
// "readN-x-rawN" a fixed-size reader's over raw copying at that size.
// "B/GiB" is what the message variants allocate per GiB moved; the
// "cpu-ms" figures are the CPU time of both ends per GiB.
//
//	go test -run '^$' -bench Stream -benchtime 7x ./frame/
func BenchmarkStream(b *testing.B) {
	for _, t := range benchnet.Transports {
		b.Run(t.Name, func(b *testing.B) { benchStream(b, t) })
	}
}

func benchStream(b *testing.B, t benchnet.Transport) {
	vs, _ := benchnet.RawVariants(b, t, streamSize)
	a, c, err := t.Pair()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	defer a.Close()
	w, r := NewWriter(a), NewReader(c)
	readBufs := make(map[int][]byte)
	for _, n := range readSizes {
		readBufs[n] = make([]byte, n)
	}
	// One receiving goroutine for the whole run: a round allocates
	// nothing of its own.
	type job struct {
		n    int64
		size int
	}
	jobs, done := make(chan job), make(chan error)
	go func() {
		for j := range jobs {
			done <- receive(r, j.n, readBufs[j.size])
		}
	}()
	defer close(jobs)
	var allocated uint64
	var ms runtime.MemStats
	send := func(n int64, size int) (time.Duration, error) {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		start := time.Now()
		jobs <- job{n, size}
		m, err := w.NewMessage(TypeData)
		if err != nil {
			return 0, err
		}
		z := benchnet.Zeros{N: n}
		if _, err := io.Copy(m, &z); err != nil {
			return 0, err
		}
		if err := m.Close(); err != nil {
			return 0, err
		}
		err = <-done
		d := time.Since(start)
		runtime.ReadMemStats(&ms)
		allocated += ms.TotalAlloc - before
		return d, err
	}
	vs = append(vs, benchnet.Variant{Name: "copy", Run: func() (time.Duration, error) { return send(streamSize, 0) }})
	for _, size := range readSizes {
		vs = append(vs, benchnet.Variant{Name: "read" + benchnet.SizeName(size),
			Run: func() (time.Duration, error) { return send(streamSize, size) }})
	}
	// Warm up: the writer's staging buffer grows to a full frame once.
	if _, err := send(2*MaxPayload, 0); err != nil {
		b.Fatal(err)
	}
	allocated = 0
	var s benchnet.Samples
	round := s.Rounds(b, vs)
	report(b, &s, streamSize)
	b.ReportMetric(float64(allocated)/float64(round*(1+len(readSizes))), "B/GiB")
}

// receive reads one Data message of want bytes to its end with io.Copy (buf nil) or
// with Read calls of len(buf).
func receive(r *Reader, want int64, buf []byte) error {
	m, err := r.NextMessage(TypeData)
	if err != nil {
		return err
	}
	n, err := benchnet.Drain(m, buf)
	if err == nil && n != want {
		err = fmt.Errorf("received %d of %d bytes", n, want)
	}
	return err
}

// report prints every variant's MB/s and the ratios: "copy" against the
// best raw baseline, "readN" against "rawN".
func report(b *testing.B, s *benchnet.Samples, n int64) {
	var raws []string
	for _, size := range benchnet.RawSizes {
		raws = append(raws, "raw"+benchnet.SizeName(size))
	}
	for _, name := range s.Names() {
		b.ReportMetric(s.MBps(name, n), name+"-MB/s")
		// CPU time per GiB: what the machine's other load does not
		// blur.
		b.ReportMetric(float64(s.CPU.Median(name).Milliseconds()), name+"-cpu-ms")
	}
	best := s.Best(raws)
	b.ReportMetric(s.MBps(best, n), "best-raw-MB/s")
	b.ReportMetric(s.Ratio("copy", best), "x-best-raw")
	for _, size := range readSizes {
		sn := benchnet.SizeName(size)
		b.ReportMetric(s.Ratio("read"+sn, "raw"+sn), "read"+sn+"-x-raw"+sn)
	}
}

// BenchmarkSmallMessage writes a 100-byte Data message and reads it back
// over a socketpair; it must not allocate in steady state.
func BenchmarkSmallMessage(b *testing.B) {
	a, c := socketpair(b)
	w, r := NewWriter(a), NewReader(c)
	body := pattern(100, 1)
	out := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		if err := roundTrip(w, r, body, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func roundTrip(w *Writer, r *Reader, body []byte, out *[]byte) error {
	if err := w.WriteMessage(TypeData, body); err != nil {
		return err
	}
	m, err := r.NextMessage(TypeData)
	if err != nil {
		return err
	}
	*out, err = m.AppendTo((*out)[:0])
	if err == nil && !bytes.Equal(*out, body) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func TestSmallMessageZeroAllocs(t *testing.T) {
	a, c := socketpair(t)
	w, r := NewWriter(a), NewReader(c)
	body := pattern(100, 1)
	out := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(200, func() {
		if err := roundTrip(w, r, body, &out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 100-byte message round trip", allocs)
	}
}

// BenchmarkSplice measures the splice(2) paths against the user-space
// paths in the same run, on the socket transports, 1 GiB per variant and
// round, as zfs send | framerpc | zfs recv moves it: a producer writes
// into a pipe, the message crosses the socket, and a consumer reads it
// from a pipe. "send" splices the source pipe into the socket, "recv"
// splices the socket into the destination pipe, "both" does both; each
// "-x-user" ratio is against the same path with splice hidden (the pipe
// wrapped so that it is not an *os.File or a syscall.Conn).
//
//	go test -run '^$' -bench Splice -benchtime 7x ./frame/
func BenchmarkSplice(b *testing.B) {
	for _, t := range benchnet.Transports[:2] {
		b.Run(t.Name, func(b *testing.B) { benchSplice(b, t) })
	}
}

func benchSplice(b *testing.B, t benchnet.Transport) {
	a, c, err := t.Pair()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	defer a.Close()
	w, r := NewWriter(a), NewReader(c)
	chunk := make([]byte, 1<<20)
	consumed := make([]byte, 1<<20)
	// run moves n bytes from a producer's pipe to a consumer's pipe;
	// kernelSend and kernelRecv choose the paths.
	run := func(n int64, kernelSend, kernelRecv bool) (time.Duration, error) {
		srcR, srcW, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer srcR.Close()
		dstR, dstW, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer dstR.Close()
		start := time.Now()
		go func() {
			defer srcW.Close()
			for left := n; left > 0; {
				k := min(left, int64(len(chunk)))
				if _, err := srcW.Write(chunk[:k]); err != nil {
					return
				}
				left -= k
			}
		}()
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
		recvErr := make(chan error, 1)
		go func() {
			m, err := r.NextMessage(TypeData)
			if err == nil {
				var dst io.Writer = struct{ io.Writer }{dstW}
				if kernelRecv {
					dst = dstW
				}
				_, err = m.WriteTo(dst)
			}
			dstW.Close()
			recvErr <- err
		}()
		m, err := w.NewMessage(TypeData)
		if err != nil {
			return 0, err
		}
		var src io.Reader = struct{ io.Reader }{srcR}
		if kernelSend {
			src = srcR
		}
		if _, err := m.ReadFrom(src); err != nil {
			return 0, err
		}
		if err := m.Close(); err != nil {
			return 0, err
		}
		if err := <-recvErr; err != nil {
			return 0, err
		}
		if got := <-consumer; got != n {
			return 0, fmt.Errorf("consumer got %d of %d bytes", got, n)
		}
		return time.Since(start), nil
	}
	benchnet.SpliceRounds(b, streamSize, 2*MaxPayload, run)
}
