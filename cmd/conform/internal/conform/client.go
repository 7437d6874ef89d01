package conform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/framerpc/framerpc/testvectors/format"

	"github.com/framerpc/framerpc/cmd/conform/internal/script"
)

// Driver starts a client under test: a process (or, in tests, anything
// else) that reads script commands on its input and writes outcomes on its
// output.
type Driver interface {
	Start() (DriverProc, error)
}

// DriverProc is a started driver.
type DriverProc interface {
	io.Writer // its commands
	CloseWrite() error
	io.Reader // its outcomes
	Close() error
}

// ExecDriver spawns Command under sh -c for each vector.
type ExecDriver struct {
	Command string
}

// Start spawns the driver.
func (d ExecDriver) Start() (DriverProc, error) {
	return startProcess(d.Command, os.Environ())
}

// playClient checks a client with one conversation vector: it listens on
// network, starts the driver, tells it to connect and make the vector's
// calls, and plays the server's side turn by turn (read a request, send
// the vector's reply). Each call's outcome must be the vector's result, and
// what the client sent its client bytes.
func playClient(c Case, d Driver, network string, timeout time.Duration) (f *Failure) {
	tc := c.Conv
	want, err := tc.ClientBytes.Expand()
	if err != nil {
		return failf("vector: clientBytes: %v", err)
	}
	reply, err := tc.ServerBytes.Expand()
	if err != nil {
		return failf("vector: serverBytes: %v", err)
	}
	ln, cleanup, err := listen(network)
	if err != nil {
		return failf("listening: %v", err)
	}
	defer cleanup()
	proc, err := d.Start()
	if err != nil {
		return failf("starting the driver: %v", err)
	}
	defer func() {
		if err := proc.Close(); err != nil && f == nil {
			f = failf("%v", err)
		}
		if d, ok := proc.(Diagnoser); ok && f != nil {
			f.Context = append(f.Context, d.Diagnostics()...)
		}
	}()

	// The commands all go at once: the driver carries them out in order,
	// each call when the one before is over.
	var cmds bytes.Buffer
	for _, cmd := range script.Commands(network, ln.Addr().String(), tc.ClientExtensions, tc.Calls) {
		_ = script.WriteLine(&cmds, cmd)
	}
	go func() {
		_, _ = proc.Write(cmds.Bytes())
		_ = proc.CloseWrite()
	}()
	outcomes := make(chan outcomeLine, len(tc.Calls)+1)
	go readOutcomes(proc, outcomes)

	var exited <-chan struct{}
	if e, ok := proc.(interface{ Exited() <-chan struct{} }); ok {
		exited = e.Exited()
	}
	f = serveTurns(ln, exited, want, reply, timeout)
	// The connection is over: every outcome is due. The driver has the
	// timeout to write the rest and exit; an extra line is seen only if
	// it exits.
	var lines []outcomeLine
	wait := time.NewTimer(timeout)
	defer wait.Stop()
collect:
	for {
		select {
		case l, ok := <-outcomes:
			if !ok {
				break collect
			}
			lines = append(lines, l)
		case <-wait.C:
			break collect
		}
	}
	if rf := checkOutcomes(tc, lines); rf != nil {
		// What the caller got comes first: a wrong outcome usually
		// explains the bytes that follow it.
		if f != nil {
			rf.Context = append(rf.Context, "and: "+f.Detail)
			rf.Context = append(rf.Context, f.Context...)
		}
		f = rf
	}
	return f
}

