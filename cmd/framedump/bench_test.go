package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/wire"
)

// BenchmarkConversationVsCat decodes a multi-GiB page-cached capture with
// the framedump binary, next to `cat FILE > /dev/null` and `dd bs=N` for
// several N on the same files in the same run, interleaved, and reports the
// rates, framedump's ratio to cat and to the fastest baseline, and its peak
// RSS. The capture is a long octets conversation (Download
// calls answered with 256 MiB replies, 4 MiB frames) generated into a
// temporary directory; FRAMEDUMP_BENCH_GIB sets its size (default 2).
//
//	go test -run '^$' -bench ConversationVsCat -benchtime 5x ./cmd/framedump/
//
// The baseline is cat because it is the least any reader of the file must
// do: read every byte once. Neither is given a faster path: framedump reads
// through package frame as it does on any capture.
func BenchmarkConversationVsCat(b *testing.B) {
	gib := 2
	if s := os.Getenv("FRAMEDUMP_BENCH_GIB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("FRAMEDUMP_BENCH_GIB=%q", s)
		}
		gib = n
	}
	dir := b.TempDir()
	prefix := filepath.Join(dir, "big")
	size := writeBigCapture(b, prefix, int64(gib)<<30)
	bin := filepath.Join(dir, "framedump")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	cat := func() (time.Duration, int64) {
		return timed(b, exec.Command("cat", prefix+".client.bin", prefix+".server.bin"))
	}
	dump := func(args ...string) (time.Duration, int64) {
		return timed(b, exec.Command(bin, append(args, prefix)...))
	}
	// Warm the page cache, and check framedump decodes the capture cleanly.
	cat()
	if out, err := exec.Command(bin, prefix).CombinedOutput(); err != nil {
		b.Fatalf("framedump on the capture: %v\n%s", err, tail(out))
	}

	// dd with a few buffer sizes: the best any plain reader does here.
	bufSizes := []string{"128k", "1M", "4M"}
	dd := func(bs string) (time.Duration, int64) {
		script := fmt.Sprintf("dd if=%[1]s.client.bin bs=%[2]s 2>/dev/null && dd if=%[1]s.server.bin bs=%[2]s 2>/dev/null", prefix, bs)
		return timed(b, exec.Command("sh", "-c", script))
	}
	tDD := make([]time.Duration, len(bufSizes))

	var tCat, tDump, tSum time.Duration
	var rss, rssSum int64
	b.ResetTimer()
	for range b.N {
		d, _ := cat()
		tCat += d
		for i, bs := range bufSizes {
			d, _ := dd(bs)
			tDD[i] += d
		}
		d, r := dump()
		tDump += d
		rss = max(rss, r)
		d, r = dump("-sum")
		tSum += d
		rssSum = max(rssSum, r)
	}
	b.StopTimer()
	mbs := func(t time.Duration) float64 { return float64(size) * float64(b.N) / t.Seconds() / 1e6 }
	best := tCat
	for i, t := range tDD {
		b.ReportMetric(mbs(t), "dd-"+bufSizes[i]+"-MB/s")
		best = min(best, t)
	}
	b.ReportMetric(mbs(tCat), "cat-MB/s")
	b.ReportMetric(mbs(tDump), "framedump-MB/s")
	b.ReportMetric(float64(tCat)/float64(tDump), "ratio-to-cat")
	b.ReportMetric(float64(best)/float64(tDump), "ratio-to-best")
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
	b.ReportMetric(mbs(tSum), "sum-MB/s")
	b.ReportMetric(float64(rssSum)/1024, "sum-peak-RSS-MiB")
}

// timed runs cmd with its output to /dev/null and returns its wall time
// and peak RSS in KiB.
func timed(b *testing.B, cmd *exec.Cmd) (time.Duration, int64) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	cmd.Stdout = devnull
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v", cmd.Args, err)
	}
	d := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return d, 0
	}
	return d, ru.Maxrss
}

func tail(b []byte) []byte { return b[max(0, len(b)-2000):] }

// writeBigCapture writes a conversation of Download calls whose server side
// holds about total bytes, and returns the size of both files.
func writeBigCapture(b *testing.B, prefix string, total int64) int64 {
	const reply = 256 << 20
	cf, err := os.Create(prefix + ".client.bin")
	if err != nil {
		b.Fatal(err)
	}
	sf, err := os.Create(prefix + ".server.bin")
	if err != nil {
		b.Fatal(err)
	}
	cb, sb := bufio.NewWriterSize(cf, 1<<20), bufio.NewWriterSize(sf, 1<<20)
	cw, sw := frame.NewWriter(cb), frame.NewWriter(sb)
	payload := make([]byte, frame.MaxPayload)
	for i := range payload {
		payload[i] = byte(i % 251)
	}
	for n := int64(0); n < total; n += reply {
		req := wire.AppendHeader(nil, &wire.Header{Endpoint: "Download", DataType: wire.DataJSON, Accept: wire.DataOctets})
		must(b, cw.WriteMessage(frame.TypeHeader, req))
		must(b, cw.WriteMessage(frame.TypeData, fmt.Appendf(nil, "{\"N\":%d}\n", reply)))
		rep := wire.AppendHeader(nil, &wire.Header{DataType: wire.DataOctets, Error: wire.StatusOK})
		must(b, sw.WriteMessage(frame.TypeHeader, rep))
		for k := 0; k < reply/frame.MaxPayload; k++ {
			must(b, sw.WriteFrame(frame.TypeData, false, payload))
		}
		must(b, sw.WriteFrame(frame.TypeData, true, nil))
	}
	must(b, cw.WriteRST())
	for _, w := range []*bufio.Writer{cb, sb} {
		must(b, w.Flush())
	}
	var size int64
	for _, f := range []*os.File{cf, sf} {
		fi, err := f.Stat()
		must(b, err)
		size += fi.Size()
		must(b, f.Close())
	}
	return size
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
