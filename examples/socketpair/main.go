// Command socketpair writes a few framerpc messages over a real Unix
// socketpair and prints every frame the other end reads: a small showcase of
// the frame layer (spec/PROTOCOL.md sections 3 and 4).
package main

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/internal/unixpair"
)

func main() {
	a, b, err := unixpair.New()
	if err != nil {
		log.Fatal(err)
	}
	header := []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n")
	body := bytes.Repeat([]byte("z"), frame.MaxPayload+10)

	go func() {
		w := frame.NewWriter(a)
		if err := w.WriteMessage(frame.TypeHeader, header); err != nil {
			log.Fatal(err)
		}
		if err := w.WriteMessage(frame.TypeData, body); err != nil {
			log.Fatal(err)
		}
		if err := w.WriteMessage(frame.TypeData, nil); err != nil {
			log.Fatal(err)
		}
		if err := w.WriteRST(); err != nil {
			log.Fatal(err)
		}
		a.Close()
	}()

	r := frame.NewReader(b)
	for {
		h, err := r.ReadHeader()
		if err == io.EOF {
			fmt.Printf("%08x  end of stream\n", r.Offset())
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		off := r.Offset() - frame.HeaderSize
		payload, err := io.ReadAll(io.LimitReader(readerFunc(r.ReadPayload), 64))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%08x  %-7v final=%-5v len=%-7d", off, h.Type, h.Final, h.Length)
		if len(payload) > 0 {
			more := ""
			if int(h.Length) > len(payload) {
				more = "..."
			}
			fmt.Printf("  %q%s", bytes.TrimSuffix(payload, []byte("\n")), more)
		}
		fmt.Println()
		if h.Type == frame.TypeRST {
			// Nothing after an RST is read [FRAME-8]: the conversation is over.
			fmt.Printf("%08x  the peer hung up\n", r.Offset())
			return
		}
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
