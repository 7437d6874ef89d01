package local_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/framerpc/framerpc/local"
	"github.com/framerpc/framerpc/rpc"
)

// The handlers registered on an rpc.Server, called in-process with the
// results a remote call would give.
func Example() {
	s := rpc.NewServer(nil)
	s.RegisterEndpoint("Greet", func(in *string, out *string) error {
		*out = "hello, " + *in
		return nil
	})
	s.RegisterEndpoint("Send", func(in *string, out *io.Reader) error {
		*out = strings.NewReader("stream of " + *in)
		return nil
	})
	c := local.New(s, nil)
	name, greeting := "zrepl", ""
	fmt.Println(c.Call(context.Background(), "Greet", &name, &greeting), greeting)
	var body io.ReadCloser
	if err := c.Call(context.Background(), "Send", &name, &body); err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(body)
	fmt.Println(string(b))
	fmt.Println(c.Call(context.Background(), "Nope", &name, &greeting))
	// Output:
	// <nil> hello, zrepl
	// stream of zrepl
	// rpc: status 2 (RequestError): unknown endpoint "Nope"
}
