package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// progress counts the bytes of a transfer and, when standard error is a
// terminal, shows a line with the bytes moved, the rate and, once the
// total is known, the time left. Elsewhere (a log, a test) it is quiet.
type progress struct {
	verb   string
	done   atomic.Int64
	total  atomic.Int64
	known  atomic.Bool // every file has been listed: total is final
	w      io.Writer   // nil when quiet
	start  time.Time
	stop   chan struct{}
	wg     sync.WaitGroup
	onceUp sync.Once
}

// testHookProgress, if set, sees the bytes moved so far after each write.
var testHookProgress func(done int64)

func newProgress(stderr io.Writer, verb string) *progress {
	p := &progress{verb: verb, start: time.Now(), stop: make(chan struct{})}
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.w = f
			p.wg.Go(p.loop)
		}
	}
	return p
}

func (p *progress) Write(b []byte) (int, error) {
	n := p.done.Add(int64(len(b)))
	if testHookProgress != nil {
		testHookProgress(n)
	}
	return len(b), nil
}

func (p *progress) add(size int64) { p.total.Add(size) }
func (p *progress) listed()        { p.known.Store(true) }

func (p *progress) loop() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.show()
		case <-p.stop:
			return
		}
	}
}

func (p *progress) show() {
	done, total := p.done.Load(), p.total.Load()
	secs := time.Since(p.start).Seconds()
	rate := float64(done) / secs
	line := fmt.Sprintf("%s %s", p.verb, size(done))
	if p.known.Load() {
		line += " of " + size(total)
	}
	line += fmt.Sprintf(", %s/s", size(int64(rate)))
	if p.known.Load() && rate > 0 && done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		line += ", " + eta.Round(time.Second).String() + " left"
	}
	fmt.Fprintf(p.w, "\r%-60s", line)
}

// finish shows the last figures and ends the line.
func (p *progress) finish() {
	p.onceUp.Do(func() {
		close(p.stop)
		p.wg.Wait()
		if p.w != nil {
			p.show()
			fmt.Fprintln(p.w)
		}
	})
}

func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
