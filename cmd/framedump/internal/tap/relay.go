package tap

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/framerpc/framerpc/cmd/framedump/internal/dump"
)

// Options for a session.
type Options struct {
	// Live, if set, receives framedump's conversation view of the session
	// as it happens, rendered with Dump.
	Live io.Writer
	Dump dump.Options
}

// end is one side of the relayed connection as the relay sees it.
type end struct {
	r io.Reader
	w io.Writer
	// closeWrite passes the end of the other side's stream on.
	closeWrite func() error
	// close ends this side for good, unblocking a pending read.
	close func() error
}

// connEnd is the end of a network connection; a TCP or Unix connection
// supports half-close.
func connEnd(c net.Conn) end {
	cw := func() error { return c.Close() }
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		cw = hc.CloseWrite
	}
	return end{r: c, w: c, closeWrite: cw, close: c.Close}
}

const copyBuffer = 64 << 10

// pump copies src to dst, recording each chunk after forwarding it. It
// returns nil at the end of src, else the first read or write error.
func pump(src io.Reader, dst, rec io.Writer, live *livePipe) error {
	buf := make([]byte, copyBuffer)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			_, werr := dst.Write(buf[:n])
			// What the side sent is recorded even if the other side can no
			// longer take it.
			if _, err := rec.Write(buf[:n]); err != nil {
				return fmt.Errorf("writing the capture: %w", err)
			}
			if live != nil {
				live.Write(buf[:n])
			}
			if werr != nil {
				return werr
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// session relays client and server until the server's side ends, writing
// prefix.client.bin and prefix.server.bin.
func session(client, server end, prefix string, opts Options) (err error) {
	cf, err := os.Create(prefix + ".client.bin")
	if err != nil {
		client.close()
		server.close()
		return err
	}
	sf, err := os.Create(prefix + ".server.bin")
	if err != nil {
		cf.Close()
		client.close()
		server.close()
		return err
	}
	defer func() {
		for _, f := range []*os.File{cf, sf} {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}()

	var liveC, liveS *livePipe
	liveDone := make(chan struct{})
	if opts.Live != nil {
		liveC, liveS = newLivePipe(), newLivePipe()
		go func() {
			defer close(liveDone)
			// The live view's own outcome is what it printed.
			dump.Conversation(liveC, liveS, opts.Live, opts.Dump)
		}()
	} else {
		close(liveDone)
	}

	var (
		mu      sync.Mutex
		closing bool // the relay itself closed the sides: later read errors are its own
		errs    []error
	)
	stopAll := func() {
		mu.Lock()
		closing = true
		mu.Unlock()
		client.close()
		server.close()
	}
	report := func(dir string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !closing && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("%s: %w", dir, err))
		}
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := pump(client.r, server.w, cf, liveC)
		report("client to server", err)
		if liveC != nil {
			liveC.Close()
		}
		if err != nil {
			stopAll()
			return
		}
		// The client's hang-up reaches the server as the end of its input.
		server.closeWrite()
	}()
	err = pump(server.r, client.w, sf, liveS)
	report("server to client", err)
	if liveS != nil {
		liveS.Close()
	}
	if err == nil {
		client.closeWrite()
	}
	stopAll()
	wg.Wait()
	<-liveDone
	return errors.Join(errs...)
}
