//go:build linux

package rpc

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/benchnet"
	"github.com/framerpc/framerpc/internal/splicecount"
)

// Stream bodies by splice(2) at the RPC layer: a reply or a push whose
// source is a pipe leaves by splice, a received body copied into a pipe
// arrives by splice, and the bytes are the same as through user space.
// splicecount tells which path was taken.

// spliceBody is two full frames and a partial one, in a pattern that
// shows any misplaced byte.
var spliceBody = func() []byte {
	b := make([]byte, 2*frame.MaxPayload+12345)
	for i := range b {
		b[i] = byte(i) ^ byte(i>>8)*31 ^ 0x5a
	}
	return b
}()

// filled returns the read end of a pipe fed with body, then closed.
func filled(t testing.TB, body []byte) *os.File {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer pw.Close()
		pw.Write(body)
	}()
	return pr
}

// drained returns the write end of a pipe and what was read from its
// other end once the write end is closed.
func drained(t testing.TB) (*os.File, func() []byte) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		defer pr.Close()
		b, _ := io.ReadAll(pr)
		got <- b
	}()
	return pw, func() []byte { return <-got }
}

func TestSpliceRPC(t *testing.T) {
	checkGoroutines(t)
	for _, tr := range benchnet.Transports[:2] {
		t.Run(tr.Name, func(t *testing.T) { testSpliceRPC(t, tr, nil, nil) })
	}
	// Through deadlineConn, which renews its deadlines around each splice.
	t.Run("unix with timeouts", func(t *testing.T) {
		testSpliceRPC(t, benchnet.Transports[0],
			&ServerOptions{IdleTimeout: time.Minute, IOTimeout: time.Minute}, &ClientOptions{IOTimeout: time.Minute})
	})
}

func testSpliceRPC(t *testing.T, tr benchnet.Transport, sopts *ServerOptions, copts *ClientOptions) {
	s := NewServer(sopts)
	// Msg.Text says whether the reply source is the pipe itself ("file")
	// or hidden from the splice path.
	if err := s.RegisterEndpoint("Reply", func(in *Msg, out *io.Reader) error {
		pr := filled(t, spliceBody)
		if in.Text == "file" {
			*out = pr
		} else {
			*out = hidden{pr}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEndpoint("Sink", func(in io.Reader, out *Msg) error {
		pw, got := drained(t)
		_, err := io.Copy(pw, in)
		pw.Close()
		if !bytes.Equal(got(), spliceBody) {
			out.Text = "differs"
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	a, b, err := tr.Pair()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(b) }()
	cli := NewClient(a, copts)
	defer func() {
		cli.Close()
		<-served
	}()
	ctx := context.Background()
	full := int64(2 * frame.MaxPayload)
	// spliced runs f and returns the payload bytes spliced meanwhile.
	spliced := func(f func()) int64 {
		before := splicecount.Moved.Load()
		f()
		return splicecount.Moved.Load() - before
	}
	reply := func(src string, dst io.Writer) {
		var body io.ReadCloser
		if err := cli.Call(ctx, "Reply", &Msg{Text: src}, &body); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, body); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name     string
		src, dst string // "file" or hidden
		min, max int64  // bytes spliced
	}{
		{"user space", "hidden", "hidden", 0, 0},
		// Every full frame leaves by splice; the last, partial one from
		// user space.
		{"sending", "file", "hidden", full, full},
		// What came in with a frame header is copied; the rest of each
		// large payload arrives by splice.
		{"receiving", "hidden", "file", full - 2*frame.DefaultBufferSize, full},
		{"both", "file", "file", 2*full - 2*frame.DefaultBufferSize, 2 * full},
	} {
		pw, got := drained(t)
		var dst io.Writer = pw
		if c.dst != "file" {
			dst = hidden{pw}
		}
		moved := spliced(func() { reply(c.src, dst) })
		pw.Close()
		if b := got(); !bytes.Equal(b, spliceBody) {
			t.Fatalf("reply, %s: %d bytes received, differing from the source's at byte %d", c.name, len(b), firstDifference(b, spliceBody))
		}
		if moved < c.min || moved > c.max {
			t.Errorf("reply, %s: %d bytes spliced, want %d to %d", c.name, moved, c.min, c.max)
		}
	}
	// A push from a pipe, copied into a pipe by the handler: both ends
	// splice, and the client still looks for an early reply between
	// chunks of whole frames.
	for _, c := range []struct {
		name     string
		file     bool
		min, max int64
	}{
		{"push, user space", false, full - 2*frame.DefaultBufferSize, full},
		{"push, both", true, 2*full - 2*frame.DefaultBufferSize, 2 * full},
	} {
		pr := filled(t, spliceBody)
		var src io.Reader = hidden{pr}
		if c.file {
			src = pr
		}
		var out Msg
		moved := spliced(func() {
			if err := cli.Call(ctx, "Sink", src, &out); err != nil {
				t.Fatal(err)
			}
		})
		pr.Close()
		if out.Text != "" {
			t.Fatalf("%s: the handler received other bytes than were pushed", c.name)
		}
		if moved < c.min || moved > c.max {
			t.Errorf("%s: %d bytes spliced, want %d to %d", c.name, moved, c.min, c.max)
		}
	}
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
