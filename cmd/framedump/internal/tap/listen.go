package tap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// Network splits a tap address: "unix:/path" is a Unix socket, anything
// else a TCP host:port.
func Network(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	return "tcp", addr
}

// CapturePrefix is where connection n (from 1) is recorded: PREFIX for the
// first, PREFIX-n for the later ones.
func CapturePrefix(prefix string, n int) string {
	if n == 1 {
		return prefix
	}
	return fmt.Sprintf("%s-%d", prefix, n)
}

// Listen accepts connections on ln until ctx is done or ln fails, relays
// each to a connection from dial, and records connection n under
// CapturePrefix(prefix, n). It returns when every session has ended. A
// session that cannot dial closes its client and is reported; the others go
// on. With a live view, each connection's lines are prefixed with its
// number.
func Listen(ctx context.Context, ln net.Listener, dial func(context.Context) (net.Conn, error), prefix string, opts Options, logf func(format string, args ...any)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var (
		wg     sync.WaitGroup
		liveMu sync.Mutex
		mu     sync.Mutex
		conns  = map[net.Conn]bool{}
	)
	defer func() {
		// A session still running when the tap stops is cut: its client
		// and server are closed, and its capture files end there.
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	for n := 1; ; n++ {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		track(c, true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer track(c, false)
			s, err := dial(ctx)
			if err != nil {
				c.Close()
				logf("connection %d: %v", n, err)
				return
			}
			track(s, true)
			defer track(s, false)
			o := opts
			if o.Live != nil {
				// Text lines start with the connection's number; NDJSON
				// objects carry it as their first member.
				lp := &linePrefixer{mu: &liveMu, w: opts.Live, prefix: fmt.Sprintf("[%d] ", n)}
				if o.Dump.JSON {
					lp.prefix, lp.json = fmt.Sprintf(`{"connection":%d,`, n), true
				}
				o.Live = lp
			}
			p := CapturePrefix(prefix, n)
			err = session(connEnd(c), connEnd(s), p, o)
			if lp, ok := o.Live.(*linePrefixer); ok {
				lp.flush()
			}
			if err != nil {
				logf("connection %d (%s.*.bin): %v", n, p, err)
			}
		}()
	}
}

// linePrefixer writes whole lines, each with a prefix, so that the live
// views of concurrent connections interleave by line.
type linePrefixer struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	// json: the prefix replaces each line's opening brace.
	json bool
	part []byte
}

func (l *linePrefixer) Write(b []byte) (int, error) {
	l.part = append(l.part, b...)
	i := bytes.LastIndexByte(l.part, '\n')
	if i < 0 {
		return len(b), nil
	}
	lines := l.part[:i+1]
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(lines))
	sc.Buffer(nil, len(lines)+1)
	for sc.Scan() {
		line := sc.Bytes()
		if l.json {
			line = bytes.TrimPrefix(line, []byte("{"))
		}
		out.WriteString(l.prefix)
		out.Write(line)
		out.WriteByte('\n')
	}
	l.part = append(l.part[:0], l.part[i+1:]...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (l *linePrefixer) flush() {
	if len(l.part) > 0 {
		l.Write([]byte{'\n'})
	}
}

var errNoCommand = errors.New("tap: no command")
