package testvectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/fixture"
	"github.com/framerpc/framerpc/rpc"
	"github.com/framerpc/framerpc/testvectors/internal/captures"
)

// Fault injection over every capture in captures/, deterministic and
// exhaustive (issue 12, item 2, first part): each direction of each
// recorded conversation is cut at every byte offset, and has every byte
// flipped in two ways (all bits, and the lowest bit only), and the result
// is fed to the real server (the client's direction) or the real client
// making the capture's calls (the server's direction) through rpc's public
// API. Invariants:
//
//   - no hang: every run ends within faultDeadline;
//   - no panic (one would end the test binary);
//   - what the server writes is a well-framed stream that ends at a
//     message boundary or with a canonical RST and nothing after it
//     ([FRAME-7], [MSG-1]);
//   - no call succeeds with a short body: an octets reply the client reads
//     to its end without error from a cut stream has exactly the length
//     asked for ([FRAME-6], [MSG-6], [RPC-21]); a flip may rewrite a
//     length field into a shorter well-framed message, which nothing on
//     the wire can tell from the real one, and is counted instead;
//   - no goroutine is left behind (checked after each capture's runs).
//
// Under the race detector, where every run costs ten times more, each
// capture's offsets are sampled: every faultStride-th offset, starting at
// a phase that differs per capture and per direction, so that over the
// captures every residue is covered. The plain run covers every offset.
// The run counts are logged.

const faultDeadline = 10 * time.Second

func faultStride() int {
	if raceEnabled {
		return 3
	}
	return 1
}

// replayConn is a peer whose bytes are fixed in advance: reads give them,
// then io.EOF; what is written is kept.
type replayConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *replayConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *replayConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *replayConn) Close() error                { return nil }

// mutations calls f with every cut and every flipped version of b that
// this run covers, and returns how many.
func mutations(b []byte, phase int, f func(what string, cut bool, in []byte)) int {
	stride := faultStride()
	runs := 0
	for k := phase % stride; k <= len(b); k += stride {
		f(fmt.Sprintf("cut at %d", k), true, b[:k])
		runs++
	}
	for i := phase % stride; i < len(b); i += stride {
		for _, mask := range []byte{0xff, 0x01} {
			// A fresh copy each run: a client's background read may still
			// be reading the last run's bytes when the next one starts.
			buf := bytes.Clone(b)
			buf[i] ^= mask
			f(fmt.Sprintf("byte %d ^ %02x", i, mask), false, buf)
			runs++
		}
	}
	return runs
}

