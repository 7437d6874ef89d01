package frame

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"
)

// allocated returns the bytes and objects f allocates, over the whole
// process, as runtime.MemStats counts them.
func allocated(f func()) (bytes, objects uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

func TestBoundHugeLengths(t *testing.T) {
	// [MSG-10] [FRAME-4] no length a peer announces makes the reader
	// allocate for a payload: 4 GiB is refused from the header, and a valid
	// 4 MiB frame whose payload never comes costs no more than an empty one.
	cases := []struct {
		name string
		in   []byte
		typ  Type
	}{
		{"4GiB-data", fr(TypeData, 1, 0xffffffff), TypeData},
		{"4GiB-header", fr(TypeHeader, 0, 0xffffffff), TypeHeader},
		{"4MiB-truncated", fr(TypeData, 0, MaxPayload, 'x'), TypeData},
		{"empty", fr(TypeData, 1, 0), TypeData},
	}
	var perRun [4]float64
	for i, tc := range cases {
		src := bytes.NewReader(tc.in)
		r := NewReader(src)
		buf := r.buf
		perRun[i] = testing.AllocsPerRun(100, func() {
			src.Reset(tc.in)
			*r = Reader{src: src, buf: buf}
			m, err := r.NextMessage(tc.typ)
			if err == nil {
				_, err = m.Discard()
			}
			if tc.name == "empty" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s: no error", tc.name)
			}
		})
		b, _ := allocated(func() {
			for range 100 {
				src.Reset(tc.in)
				*r = Reader{src: src, buf: buf}
				if m, err := r.NextMessage(tc.typ); err == nil {
					m.Discard()
				}
			}
		})
		t.Logf("%s: %.0f allocations, %d bytes per run", tc.name, perRun[i], b/100)
		if b/100 > 1024 {
			t.Errorf("%s: %d bytes allocated per run, want at most 1 KiB whatever the length", tc.name, b/100)
		}
	}
	var pe *ProtocolError
	r := NewReader(bytes.NewReader(cases[0].in))
	_, err := r.NextMessage(TypeData)
	if !asProto(err, &pe) || pe.Class != ClassFrameTooLarge {
		t.Fatalf("4 GiB length: %v, want frame-too-large", err)
	}
}

func asProto(err error, pe **ProtocolError) bool {
	p, ok := err.(*ProtocolError)
	*pe = p
	return ok
}

// emptyFlood is a transport that sends a message of n empty non-final
// frames of type typ, then a final frame with one byte, without holding
// the stream in memory: what the test allocates is only the reader's.
type emptyFlood struct {
	typ   Type
	n     int // empty frames still to send
	pos   int // offset inside the current 6-byte frame
	tail  []byte
	reads int
}

func (f *emptyFlood) Read(p []byte) (int, error) {
	f.reads++
	k := 0
	for k < len(p) && f.n > 0 {
		hdr := [HeaderSize]byte{byte(f.typ), 0, 0, 0, 0, 0}
		c := copy(p[k:], hdr[f.pos:])
		k += c
		f.pos += c
		if f.pos == HeaderSize {
			f.pos = 0
			f.n--
		}
	}
	if f.n == 0 && k < len(p) {
		c := copy(p[k:], f.tail)
		f.tail = f.tail[c:]
		k += c
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

func TestBoundEmptyFrameFlood(t *testing.T) {
	// [MSG-11] [MSG-2] a million empty non-final frames in one message
	// are read with constant work per frame: the allocations do not grow
	// with their number, the transport reads are those of the bytes
	// through the buffer, and the body is the one byte of the final frame.
	// Empty frames count toward no limit, so a Header message of a million
	// of them is still within its 4096 bytes [MSG-7]. The time is logged,
	// never asserted.
	run := func(typ Type, n int) (allocBytes, allocObjs uint64, reads int, d time.Duration) {
		f := &emptyFlood{typ: typ, n: n, tail: fr(typ, 1, 1, 'x')}
		r := NewReader(f)
		var body []byte
		var err error
		start := time.Now()
		allocBytes, allocObjs = allocated(func() {
			var m *MessageReader
			if m, err = r.NextMessage(typ); err == nil {
				body, err = m.AppendTo(make([]byte, 0, 8))
			}
		})
		d = time.Since(start)
		if err != nil || string(body) != "x" {
			t.Fatalf("%v, %d empty frames: body %q, err %v", typ, n, body, err)
		}
		if want := int64(n+1)*HeaderSize + 1; r.Offset() != want {
			t.Fatalf("offset %d after the message, want %d", r.Offset(), want)
		}
		return allocBytes, allocObjs, f.reads, d
	}
	for _, typ := range []Type{TypeData, TypeHeader} {
		sb, so, _, _ := run(typ, 1000)
		lb, lo, reads, d := run(typ, 1_000_000)
		t.Logf("%v: 1e3 empty frames: %d bytes in %d allocations; 1e6: %d bytes in %d allocations, %d transport reads, %v",
			typ, sb, so, lb, lo, reads, d)
		// Counted over the whole process, so the runtime and tests
		// running in parallel add a little; one byte or one object
		// per frame would add a million.
		if lo > so+100 || lb > sb+64<<10 {
			t.Errorf("%v: allocations grow with the number of empty frames: %d/%d bytes, %d/%d objects", typ, sb, lb, so, lo)
		}
		// 6 MB through a 64 KiB buffer, each read filling it.
		if max := (1_000_000*HeaderSize)/DefaultBufferSize + 4; reads > max {
			t.Errorf("%v: %d transport reads for 6 MB, want at most %d", typ, reads, max)
		}
	}
}

func TestBoundControlMessage(t *testing.T) {
	// [MSG-10] [MSG-7] a Header message of exactly 4096 bytes, split in
	// frames of any size, is read into at most 4096 bytes; one of 4097 is
	// refused at the frame that takes it over, before its payload, and
	// costs no more memory.
	for _, split := range []int{4096, 1000, 1} {
		for _, size := range []int{4096, 4097} {
			var in []byte
			body := bytes.Repeat([]byte{' '}, size)
			for k := 0; k < size; k += split {
				end := min(k+split, size)
				flag := byte(0)
				if end == size {
					flag = 1
				}
				in = append(in, fr(TypeHeader, flag, uint32(end-k), body[k:end]...)...)
			}
			src := bytes.NewReader(in)
			r := NewReader(src)
			buf := r.buf
			dst := make([]byte, 0, 4096)
			var got []byte
			var err error
			b, _ := allocated(func() {
				for range 20 {
					src.Reset(in)
					*r = Reader{src: src, buf: buf}
					var m *MessageReader
					if m, err = r.NextMessage(TypeHeader); err == nil {
						got, err = m.AppendTo(dst[:0])
					}
				}
			})
			t.Logf("split %d, %d bytes: %d bytes allocated per message", split, size, b/20)
			if size == 4096 && (err != nil || len(got) != 4096) {
				t.Fatalf("split %d: 4096 bytes: got %d, %v", split, len(got), err)
			}
			if size == 4097 {
				// The frame holding byte 4096 of the body is refused.
				off := int64(4096/split) * int64(split+HeaderSize)
				wantProtoErr(t, err, ClassMessageTooLarge, "MSG-7", off+2)
			}
			if b/20 > 1024 {
				t.Errorf("split %d, %d bytes: %d bytes allocated per message beyond the 4096 the caller gave", split, size, b/20)
			}
		}
	}
}
