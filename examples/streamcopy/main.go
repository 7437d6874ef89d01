// Command streamcopy moves files between hosts over framerpc: a server
// exposes a directory, a client lists it, pulls files from it and pushes
// files to it, over TCP, a unix socket, TLS with mutual authentication, or
// a command's standard input and output (ssh host streamcopy serve
// --stdio). Every transfer is checked against its SHA-256 at the end.
//
//	streamcopy serve -dir DIR [-listen tcp:ADDR|unix:PATH] [-tls CERT,KEY,CA] [--stdio]
//	streamcopy list  (-connect ADDR | -e 'CMD ARGS') [-tls CERT,KEY,CA] [-capture PREFIX] [PATH]
//	streamcopy pull  (-connect ADDR | -e 'CMD ARGS') [...] [-j N] REMOTE LOCAL
//	streamcopy push  (-connect ADDR | -e 'CMD ARGS') [...] LOCAL REMOTE
//	streamcopy certs -out DIR
//
// See README.md for examples over each transport.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  streamcopy serve -dir DIR [-listen tcp:ADDR|unix:PATH] [-tls CERT,KEY,CA] [--stdio]
  streamcopy list  (-connect ADDR | -e 'CMD ARGS') [-tls CERT,KEY,CA] [-capture PREFIX] [PATH]
  streamcopy pull  (-connect ADDR | -e 'CMD ARGS') [-tls ...] [-capture PREFIX] [-j N] REMOTE LOCAL
  streamcopy push  (-connect ADDR | -e 'CMD ARGS') [-tls ...] [-capture PREFIX] LOCAL REMOTE
  streamcopy certs -out DIR

ADDR is tcp:HOST:PORT, HOST:PORT or unix:PATH. -e runs the command and
speaks to it over its standard input and output, as with
-e 'ssh HOST streamcopy serve --stdio -dir DIR'. -tls names this side's
certificate and key and the CA the peer's must be signed by (see certs).
-capture records each connection for framedump: PREFIX.client.bin and
PREFIX.server.bin, then PREFIX-2.*, ...
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "streamcopy: %v\n", err)
		}
		os.Exit(1)
	}
}

// errUsage: the command line is wrong; the usage has been printed.
var errUsage = errors.New("see the usage above")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	fs := flag.NewFlagSet("streamcopy "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	switch args[0] {
	case "serve":
		var f serveFlags
		fs.StringVar(&f.dir, "dir", "", "the directory to serve")
		fs.StringVar(&f.listen, "listen", "", "tcp:ADDR or unix:PATH to listen on")
		fs.StringVar(&f.tls, "tls", "", "CERT,KEY,CA: serve TLS, requiring client certificates signed by CA")
		fs.BoolVar(&f.stdio, "stdio", false, "serve one connection on standard input and output")
		if err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		return serve(ctx, &f, stderr)
	case "list", "pull", "push":
		var f clientFlags
		fs.StringVar(&f.connect, "connect", "", "the server's address: tcp:HOST:PORT, HOST:PORT or unix:PATH")
		fs.StringVar(&f.command, "e", "", "run this command and talk to it over its stdin and stdout")
		fs.StringVar(&f.tls, "tls", "", "CERT,KEY,CA: this client's certificate and key, and the server's CA")
		fs.StringVar(&f.capture, "capture", "", "record the connections as PREFIX.client.bin and PREFIX.server.bin")
		fs.IntVar(&f.jobs, "j", 4, "files pulled in parallel")
		nargs := map[string]int{"list": -1, "pull": 2, "push": 2}[args[0]]
		if err := parse(fs, args[1:], nargs); err != nil {
			return err
		}
		return runClient(ctx, args[0], &f, fs.Args(), stdout, stderr)
	case "certs":
		out := fs.String("out", "", "the directory to write ca.pem, server.{pem,key}, client.{pem,key} to")
		if err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		if *out == "" {
			return errors.New("certs: -out DIR is required")
		}
		return writeCerts(*out)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parse parses flags and checks the number of other arguments: n, or
// at most one if n < 0.
func parse(fs *flag.FlagSet, args []string, n int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (n >= 0 && fs.NArg() != n) || (n < 0 && fs.NArg() > 1) {
		fs.Usage()
		return fmt.Errorf("%s: wrong number of arguments", fs.Name())
	}
	return nil
}
