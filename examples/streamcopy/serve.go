package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/framerpc/framerpc/pipeconn"
	"github.com/framerpc/framerpc/rpc"
)

type serveFlags struct {
	dir, listen, tls string
	stdio            bool
}

func serve(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	if f.dir == "" {
		return errors.New("serve: -dir DIR is required")
	}
	if f.stdio == (f.listen != "") {
		return errors.New("serve: give -listen ADDR or --stdio, one of them")
	}
	if f.stdio && f.tls != "" {
		return errors.New("serve: --stdio runs over the pipe it is given (ssh encrypts it); -tls is for -listen")
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer root.Close()
	srv := rpc.NewServer(&rpc.ServerOptions{
		// Longer than a pool keeps an idle connection: the client is the
		// one to close it, so that a call never meets a closing
		// connection.
		IdleTimeout: 2 * time.Minute,
		IOTimeout:   time.Minute,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(stderr, "streamcopy serve: "+format+"\n", args...)
		},
	})
	if err := srv.Register(&Dir{root: root}); err != nil {
		return err
	}
	if f.stdio {
		conn, err := pipeconn.Stdio()
		if err != nil {
			return err
		}
		go func() {
			<-ctx.Done()
			conn.Close()
		}()
		if err := srv.Serve(conn); err != nil && ctx.Err() == nil {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	}
	network, address, err := splitAddr(f.listen)
	if err != nil {
		return err
	}
	l, err := net.Listen(network, address)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if f.tls != "" {
		cfg, err := serverTLS(f.tls)
		if err != nil {
			l.Close()
			return err
		}
		l = tls.NewListener(l, cfg)
	}
	fmt.Fprintf(stderr, "streamcopy: serving %s on %s:%s\n", f.dir, network, l.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(l) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-served
	return err
}
