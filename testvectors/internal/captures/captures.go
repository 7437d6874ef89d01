// Package captures records real conversations between this module's
// rpc.Client and rpc.Server (running the fixture of the README) over a Unix
// socketpair, one file per direction, for testvectors/captures/. Unlike the
// vector files, captures are recordings by definition: they show what the
// reference implementation actually puts on the wire, and feed framedump's
// tests and the fuzz corpora. The recording is deterministic (no clocks,
// no randomness, one writer per direction), so the generator's diff check
// covers them like every other generated file.
package captures

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/framerpc/framerpc/internal/fixture"
	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/rpc"
	"github.com/framerpc/framerpc/testvectors/format"
)

// Index is captures/index.json.
type Index struct {
	Comment  string    `json:"comment"`
	Captures []Capture `json:"captures"`
}

// Capture describes one recorded connection.
type Capture struct {
	Name             string   `json:"name"`
	Comment          string   `json:"comment"`
	Rules            []string `json:"rules"`
	ClientExtensions []string `json:"clientExtensions"`
	ServerExtensions []string `json:"serverExtensions"`
	Client           File     `json:"client"`
	Server           File     `json:"server"`
}

// File is one direction's recording.
type File struct {
	File   string `json:"file"`
	Length int    `json:"length"`
	SHA256 string `json:"sha256"`
}

// recorder is a net.Conn that keeps a copy of everything written to it and,
// with a limit, writes only that many bytes in all and then closes: a
// connection cut in the middle of whatever it was sending.
type recorder struct {
	net.Conn
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int // -1: none
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limit >= 0 && r.buf.Len()+len(p) > r.limit {
		n := r.limit - r.buf.Len()
		if n > 0 {
			r.buf.Write(p[:n])
			if _, err := r.Conn.Write(p[:n]); err != nil {
				return 0, err
			}
		}
		r.Conn.Close()
		return max(n, 0), errors.New("captures: connection cut")
	}
	r.buf.Write(p)
	return r.Conn.Write(p)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf.Bytes()...)
}

type scenario struct {
	name, comment string
	rules         []string
	clientExts    []string
	serverExts    []string
	// cut, if not negative, is the number of bytes after which the
	// server's connection is cut.
	cut   int
	calls func(ctx context.Context, c *rpc.Client) error
}

type text struct{ Text string }

func echo(ctx context.Context, c *rpc.Client, s string) error {
	var out text
	if err := c.Call(ctx, "Echo", text{s}, &out); err != nil {
		return err
	}
	if out.Text != s {
		return fmt.Errorf("Echo(%q) = %q", s, out.Text)
	}
	return nil
}

