package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapread"
	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapsynth"
	"github.com/framerpc/framerpc/rpc"
)

// This file checks the Wireshark dissector (cmd/framedump/wireshark) and
// this package against a real conversation: a real rpc.Server and
// rpc.Client talk over TCP on loopback while tcpdump captures it; both
// sides record what they wrote; then tshark with the dissector and Read
// must find exactly those bytes and frames in the capture.

const (
	// bigReply is the octets reply: more than one full frame, so one 4 MiB
	// Data frame spans dozens of segments even at loopback's 64 KiB MTU.
	bigReply  = 6<<20 + 12345
	brokenLen = 1000
)

// recorder is a net.Conn that keeps a copy of everything written to it.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.Conn.Write(p)
	r.buf.Write(p[:n])
	return n, err
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

type sizeArg struct{ N int64 }
type text struct{ Text string }

type failingSource struct{ left int }

func (f *failingSource) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, errors.New("source failed")
	}
	n := min(len(p), f.left)
	copy(p, patternBytes(n, 0))
	f.left -= n
	return n, nil
}

func newServer(t *testing.T) *rpc.Server {
	s := rpc.NewServer(nil) // grants trailer, multipart and deadline
	endpoints := map[string]any{
		"Echo": func(in *json.RawMessage, out *json.RawMessage) error {
			*out = *in
			return nil
		},
		"Fail": func(in *json.RawMessage, out *json.RawMessage) error {
			return errors.New("failed: x")
		},
		"Download": func(in *sizeArg, out *io.Reader) error {
			*out = bytes.NewReader(patternBytes(int(in.N), 0))
			return nil
		},
		"BrokenDownload": func(in *sizeArg, out *io.Reader) error {
			*out = &failingSource{left: int(in.N)}
			return nil
		},
		"Push": func(in *text, body io.Reader, out *text) error {
			n, err := io.Copy(io.Discard, body)
			out.Text = fmt.Sprintf("%s: %d", in.Text, n)
			return err
		},
	}
	for name, h := range endpoints {
		if err := s.RegisterEndpoint(name, h); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// converse runs the conversation on ln and returns what each side wrote.
func converse(t *testing.T, ln net.Listener) (client, server []byte) {
	t.Helper()
	srv := newServer(t)
	type served struct {
		rec *recorder
		err error
	}
	done := make(chan served, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- served{err: err}
			return
		}
		rec := &recorder{Conn: c}
		done <- served{rec, srv.Serve(rec)}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	crec := &recorder{Conn: nc}
	// The client asks for deadline too, so its first call, which has a
	// deadline, sends the hello [RPC-40] and then a Timeout [RPC-44]; the
	// calls after it have none.
	c := rpc.NewClient(crec, &rpc.ClientOptions{Extensions: []string{rpc.ExtTrailer, rpc.ExtMultipart, rpc.ExtDeadline}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var echo json.RawMessage
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	err = c.Call(dctx, "Echo", json.RawMessage(`{"Text":"hello"}`), &echo)
	dcancel()
	if err != nil || string(echo) != `{"Text":"hello"}` {
		t.Fatalf("Echo: %s, %v", echo, err)
	}
	var re *rpc.Error
	if err := c.Call(ctx, "Fail", json.RawMessage(`{}`), &echo); !errors.As(err, &re) || re.Status != rpc.StatusError {
		t.Fatalf("Fail: %v, want status Error", err)
	}
	var body io.ReadCloser
	if err := c.Call(ctx, "Download", sizeArg{bigReply}, &body); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil || !bytes.Equal(got, patternBytes(bigReply, 0)) {
		t.Fatalf("Download: %d bytes, %v", len(got), err)
	}
	var pushed text
	if err := c.Call(ctx, "Push", rpc.Push{Meta: text{"meta"}, Body: bytes.NewReader(patternBytes(100000, 3))}, &pushed); err != nil || pushed.Text != "meta: 100000" {
		t.Fatalf("Push: %q, %v", pushed.Text, err)
	}
	if err := c.Call(ctx, "BrokenDownload", sizeArg{brokenLen}, &body); err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(body)
	body.Close()
	if !errors.As(err, &re) || len(got) != brokenLen {
		t.Fatalf("BrokenDownload: %d bytes, %v; want %d and a failure trailer", len(got), err, brokenLen)
	}
	if err := c.Call(ctx, "Echo", json.RawMessage(`"after"`), &echo); err != nil {
		t.Fatalf("Echo after the failed stream: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s := <-done
	if s.err != nil {
		t.Fatalf("server: %v", s.err)
	}
	return crec.bytes(), s.rec.bytes()
}

// startTcpdump starts capturing port on loopback into file and returns
// when tcpdump is capturing, or an error if it cannot.
func startTcpdump(t *testing.T, file string, port int) (*exec.Cmd, error) {
	// -B: a 64 MiB kernel buffer, so that a burst of 64 KiB loopback
	// segments is not dropped before tcpdump writes it out.
	cmd := exec.Command("tcpdump", "-i", "lo", "-B", "65536", "-U", "-n", "-w", file, "tcp", "port", strconv.Itoa(port))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// tcpdump says "listening on lo" once the capture is active; anything
	// else before it ends is the reason it could not capture.
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var said []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				return nil, fmt.Errorf("tcpdump exited: %s", strings.Join(said, "; "))
			}
			said = append(said, l)
			if strings.Contains(l, "listening on") {
				// The rest is tcpdump's closing statistics.
				go func() {
					for l := range lines {
						t.Logf("tcpdump: %s", l)
					}
				}()
				return cmd, nil
			}
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("tcpdump did not start capturing: %s", strings.Join(said, "; "))
		}
	}
}

// stopTcpdump waits until the capture holds both streams whole (the kernel
// hands packets to tcpdump asynchronously), then stops tcpdump cleanly so
// that it flushes the file.
func stopTcpdump(t *testing.T, cmd *exec.Cmd, file string, port uint16, clientLen, serverLen int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := pcapread.ReadFile(file, pcapread.Options{Port: port, TempDir: t.TempDir()})
		if err == nil {
			complete := len(c.Conns) == 1 && c.Conns[0].Client.Len() == int64(clientLen) && c.Conns[0].Server.Len() == int64(serverLen)
			c.Close()
			if complete {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
}

// frameInfo is what both decoders must report for each frame.
type frameInfo struct {
	Offset   int64
	Type     byte
	Final    byte
	Length   uint32
	Endpoint string // Header messages only
	Status   uint32 // Header and Trailer messages
	DataType uint32 // Header messages only
	Accept   uint32 // Header messages only
	ErrMsg   string
	// Timeout is a request header's Timeout in decimal, "" if it has
	// none [RPC-44]; Extensions a hello's or its reply's, joined by
	// commas [RPC-25].
	Timeout    string
	Extensions string
}

func (f frameInfo) String() string {
	return fmt.Sprintf("offset %d type %02x final %d length %d endpoint %q status %d datatype %d accept %d msg %q timeout %q extensions %q",
		f.Offset, f.Type, f.Final, f.Length, f.Endpoint, f.Status, f.DataType, f.Accept, f.ErrMsg, f.Timeout, f.Extensions)
}

// framesOf lists the frames in a recorded stream, decoding it with nothing
// but the spec's layout and encoding/json: an independent reading of what
// the side sent.
func framesOf(t *testing.T, b []byte) []frameInfo {
	t.Helper()
	var out []frameInfo
	var body []byte
	for off := 0; off < len(b); {
		if len(b)-off < 6 {
			t.Fatalf("recorded stream ends inside a frame header at %d", off)
		}
		f := frameInfo{Offset: int64(off), Type: b[off], Final: b[off+1], Length: binary.LittleEndian.Uint32(b[off+2:])}
		if f.Type == 0xff {
			out = append(out, f)
			break
		}
		end := off + 6 + int(f.Length)
		if f.Type != 0x02 {
			body = append(body, b[off+6:end]...)
			if f.Final == 1 {
				var h struct {
					Endpoint         string
					DataType, Accept uint32
					Error            uint32
					ErrorMessage     string
					Timeout          *uint32
					Extensions       []string
				}
				if err := json.Unmarshal(body, &h); err != nil {
					t.Fatalf("recorded control message at %d: %v", off, err)
				}
				f.Endpoint, f.DataType, f.Accept, f.Status, f.ErrMsg = h.Endpoint, h.DataType, h.Accept, h.Error, h.ErrorMessage
				if h.Timeout != nil {
					f.Timeout = fmt.Sprint(*h.Timeout)
				}
				f.Extensions = strings.Join(h.Extensions, ",")
				body = nil
			}
		}
		out = append(out, f)
		off = end
	}
	return out
}

// tsharkFrames runs tshark with the dissector on the whole capture and
// returns the frames it shows in each direction, in order.
func tsharkFrames(t *testing.T, file string, port uint16, extra ...string) (client, server []frameInfo) {
	t.Helper()
	for _, p := range tshark(t, file, int(port), "", "framerpc tcp", extra...) {
		var tcp map[string]json.RawMessage
		if err := json.Unmarshal(p["tcp"], &tcp); err != nil {
			t.Fatalf("tcp layer: %v", err)
		}
		for _, it := range layerItems(t, p["framerpc"]) {
			if c := jstr(t, it, "framerpc.error_class"); c != "" && c != "reset" {
				t.Errorf("tshark reports %s [%s] on a well-formed stream", c, jstr(t, it, "framerpc.rule"))
			}
			f := frameInfo{
				Offset: jnum(t, it, "framerpc.offset"), Type: byte(jnum(t, it, "framerpc.type")),
				Final: byte(jnum(t, it, "framerpc.final")), Length: uint32(jnum(t, it, "framerpc.length")),
			}
			// A long payload is not copied into the tree whole: at
			// most its first 64 bytes, "aa:bb:..." in tshark's JSON.
			if p := jstr(t, it, "framerpc.payload"); f.Length > 512 && len(p) > 64*3 {
				t.Errorf("frame at %d: %d bytes of its %d-byte payload in the tree", f.Offset, (len(p)+1)/3, f.Length)
			}
			for _, k := range []string{"framerpc.header", "framerpc.trailer"} {
				if sub := subtree(t, it, k); sub != nil {
					f.Endpoint = jstr(t, sub, "framerpc.endpoint")
					f.Status = uint32(jnum(t, sub, "framerpc.status"))
					f.DataType = uint32(jnum(t, sub, "framerpc.datatype"))
					f.Accept = uint32(jnum(t, sub, "framerpc.accept"))
					f.ErrMsg = jstr(t, sub, "framerpc.error_message")
					f.Timeout = jstr(t, sub, "framerpc.timeout")
					f.Extensions = strings.Join(jstrs(t, sub, "framerpc.extension"), ",")
				}
			}
			if jnum(t, tcp, "tcp.dstport") == int64(port) {
				client = append(client, f)
			} else {
				server = append(server, f)
			}
		}
	}
	return client, server
}

func compareFrames(t *testing.T, who string, got, want []frameInfo) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("%s: frame %d missing, want %v", who, i, want[i])
		case i >= len(want):
			t.Errorf("%s: extra frame %d: %v", who, i, got[i])
		case got[i] != want[i]:
			t.Errorf("%s: frame %d:\n got %v\nwant %v", who, i, got[i], want[i])
		default:
			continue
		}
		return
	}
}

// TestLoopbackCapture is the real-capture test of issue 11: the dissector
// and Read against the bytes a real client and server sent.
func TestLoopbackCapture(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "loopback.pcap")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	tcpdump, capErr := startTcpdump(t, file, int(port))
	if capErr != nil && os.Getenv("FRAMERPC_REQUIRE_CAPTURE") != "" {
		t.Fatalf("packet capture failed and FRAMERPC_REQUIRE_CAPTURE is set: %v", capErr)
	}
	client, server := converse(t, ln)
	if capErr == nil {
		stopTcpdump(t, tcpdump, file, port, len(client), len(server))
		t.Logf("captured the conversation with tcpdump on lo port %d", port)
	} else {
		// Where capturing is not permitted, decode a capture synthesised
		// from the recorded streams instead, and say so.
		t.Logf("FALLBACK: tcpdump cannot capture here (%v); decoding a capture synthesised from the recorded streams instead", capErr)
		conn := &pcapsynth.Conn{
			Client: netip.MustParseAddrPort("127.0.0.1:40000"), Server: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
			ClientBytes: client, ServerBytes: server,
			Segments: pcapsynth.Split(client, server, 65483),
		}
		packets, err := conn.Packets()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := pcapsynth.Write(&buf, pcapsynth.PCAP, packets); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// For looking at the capture by hand (and for framedump's docs).
	if keep := os.Getenv("FRAMERPC_KEEP_CAPTURE"); keep != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("capture kept in %s (server port %d)", keep, port)
	}

	wantClient, wantServer := framesOf(t, client), framesOf(t, server)
	// The conversation must contain what the issue asks for, whatever the
	// implementation's details: a frame longer than any segment, and the
	// statuses and body kinds.
	checkCoverage(t, wantClient, wantServer)

	// Read: the same bytes, exactly.
	c, err := pcapread.ReadFile(file, pcapread.Options{Port: port, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Conns) != 1 {
		t.Fatalf("Read found %d connections, want 1", len(c.Conns))
	}
	conn := c.Conns[0]
	if conn.ServerAddr.Port() != port {
		t.Errorf("server endpoint %v, want port %d", conn.ServerAddr, port)
	}
	sameStream(t, "Read, client", conn.Client, client)
	sameStream(t, "Read, server", conn.Server, server)

	// tshark with the dissector: every frame, with its offset. Two passes
	// (-2) show the records the first pass stored, as the GUI does when
	// it dissects a packet again, and a first pass without a tree.
	for _, extra := range [][]string{nil, {"-2"}} {
		gotClient, gotServer := tsharkFrames(t, file, port, extra...)
		compareFrames(t, fmt.Sprint("tshark ", extra, ", client"), gotClient, wantClient)
		compareFrames(t, fmt.Sprint("tshark ", extra, ", server"), gotServer, wantServer)
	}
	if segs := segments(t, file, port); segs < 64 {
		t.Errorf("the server's stream took %d segments; a 4 MiB frame should span more than 64", segs)
	}

	// framedump -pcap: the heading, then every frame with its offset and
	// every header, in NDJSON that matches the schema.
	out, errOut, code := framedump("-pcap", file, "-port", fmt.Sprint(port), "-json")
	if code != exitClean {
		t.Fatalf("framedump -pcap: exit %d, want 0; stderr: %s", code, errOut)
	}
	objs := checkNDJSON(t, loadSchema(t), out)
	head := objs[0]
	if head["kind"] != "connection" || head["client"] != conn.ClientAddr.String() || head["server"] != conn.ServerAddr.String() ||
		head["clientBy"] != "syn" || num(t, head["clientBytes"]) != int64(len(client)) || num(t, head["serverBytes"]) != int64(len(server)) {
		t.Errorf("framedump's heading %v, want connection %v -> %v by syn, %d and %d bytes", head, conn.ClientAddr, conn.ServerAddr, len(client), len(server))
	}
	gotClient, gotServer := framedumpFrames(t, objs[1:])
	compareFrames(t, "framedump -pcap, client", gotClient, wantClient)
	compareFrames(t, "framedump -pcap, server", gotServer, wantServer)
}

// num reads a number of checkNDJSON's objects.
func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v is not a number", v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

var frameTypes = map[string]byte{"Header": 0x01, "Data": 0x02, "Trailer": 0x03, "RST": 0xff}

// framedumpFrames collects framedump's frame objects of each stream, with
// the members of each header and trailer on its message's last frame.
func framedumpFrames(t *testing.T, objs []map[string]any) (client, server []frameInfo) {
	t.Helper()
	for _, o := range objs {
		list := &client
		if o["stream"] == "server" {
			list = &server
		}
		switch o["kind"] {
		case "connection":
			t.Errorf("a second connection in framedump's output: %v", o)
		case "frame":
			f := frameInfo{Offset: num(t, o["offset"]), Type: frameTypes[o["type"].(string)], Length: uint32(num(t, o["length"]))}
			if o["final"] == true {
				f.Final = 1
			}
			*list = append(*list, f)
		case "message":
			h, ok := o["header"].(map[string]any)
			if !ok {
				continue
			}
			if len(*list) == 0 {
				t.Fatalf("framedump: a message before any frame: %v", o)
			}
			f := &(*list)[len(*list)-1]
			f.Endpoint, f.ErrMsg = h["Endpoint"].(string), h["ErrorMessage"].(string)
			f.Status, f.DataType, f.Accept = uint32(num(t, h["Error"])), uint32(num(t, h["DataType"])), uint32(num(t, h["Accept"]))
			if v, ok := h["Timeout"]; ok {
				f.Timeout = fmt.Sprint(num(t, v))
			}
			if list, ok := h["Extensions"].([]any); ok {
				var names []string
				for _, e := range list {
					names = append(names, e.(string))
				}
				f.Extensions = strings.Join(names, ",")
			}
		}
	}
	return client, server
}

// segments counts the data segments the server sent in the capture.
func segments(t *testing.T, file string, port uint16) int {
	out, err := exec.Command("tshark", "-r", file, "-Y", fmt.Sprintf("tcp.srcport == %d && tcp.len > 0", port), "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return len(strings.Fields(string(out)))
}

func checkCoverage(t *testing.T, client, server []frameInfo) {
	t.Helper()
	var bigFrame, trailerFail, errStatus, push, granted bool
	for _, f := range server {
		bigFrame = bigFrame || f.Type == 0x02 && f.Length == 4194304
		trailerFail = trailerFail || f.Type == 0x03 && f.Status == 4
		errStatus = errStatus || f.Type == 0x01 && f.Status == 4
		granted = granted || f.Type == 0x01 && f.Extensions == "trailer,multipart,deadline"
	}
	// One call with a deadline a minute away: its Timeout is at most that
	// many milliseconds, and more than 0 [RPC-44].
	var timeouts []string
	for _, f := range client {
		push = push || f.Type == 0x01 && f.DataType == 4
		if f.Timeout != "" {
			timeouts = append(timeouts, f.Timeout)
		}
	}
	var ms int64
	if len(timeouts) == 1 {
		fmt.Sscan(timeouts[0], &ms)
	}
	if !bigFrame || !trailerFail || !errStatus || !push || !granted || ms < 1 || ms > 60000 {
		t.Errorf("conversation lacks a case: 4 MiB frame %v, failure trailer %v, Error status %v, push %v, deadline granted %v, Timeouts %q (want one, 1 to 60000 ms)",
			bigFrame, trailerFail, errStatus, push, granted, timeouts)
	}
}
