// Package benchnet holds what framerpc's stream benchmarks share: the three
// transports they run on (a Unix socketpair, TCP over loopback, a pair of
// os.Pipes), the raw baseline of each (io.CopyBuffer at several buffer
// sizes, the best of which is what the transport can do), and the medians
// and ratios the benchmarks report. It is test plumbing, not part of the
// protocol; it lives in internal/ so that the frame and rpc benchmarks and
// the peers module (bench/) measure against the very same baselines.
//
// The method: a benchmark runs every variant once per round, interleaved,
// so that all of them see the same machine load; it reports the median of
// each over the rounds, and ratios paired round by round (see Ratio).
package benchnet

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/framerpc/framerpc/internal/unixpair"
)

// RawSizes are the buffer sizes of the raw baselines. Which one is best
// depends on the transport and the machine, so all run and the best one is
// the baseline.
var RawSizes = []int{32 << 10, 256 << 10, 1 << 20, 4 << 20}

// SizeName is "32K", "1M" and so on.
func SizeName(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%dM", n>>20)
	}
	return fmt.Sprintf("%dK", n>>10)
}

// Transport makes connected pairs of byte streams of one kind.
type Transport struct {
	Name string
	// Pair returns two connected ends; what one writes the other reads,
	// and closing one ends the other's reads with io.EOF.
	Pair func() (a, b io.ReadWriteCloser, err error)
}

// Transports are the kinds of stream every stream benchmark runs on.
var Transports = []Transport{
	{"unix", UnixPair},
	{"tcp", TCPPair},
	{"pipe", PipePair},
}

// UnixPair is a Unix stream socketpair.
func UnixPair() (io.ReadWriteCloser, io.ReadWriteCloser, error) {
	a, b, err := unixpair.New()
	return a, b, err
}

// TCPPair is a TCP connection over the loopback interface.
func TCPPair() (io.ReadWriteCloser, io.ReadWriteCloser, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	acc := <-ch
	if acc.err != nil {
		a.Close()
		return nil, nil, acc.err
	}
	return a, acc.c, nil
}

// PipeConn is one end of a pair of os.Pipes: it reads from one and writes
// to the other, as a program talking over its standard input and output
// does (an ssh transport).
type PipeConn struct {
	R, W *os.File
}

func (p *PipeConn) Read(b []byte) (int, error)  { return p.R.Read(b) }
func (p *PipeConn) Write(b []byte) (int, error) { return p.W.Write(b) }

// Close closes both pipes' ends held here.
func (p *PipeConn) Close() error {
	err := p.W.Close()
	if err2 := p.R.Close(); err == nil {
		err = err2
	}
	return err
}

// PipePair is two os.Pipes, one per direction.
func PipePair() (io.ReadWriteCloser, io.ReadWriteCloser, error) {
	r1, w1, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		r1.Close()
		w1.Close()
		return nil, nil, err
	}
	return &PipeConn{R: r1, W: w2}, &PipeConn{R: r2, W: w1}, nil
}

// Zeros yields N bytes without touching them: the cheapest producer, so
// that a benchmark measures the path under test only.
type Zeros struct{ N int64 }

func (z *Zeros) Read(p []byte) (int, error) {
	if z.N == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.N)
	z.N -= k
	return int(k), nil
}

// Sink swallows what it is given. It has no ReadFrom, so a copy into it
// uses the strategy of its source (WriteTo) or its own buffer.
type Sink struct{}

func (Sink) Write(p []byte) (int, error) { return len(p), nil }

// Drain reads r to its end and returns the bytes read: with io.Copy (the
// reader's WriterTo, if any) when buf is nil, else by Read calls of
// len(buf) bytes, as a caller reading at a fixed size does.
func Drain(r io.Reader, buf []byte) (int64, error) {
	if buf == nil {
		return io.Copy(Sink{}, r)
	}
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Raw is the raw baseline on one connection of a transport: n bytes
// written with io.CopyBuffer from a buffer of Size bytes, read on the
// other end with io.CopyBuffer into a buffer of the same size. The
// connection stays open across rounds, as the connection a protocol
// benchmark reuses does, so both see a transport in the same state.
type Raw struct {
	Size       int
	a, b       io.ReadWriteCloser
	wbuf, rbuf []byte
	done       chan error
}

// NewRaw opens the baseline's connection.
func NewRaw(t Transport, size int) (*Raw, error) {
	a, b, err := t.Pair()
	if err != nil {
		return nil, err
	}
	return &Raw{Size: size, a: a, b: b, wbuf: make([]byte, size), rbuf: make([]byte, size), done: make(chan error, 1)}, nil
}

// Close closes the connection.
func (r *Raw) Close() error {
	r.a.Close()
	return r.b.Close()
}

// Run moves n bytes and returns how long the reader took from the first
// byte sent to the last byte received.
func (r *Raw) Run(n int64) (time.Duration, error) {
	start := time.Now()
	go func() {
		// The struct hides ReaderFrom: a plain read-write loop.
		z := Zeros{N: n}
		_, err := io.CopyBuffer(struct{ io.Writer }{r.a}, &z, r.wbuf)
		r.done <- err
	}()
	lr := io.LimitedReader{R: struct{ io.Reader }{r.b}, N: n}
	got, err := io.CopyBuffer(Sink{}, &lr, r.rbuf)
	d := time.Since(start)
	if werr := <-r.done; err == nil {
		err = werr
	}
	if err == nil && got != n {
		err = fmt.Errorf("raw copy moved %d of %d bytes", got, n)
	}
	return d, err
}

// Variant is one thing a benchmark measures per round.
type Variant struct {
	Name string
	Run  func() (time.Duration, error)
}

// Round runs every variant once, starting at variant number round modulo
// their count, so that no variant always runs first or right after the
// same neighbour, and records each duration.
func (s *Samples) Round(round int, vs []Variant) error {
	for i := range vs {
		v := vs[(round+i)%len(vs)]
		cpu0 := cpuTime()
		d, err := v.Run()
		cpu := cpuTime() - cpu0
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		s.Add(v.Name, d)
		if s.CPU == nil {
			s.CPU = &Samples{}
		}
		s.CPU.Add(v.Name, cpu)
	}
	return nil
}

// Rounds runs one Round per iteration of b.Loop, the variants of round n
// starting at the n-th, and returns how many rounds ran.
func (s *Samples) Rounds(b *testing.B, vs []Variant) int {
	round := 0
	for b.Loop() {
		if err := s.Round(round, vs); err != nil {
			b.Fatal(err)
		}
		round++
	}
	return round
}

// RawVariants are the raw baselines of transport t, one per RawSizes
// entry, each copying n bytes per round on a connection of its own that
// ends with the benchmark; names are theirs, for Best.
func RawVariants(b *testing.B, t Transport, n int64) (vs []Variant, names []string) {
	for _, size := range RawSizes {
		raw, err := NewRaw(t, size)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { raw.Close() })
		name := "raw" + SizeName(size)
		names = append(names, name)
		vs = append(vs, Variant{Name: name, Run: func() (time.Duration, error) { return raw.Run(n) }})
	}
	return vs, names
}

