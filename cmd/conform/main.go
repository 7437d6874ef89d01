// Command conform checks a live implementation of the framerpc protocol,
// in any language, against the vectors of testvectors/: it plays the
// client side of the conversations against a server under test, and the
// server side against a client under test, comparing every byte the spec
// fixes and the meaning of what it leaves free (spec/PROTOCOL.md sections
// 3 to 10). testvectors/README.md, "Checking a live implementation", is
// the implementer's guide: the endpoints a server under test registers,
// the driver protocol a client under test speaks, and how to read a FAIL.
//
// Usage:
//
//	conform server -connect ADDR [-connect-grant GRANTS=ADDR]... [flags]
//	conform server -exec 'CMD ARGS' [flags]
//	conform client -exec 'CMD ARGS' [-network tcp|unix] [flags]
//	conform serve  -listen ADDR | -stdio [-grant LIST]
//	conform driver
//	conform self   [flags]
//
// server and client print one line per vector (PASS or FAIL, with the
// tcId, the rules, and for bytes the first differing offset and both
// sides' bytes), then a summary; -json prints one JSON object per line
// instead. serve and driver are framerpc's own server and client wired to
// the runner, and self runs both roles against them over TCP, a Unix
// socket and standard input and output.
//
// Exit status: 0 when every vector played passed, 1 when one failed or
// could not be run, 2 for a usage or I/O error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/framerpc/framerpc/cmd/conform/internal/conform"
	"github.com/framerpc/framerpc/cmd/conform/internal/driver"
	"github.com/framerpc/framerpc/cmd/conform/internal/fixture"
	"github.com/framerpc/framerpc/rpc"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  conform server -connect ADDR [-connect-grant GRANTS=ADDR]... [flags]
  conform server -exec 'CMD ARGS' [flags]
  conform client -exec 'CMD ARGS' [-network tcp|unix] [flags]
  conform serve  -listen ADDR | -stdio [-grant LIST]
  conform driver
  conform self   [flags]
