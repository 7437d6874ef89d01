package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/framerpc/framerpc/rpc"
)

// connect serves s on one end of an in-memory pipe and returns a client on
// the other; stop hangs up and waits for the server.
func connect(s *rpc.Server) (c *rpc.Client, stop func()) {
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() {
		s.Serve(b)
		close(done)
	}()
	c = rpc.NewClient(a, nil)
	return c, func() {
		c.Close()
		<-done
	}
}

type Greeting struct{ Name string }
type Reply struct{ Text string }

// The original form: a JSON request and a JSON reply.
func ExampleServer_RegisterEndpoint_json() {
	s := rpc.NewServer(nil)
	err := s.RegisterEndpoint("Greet", func(in *Greeting, out *Reply) error {
		out.Text = "hello, " + in.Name
		return nil
	})
	if err != nil {
		panic(err)
	}
	c, stop := connect(s)
	defer stop()
	var r Reply
	err = c.Call(context.Background(), "Greet", &Greeting{Name: "zrepl"}, &r)
	fmt.Println(r.Text, err)
	// Output: hello, zrepl <nil>
}

// A JSON request and a streamed reply: the handler sets *out to the source,
// which the server reads after the handler returns.
func ExampleServer_RegisterEndpoint_streamReply() {
	s := rpc.NewServer(nil)
	s.RegisterEndpoint("Send", func(in *Greeting, out *io.Reader) error {
		*out = strings.NewReader("stream for " + in.Name)
		return nil
	})
	c, stop := connect(s)
	defer stop()
	var body io.ReadCloser // *io.Reader works too
	if err := c.Call(context.Background(), "Send", &Greeting{Name: "pool/fs@snap"}, &body); err != nil {
		panic(err)
	}
	b, err := io.ReadAll(body)
	fmt.Printf("%s %v\n", b, err)
	// Output: stream for pool/fs@snap <nil>
}

// A streamed request and a JSON reply; with a context.
func ExampleServer_RegisterEndpoint_streamRequest() {
	s := rpc.NewServer(nil)
	s.RegisterEndpoint("Receive", func(ctx context.Context, in io.Reader, out *Reply) error {
		n, err := io.Copy(io.Discard, in)
		out.Text = fmt.Sprintf("received %d bytes", n)
		return err
	})
	c, stop := connect(s)
	defer stop()
	var r Reply
	err := c.Call(context.Background(), "Receive", bytes.NewReader(make([]byte, 100000)), &r)
	fmt.Println(r.Text, err)
	// Output: received 100000 bytes <nil>
}

// A stream each way.
func ExampleServer_RegisterEndpoint_streamBoth() {
	s := rpc.NewServer(nil)
	s.RegisterEndpoint("Upper", func(in io.Reader, out *io.Reader) error {
		// The request stream is valid only until the handler returns:
		// read it here, not from the reply source.
		b, err := io.ReadAll(in)
		*out = bytes.NewReader(bytes.ToUpper(b))
		return err
	})
	c, stop := connect(s)
	defer stop()
	var body io.Reader
	if err := c.Call(context.Background(), "Upper", strings.NewReader("shout"), &body); err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(body)
	fmt.Printf("%s\n", b)
	// Output: SHOUT
}

type SendHeader struct {
	Snapshot string
	Size     int
}

// Push: JSON metadata and a stream in one request (the "POST" the original
// lacked; needs the multipart extension, negotiated automatically).
func ExampleServer_RegisterEndpoint_push() {
	s := rpc.NewServer(nil)
	s.RegisterEndpoint("Push", func(ctx context.Context, in *SendHeader, body io.Reader, out *Reply) error {
		n, err := io.Copy(io.Discard, body)
		out.Text = fmt.Sprintf("%s: %d of %d bytes", in.Snapshot, n, in.Size)
		return err
	})
	c, stop := connect(s)
	defer stop()
	var r Reply
	err := c.Call(context.Background(), "Push",
		rpc.Push{Meta: &SendHeader{Snapshot: "pool/fs@1", Size: 5}, Body: strings.NewReader("12345")}, &r)
	fmt.Println(r.Text, err)
	// Output: pool/fs@1: 5 of 5 bytes <nil>
}

// A reply of JSON metadata and a stream.
func ExampleServer_RegisterEndpoint_replyWithMetadata() {
	s := rpc.NewServer(nil)
	s.RegisterEndpoint("Pull", func(in *Greeting, out *SendHeader, body *io.Reader) error {
		data := "snapshot data"
		*out = SendHeader{Snapshot: in.Name, Size: len(data)}
		*body = strings.NewReader(data)
		return nil
	})
	c, stop := connect(s)
	defer stop()
	var meta SendHeader
	pull := rpc.Pull{Meta: &meta}
	if err := c.Call(context.Background(), "Pull", &Greeting{Name: "pool/fs@2"}, &pull); err != nil {
		panic(err)
	}
	b, err := io.ReadAll(pull.Body)
	fmt.Printf("%+v %q %v\n", meta, b, err)
	// Output: {Snapshot:pool/fs@2 Size:13} "snapshot data" <nil>
}

type Store struct{ items map[string]string }

func (s *Store) Get(in *string, out *string) error {
	v, ok := s.items[*in]
	if !ok {
		return &rpc.Error{Status: rpc.StatusRequestError, Message: "no such key: " + *in}
	}
	*out = v
	return nil
}

// Helper is not a handler form and is skipped.
func (s *Store) Helper() {}

// Register registers the handler methods as "Type.Method"; a handler
// chooses its status by returning an *rpc.Error.
func ExampleServer_Register() {
	s := rpc.NewServer(nil)
	if err := s.Register(&Store{items: map[string]string{"a": "1"}}); err != nil {
		panic(err)
	}
	c, stop := connect(s)
	defer stop()
	var v string
	fmt.Println(c.Call(context.Background(), "Store.Get", ptr("a"), &v), v)
	err := c.Call(context.Background(), "Store.Get", ptr("b"), &v)
	var se *rpc.Error
	fmt.Println(errors.As(err, &se), se.Status, se.Message)
	// Output:
	// <nil> 1
	// true RequestError no such key: b
}

func ptr[T any](v T) *T { return &v }

// Registration checks the handler's form once and says what is wrong.
func ExampleServer_RegisterEndpoint_badForm() {
	s := rpc.NewServer(nil)
	err := s.RegisterEndpoint("Bad", func(in Greeting, out *Reply) error { return nil })
	fmt.Println(err)
	// Output: rpc: registering "Bad": handler func(rpc_test.Greeting, *rpc_test.Reply) error: parameter 1 is rpc_test.Greeting: the request must be a pointer (JSON), io.Reader (octets) or a pointer followed by io.Reader (JSON and octets)
}