// download reads an octets reply; want is the error reading it must end
// with (nil: none).
func download(ctx context.Context, c *rpc.Client, ep string, n int64, wantErr bool) error {
	var rc io.ReadCloser
	if err := c.Call(ctx, ep, fixture.Count{N: n}, &rc); err != nil {
		if wantErr {
			return nil
		}
		return err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if (err != nil) != wantErr {
		return fmt.Errorf("%s: read %d bytes, error %v", ep, len(b), err)
	}
	return nil
}

// expectStatus calls ep and wants a non-OK reply with status s.
func expectStatus(ctx context.Context, c *rpc.Client, ep string, s rpc.Status) error {
	var out json.RawMessage
	err := c.Call(ctx, ep, json.RawMessage(`{}`), &out)
	var re *rpc.Error
	if !errors.As(err, &re) || re.Status != s {
		return fmt.Errorf("%s: %v, want status %v", ep, err, s)
	}
	return nil
}

var none = []string{}

var scenarios = []scenario{
	{"json-call", "two JSON calls to Echo, then the client hangs up (original-compatible)", []string{"RPC-1", "RPC-31", "RPC-34"}, none, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			if err := echo(ctx, c, "hello"); err != nil {
				return err
			}
			return echo(ctx, c, "again")
		}},
	{"tour", "what a session shows most: a JSON call, then (before the first stream) a hello granting trailer and multipart, an octets download and an octets upload each ended by an OK Trailer, an error status, and a last call on the same connection; the README's first command decodes it", []string{"RPC-22", "RPC-25", "RPC-31", "RPC-36", "RPC-40"}, nil, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			if err := echo(ctx, c, "hello"); err != nil {
				return err
			}
			if err := download(ctx, c, "Download", 5000, false); err != nil {
				return err
			}
			var out fixture.Count
			if err := c.Call(ctx, "Upload", bytes.NewReader(fixture.Pattern(300)), &out); err != nil {
				return err
			}
			if err := expectStatus(ctx, c, "Fail", rpc.StatusError); err != nil {
				return err
			}
			return echo(ctx, c, "bye")
		}},
	{"octets-reply", "an octets reply of 5000 bytes, no extensions", []string{"RPC-21"}, none, nil, -1,
		func(ctx context.Context, c *rpc.Client) error { return download(ctx, c, "Download", 5000, false) }},
	{"octets-request", "an octets request of 5000 bytes with a JSON reply, no extensions", []string{"RPC-14", "RPC-21"}, none, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			var out fixture.Count
			return c.Call(ctx, "Upload", bytes.NewReader(fixture.Pattern(5000)), &out)
		}},
	{"trailer-octets", "hello, then an octets request and an octets reply, each ended by an OK Trailer", []string{"RPC-22", "RPC-25", "RPC-40"}, nil, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			var out fixture.Count
			if err := c.Call(ctx, "Upload", bytes.NewReader(fixture.Pattern(300)), &out); err != nil {
				return err
			}
			return download(ctx, c, "Download", 300, false)
		}},
	{"multipart", "hello, then a multipart request (Push) and a multipart reply (Pull)", []string{"RPC-27"}, nil, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			var out fixture.PushReply
			if err := c.Call(ctx, "Push", rpc.Push{Meta: fixture.Text{Text: "meta"}, Body: bytes.NewReader(fixture.Pattern(100))}, &out); err != nil {
				return err
			}
			var meta fixture.Count
			pull := &rpc.Pull{Meta: &meta}
			if err := c.Call(ctx, "Pull", fixture.Count{N: 100}, pull); err != nil {
				return err
			}
			_, err := io.Copy(io.Discard, pull.Body)
			pull.Body.Close()
			return err
		}},
	{"error-statuses", "RequestError (unknown endpoint), Error (handler error), ServerError (handler panic), each followed by the next call on the same connection", []string{"RPC-13", "RPC-19", "RPC-36"}, none, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			if err := expectStatus(ctx, c, "Nope", rpc.StatusRequestError); err != nil {
				return err
			}
			if err := expectStatus(ctx, c, "Fail", rpc.StatusError); err != nil {
				return err
			}
			if err := expectStatus(ctx, c, "Panic", rpc.StatusServerError); err != nil {
				return err
			}
			return echo(ctx, c, "still in sync")
		}},
	{"failed-source-trailer", "the reply's source fails after 100 bytes, with trailer: a failure Trailer, then another call", []string{"RPC-23"}, nil, nil, -1,
		func(ctx context.Context, c *rpc.Client) error {
			if err := download(ctx, c, "BrokenDownload", 100, true); err != nil {
				return err
			}
			return echo(ctx, c, "after")
		}},
	{"failed-source-rst", "the reply's source fails after 100 bytes, without trailer: the server resets the connection", []string{"RPC-23"}, none, nil, -1,
		func(ctx context.Context, c *rpc.Client) error { return download(ctx, c, "BrokenDownload", 100, true) }},
	{"truncated", "the server's connection is cut 1000 bytes into its stream, in the middle of an octets reply", []string{"FRAME-6", "RPC-21"}, none, nil, 1000,
		func(ctx context.Context, c *rpc.Client) error { return download(ctx, c, "Download", 5000, true) }},
}

func record(s scenario) (client, server []byte, err error) {
	a, b, err := unixpair.New()
	if err != nil {
		return nil, nil, err
	}
	cr := &recorder{Conn: a, limit: -1}
	sr := &recorder{Conn: b, limit: s.cut}
	srv, err := fixture.NewServer(s.serverExts, nil)
	if err != nil {
		return nil, nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sr) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := rpc.NewClient(cr, &rpc.ClientOptions{Extensions: s.clientExts})
	callErr := s.calls(ctx, c)
	c.Close()
	<-served
	if callErr != nil {
		return nil, nil, fmt.Errorf("capture %s: %w", s.name, callErr)
	}
	return cr.bytes(), sr.bytes(), nil
}

func describe(name string, b []byte) File {
	sum := sha256.Sum256(b)
	return File{File: name, Length: len(b), SHA256: hex.EncodeToString(sum[:])}
}

// Render records every scenario and returns the files by their path
// relative to testvectors/.
func Render() (map[string][]byte, error) {
	out := map[string][]byte{}
	idx := Index{Comment: "Recorded byte streams of real conversations between the reference client and server (the fixture of testvectors/README.md, The conformance fixture) over a Unix socketpair: NAME.client.bin is what the client sent, NAME.server.bin what the server sent."}
	for _, s := range scenarios {
		cb, sb, err := record(s)
		if err != nil {
			return nil, err
		}
		cn, sn := s.name+".client.bin", s.name+".server.bin"
		out["captures/"+cn], out["captures/"+sn] = cb, sb
		ce, se := s.clientExts, s.serverExts
		if ce == nil {
			ce = []string{rpc.ExtTrailer, rpc.ExtMultipart}
		}
		if se == nil {
			se = []string{rpc.ExtTrailer, rpc.ExtMultipart}
		}
		idx.Captures = append(idx.Captures, Capture{Name: s.name, Comment: s.comment, Rules: s.rules,
			ClientExtensions: ce, ServerExtensions: se, Client: describe(cn, cb), Server: describe(sn, sb)})
	}
	b, err := format.Marshal(idx)
	if err != nil {
		return nil, err
	}
	out["captures/index.json"] = b
	return out, nil
}
