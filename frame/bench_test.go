package frame

import (
	"bytes"
	"io"
	"net"
	"testing"

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

// source yields n bytes without touching them: the cheapest possible
// producer, so the benchmark measures the transport path only.
type source struct{ n int64 }

func (s *source) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), s.n)
	s.n -= k
	return int(k), nil
}

const streamSize = 1 << 30

// BenchmarkStream sends 1 GiB over a Unix socketpair: raw io.CopyBuffer with
// a DefaultBufferSize buffer on both ends as the baseline, then the same
// bytes as one Data message. Compare the MB/s of the two.
func BenchmarkStream(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		a, c := socketpair(b)
		b.SetBytes(streamSize)
		for b.Loop() {
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, DefaultBufferSize)
				_, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{c}, buf[:])
				done <- err
			}()
			buf := make([]byte, DefaultBufferSize)
			if _, err := io.CopyBuffer(struct{ io.Writer }{a}, &source{streamSize}, buf); err != nil {
				b.Fatal(err)
			}
			// Half-close ends the reader's copy.
			if err := a.(*net.UnixConn).CloseWrite(); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			a.Close()
			c.Close()
			a, c = socketpair(b)
			b.StartTimer()
		}
	})
	b.Run("message", func(b *testing.B) {
		a, c := socketpair(b)
		w, r := NewWriter(a), NewReader(c)
		b.SetBytes(streamSize)
		for b.Loop() {
			done := make(chan error, 1)
			go func() {
				m, err := r.NextMessage(TypeData)
				if err == nil {
					var n int64
					n, err = io.Copy(io.Discard, m)
					if err == nil && n != streamSize {
						err = io.ErrShortWrite
					}
				}
				done <- err
			}()
			m, err := w.NewMessage(TypeData)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(m, &source{streamSize}); err != nil {
				b.Fatal(err)
			}
			if err := m.Close(); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	})
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
