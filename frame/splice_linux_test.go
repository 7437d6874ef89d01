//go:build linux

package frame

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/framerpc/framerpc/internal/benchnet"
)

// The splice paths must put on the wire, and deliver, exactly what the
// user-space paths do [MSG-3]; these tests compare the two byte for byte
// and check, through the spliced counter, that the kernel path was taken
// where it applies.

var spliceSizes = []int{0, 1, 100000, MaxPayload - 1, MaxPayload, MaxPayload + 1, 2*MaxPayload + 10}

// userSpaceWire is what the user-space writer sends for body as one Data
// message.
func userSpaceWire(t *testing.T, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := NewWriter(&buf).WriteMessage(TypeData, body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pipeSource returns the read end of a pipe fed with body, in writes of
// chunk bytes, then closed.
func pipeSource(t *testing.T, body []byte, chunk int) *os.File {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	go func() {
		defer pw.Close()
		for rest := body; len(rest) > 0; {
			k := min(chunk, len(rest))
			if _, err := pw.Write(rest[:k]); err != nil {
				return
			}
			rest = rest[k:]
		}
	}()
	return pr
}

// socketTransports are the transports splice applies to.
var socketTransports = []benchnet.Transport{benchnet.Transports[0], benchnet.Transports[1]}

// sendThrough writes one Data message with ReadFrom(src) on one end of a
// new pair of tr and returns what the other end received, and ReadFrom's
// results.
func sendThrough(t *testing.T, tr benchnet.Transport, src io.Reader) ([]byte, int64, error) {
	t.Helper()
	a, b, err := tr.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- all
	}()
	w := NewWriter(a)
	m, err := w.NewMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	n, rerr := m.ReadFrom(src)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	return <-got, n, rerr
}

func TestSpliceSendSameBytes(t *testing.T) {
	for _, tr := range socketTransports {
		for _, n := range spliceSizes {
			body := pattern(n, byte(n))
			want := userSpaceWire(t, body)
			// Whole pages, and pieces that leave pages partly filled.
			for _, chunk := range []int{1 << 20, 10000} {
				before := spliced.Load()
				wire, got, err := sendThrough(t, tr, pipeSource(t, body, chunk))
				if err != nil || got != int64(n) {
					t.Fatalf("%s n=%d chunk=%d: ReadFrom %d, %v", tr.Name, n, chunk, got, err)
				}
				if !bytes.Equal(wire, want) {
					t.Fatalf("%s n=%d chunk=%d: wire differs from the user-space writer's at byte %d", tr.Name, n, chunk, firstDiff(wire, want))
				}
				// Every full frame's payload is spliced; the final frame
				// leaves from user space. A producer writing in small
				// pieces leaves partly filled pages that may fill the
				// pipes before a frame does: then user space sends it.
				if moved := spliced.Load() - before; chunk == 1<<20 && moved != int64(n/MaxPayload*MaxPayload) {
					t.Fatalf("%s n=%d chunk=%d: %d bytes spliced, want %d", tr.Name, n, chunk, moved, n/MaxPayload*MaxPayload)
				}
			}
		}
	}
}

func TestSpliceSendManySmallPipes(t *testing.T) {
	// Without the privilege to enlarge pipes to 4 MiB, a frame is staged
	// in several; 64 KiB pipes, 64 of them, are the smallest case.
	defer func(s []int) { pipeSizes = s }(pipeSizes)
	pipeSizes = []int{64 << 10}
	body := pattern(2*MaxPayload+5, 6)
	before := spliced.Load()
	wire, _, err := sendThrough(t, benchnet.Transports[0], pipeSource(t, body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if want := userSpaceWire(t, body); !bytes.Equal(wire, want) {
		t.Fatalf("wire differs at byte %d", firstDiff(wire, want))
	}
	if moved := spliced.Load() - before; moved == 0 {
		t.Fatal("nothing spliced")
	}
}

func TestSpliceSendSourceFailsMidStream(t *testing.T) {
	// A source that fails after some bytes: ReadFrom reports the error
	// and the bytes it took, and what Close sends then is what the
	// user-space writer sends for those bytes.
	for _, tr := range socketTransports {
		for _, n := range []int{1000, MaxPayload + 1000} {
			body := pattern(n, 8)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				// The source fails once ReadFrom has taken every byte:
				// the pipe stays open, and a deadline in the past ends
				// the next read. Not a timer: under load a fixed
				// deadline could end the read before the bytes crossed.
				pw.Write(body)
				for unreadInPipe(t, pr) > 0 {
					time.Sleep(time.Millisecond)
				}
				pr.SetReadDeadline(time.Now())
			}()
			wire, got, rerr := sendThrough(t, tr, pr)
			pr.Close()
			pw.Close()
			if !errors.Is(rerr, os.ErrDeadlineExceeded) || got != int64(n) {
				t.Fatalf("%s n=%d: ReadFrom %d, %v", tr.Name, n, got, rerr)
			}
			if want := userSpaceWire(t, body); !bytes.Equal(wire, want) {
				t.Fatalf("%s n=%d: wire differs at byte %d", tr.Name, n, firstDiff(wire, want))
			}
		}
	}
}

// unreadInPipe is the number of bytes waiting in the pipe r reads.
func unreadInPipe(t *testing.T, r *os.File) int {
	sc, err := r.SyscallConn()
	if err != nil {
		t.Error(err)
		return 0
	}
	var n int32
	var errno syscall.Errno
	if err := sc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 {
		t.Errorf("FIONREAD: %v %v", err, errno)
		return 0
	}
	return int(n)
}

func TestSpliceSendDestinationRefuses(t *testing.T) {
	// A file opened for appending refuses splice: the frame whose header
	// is out already gets its payload from user space, and the rest of
	// the body goes that way too.
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	body := pattern(2*MaxPayload+10, 9)
	w := NewWriter(f)
	m, _ := w.NewMessage(TypeData)
	if n, err := m.ReadFrom(pipeSource(t, body, 1<<20)); err != nil || n != int64(len(body)) {
		t.Fatalf("ReadFrom %d, %v", n, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wire, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := userSpaceWire(t, body); !bytes.Equal(wire, want) {
		t.Fatalf("file differs at byte %d", firstDiff(wire, want))
	}
}

// receiveInto reads one Data message from a new pair of tr into dst with
// WriteTo, the message carrying body, followed by a Header message "next"
// which it checks.
func receiveInto(t *testing.T, tr benchnet.Transport, body []byte, dst io.Writer, check func(*MessageReader, int64, error)) {
	t.Helper()
	a, b, err := tr.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go func() {
		defer a.Close()
		w := NewWriter(a)
		if w.WriteMessage(TypeData, body) == nil {
			w.WriteMessage(TypeHeader, []byte("next"))
		}
	}()
	r := NewReader(b)
	m, err := r.NextMessage(TypeData)
	if err != nil {
		t.Fatal(err)
	}
	n, err := m.WriteTo(dst)
	check(m, n, err)
	if next, err := readMessage(r, TypeHeader); err != nil || string(next) != "next" {
		t.Fatalf("next message %q %v", next, err)
	}
}

func TestSpliceReceiveIntoPipeAndFile(t *testing.T) {
	for _, tr := range socketTransports {
		for _, n := range spliceSizes {
			body := pattern(n, byte(n)+1)
			// Into a pipe, drained by a reader in user space (zfs recv).
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte, 1)
			go func() {
				all, _ := io.ReadAll(pr)
				got <- all
			}()
			before := spliced.Load()
			receiveInto(t, tr, body, pw, func(m *MessageReader, k int64, err error) {
				if err != nil || k != int64(n) {
					t.Fatalf("%s n=%d: WriteTo %d, %v", tr.Name, n, k, err)
				}
			})
			pw.Close()
			if all := <-got; !bytes.Equal(all, body) {
				t.Fatalf("%s n=%d: pipe got %d bytes, differs at %d", tr.Name, n, len(all), firstDiff(all, body))
			}
			pr.Close()
			if n >= MaxPayload && spliced.Load() == before {
				t.Fatalf("%s n=%d: nothing spliced", tr.Name, n)
			}
			// Into a regular file.
			path := filepath.Join(t.TempDir(), "out")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			receiveInto(t, tr, body, f, func(m *MessageReader, k int64, err error) {
				if err != nil || k != int64(n) {
					t.Fatalf("%s n=%d: WriteTo file %d, %v", tr.Name, n, k, err)
				}
			})
			f.Close()
			if all, _ := os.ReadFile(path); !bytes.Equal(all, body) {
				t.Fatalf("%s n=%d: file differs at %d", tr.Name, n, firstDiff(all, body))
			}
		}
	}
}

func TestSpliceReceiveDestinationFails(t *testing.T) {
	// A pipe nobody reads any more fails the splice: the bytes already
	// taken from the transport are not lost, the rest of the body reads
	// back whole, and the stream stays in sync.
	body := pattern(2*MaxPayload+77, 5)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	// Let 100000 bytes through, then close the read end.
	took := make(chan []byte, 1)
	go func() {
		b := make([]byte, 100000)
		n, _ := io.ReadFull(pr, b)
		pr.Close()
		took <- b[:n]
	}()
	receiveInto(t, benchnet.Transports[0], body, pw, func(m *MessageReader, k int64, err error) {
		if !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("WriteTo %d, %v, want EPIPE", k, err)
		}
		first := <-took
		if k < int64(len(first)) || !bytes.Equal(body[:len(first)], first) {
			t.Fatalf("delivered %d bytes, the pipe's reader saw %d", k, len(first))
		}
		rest, err := io.ReadAll(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rest, body[k:]) {
			t.Fatalf("the rest after %d delivered bytes differs at %d", k, firstDiff(rest, body[k:]))
		}
	})
}

func TestSpliceReceiveDestinationRefuses(t *testing.T) {
	// A file opened for appending refuses splice after bytes left the
	// transport: they are read back and written from user space.
	for _, tr := range socketTransports {
		path := filepath.Join(t.TempDir(), "out")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		body := pattern(MaxPayload+3, 2)
		receiveInto(t, tr, body, f, func(m *MessageReader, k int64, err error) {
			if err != nil || k != int64(len(body)) {
				t.Fatalf("WriteTo %d, %v", k, err)
			}
		})
		f.Close()
		if all, _ := os.ReadFile(path); !bytes.Equal(all, body) {
			t.Fatalf("%s: file differs at %d", tr.Name, firstDiff(all, body))
		}
	}
}

func TestSpliceSendFromRegularFile(t *testing.T) {
	// A regular file is spliced too; it never makes the source wait.
	for _, n := range []int{0, MaxPayload + 1, 2 * MaxPayload} {
		body := pattern(n, 3)
		path := filepath.Join(t.TempDir(), "in")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		before := spliced.Load()
		wire, got, err := sendThrough(t, socketTransports[0], f)
		f.Close()
		if err != nil || got != int64(n) {
			t.Fatalf("n=%d: ReadFrom %d, %v", n, got, err)
		}
		if want := userSpaceWire(t, body); !bytes.Equal(wire, want) {
			t.Fatalf("n=%d: wire differs at byte %d", n, firstDiff(wire, want))
		}
		if moved := spliced.Load() - before; moved != int64(n/MaxPayload*MaxPayload) {
			t.Fatalf("n=%d: %d bytes spliced", n, moved)
		}
	}
}

// Through a buffered Writer, with a message gathered but not yet flushed,
// and from an io.LimitReader of a pipe: the header and what was gathered
// leave before the spliced payload, the limit is kept, and the bytes are
// the user-space writer's.
func TestSpliceSendBufferedLimited(t *testing.T) {
	for _, tr := range socketTransports {
		body := pattern(3*MaxPayload+7, 9)
		limit := int64(2*MaxPayload + 3)
		var want bytes.Buffer
		uw := NewWriter(&want)
		if err := uw.WriteMessage(TypeHeader, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if err := uw.WriteMessage(TypeData, body[:limit]); err != nil {
			t.Fatal(err)
		}
		a, b, err := tr.Pair()
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		go func() {
			all, _ := io.ReadAll(b)
			got <- all
		}()
		w := NewBufferedWriter(a, 16<<10)
		if err := w.WriteMessage(TypeHeader, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		m, err := w.NewMessage(TypeData)
		if err != nil {
			t.Fatal(err)
		}
		before := spliced.Load()
		n, err := m.ReadFrom(io.LimitReader(pipeSource(t, body, 1<<20), limit))
		if err != nil || n != limit {
			t.Fatalf("%s: ReadFrom %d, %v", tr.Name, n, err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		a.Close()
		wire := <-got
		b.Close()
		if !bytes.Equal(wire, want.Bytes()) {
			t.Fatalf("%s: wire differs from the user-space writer's at byte %d", tr.Name, firstDiff(wire, want.Bytes()))
		}
		if moved := spliced.Load() - before; moved != 2*MaxPayload {
			t.Fatalf("%s: %d bytes spliced, want %d", tr.Name, moved, 2*MaxPayload)
		}
	}
}
