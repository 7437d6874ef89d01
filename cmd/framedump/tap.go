package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/framerpc/framerpc/cmd/framedump/internal/tap"
)

const tapUsage = `usage:
  framedump tap -listen ADDR -connect ADDR -o PREFIX [-v] [-json]
  framedump tap -o PREFIX [-v] [-json] -- CMD [ARGS...]

ADDR is host:port (TCP) or unix:/path. Connection 1 is recorded as
PREFIX.client.bin and PREFIX.server.bin, connection N as PREFIX-N.*.bin.
With -- CMD, framedump runs CMD, relays its own stdin and stdout to CMD's
and records both; -v then writes the live view to stderr.

flags:
`

func runTap(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("framedump tap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, tapUsage)
		fs.PrintDefaults()
	}
	var (
		listen, connect, prefix string
		opts                    tap.Options
		verbose                 bool
	)
	fs.StringVar(&listen, "listen", "", "accept client connections on `ADDR`")
	fs.StringVar(&connect, "connect", "", "relay each to a new connection to the server at `ADDR`")
	fs.StringVar(&prefix, "o", "", "record under `PREFIX`")
	fs.BoolVar(&verbose, "v", false, "decode live: the conversation view of each connection as it happens")
	fs.BoolVar(&opts.Dump.JSON, "json", false, "with -v, the live view as NDJSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitClean
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "framedump tap: "+format+"\n", a...)
		fs.Usage()
		return exitUsage
	}
	if prefix == "" {
		return usage("-o PREFIX is required")
	}
	opts.Dump.Live = true
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "framedump tap: "+format+"\n", a...) }

	if fs.NArg() > 0 {
		if listen != "" || connect != "" {
			return usage("-listen and -connect take no command")
		}
		if verbose {
			opts.Live = stderr
		}
		return tapCommand(fs.Args(), stdin, stdout, stderr, prefix, opts, logf)
	}
	if listen == "" || connect == "" {
		return usage("-listen and -connect, or -- CMD, are required")
	}
	if verbose {
		opts.Live = stdout
	}
	ln, err := net.Listen(tap.Network(listen))
	if err != nil {
		logf("%v", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	network, address := tap.Network(connect)
	var d net.Dialer
	dial := func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, network, address) }
	logf("relaying %s to %s, recording under %s", ln.Addr(), connect, prefix)
	if err := tap.Listen(ctx, ln, dial, prefix, opts, logf); err != nil {
		logf("%v", err)
		return exitUsage
	}
	return exitClean
}

// interruptibleStdin is standard input on a non-blocking descriptor, so
// that the relay can stop reading it when the command has ended: Close sets
// a read deadline instead of closing fd 0, and the descriptor is put back
// in blocking mode afterwards, as other processes sharing it expect.
type interruptibleStdin struct{ *os.File }

func (s interruptibleStdin) Close() error { return s.SetReadDeadline(time.Now()) }

func tapCommand(argv []string, stdin io.Reader, stdout, stderr io.Writer, prefix string, opts tap.Options, logf func(string, ...any)) int {
	var in io.ReadCloser = io.NopCloser(stdin)
	if stdin == os.Stdin {
		if err := syscall.SetNonblock(syscall.Stdin, true); err == nil {
			defer syscall.SetNonblock(syscall.Stdin, false)
			in = interruptibleStdin{os.NewFile(uintptr(syscall.Stdin), "stdin")}
		}
	} else if rc, ok := stdin.(io.ReadCloser); ok {
		in = rc
	}
	out, ok := stdout.(io.WriteCloser)
	if !ok {
		out = nopWriteCloser{stdout}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = stderr
	err := tap.Command(in, out, cmd, prefix, opts)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		logf("%s: %v", argv[0], err)
		return exitUsage
	case err != nil:
		logf("%v", err)
		return exitUsage
	}
	return exitClean
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