// wellFramed checks what a side wrote: valid frames, ending at a message
// boundary or with one canonical RST as the last bytes.
func wellFramed(out []byte) error {
	r := frame.NewReader(bytes.NewReader(out))
	inMsg, msgType := false, frame.Type(0)
	for {
		h, err := r.ReadHeader()
		if err == io.EOF {
			if inMsg {
				return errors.New("output ends inside a message")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("output is not a valid frame stream: %w", err)
		}
		if h.Type == frame.TypeRST {
			if !h.Canonical() || r.Offset() != int64(len(out)) {
				return fmt.Errorf("RST at %d is not canonical or not the last frame", r.Offset()-frame.HeaderSize)
			}
			return nil
		}
		if inMsg && h.Type != msgType {
			return fmt.Errorf("a %v frame inside a %v message", h.Type, msgType)
		}
		inMsg, msgType = !h.Final, h.Type
		if _, err := io.Copy(io.Discard, payload{r}); err != nil {
			return err
		}
	}
}

type payload struct{ r *frame.Reader }

func (p payload) Read(b []byte) (int, error) { return p.r.ReadPayload(b) }

// settle waits for the goroutines started since before to end.
func settle(t *testing.T, before int, what string) {
	t.Helper()
	now := runtime.NumGoroutine()
	for i := 0; i < 500 && now > before; i++ {
		time.Sleep(10 * time.Millisecond)
		now = runtime.NumGoroutine()
	}
	if now > before {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("%s: goroutine leak: %d before, %d after\n%s", what, before, now, buf[:n])
	}
}

func loadIndex(t *testing.T) captures.Index {
	var index captures.Index
	data, err := os.ReadFile("captures/index.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	return index
}

func TestFaultsServerDirection(t *testing.T) {
	index := loadIndex(t)
	total := 0
	for ci, c := range index.Captures {
		in, err := os.ReadFile(filepath.Join("captures", c.Client.File))
		if err != nil {
			t.Fatal(err)
		}
		srv, err := fixture.NewServer(c.ServerExtensions, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		runs := mutations(in, ci, func(what string, _ bool, b []byte) {
			conn := &replayConn{in: bytes.NewReader(b)}
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = srv.Serve(conn)
			}()
			select {
			case <-done:
			case <-time.After(faultDeadline):
				t.Fatalf("%s, %s: Serve did not return %v after its input ended", c.Client.File, what, faultDeadline)
			}
			if err := wellFramed(conn.out.Bytes()); err != nil {
				t.Fatalf("%s, %s: the server wrote: %v", c.Client.File, what, err)
			}
		})
		settle(t, before, c.Client.File)
		t.Logf("%s: %d runs (%d bytes, stride %d)", c.Client.File, runs, len(in), faultStride())
		total += runs
	}
	t.Logf("server direction: %d runs over %d captures", total, len(index.Captures))
}

// errShortBody is the one outcome the client direction must never see.
var errShortBody = errors.New("an octets reply read to its end without error, with the wrong length")

// download calls ep for n bytes and reads the reply: any error is fine
// (the input is broken), a clean end with a length other than n is not.
func faultDownload(ctx context.Context, c *rpc.Client, ep string, n int64) error {
	var rc io.ReadCloser
	if err := c.Call(ctx, ep, fixture.Count{N: n}, &rc); err != nil {
		return nil
	}
	defer rc.Close()
	got, err := io.Copy(io.Discard, rc)
	if err == nil && got != n {
		return fmt.Errorf("%w: %s: %d bytes, asked for %d", errShortBody, ep, got, n)
	}
	return nil
}

func faultPull(ctx context.Context, c *rpc.Client, n int64) error {
	var meta fixture.Count
	pull := &rpc.Pull{Meta: &meta}
	if err := c.Call(ctx, "Pull", fixture.Count{N: n}, pull); err != nil {
		return nil
	}
	defer pull.Body.Close()
	got, err := io.Copy(io.Discard, pull.Body)
	if err == nil && got != n {
		return fmt.Errorf("%w: Pull: %d bytes, asked for %d", errShortBody, got, n)
	}
	return nil
}

func faultEcho(ctx context.Context, c *rpc.Client, s string) {
	var out json.RawMessage
	_ = c.Call(ctx, "Echo", map[string]string{"Text": s}, &out)
}

// faultCalls are the calls each capture's client made (testvectors/
// internal/captures), made again against the recorded and broken server
// side. Only the octets replies have something to check beyond returning.
var faultCalls = map[string]func(ctx context.Context, c *rpc.Client) error{
	"json-call": func(ctx context.Context, c *rpc.Client) error {
		faultEcho(ctx, c, "hello")
		faultEcho(ctx, c, "again")
		return nil
	},
	"tour": func(ctx context.Context, c *rpc.Client) error {
		faultEcho(ctx, c, "hello")
		if err := faultDownload(ctx, c, "Download", 5000); err != nil {
			return err
		}
		var out fixture.Count
		_ = c.Call(ctx, "Upload", bytes.NewReader(fixture.Pattern(300)), &out)
		var raw json.RawMessage
		_ = c.Call(ctx, "Fail", json.RawMessage(`{}`), &raw)
		faultEcho(ctx, c, "bye")
		return nil
	},
	"octets-reply": func(ctx context.Context, c *rpc.Client) error {
		return faultDownload(ctx, c, "Download", 5000)
	},
	"octets-request": func(ctx context.Context, c *rpc.Client) error {
		var out fixture.Count
		_ = c.Call(ctx, "Upload", bytes.NewReader(fixture.Pattern(5000)), &out)
		return nil
	},
	"trailer-octets": func(ctx context.Context, c *rpc.Client) error {
		var out fixture.Count
		_ = c.Call(ctx, "Upload", bytes.NewReader(fixture.Pattern(300)), &out)
		return faultDownload(ctx, c, "Download", 300)
	},
	"multipart": func(ctx context.Context, c *rpc.Client) error {
		var out fixture.PushReply
		_ = c.Call(ctx, "Push", rpc.Push{Meta: fixture.Text{Text: "meta"}, Body: bytes.NewReader(fixture.Pattern(100))}, &out)
		return faultPull(ctx, c, 100)
	},
	"error-statuses": func(ctx context.Context, c *rpc.Client) error {
		for _, ep := range []string{"Nope", "Fail", "Panic"} {
			var raw json.RawMessage
			_ = c.Call(ctx, ep, json.RawMessage(`{}`), &raw)
		}
		faultEcho(ctx, c, "still in sync")
		return nil
	},
	"failed-source-trailer": func(ctx context.Context, c *rpc.Client) error {
		if err := faultDownload(ctx, c, "BrokenDownload", 100); err != nil {
			return err
		}
		faultEcho(ctx, c, "after")
		return nil
	},
	"failed-source-rst": func(ctx context.Context, c *rpc.Client) error {
		return faultDownload(ctx, c, "BrokenDownload", 100)
	},
	"truncated": func(ctx context.Context, c *rpc.Client) error {
		return faultDownload(ctx, c, "Download", 5000)
	},
}

func TestFaultsClientDirection(t *testing.T) {
	index := loadIndex(t)
	total, shortened := 0, 0
	for ci, c := range index.Captures {
		calls, ok := faultCalls[c.Name]
		if !ok {
			t.Fatalf("capture %s: no calls known for it; add them to faultCalls", c.Name)
		}
		in, err := os.ReadFile(filepath.Join("captures", c.Server.File))
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		runs := mutations(in, ci+1, func(what string, cut bool, b []byte) {
			conn := &replayConn{in: bytes.NewReader(b)}
			cli := rpc.NewClient(conn, &rpc.ClientOptions{Extensions: c.ClientExtensions})
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
				defer cancel()
				err := calls(ctx, cli)
				cli.Close()
				done <- err
			}()
			select {
			case err := <-done:
				// A flipped byte in a Data frame's length field describes
				// a shorter message, well framed: without an integrity
				// check nothing on the wire tells it from the real one
				// (with trailer, the bytes left over usually break the
				// next frame). Only a truncated stream must never pass
				// for a complete body [FRAME-6], [MSG-6].
				if errors.Is(err, errShortBody) && !cut {
					shortened++
					err = nil
				}
				if err != nil {
					t.Fatalf("%s, %s: %v", c.Server.File, what, err)
				}
			case <-time.After(2 * faultDeadline):
				t.Fatalf("%s, %s: the calls did not return %v after the input ended", c.Server.File, what, 2*faultDeadline)
			}
		})
		settle(t, before, c.Server.File)
		t.Logf("%s: %d runs (%d bytes, stride %d)", c.Server.File, runs, len(in), faultStride())
		total += runs
	}
	t.Logf("client direction: %d runs over %d captures; %d flips rewrote a length field into a shorter well-framed body", total, len(index.Captures), shortened)
}
