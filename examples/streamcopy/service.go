package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/framerpc/framerpc/rpc"
)

// The calls, registered as "Dir.List", "Dir.Pull", "Dir.Push".

// ListRequest names a directory or a file under the served directory,
// slash-separated; "" or "." is the directory itself.
type ListRequest struct{ Path string }

// Listing describes Path: a directory's entries, or a file alone.
type Listing struct {
	Dir     bool
	Entries []Entry
}

// Entry is a file or a directory; Size is a file's.
type Entry struct {
	Name string
	Dir  bool
	Size int64
}

// FileRequest names a file to pull.
type FileRequest struct{ Path string }

// FileMeta describes a file's content: sent before a pulled stream, and
// with a pushed one, to be checked at its end.
type FileMeta struct {
	Path   string
	Size   int64
	SHA256 string
}

// Dir serves one directory tree. Every path is taken relative to it and
// confined to it: absolute paths and ".." are refused outright, and
// os.Root refuses symbolic links that lead out of it.
type Dir struct {
	root *os.Root
}

// checkPath refuses, with a clear reply, what os.Root would refuse with
// a less clear one (and ".." even where it stays inside: one simple rule),
// and cleans the rest ("./a/" is "a").
func checkPath(p string) (string, error) {
	if path.IsAbs(p) || slices.Contains(strings.Split(p, "/"), "..") {
		return "", &rpc.Error{Status: rpc.StatusRequestError, Message: fmt.Sprintf("%q: paths are relative to the served directory, without \"..\"", p)}
	}
	c := path.Clean("./" + p)
	if !fs.ValidPath(c) {
		return "", &rpc.Error{Status: rpc.StatusRequestError, Message: fmt.Sprintf("%q: not a valid path", p)}
	}
	return c, nil
}

// replyError turns a file system error into a reply that names the path
// as the client gave it, not the server's location.
func replyError(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &rpc.Error{Status: rpc.StatusRequestError, Message: fmt.Sprintf("%s: no such file or directory", p)}
	case errors.Is(err, fs.ErrPermission):
		return &rpc.Error{Status: rpc.StatusRequestError, Message: fmt.Sprintf("%s: permission denied", p)}
	case strings.Contains(err.Error(), "escapes from parent"):
		return &rpc.Error{Status: rpc.StatusRequestError, Message: fmt.Sprintf("%s: leads out of the served directory", p)}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %v", p, pe.Op, pe.Err)
	}
	return err
}

func (d *Dir) List(req *ListRequest, out *Listing) error {
	p, err := checkPath(req.Path)
	if err != nil {
		return err
	}
	fi, err := d.root.Stat(p)
	if err != nil {
		return replyError(p, err)
	}
	if !fi.IsDir() {
		out.Entries = []Entry{{Name: fi.Name(), Size: fi.Size()}}
		return nil
	}
	f, err := d.root.Open(p)
	if err != nil {
		return replyError(p, err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return replyError(p, err)
	}
	out.Dir = true
	for _, e := range ents {
		ent := Entry{Name: e.Name(), Dir: e.IsDir()}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			ent.Size = fi.Size()
		} else if !e.IsDir() {
			continue // neither file nor directory: not served
		}
		out.Entries = append(out.Entries, ent)
	}
	return nil
}

// Pull sends a file: its size and SHA-256 first, which means reading it
// twice (the hash comes before the stream), then its bytes.
func (d *Dir) Pull(req *FileRequest, out *FileMeta, body *io.Reader) error {
	p, err := checkPath(req.Path)
	if err != nil {
		return err
	}
	f, err := d.root.Open(p)
	if err != nil {
		return replyError(p, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &rpc.Error{Status: rpc.StatusRequestError, Message: fmt.Sprintf("%s: not a regular file", p)}
	}
	var sum string
	if err == nil {
		sum, err = hashFile(f, fi.Size())
	}
	if err != nil {
		f.Close()
		return err
	}
	*out = FileMeta{Path: p, Size: fi.Size(), SHA256: sum}
	// The server closes the reply source after sending it.
	*body = &sizedFile{f: f, r: io.LimitReader(f, fi.Size())}
	return nil
}

// sizedFile sends exactly the size announced, and is closed by the server.
type sizedFile struct {
	f *os.File
	r io.Reader
}

func (s *sizedFile) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *sizedFile) Close() error               { return s.f.Close() }

func hashFile(f *os.File, size int64) (string, error) {
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while being read", f.Name())
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	return hex.EncodeToString(h.Sum(nil)), err
}

// Push receives a file, creating its directory if needed, into a temporary name beside its destination and
// renames it into place only once its size and SHA-256 match the
// metadata: a failed push never leaves a file that looks complete.
func (d *Dir) Push(ctx context.Context, meta *FileMeta, body io.Reader, out *FileMeta) error {
	p, err := checkPath(meta.Path)
	if err != nil {
		return err
	}
	if p == "." {
		return &rpc.Error{Status: rpc.StatusRequestError, Message: "push needs a file name"}
	}
	if err := d.root.MkdirAll(path.Dir(p), 0o755); err != nil {
		return replyError(p, err)
	}
	tmp := path.Join(path.Dir(p), "."+path.Base(p)+".partial-"+rand.Text()[:8])
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return replyError(p, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case err != nil:
		err = fmt.Errorf("receiving %s: %w", p, err)
	case n != meta.Size || sum != meta.SHA256:
		err = &rpc.Error{Status: rpc.StatusError, Message: fmt.Sprintf("%s: received %d bytes with SHA-256 %s, announced %d bytes with %s", p, n, sum, meta.Size, meta.SHA256)}
	default:
		err = d.root.Rename(tmp, p)
	}
	if err != nil {
		d.root.Remove(tmp)
		return err
	}
	*out = FileMeta{Path: p, Size: n, SHA256: sum}
	return nil
}