ADDR is host:port (TCP) or unix:PATH. Run 'conform CMD -h' for a command's flags.
`

// exitUsage is the status of a usage or I/O error; 1 is kept for vectors
// that failed, so CI can tell a broken setup from a broken implementation.
const exitUsage = 2

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	status := 0
	switch args[0] {
	case "server":
		status, err = cmdServer(args[1:], stdout, stderr)
	case "client":
		status, err = cmdClient(args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(args[1:], stderr)
	case "driver":
		err = driver.Run(os.Stdin, os.Stdout)
	case "self":
		status, err = cmdSelf(args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "conform %s: %v\n", args[0], err)
		}
		return exitUsage
	}
	return status
}

// common are the flags of the checking commands.
type common struct {
	vectors string
	timeout time.Duration
	json    bool
	tc      string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.vectors, "vectors", "", "the testvectors directory (default: ./testvectors, or found above the working directory)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "how long to wait for any byte or event from the implementation before failing the vector")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per vector and a summary object, for CI")
	fs.StringVar(&c.tc, "tc", "", "play only these vectors: a comma-separated list of tcIds, each optionally prefixed conv:, msg: or hdr: for one file")
}

func (c *common) load() (server, client conform.Cases, opts conform.Options, err error) {
	dir := c.vectors
	if dir == "" {
		if dir, err = findVectors(); err != nil {
			return server, client, opts, err
		}
	}
	server, client, err = conform.Load(dir)
	if err != nil {
		return server, client, opts, err
	}
	opts.Timeout = c.timeout
	opts.Select, err = parseSelect(c.tc)
	return server, client, opts, err
}

// findVectors looks for testvectors/ in the working directory and above it,
// so that the command runs from anywhere in a framerpc checkout.
func findVectors() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "testvectors")
		if _, err := os.Stat(filepath.Join(cand, conform.ConversationsFile)); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no testvectors/ here or above: give -vectors DIR")
		}
		dir = parent
	}
}

func parseSelect(list string) (func(string, int) bool, error) {
	if list == "" {
		return nil, nil
	}
	type key struct {
		file string
		id   int
	}
	want := map[key]bool{}
	for _, item := range strings.Split(list, ",") {
		files := []string{conform.ConversationsFile, conform.MessagesFile, conform.HeadersFile}
		for prefix, file := range map[string]string{"conv:": conform.ConversationsFile, "msg:": conform.MessagesFile, "hdr:": conform.HeadersFile} {
			if v, ok := strings.CutPrefix(item, prefix); ok {
				item, files = v, []string{file}
			}
		}
		id, err := strconv.Atoi(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("-tc: %q is not a tcId", item)
		}
		for _, f := range files {
			want[key{f, id}] = true
		}
	}
	return func(file string, id int) bool { return want[key{file, id}] }, nil
}

func newReporter(c *common, w io.Writer) *conform.Reporter {
	return &conform.Reporter{W: w, JSON: c.json}
}

func finish(r *conform.Reporter) int {
	if r.Summary().OK() {
		return 0
	}
	return 1
}

// grantFlags collects -connect-grant GRANTS=ADDR.
type grantFlags map[string]string

func (g grantFlags) String() string { return fmt.Sprint(map[string]string(g)) }

func (g grantFlags) Set(v string) error {
	k, addr, ok := strings.Cut(v, "=")
	if !ok || addr == "" {
		return fmt.Errorf("%q: want GRANTS=ADDR, GRANTS a comma-separated list or none", v)
	}
	if k == "" {
		k = "none"
	}
	g[k] = addr
	return nil
}

func cmdServer(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("conform server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	connect := fs.String("connect", "", "address of the server under test granting trailer,multipart: host:port or unix:PATH; a new connection per vector")
	grants := grantFlags{}
	fs.Var(grants, "connect-grant", "GRANTS=ADDR: address of a server granting exactly GRANTS (e.g. trailer, or none), for the vectors that need one; repeatable")
	execCmd := fs.String("exec", "", "command (run by sh -c) that serves one connection on its standard input and output; started once per vector, with "+conform.GrantEnv+" set to the extensions to grant")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if (*connect == "" && len(grants) == 0) == (*execCmd == "") || fs.NArg() > 0 {
		return 0, errors.New("give -connect ADDR (and -connect-grant), or -exec CMD")
	}
	server, _, opts, err := c.load()
	if err != nil {
		return 0, err
	}
	r := newReporter(&c, stdout)
	if *execCmd != "" {
		conform.RunServer(r, opts, "stdio", server.Play, conform.ExecTarget{Command: *execCmd})
	} else {
		if *connect != "" {
			grants["trailer,multipart"] = *connect
		}
		network, _ := conform.ParseAddr(*connect)
		conform.RunServer(r, opts, network, server.Play, conform.NetTarget{Addrs: grants})
	}
	return finish(r), nil
}

func cmdClient(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("conform client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	execCmd := fs.String("exec", "", "command (run by sh -c) of the client's driver: commands on its standard input, one outcome line per call on its standard output")
	network := fs.String("network", "tcp", "what the client connects over: tcp (loopback) or unix")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if *execCmd == "" || fs.NArg() > 0 {
		return 0, errors.New("give -exec CMD")
	}
	if *network != "tcp" && *network != "unix" {
		return 0, fmt.Errorf("-network %q: tcp or unix", *network)
	}
	_, client, opts, err := c.load()
	if err != nil {
		return 0, err
	}
	r := newReporter(&c, stdout)
	conform.RunClient(r, opts, *network, client.Play, conform.ExecDriver{Command: *execCmd})
	return finish(r), nil
}

// parseGrants reads a -grant list: comma-separated, "none" or "" for none.
func parseGrants(s string) []string {
	if s == "" || s == "none" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func cmdServe(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("conform serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def, ok := os.LookupEnv(conform.GrantEnv)
	if !ok {
		def = "trailer,multipart"
	}
	listen := fs.String("listen", "", "serve connections on this address: host:port or unix:PATH")
	stdio := fs.Bool("stdio", false, "serve one connection on standard input and output")
	grant := fs.String("grant", def, "extensions to grant, comma-separated, none for none (default: $"+conform.GrantEnv+" if set)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*listen == "") == !*stdio || fs.NArg() > 0 {
		return errors.New("give -listen ADDR or -stdio")
	}
	logger := log.New(stderr, "conform serve: ", 0)
	srv, err := fixture.NewServer(parseGrants(*grant), logger.Printf)
	if err != nil {
		return err
	}
	if *stdio {
		// The connection ending with an error (a peer that broke the
		// protocol) is the server's correct reaction, not the command's
		// failure.
		if err := srv.Serve(stdioConn{os.Stdin, os.Stdout}); err != nil {
			logger.Print(err)
		}
		return nil
	}
	ln, err := net.Listen(conform.ParseAddr(*listen))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "conform serve: listening on %s, granting %s\n", ln.Addr(), *grant)
	return srv.ServeListener(ln)
}

// stdioConn is a connection made of standard input and output.
type stdioConn struct {
	r *os.File
	w *os.File
}

func (c stdioConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c stdioConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c stdioConn) Close() error {
	return errors.Join(c.r.Close(), c.w.Close())
}

// cmdSelf runs both roles against framerpc's own server and client: the
// server in this process over TCP and a Unix socket, and spawned as
// `conform serve -stdio` over standard input and output; the client
// spawned as `conform driver`, connecting over TCP and a Unix socket.
func cmdSelf(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("conform self", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	server, client, opts, err := c.load()
	if err != nil {
		return 0, err
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "conform-self")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	var keys []string
	for _, cs := range server.Play {
		k := "trailer,multipart"
		if cs.Conv != nil {
			k = strings.Join(cs.Conv.ServerExtensions, ",")
			if k == "" {
				k = "none"
			}
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	tcp, unix := conform.NetTarget{Addrs: map[string]string{}}, conform.NetTarget{Addrs: map[string]string{}}
	var servers []*serving
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for i, k := range keys {
		for _, addr := range []string{"127.0.0.1:0", "unix:" + filepath.Join(dir, fmt.Sprintf("s%d", i))} {
			s, err := startServing(parseGrants(k), addr, stderr)
			if err != nil {
				return 0, err
			}
			servers = append(servers, s)
			if strings.HasPrefix(addr, "unix:") {
				unix.Addrs[k] = addr
			} else {
				tcp.Addrs[k] = s.ln.Addr().String()
			}
		}
	}
	r := newReporter(&c, stdout)
	conform.RunServer(r, opts, "tcp", server.Play, tcp)
	conform.RunServer(r, opts, "unix", server.Play, unix)
	conform.RunServer(r, opts, "stdio", server.Play, conform.ExecTarget{Command: shellQuote(exe) + " serve -stdio"})
	for _, network := range []string{"tcp", "unix"} {
		conform.RunClient(r, opts, network, client.Play, conform.ExecDriver{Command: shellQuote(exe) + " driver"})
	}
	return finish(r), nil
}

// serving is a fixture server of this process on one listener.
type serving struct {
	ln   net.Listener
	srv  interface{ Shutdown(context.Context) error }
	done chan struct{}
}

func startServing(grants []string, addr string, stderr io.Writer) (*serving, error) {
	srv, err := fixture.NewServer(grants, func(string, ...any) {})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen(conform.ParseAddr(addr))
	if err != nil {
		return nil, err
	}
	s := &serving{ln: ln, srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := srv.ServeListener(ln); err != nil && !errors.Is(err, rpc.ErrServerClosed) {
			fmt.Fprintf(stderr, "conform self: %v\n", err)
		}
	}()
	return s, nil
}

func (s *serving) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
