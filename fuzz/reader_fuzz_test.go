package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/framerpc/framerpc/frame"
)

// FuzzFrameHeader checks ParseFrameHeader alone on any 6 bytes at any
// stream offset: the checks run in the order [FRAME-9] fixes and the one
// that fails is reported at its field's offset ([FRAME-2] the type byte,
// [FRAME-3] the final byte, [FRAME-4] the length field); an RST is
// accepted whatever its other bytes say [FRAME-8]; every accepted header
// but a non-canonical RST re-encodes to exactly its 6 bytes.
func FuzzFrameHeader(f *testing.F) {
	for _, s := range seeds {
		if len(s) >= frame.HeaderSize {
			f.Add(s[:frame.HeaderSize], int64(0))
		}
	}
	f.Add([]byte{0x07, 0x05, 0xff, 0xff, 0xff, 0xff}, int64(1<<40))
	f.Fuzz(func(t *testing.T, in []byte, off int64) {
		if len(in) < frame.HeaderSize {
			return
		}
		off &= 1<<62 - 1 // a stream offset: never negative, room for +2
		b := in[:frame.HeaderSize]
		h, err := frame.ParseFrameHeader(b, off)
		typ, flag, length := b[0], b[1], binary.LittleEndian.Uint32(b[2:])
		var class frame.Class
		var at int64
		switch {
		case typ == 0xff:
		case typ < 1 || typ > 3:
			class, at = frame.ClassUnknownType, off
		case flag > 1:
			class, at = frame.ClassBadFlag, off+1
		case length > frame.MaxPayload:
			class, at = frame.ClassFrameTooLarge, off+2
		}
		if class == 0 {
			if err != nil {
				t.Fatalf("% x rejected: %v", b, err)
			}
			if h.Type != frame.Type(typ) || h.Final != (flag == 1) || h.Length != length {
				t.Fatalf("% x decoded as %v", b, h)
			}
			if h.Canonical() != (typ != 0xff || (flag == 1 && length == 0)) {
				t.Fatalf("% x: Canonical() = %v", b, h.Canonical())
			}
			if h.Canonical() && !bytes.Equal(h.AppendHeader(nil), b) {
				t.Fatalf("% x re-encodes as % x", b, h.AppendHeader(nil))
			}
			return
		}
		var pe *frame.ProtocolError
		if !errors.As(err, &pe) || pe.Class != class || pe.Offset != at || !errors.Is(err, frame.ErrProtocol) {
			t.Fatalf("% x at %d: %v, want %v at %d", b, off, err, class, at)
		}
	})
}

// chunkReader hands out a stream in reads whose sizes come from the fuzzer
// (0 means a (0, nil) read), cycling through them.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)])
		c.i++
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readAll reads messages of the given types (cycling) until an error, with
// Read calls of the given sizes (cycling), and returns the bodies and the
// error it ended with.
func readAll(r *frame.Reader, types, readSizes []byte) ([][]byte, error) {
	var bodies [][]byte
	buf := make([]byte, 1<<16)
	for i := 0; ; i++ {
		want := frame.TypeData
		if len(types) > 0 {
			want = frame.Type(types[i%len(types)]%3 + 1)
		}
		m, err := r.NextMessage(want)
		if err != nil {
			return bodies, err
		}
		var body []byte
		for j := 0; ; j++ {
			k := len(buf)
			if len(readSizes) > 0 {
				k = int(readSizes[(i+j)%len(readSizes)]) + 1
			}
			n, err := m.Read(buf[:k])
			body = append(body, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				return append(bodies, body), err
			}
		}
		bodies = append(bodies, body)
	}
}

// FuzzMessageReader reads arbitrary bytes as messages with the transport's
// segmentation, the Reader's buffer size and the sizes of the Read calls
// all drawn from the input, and compares everything with a plain reading
// of the same bytes: the same bodies, the same error at the same offset,
// whatever the segmentation [FRAME-12] and the split [MSG-2].
func FuzzMessageReader(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, []byte{2}, []byte{1, 0, 7}, []byte{5}, uint16(64))
	}
	f.Fuzz(func(t *testing.T, in, types, segments, readSizes []byte, bufSize uint16) {
		wantBodies, wantErr := readAll(frame.NewReader(bytes.NewReader(in)), types, nil)
		src := &chunkReader{data: in, sizes: segments}
		r := frame.NewReaderSize(src, int(bufSize))
		gotBodies, gotErr := readAll(r, types, readSizes)
		if errors.Is(gotErr, io.ErrNoProgress) {
			// More (0, nil) reads in a row than a Reader tolerates: the
			// transport's fault, reported as such.
			return
		}
		if len(gotBodies) != len(wantBodies) {
			t.Fatalf("%d messages, a plain read gives %d", len(gotBodies), len(wantBodies))
		}
		for i := range gotBodies {
			if !bytes.Equal(gotBodies[i], wantBodies[i]) {
				t.Fatalf("message %d: %q, a plain read gives %q", i, gotBodies[i], wantBodies[i])
			}
		}
		if wantErr == io.EOF || gotErr == io.EOF {
			if gotErr != wantErr {
				t.Fatalf("ended with %v, a plain read with %v", gotErr, wantErr)
			}
			return
		}
		var got, want *frame.ProtocolError
		if !errors.As(gotErr, &got) || !errors.As(wantErr, &want) || *got != *want {
			t.Fatalf("ended with %v, a plain read with %v", gotErr, wantErr)
		}
		if got.Offset < 0 || got.Offset > int64(len(in)) {
			t.Fatalf("error offset %d outside an input of %d bytes", got.Offset, len(in))
		}
	})
}
