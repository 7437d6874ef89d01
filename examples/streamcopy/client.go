package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/framerpc/framerpc/rpc"
)

type clientFlags struct {
	connect, command, tls, capture string
	jobs                           int
}

func runClient(ctx context.Context, cmd string, f *clientFlags, args []string, stdout, stderr io.Writer) error {
	dial, err := dialer(f, stderr)
	if err != nil {
		return err
	}
	if f.jobs < 1 {
		f.jobs = 1
	}
	// One connection per parallel pull, and one for the listings that run
	// while files are being pulled.
	pool := rpc.NewPool(dial, &rpc.PoolOptions{MaxConns: f.jobs + 1})
	defer pool.Close()
	where := f.connect
	if where == "" {
		where = fmt.Sprintf("%q", f.command)
	}
	switch cmd {
	case "list":
		p := "."
		if len(args) == 1 {
			p = args[0]
		}
		err = list(ctx, pool, p, stdout)
	case "pull":
		err = pull(ctx, pool, args[0], args[1], f.jobs, newProgress(stderr, "pulled"))
	case "push":
		err = push(ctx, pool, args[0], args[1], newProgress(stderr, "pushed"))
	}
	if err != nil {
		return fmt.Errorf("%s (server %s): %w", cmd, where, err)
	}
	return nil
}

func list(ctx context.Context, c rpc.Caller, p string, stdout io.Writer) error {
	var l Listing
	if err := c.Call(ctx, "Dir.List", &ListRequest{Path: p}, &l); err != nil {
		return err
	}
	for _, e := range l.Entries {
		if e.Dir {
			fmt.Fprintf(stdout, "%12s  %s/\n", "-", e.Name)
		} else {
			fmt.Fprintf(stdout, "%12d  %s\n", e.Size, e.Name)
		}
	}
	return nil
}

// pull copies remote (a file or a directory tree) to local. A directory's
// subdirectories are listed while its files are already being pulled,
// jobs at a time, each call on a connection of the pool's.
func pull(ctx context.Context, pool *rpc.Pool, remote, local string, jobs int, prog *progress) error {
	defer prog.finish()
	// Clean, so that the local names below are remote's subpaths.
	remote = path.Clean(remote)
	var l Listing
	if err := pool.Call(ctx, "Dir.List", &ListRequest{Path: remote}, &l); err != nil {
		return err
	}
	if !l.Dir {
		if fi, err := os.Stat(local); err == nil && fi.IsDir() {
			local = filepath.Join(local, path.Base(remote))
		}
		prog.add(l.Entries[0].Size)
		prog.listed()
		return pullFile(ctx, pool, remote, local, prog)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct{ remote, local string }
	jobsc := make(chan job)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for j := range jobsc {
				if err := pullFile(ctx, pool, j.remote, j.local, prog); err != nil {
					cancel(err)
				}
			}
		})
	}
	// Walk the tree breadth first, listing each directory as the pulls of
	// the files found so far run.
	err := func() error {
		defer close(jobsc)
		dirs := []string{remote}
		first := &l
		for len(dirs) > 0 {
			dir := dirs[0]
			dirs = dirs[1:]
			l := first
			if l == nil {
				l = new(Listing)
				if err := pool.Call(ctx, "Dir.List", &ListRequest{Path: dir}, l); err != nil {
					return err
				}
			}
			first = nil
			ldir := filepath.Join(local, filepath.FromSlash(strings.TrimPrefix(dir, remote)))
			if err := os.MkdirAll(ldir, 0o755); err != nil {
				return err
			}
			for _, e := range l.Entries {
				r := path.Join(dir, e.Name)
				if e.Dir {
					dirs = append(dirs, r)
					continue
				}
				prog.add(e.Size)
				select {
				case jobsc <- job{r, filepath.Join(ldir, e.Name)}:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
		}
		prog.listed()
		return nil
	}()
	wg.Wait()
	if err != nil {
		return err
	}
	return context.Cause(ctx)
}

// pullFile writes remote's stream to a temporary file beside local and
// renames it to local only once its size and SHA-256 match the server's
// metadata: a partial file never looks complete.
func pullFile(ctx context.Context, c rpc.Caller, remote, local string, prog *progress) error {
	var meta FileMeta
	reply := rpc.Pull{Meta: &meta}
	if err := c.Call(ctx, "Dir.Pull", &FileRequest{Path: remote}, &reply); err != nil {
		return fmt.Errorf("pulling %s: %w", remote, err)
	}
	defer reply.Body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".partial-*")
	if err != nil {
		return fmt.Errorf("pulling %s: %w", remote, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h, prog), reply.Body)
	if err == nil {
		// CreateTemp's 0600 is for the partial file; the complete one
		// gets the usual mode.
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case err != nil:
		err = fmt.Errorf("pulling %s: stopped after %d of %d bytes: %w", remote, n, meta.Size, err)
	case n != meta.Size || sum != meta.SHA256:
		err = fmt.Errorf("pulling %s: received %d bytes with SHA-256 %s, the server announced %d bytes with %s", remote, n, sum, meta.Size, meta.SHA256)
	default:
		err = os.Rename(tmp.Name(), local)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// push sends local to remote (a file name, or a directory ending in "/"
// or ".") with its size and SHA-256, which the server checks before the
// file takes its name.
func push(ctx context.Context, c rpc.Caller, local, remote string, prog *progress) error {
	defer prog.finish()
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", local)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if remote == "." || strings.HasSuffix(remote, "/") {
		remote = path.Join(remote, filepath.Base(local))
	}
	meta := FileMeta{Path: remote, Size: fi.Size(), SHA256: hex.EncodeToString(h.Sum(nil))}
	prog.add(fi.Size())
	prog.listed()
	var got FileMeta
	body := io.TeeReader(io.LimitReader(f, fi.Size()), prog)
	if err := c.Call(ctx, "Dir.Push", rpc.Push{Meta: &meta, Body: body}, &got); err != nil {
		return fmt.Errorf("pushing %s: %w", local, err)
	}
	if got.SHA256 != meta.SHA256 || got.Size != meta.Size {
		return errors.New("pushing " + local + ": the server stored other content than was sent")
	}
	return nil
}
