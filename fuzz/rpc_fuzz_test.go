package fuzz

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
	"github.com/framerpc/framerpc/fuzz/internal/rpcseeds"
	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/rpc"
)

// The RPC targets run a real Server or Client over a real socketpair
// (internal/unixpair): kernel buffers, deadlines and the background reads
// of the hang-up detection all take part. The test's side of the pair
// writes the fuzzer's bytes, half-closes, and reads what the other side
// answers through its own frame.Reader.

// rpcDeadline bounds every run: no input may make a side take longer. It is
// generous, as the machine is shared; a run normally takes microseconds.
const rpcDeadline = 10 * time.Second

// The server's limits, small so that the bound of spec section 10.1
// computed from them is tight.
const (
	fuzzMaxJSON    = 1 << 10
	fuzzMaxDiscard = 256 << 10
)

// captures returns the recorded streams of one direction of the
// conversations in testvectors/captures, as fuzz seeds.
func captures(tb *testing.F, side string) [][]byte {
	paths, err := filepath.Glob(filepath.Join("..", "testvectors", "captures", "*."+side+".bin"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type meta struct {
	Text string
	N    int
}

// pattern is a stream source of n bytes that allocates nothing: the
// server's allocation is then the server's own. After fail bytes (if
// fail >= 0) it fails, or panics when panics is set.
type pattern struct {
	n, fail int
	panics  bool
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.fail == 0 {
		if p.panics {
			panic("source panics")
		}
		return 0, errSource
	}
	if p.n == 0 {
		return 0, io.EOF
	}
	k := min(len(b), p.n)
	if p.fail > 0 {
		k = min(k, p.fail)
		p.fail -= k
	}
	for i := range b[:k] {
		b[i] = byte('a' + (p.n-i)%26)
	}
	p.n -= k
	return k, nil
}

var errSource = errors.New("source failed")

// source is the reply stream an endpoint returns for in: N%4096 bytes,
// failing or panicking half-way when Text says so.
func source(in *meta) *pattern {
	p := &pattern{n: in.N % 4096, fail: -1}
	switch in.Text {
	case "fail":
		p.fail = p.n / 2
	case "panic":
		p.fail, p.panics = p.n/2, true
	}
	return p
}

func newServer(tb *testing.F) *rpc.Server {
	s := rpc.NewServer(&rpc.ServerOptions{MaxJSON: fuzzMaxJSON, MaxDiscard: fuzzMaxDiscard, IOTimeout: rpcDeadline, IdleTimeout: rpcDeadline})
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(s.RegisterEndpoint("Echo", func(in *meta, out *meta) error { *out = *in; return nil }))
	must(s.RegisterEndpoint("Fail", func(in *meta, out *meta) error { return errors.New("failed") }))
	must(s.RegisterEndpoint("Panic", func(in *meta, out *meta) error { panic("boom") }))
	must(s.RegisterEndpoint("Wait", func(ctx context.Context, in *meta, out *meta) error {
		// Notices the client going away while it runs [RPC-33].
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(in.N%4) * time.Millisecond):
			return nil
		}
	}))
	must(s.RegisterEndpoint("Count", func(in io.Reader, out *meta) error {
		n, err := io.Copy(io.Discard, in)
		out.N = int(n)
		return err
	}))
	must(s.RegisterEndpoint("Stream", func(in *meta, out *io.Reader) error {
		*out = source(in)
		return nil
	}))
	must(s.RegisterEndpoint("Push", func(ctx context.Context, in *meta, body io.Reader, out *meta, rb *io.Reader) error {
		var b [256]byte
		n, err := io.ReadFull(body, b[:])
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
		out.N = n
		*rb = source(&meta{Text: in.Text, N: n})
		return err
	}))
	return s
}

// inputFacts is what an independent reading of a client's byte stream
// (frame.Reader, encoding/json: none of rpc's code) says a conforming
// server owes it.
type inputFacts struct {
	// headers is the number of Header messages the stream starts, before
	// the first frame error or RST: at most that many exchanges.
	headers int
	// complete is the number of requests whose every message is in the
	// stream: a server must answer each with a reply, or reset.
	complete int
	// large: a frame announces a payload larger than the read buffer,
	// which a receiver may move through its larger streaming buffer.
	large bool
}

// bodyMessages is the most messages a request of DataType dt carries
// after its header, Trailer included [RPC-14], [RPC-22].
func bodyMessages(dt int) int {
	switch dt {
	case 2:
		return 1
	case 3:
		return 2
	case 4:
		return 3
	}
	return 0
}

func readFacts(in []byte) inputFacts {
	var f inputFacts
	r := frame.NewReader(bytes.NewReader(in))
	// after is the number of complete messages since the last request
	// header; need what that request's DataType asks for; open says a
	// request header is waiting for its body.
	after, need, open := 0, 0, false
	var hdr []byte
	inMsg, msgType := false, frame.Type(0)
	for {
		h, err := r.ReadHeader()
		if err != nil || h.Type == frame.TypeRST {
			break
		}
		if h.Length > frame.DefaultBufferSize {
			f.large = true
		}
		if !inMsg && h.Type == frame.TypeHeader {
			// A new request: the one before it ended where this
			// begins, whatever the server made of its body.
			if open {
				f.complete++
			}
			f.headers++
			open, after, hdr = false, 0, hdr[:0]
		}
		if inMsg && h.Type != msgType {
			break
		}
		p, err := io.ReadAll(payloadReader{r})
		if err != nil {
			break
		}
		if h.Type == frame.TypeHeader && f.headers > 0 && !open {
			hdr = append(hdr, p...)
		}
		inMsg, msgType = !h.Final, h.Type
		if !h.Final {
			continue
		}
		if h.Type == frame.TypeHeader && !open && f.headers > 0 && after == 0 {
			open = true
			var rh struct{ DataType int }
			// A header the server cannot decode is answered with RST:
			// complete as it stands.
			need = 0
			if unmarshalMembers(hdr, &rh, "DataType") == nil {
				need = bodyMessages(rh.DataType)
			}
			continue
		}
		after++
	}
	if open && after >= need {
		f.complete++
	}
	return f
}

// Section 10.1's bound, as the allocation of one served connection: the
// read buffer B (the streaming buffer on top when a payload exceeds it),
// the buffer the server gathers a turn's frames in, and per exchange a
// header of at most 4096 bytes [MSG-7] and a JSON body held within J+1
// bytes [RPC-46], each decoded with memory a small multiple of its length.
// Nothing grows with the number of frames [MSG-11].
const (
	streamingBuffer = 1 << 20  // section 10.1's B while a large payload moves
	writeBuffer     = 16 << 10 // the server's turn buffer
	// headerMultiple: the strings decoded from a header may be three
	// times its bytes (an invalid byte becomes U+FFFD, [RPC-1]), and a
	// refusal's message quotes the endpoint's name.
	headerMultiple = 8
	// jsonMultiple: what decoding a JSON body costs per byte held.
	jsonMultiple = 2
	// perConnection and perExchange are what a connection and an exchange
	// cost besides those (contexts, reflection, the background reader,
	// the handler's own values): measured at 3.5 KiB and 2 to 5 KiB.
	perConnection = 16 << 10
	perExchange   = 8 << 10
)

func allocBound(f inputFacts) uint64 {
	b := uint64(frame.DefaultBufferSize + writeBuffer + perConnection)
	if f.large {
		b += streamingBuffer
	}
	return b + uint64(f.headers)*(headerMultiple*frame.MaxControlMessage+jsonMultiple*(fuzzMaxJSON+1)+perExchange)
}

// replies reads a server's output from r: valid frames only, nothing
// after an RST [FRAME-7], control messages within 4096 bytes [MSG-7];
// it counts the reply headers. It allocates nothing itself, so that the
// allocation measured around it is the server's.
type replies struct {
	headers int
	rst     bool
	err     error
	buf     [4096]byte
}

func (o *replies) read(r *frame.Reader, src *countingReader) {
	inMsg, msgType := false, frame.Type(0)
	for {
		h, err := r.ReadHeader()
		if err == io.EOF {
			if inMsg {
				o.err = errors.New("output ends inside a message")
			}
			return
		}
		if err != nil {
			o.err = err
			return
		}
		if h.Type == frame.TypeRST {
			if !h.Canonical() {
				o.err = errors.New("non-canonical RST written")
				return
			}
			o.rst = true
			// The reader stops at RST; whatever the side wrote after it
			// is counted on the transport.
			if _, err := io.Copy(io.Discard, src); err == nil && src.n != r.Offset() {
				o.err = fmt.Errorf("%d bytes written after RST", src.n-r.Offset())
			}
			return
		}
		if inMsg && h.Type != msgType {
			o.err = errors.New("a frame of another type inside a message")
			return
		}
		if !inMsg && h.Type == frame.TypeHeader {
			o.headers++
		}
		if h.Type != frame.TypeData && h.Length > frame.MaxControlMessage {
			o.err = errors.New("control frame over 4096 bytes written")
			return
		}
		for {
			_, err := r.ReadPayload(o.buf[:])
			if err == io.EOF {
				break
			}
			if err != nil {
				o.err = err
				return
			}
		}
		inMsg, msgType = !h.Final, h.Type
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type closeWriter interface{ CloseWrite() error }

// settleGoroutines waits until no more goroutines run than before: every
// goroutine of a connection ends with it [RPC-47].
//
// It takes an interface, not *testing.T: the libFuzzer build rewrites
// the testing package of a target's own file only (fuzz/README.md).
func settleGoroutines(t interface {
	Helper()
	Fatalf(string, ...any)
}, before int) {
	t.Helper()
	deadline := time.Now().Add(rpcDeadline)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines left behind: %d before, %d after [RPC-47]\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// FuzzServer feeds an arbitrary client byte stream to a real Server over a
// socketpair, then half-closes. The server must end the connection within
// rpcDeadline, never panic, write only valid frames that end at a message
// boundary or with a canonical RST and nothing after it ([RPC-35],
// [RPC-41]); answer every request the stream holds in full, or reset
// [RPC-14], [RPC-15]; send no more replies than requests were started;
// allocate within section 10.1's bound for its configured limits, measured
// around the connection ([MSG-10], [MSG-11], [RPC-46]); leave no goroutine
// behind [RPC-47]; and serve a fresh connection correctly afterwards.
func FuzzServer(f *testing.F) {
	for _, s := range captures(f, "client") {
		f.Add(s)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	for _, s := range rpcseeds.Hostile() {
		f.Add(s.In)
	}
	srv := newServer(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		goroutines := runtime.NumGoroutine()
		facts := readFacts(in)
		peer, sc, err := unixpair.New()
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		peer.SetDeadline(time.Now().Add(rpcDeadline))
		src := &countingReader{r: peer}
		r := frame.NewReader(src)
		var out replies
		served := make(chan error, 1)
		wrote := make(chan struct{})

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		go func() { served <- srv.Serve(sc) }()
		go func() {
			defer close(wrote)
			// The server may stop reading early (RST): a failed write
			// is part of the game.
			peer.Write(in)
			peer.(closeWriter).CloseWrite()
		}()
		out.read(r, src)
		var serr error
		select {
		case serr = <-served:
		case <-time.After(rpcDeadline):
			t.Fatalf("Serve did not return %v after the input ended", rpcDeadline)
		}
		<-wrote
		runtime.ReadMemStats(&after)

		if out.err != nil {
			t.Fatalf("the server wrote an invalid stream: %v (Serve: %v)", out.err, serr)
		}
		if out.headers < facts.complete && !out.rst {
			t.Fatalf("%d complete requests, %d replies and no RST (Serve: %v)", facts.complete, out.headers, serr)
		}
		if out.headers > facts.headers {
			t.Fatalf("%d replies to %d requests", out.headers, facts.headers)
		}
		if got, bound := after.TotalAlloc-before.TotalAlloc, allocBound(facts); got > bound {
			t.Fatalf("serving %d bytes (%d requests) allocated %d bytes, section 10.1 allows %d", len(in), facts.headers, got, bound)
		}
		peer.Close()
		freshCall(t, srv, len(in))
		settleGoroutines(t, goroutines)
	})
}

// freshCall makes a known good call on a new connection to srv.
func freshCall(t *testing.T, srv *rpc.Server, n int) {
	t.Helper()
	a, b, err := unixpair.New()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(b) }()
	cli := rpc.NewClient(a, &rpc.ClientOptions{IOTimeout: rpcDeadline})
	ctx, cancel := context.WithTimeout(context.Background(), rpcDeadline)
	defer cancel()
	want := meta{Text: "fresh", N: n}
	var got meta
	if err := cli.Call(ctx, "Echo", &want, &got); err != nil || got != want {
		t.Fatalf("a fresh connection after the input: %+v, %v", got, err)
	}
	cli.Close()
	if err := <-served; err != nil {
		t.Fatalf("the fresh connection ended with %v", err)
	}
}

// checkStream reads what a side wrote as frames and messages: every frame
// valid, nothing but RST at the end of a message.
func checkStream(t *testing.T, out []byte) {
	t.Helper()
	var o replies
	src := &countingReader{r: bytes.NewReader(out)}
	o.read(frame.NewReader(src), src)
	if o.err != nil {
		t.Fatalf("output is not a valid frame stream: %v", o.err)
	}
}

// message is one complete message of a stream, as an independent reading
// with frame.Reader sees it.
type message struct {
	t    frame.Type
	body []byte
}

// messagesOf returns the complete messages of a stream up to the first
// frame error, RST or truncation.
func messagesOf(in []byte) []message {
	var out []message
	r := frame.NewReader(bytes.NewReader(in))
	var cur *message
	for {
		h, err := r.ReadHeader()
		if err != nil || h.Type == frame.TypeRST {
			return out
		}
		if cur != nil && h.Type != cur.t {
			return out
		}
		if cur == nil {
			cur = &message{t: h.Type, body: []byte{}}
		}
		p, err := io.ReadAll(payloadReader{r})
		if err != nil {
			return out
		}
		cur.body = append(cur.body, p...)
		if cur.t != frame.TypeData && len(cur.body) > frame.MaxControlMessage {
			return out
		}
		if h.Final {
			out = append(out, *cur)
			cur = nil
		}
	}
}

// clientCall is one call FuzzClient makes, and what came of it.
type clientCall struct {
	endpoint    string
	dt, accept  int
	err         error
	out         meta
	body        []byte // the streamed reply as read
	bodyErr     error  // how reading it ended (nil: its end)
	clientAlive bool   // Client.Err was nil after the call
}

// replyModel follows the server's byte stream as the spec says a client
// reads it, from the messages alone: it knows what each call consumed
// while the calls' outcomes are ones it can follow, and gives up (lost)
// where an outcome leaves the client's position unknown to it.
type replyModel struct {
	msgs                          []message
	i                             int
	asks                          []string
	helloDone, trailer, multipart bool
	lost                          bool
}

type replyHeader struct {
	Error, DataType int
	ErrorMessage    string
	Extensions      []string
}

func (m *replyModel) next(t frame.Type) ([]byte, bool) {
	if m.i >= len(m.msgs) || m.msgs[m.i].t != t {
		return nil, false
	}
	m.i++
	return m.msgs[m.i-1].body, true
}

func (m *replyModel) header(t frame.Type) (replyHeader, bool) {
	var h replyHeader
	b, ok := m.next(t)
	if !ok || unmarshalMembers(b, &h, "Error", "DataType", "ErrorMessage", "Extensions") != nil || h.Error < 1 || h.Error > 4 {
		return h, false
	}
	return h, true
}

// unmarshalMembers decodes the members of header object b named exactly
// (byte for byte, [RPC-4]) as names says into v, ignoring every other
// member. encoding/json alone matches names case-insensitively: it would
// read "EXtensions" as the Extensions member, which a receiver ignores as
// unknown [RPC-6].
func unmarshalMembers(b []byte, v any, names ...string) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	known := make(map[string]json.RawMessage, len(names))
	for _, n := range names {
		if m, ok := all[n]; ok {
			known[n] = m
		}
	}
	kb, err := json.Marshal(known)
	if err != nil {
		return err
	}
	return json.Unmarshal(kb, v)
}

// check follows call c. It fails the test when c succeeded, or its stream
// ended cleanly, where the server's bytes did not carry that.
func (m *replyModel) check(t *testing.T, c *clientCall) {
	t.Helper()
	if m.lost {
		return
	}
	// expectFailure: the bytes do not carry a reply this call could
	// take; the client's position is unknown afterwards.
	expectFailure := func(why string) {
		t.Helper()
		if c.err == nil {
			t.Fatalf("%s succeeded (out %+v, body %d bytes), but %s", c.endpoint, c.out, len(c.body), why)
		}
		m.lost = true
	}
	octets := c.dt >= 3 || c.accept >= 3
	if octets && len(m.asks) > 0 && !m.helloDone {
		// The hello goes before the first call with a stream [RPC-40].
		m.helloDone = true
		h, ok := m.header(frame.TypeHeader)
		if !ok {
			expectFailure("the hello reply is missing or not a reply header")
			return
		}
		if h.Error == 1 {
			for _, e := range h.Extensions {
				if e != rpc.ExtTrailer && e != rpc.ExtMultipart {
					expectFailure("the hello reply grants " + e + ", not asked for [RPC-25]")
					return
				}
			}
			if h.DataType != 1 {
				expectFailure("the hello reply has a body [RPC-25]")
				return
			}
			for _, e := range h.Extensions {
				m.trailer = m.trailer || e == rpc.ExtTrailer
				m.multipart = m.multipart || e == rpc.ExtMultipart
			}
		}
	}
	if (c.dt == 4 || c.accept == 4) && !m.multipart {
		// [RPC-26] nothing is sent, nothing consumed.
		if c.err == nil {
			t.Fatalf("%s succeeded without multipart granted", c.endpoint)
		}
		return
	}
	h, ok := m.header(frame.TypeHeader)
	if !ok {
		expectFailure("no valid reply header follows")
		return
	}
	if h.Error != 1 {
		// [RPC-17] a non-OK reply carries no body.
		var re *rpc.Error
		if c.err == nil || (!errors.As(c.err, &re) && c.clientAlive) {
			t.Fatalf("%s: reply status %d, call returned %v", c.endpoint, h.Error, c.err)
		}
		if re != nil && (int(re.Status) != h.Error || re.Message != h.ErrorMessage) {
			t.Fatalf("%s: reply status %d %q, call returned %v", c.endpoint, h.Error, h.ErrorMessage, c.err)
		}
		if !c.clientAlive {
			m.lost = true
		}
		return
	}
	if h.DataType != c.accept {
		expectFailure("the OK reply's DataType is not the Accept [RPC-17]")
		return
	}
	var want meta
	if c.accept == 2 || c.accept == 4 {
		b, ok := m.next(frame.TypeData)
		if !ok {
			expectFailure("the JSON reply body is not there in full")
			return
		}
		if json.Unmarshal(b, &want) != nil {
			expectFailure("the JSON reply body does not decode")
			return
		}
	}
	if c.err != nil {
		m.lost = true
		return
	}
	if want != c.out {
		t.Fatalf("%s: got %+v, the reply carried %+v", c.endpoint, c.out, want)
	}
	if c.accept < 3 {
		return
	}
	data, ok := m.next(frame.TypeData)
	trailer := replyHeader{Error: 1}
	if ok && m.trailer {
		trailer, ok = m.header(frame.TypeTrailer)
	}
	var re *rpc.Error
	switch {
	case c.bodyErr == nil:
		// [RPC-21] [RPC-22] [FRAME-6] the end of the body is its final
		// frame and, with trailer, an OK Trailer.
		if !ok || trailer.Error != 1 {
			t.Fatalf("%s: a stream of %d bytes read to its end without error, but the server's bytes carry no complete body with an OK end", c.endpoint, len(c.body))
		}
		if !bytes.Equal(data, c.body) {
			t.Fatalf("%s: stream read as %d bytes %q, the server sent %d bytes %q", c.endpoint, len(c.body), c.body, len(data), data)
		}
	case errors.As(c.bodyErr, &re) && c.clientAlive:
		// [RPC-22] a failure Trailer reaches the reader after all the
		// bytes of the Data message.
		if !ok || trailer.Error == 1 || int(re.Status) != trailer.Error || !bytes.Equal(data, c.body) {
			t.Fatalf("%s: stream ended with %v after %d bytes; the server's bytes: body %d bytes, trailer %+v, complete %v", c.endpoint, c.bodyErr, len(c.body), len(data), trailer, ok)
		}
	default:
		m.lost = true
	}
}

// FuzzClient feeds an arbitrary server byte stream to a real Client over a
// socketpair while it makes one call of each kind (JSON, streamed reply,
// pushed stream, multipart both ways). Every call must return within
// rpcDeadline and never panic; what the client wrote must be valid frames;
// no goroutine may be left behind. An independent model reads the server's
// bytes with frame.Reader and encoding/json and follows the calls: a call
// that succeeds must have a reply the bytes carry, its values those of
// the reply body, and a stream read to its end without error must be the
// whole Data message, with an OK Trailer where the trailer extension was
// granted: a truncated or reset stream always surfaces as an error
// ([RPC-14], [RPC-17], [RPC-21], [RPC-22], [FRAME-6]).
func FuzzClient(f *testing.F) {
	for _, s := range captures(f, "server") {
		f.Add(s, uint8(0))
	}
	for _, s := range seeds {
		f.Add(s, uint8(1))
	}
	for _, s := range rpcseeds.Client() {
		f.Add(s.In, s.Opts)
	}
	f.Fuzz(func(t *testing.T, in []byte, opts uint8) {
		goroutines := runtime.NumGoroutine()
		peer, cc, err := unixpair.New()
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		peer.SetDeadline(time.Now().Add(rpcDeadline))
		copts := rpc.ClientOptions{IOTimeout: rpcDeadline}
		if opts&1 != 0 {
			copts.Extensions = []string{}
		}
		cli := rpc.NewClient(cc, &copts)
		calls := []*clientCall{
			{endpoint: "Echo", dt: 2, accept: 2},
			{endpoint: "Stream", dt: 2, accept: 3},
			{endpoint: "Count", dt: 3, accept: 2},
			{endpoint: "Push", dt: 4, accept: 4},
			{endpoint: "Echo", dt: 2, accept: 2},
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), rpcDeadline)
			defer cancel()
			for i, c := range calls {
				req := &meta{Text: "q", N: i}
				var stream io.ReadCloser
				switch c.endpoint {
				case "Echo":
					c.err = cli.Call(ctx, c.endpoint, req, &c.out)
				case "Stream":
					c.err = cli.Call(ctx, c.endpoint, req, &stream)
				case "Count":
					c.err = cli.Call(ctx, c.endpoint, bytes.NewReader([]byte("12345")), &c.out)
				case "Push":
					pull := rpc.Pull{Meta: &c.out}
					c.err = cli.Call(ctx, c.endpoint, rpc.Push{Meta: req, Body: bytes.NewReader([]byte("body"))}, &pull)
					stream = pull.Body
				}
				if c.err == nil && stream != nil {
					c.body, c.bodyErr = io.ReadAll(stream)
					stream.Close()
				}
				c.clientAlive = cli.Err() == nil
			}
			cli.Close()
		}()
		// The client's requests, read as they come so that it never
		// blocks on a full socket.
		sent := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(peer)
			sent <- b
		}()
		peer.Write(in)
		peer.(closeWriter).CloseWrite()
		select {
		case <-done:
		case <-time.After(rpcDeadline):
			t.Fatalf("a call did not return %v after the input ended", rpcDeadline)
		}
		out := <-sent
		checkStream(t, out)
		m := &replyModel{msgs: messagesOf(in), asks: copts.Extensions}
		if copts.Extensions == nil {
			m.asks = []string{rpc.ExtTrailer, rpc.ExtMultipart}
		}
		for _, c := range calls {
			m.check(t, c)
		}
		peer.Close()
		settleGoroutines(t, goroutines)
	})
}