func listen(network string) (net.Listener, func(), error) {
	if network == "unix" {
		dir, err := os.MkdirTemp("", "conform")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("unix", filepath.Join(dir, "s"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return ln, func() { ln.Close(); os.RemoveAll(dir) }, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	return ln, func() { ln.Close() }, nil
}

// serveTurns accepts the client's connection and plays the server's side:
// for each of the client's turns it reads the messages the vector gives,
// then sends the vector's reply to it. Then it ends its stream (a
// truncated reply ends there) and reads what the client sends until it
// closes.
func serveTurns(ln net.Listener, exited <-chan struct{}, want, reply []byte, timeout time.Duration) *Failure {
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	var a accepted
	select {
	case a = <-ch:
	case <-time.After(timeout):
		ln.Close()
		if a = <-ch; a.err == nil {
			a.c.Close()
		}
		return failf("the client did not connect within %v", timeout)
	case <-exited:
		// A quick driver may have connected, hung up and exited before
		// Accept returned: a connection it made is still pending.
		if dl, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
			_ = dl.SetDeadline(time.Now().Add(200 * time.Millisecond))
		} else {
			ln.Close()
		}
		if a = <-ch; a.err != nil {
			return failf("the driver exited without connecting")
		}
	}
	if a.err != nil {
		return failf("accepting: %v", a.err)
	}
	nc, ok := a.c.(Conn)
	if !ok {
		a.c.Close()
		return failf("%T cannot close its sending side", a.c)
	}
	defer nc.Close()
	cturns, sturns := splitTurns(want, true), splitTurns(reply, false)
	p := &peer{conn: nc, timeout: timeout}
	for i, ct := range cturns {
		p.readItems(ct.items)
		if p.end != "" {
			break
		}
		if i < len(sturns) {
			if err := send(nc, sturns[i].bytes, timeout); err != nil {
				break
			}
		}
	}
	// Only now, once the client has sent everything the vector gives it:
	// a client may take the end of the stream as the server hanging up.
	_ = nc.CloseWrite()
	p.readToEnd()
	if f := compareBytes("client bytes", p.got, want, nil, nil, p.end); f != nil {
		return f
	}
	if !p.closed() {
		return failf("the client sent what the vector says but did not close the connection: %s", p.end)
	}
	return nil
}

type outcomeLine struct {
	o   script.Outcome
	raw string
	err error
}

// readOutcomes sends the driver's lines to out, which has room for one
// more line than there are calls, until its output ends.
func readOutcomes(r io.Reader, out chan<- outcomeLine) {
	defer close(out)
	sc := script.NewScanner(r)
	for sc.Scan() {
		var l outcomeLine
		l.raw = string(sc.Bytes())
		l.err = script.DecodeLine(sc.Bytes(), &l.o)
		select {
		case out <- l:
		default:
			// More lines than calls and one: the first extra line
			// already fails the vector, and nobody waits for more.
		}
	}
}

// checkOutcomes compares what the driver reported with the vector's
// results, as the conversation vector format defines a result.
func checkOutcomes(tc *format.ConversationTest, lines []outcomeLine) *Failure {
	for i, call := range tc.Calls {
		if i >= len(lines) {
			return failf("call %d (%s): the driver wrote no outcome (%d lines for %d calls)", i, call.Endpoint, len(lines), len(tc.Calls))
		}
		if lines[i].err != nil {
			return failf("call %d (%s): outcome line: %v", i, call.Endpoint, lines[i].err)
		}
		if f := checkOutcome(call.Result, lines[i].o); f != nil {
			f.Detail = fmt.Sprintf("call %d (%s): %s", i, call.Endpoint, f.Detail)
			f.Context = append(f.Context, "outcome: "+truncateString(lines[i].raw, 300))
			return f
		}
	}
	if len(lines) > len(tc.Calls) {
		return failf("the driver wrote %d outcome lines for %d calls: %s", len(lines), len(tc.Calls), truncateString(lines[len(tc.Calls)].raw, 200))
	}
	return nil
}

func checkOutcome(want format.CallResult, got script.Outcome) *Failure {
	if want.SourceError || got.SourceError {
		if want.SourceError != got.SourceError {
			return failf("sourceError %v, want %v (%s)", got.SourceError, want.SourceError, got.Error)
		}
		return nil
	}
	if got.ErrorClass != want.ErrorClass {
		return failf("errorClass %q, want %q (%s)", got.ErrorClass, want.ErrorClass, got.Error)
	}
	if want.ErrorClass != "" && got.Status == 0 && want.Status != 0 {
		// The failure came from the call rather than from the stream it
		// would have returned: the same for the caller, no body complete.
		return nil
	}
	if got.Status != want.Status {
		return failf("status %d, want %d (%s)", got.Status, want.Status, got.Error)
	}
	if want.ErrorMessage != nil && got.ErrorMessage != *want.ErrorMessage {
		return failf("errorMessage %q, want %q", got.ErrorMessage, *want.ErrorMessage)
	}
	if want.JSON != "" {
		if !sameJSON(got.JSON, []byte(want.JSON)) {
			return failf("json %s, want %s (compared as JSON values)", got.JSON, want.JSON)
		}
	}
	if want.Body != nil {
		wb, err := want.Body.Expand()
		if err != nil {
			return failf("vector: body: %v", err)
		}
		if got.Body == nil {
			return failf("no body, want %d bytes", len(wb))
		}
		gb, err := got.Body.Expand()
		if err != nil {
			return failf("outcome body: %v", err)
		}
		if f := compareBytes("reply body", gb, wb, nil, nil, ""); f != nil {
			return f
		}
	}
	if got.StreamStatus != want.StreamStatus || got.StreamMessage != want.StreamMessage {
		return failf("stream ended with status %d %q, want %d %q", got.StreamStatus, got.StreamMessage, want.StreamStatus, want.StreamMessage)
	}
	return nil
}

// sameJSON compares two JSON texts as values: a client may hand its caller
// a decoded value, which the driver re-encodes in its own way.
func sameJSON(a, b []byte) bool {
	var va, vb any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
