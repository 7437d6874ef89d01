package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// fr builds a frame's bytes.
func fr(t Type, flag byte, length uint32, payload ...byte) []byte {
	b := []byte{byte(t), flag, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[2:], length)
	return append(b, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// transports are the read segmentations every decoding test runs under
// [FRAME-12].
var transports = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"dataerr", iotest.DataErrReader},
	{"zeroreads", func(r io.Reader) io.Reader { return &zeroReader{r: r} }},
}

// zeroReader answers (0, nil) before every real read, as some transports do.
type zeroReader struct {
	r    io.Reader
	flip bool
}

func (z *zeroReader) Read(p []byte) (int, error) {
	z.flip = !z.flip
	if z.flip {
		return 0, nil
	}
	return z.r.Read(p)
}

// countingReader counts the reads that reach the transport.
type countingReader struct {
	r     io.Reader
	reads int
	bytes int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	n, err := c.r.Read(p)
	c.bytes += n
	return n, err
}

// countingWriter records every Write call.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

// wantProtoErr checks class, rule and offset of a *ProtocolError.
func wantProtoErr(t *testing.T, err error, class Class, rule string, off int64) {
	t.Helper()
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ProtocolError of class %v", err, err, class)
	}
	if pe.Class != class || pe.Offset != off || (rule != "" && pe.Rule != rule) {
		t.Fatalf("got %v / %s / offset %d, want %v / %s / offset %d (%v)", pe.Class, pe.Rule, pe.Offset, class, rule, off, err)
	}
}

// readMessage reads one whole message of type want.
func readMessage(r *Reader, want Type) ([]byte, error) {
	m, err := r.NextMessage(want)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(m)
}

// pattern returns n bytes of a cheap, position-dependent pattern so that a
// misplaced byte shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i) ^ byte(i>>8)*31 ^ seed
	}
	return b
}
