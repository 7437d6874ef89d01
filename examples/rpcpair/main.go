// Command rpcpair runs a framerpc server and client over a Unix socketpair
// and makes one call of each kind: JSON, a streamed reply, a pushed stream
// with metadata, a handler error and a stream whose source fails half-way
// (spec/PROTOCOL.md sections 6 to 10).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/framerpc/framerpc/internal/unixpair"
	"github.com/framerpc/framerpc/rpc"
)

type Snapshot struct {
	Name string
	Size int
}

type failing struct{ io.Reader }

func (f failing) Read(p []byte) (int, error) {
	n, err := f.Reader.Read(p)
	if err == io.EOF {
		err = errors.New("zfs send exited with status 1")
	}
	return n, err
}

func main() {
	s := rpc.NewServer(&rpc.ServerOptions{Logf: log.Printf})
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(s.RegisterEndpoint("List", func(in *string, out *[]Snapshot) error {
		*out = []Snapshot{{Name: *in + "@1", Size: 10}, {Name: *in + "@2", Size: 20}}
		return nil
	}))
	must(s.RegisterEndpoint("Send", func(ctx context.Context, in *Snapshot, out *io.Reader) error {
		if in.Size < 0 {
			return &rpc.Error{Status: rpc.StatusRequestError, Message: "negative size"}
		}
		src := strings.NewReader(strings.Repeat("z", in.Size))
		if strings.HasSuffix(in.Name, "@broken") {
			*out = failing{src}
		} else {
			*out = src
		}
		return nil
	}))
	must(s.RegisterEndpoint("Receive", func(in *Snapshot, body io.Reader, out *Snapshot) error {
		n, err := io.Copy(io.Discard, body)
		*out = Snapshot{Name: in.Name, Size: int(n)}
		return err
	}))

	a, b, err := unixpair.New()
	must(err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(b) }()
	c := rpc.NewClient(a, nil)
	ctx := context.Background()

	var list []Snapshot
	must(c.Call(ctx, "List", ptr("pool/fs"), &list))
	fmt.Println("List:", list)

	var body io.ReadCloser
	must(c.Call(ctx, "Send", &list[0], &body))
	data, err := io.ReadAll(body)
	fmt.Printf("Send: %d bytes, %v\n", len(data), err)

	var got Snapshot
	must(c.Call(ctx, "Receive", rpc.Push{Meta: &list[1], Body: strings.NewReader("abcdef")}, &got))
	fmt.Println("Receive:", got)

	err = c.Call(ctx, "Send", &Snapshot{Size: -1}, &body)
	var se *rpc.Error
	fmt.Println("Send(-1):", errors.As(err, &se), se)

	must(c.Call(ctx, "Send", &Snapshot{Name: "pool/fs@broken", Size: 5}, &body))
	data, err = io.ReadAll(body)
	fmt.Printf("Send(broken): %d bytes, then %v\n", len(data), err)

	must(c.Call(ctx, "List", ptr("still/usable"), &list))
	fmt.Println("List:", list)

	c.Close()
	fmt.Println("Serve:", <-done)
}

func ptr[T any](v T) *T { return &v }
