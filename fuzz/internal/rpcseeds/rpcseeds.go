// Package rpcseeds builds the RPC fuzz targets' hand-made seeds: the
// hostile inputs of spec section 10.1 for FuzzServer, and FuzzClient's
// calls answered in full and cut inside and after a streamed reply. The
// targets add them all with f.Add; fuzz/internal/seedgen checks in those
// small enough to be corpus files, so that the libFuzzer builds, which
// read only the checked-in seeds, start from them too.
package rpcseeds

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/framerpc/framerpc/frame"
)

// Seed is one input of a target; Opts is FuzzClient's second argument.
type Seed struct {
	Name string
	In   []byte
	Opts uint8
}

// stream builds a byte stream of frames.
type stream struct{ b bytes.Buffer }

func (s *stream) frame(t frame.Type, final bool, p []byte) {
	h := frame.FrameHeader{Type: t, Final: final, Length: uint32(len(p))}
	s.b.Write(h.AppendHeader(nil))
	s.b.Write(p)
}

// message writes body as a message of type t in frames of at most split
// bytes.
func (s *stream) message(t frame.Type, body []byte, split int) {
	for len(body) > split {
		s.frame(t, false, body[:split])
		body = body[split:]
	}
	s.frame(t, true, body)
}

func requestHeader(endpoint string, dt, accept int) []byte {
	return fmt.Appendf(nil, `{"Endpoint":%q,"DataType":%d,"Accept":%d,"Error":0,"ErrorMessage":""}`+"\n", endpoint, dt, accept)
}

func replyHeader(dt, status int, exts ...string) []byte {
	s := fmt.Sprintf(`{"Endpoint":"","DataType":%d,"Accept":0,"Error":%d,"ErrorMessage":""`, dt, status)
	if exts != nil {
		b, _ := json.Marshal(exts)
		s += `,"Extensions":` + string(b)
	}
	return []byte(s + "}\n")
}

// Hostile returns the inputs of section 10.1's table for a server with
// an Echo (JSON) and a Count (octets request) endpoint: a JSON body of 160
// KiB followed by a good request, an octets body in a frame larger than
// the 64 KiB read buffer, ten thousand empty frames inside a JSON body,
// and a frame header announcing 4294967295 bytes.
func Hostile() []Seed {
	var out []Seed
	s := &stream{}
	s.message(frame.TypeHeader, requestHeader("Echo", 2, 2), 4096)
	s.message(frame.TypeData, bytes.Repeat([]byte{' '}, 160<<10), 40000)
	s.message(frame.TypeHeader, requestHeader("Echo", 2, 2), 4096)
	s.message(frame.TypeData, []byte(`{"Text":"after"}`), 4096)
	out = append(out, Seed{Name: "hostile-json-160k", In: s.b.Bytes()})

	s = &stream{}
	s.message(frame.TypeHeader, requestHeader("Count", 3, 2), 4096)
	s.message(frame.TypeData, bytes.Repeat([]byte{'x'}, 100<<10), 1<<20)
	out = append(out, Seed{Name: "hostile-frame-100k", In: s.b.Bytes()})

	s = &stream{}
	s.message(frame.TypeHeader, requestHeader("Echo", 2, 2), 4096)
	for range 10000 {
		s.frame(frame.TypeData, false, nil)
	}
	s.frame(frame.TypeData, true, []byte(`{"N":1}`))
	out = append(out, Seed{Name: "hostile-empty-frames", In: s.b.Bytes()})

	out = append(out, Seed{Name: "hostile-length", In: []byte{0x01, 0x00, 0xff, 0xff, 0xff, 0xff, '{'}})
	return out
}

// Client returns the server's side of FuzzClient's calls (Echo, Stream,
// Count, Push, Echo) answered in full, with the extensions (Opts 0) and
// without (Opts 1), and each cut inside and right after the streamed
// reply.
func Client() []Seed {
	ok := []byte(`{"Error":1,"ErrorMessage":""}` + "\n")
	body := bytes.Repeat([]byte("0123456789"), 30)
	var out []Seed
	for _, ext := range []bool{true, false} {
		s := &stream{}
		s.message(frame.TypeHeader, replyHeader(2, 1), 4096)
		s.message(frame.TypeData, []byte(`{"Text":"q","N":0}`+"\n"), 4096)
		if ext {
			s.message(frame.TypeHeader, replyHeader(1, 1, "trailer", "multipart"), 4096)
		}
		s.message(frame.TypeHeader, replyHeader(3, 1), 4096)
		start := s.b.Len()
		s.message(frame.TypeData, body, 100)
		cut := s.b.Len()
		if ext {
			s.message(frame.TypeTrailer, ok, 4096)
		}
		s.message(frame.TypeHeader, replyHeader(2, 1), 4096)
		s.message(frame.TypeData, []byte(`{"Text":"","N":5}`+"\n"), 4096)
		if ext {
			s.message(frame.TypeHeader, replyHeader(4, 1), 4096)
			s.message(frame.TypeData, []byte(`{"Text":"","N":4}`+"\n"), 4096)
			s.message(frame.TypeData, []byte("body"), 4096)
			s.message(frame.TypeTrailer, ok, 4096)
		}
		s.message(frame.TypeHeader, replyHeader(2, 1), 4096)
		s.message(frame.TypeData, []byte(`{"Text":"q","N":4}`+"\n"), 4096)
		name, opts := "calls-extensions", uint8(0)
		if !ext {
			name, opts = "calls-no-extensions", 1
		}
		b := s.b.Bytes()
		out = append(out, Seed{Name: name, In: b, Opts: opts},
			Seed{Name: name + "-cut-in-stream", In: b[:start+150], Opts: opts},
			Seed{Name: name + "-cut-after-stream", In: b[:cut], Opts: opts})
	}
	return out
}