// SpliceRounds is the splice benchmark of a layer: run moves n bytes with
// splice on the sending side (ks), the receiving side (kr), both or
// neither ("user"), and each of the four runs once per round after one
// warm-up run of warm bytes. It reports each variant's MB/s and CPU time,
// and the ratio of each splicing variant to the user-space one.
func SpliceRounds(b *testing.B, n, warm int64, run func(n int64, ks, kr bool) (time.Duration, error)) {
	variant := func(name string, ks, kr bool) Variant {
		return Variant{Name: name, Run: func() (time.Duration, error) { return run(n, ks, kr) }}
	}
	vs := []Variant{
		variant("user", false, false),
		variant("send", true, false),
		variant("recv", false, true),
		variant("both", true, true),
	}
	if _, err := run(warm, true, true); err != nil {
		b.Fatal(err)
	}
	var s Samples
	s.Rounds(b, vs)
	for _, name := range s.Names() {
		b.ReportMetric(s.MBps(name, n), name+"-MB/s")
		b.ReportMetric(float64(s.CPU.Median(name).Milliseconds()), name+"-cpu-ms")
	}
	for _, name := range []string{"send", "recv", "both"} {
		b.ReportMetric(s.Ratio(name, "user"), name+"-x-user")
	}
}

// Samples collects one duration per round for each named variant, and
// the CPU time the process spent meanwhile: a figure other programs on the
// machine do not disturb as they disturb the wall clock.
type Samples struct {
	names []string
	d     map[string][]time.Duration
	CPU   *Samples
}

// Add records one round of variant name.
func (s *Samples) Add(name string, d time.Duration) {
	if s.d == nil {
		s.d = map[string][]time.Duration{}
	}
	if _, ok := s.d[name]; !ok {
		s.names = append(s.names, name)
	}
	s.d[name] = append(s.d[name], d)
}

// Names lists the variants in the order they were first added.
func (s *Samples) Names() []string { return s.names }

// Median is the median duration of variant name (the mean of the two
// middle ones for an even count).
func (s *Samples) Median(name string) time.Duration {
	d := slices.Clone(s.d[name])
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// Best is the variant among names with the smallest median.
func (s *Samples) Best(names []string) string {
	best := ""
	for _, n := range names {
		if best == "" || s.Median(n) < s.Median(best) {
			best = n
		}
	}
	return best
}

// Ratio is the throughput of variant name as a fraction of the best of
// variants bases (above 1 it is faster), paired round by round: in each
// round, the best base's duration over name's, whose median it returns.
// Pairing cancels the load that drifts from round to round, which a ratio
// of medians does not.
func (s *Samples) Ratio(name string, bases ...string) float64 {
	var ratios []float64
	for i, d := range s.d[name] {
		var best time.Duration
		for _, b := range bases {
			if bd := s.d[b]; i < len(bd) && (best == 0 || bd[i] < best) {
				best = bd[i]
			}
		}
		ratios = append(ratios, float64(best)/float64(d))
	}
	if len(ratios) == 0 {
		return 0
	}
	slices.Sort(ratios)
	if len(ratios)%2 == 1 {
		return ratios[len(ratios)/2]
	}
	return (ratios[len(ratios)/2-1] + ratios[len(ratios)/2]) / 2
}

// MBps is the throughput of variant name moving n bytes per round, in
// MB/s (10^6 bytes), as go test reports it.
func (s *Samples) MBps(name string, n int64) float64 {
	return float64(n) / s.Median(name).Seconds() / 1e6
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
