package pcapread

import (
	"fmt"
	"io"
	"os"
)

// spill is the one temporary file every direction of a capture is written
// to as it is reassembled. One file, not one per direction, so that a
// capture of thousands of connections does not need thousands of open
// files; each direction remembers where its bytes went.
type spill struct {
	dir  string
	f    *os.File // created on the first byte
	size int64
}

// chunk is a run of a direction's bytes in the spill file.
type chunk struct{ off, n int64 }

// append writes p at the end of the file and records it in chunks, merged
// with the last chunk when it continues it (a bulk transfer, or a capture
// of one connection, is then one chunk).
func (s *spill) append(chunks []chunk, p []byte) ([]chunk, error) {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "framedump-pcap-*")
		if err != nil {
			return chunks, fmt.Errorf("pcapread: spilling a stream: %w", err)
		}
		s.f = f
	}
	if _, err := s.f.WriteAt(p, s.size); err != nil {
		return chunks, fmt.Errorf("pcapread: spilling a stream: %w", err)
	}
	off := s.size
	s.size += int64(len(p))
	if k := len(chunks) - 1; k >= 0 && chunks[k].off+chunks[k].n == off {
		chunks[k].n += int64(len(p))
		return chunks, nil
	}
	return append(chunks, chunk{off, int64(len(p))}), nil
}

func (s *spill) close() error {
	if s.f == nil {
		return nil
	}
	name := s.f.Name()
	err := s.f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	s.f = nil
	return err
}

// chunkReader reads a direction's chunks in order, then returns end.
type chunkReader struct {
	f      io.ReaderAt
	chunks []chunk
	pos    int64 // within chunks[0]
	end    error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && r.pos == r.chunks[0].n {
		r.chunks, r.pos = r.chunks[1:], 0
	}
	if len(r.chunks) == 0 {
		return 0, r.end
	}
	if len(p) == 0 {
		return 0, nil
	}
	c := r.chunks[0]
	n, err := r.f.ReadAt(p[:min(int64(len(p)), c.n-r.pos)], c.off+r.pos)
	r.pos += int64(n)
	if err == io.EOF && r.pos == c.n {
		err = nil // the end of the file, not yet of the stream
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the spill file is shorter than written
	}
	return n, err
}
