package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	netrpc "net/rpc"
	"net/rpc/jsonrpc"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/framerpc/framerpc/internal/benchnet"
	"github.com/framerpc/framerpc/rpc"
)

// Small is the small call's argument and result: ~100 bytes of JSON.
type Small struct {
	Name     string
	Snapshot string
	TXG      uint64
	Flags    []string
}

var small = Small{Name: "pool/data/home", Snapshot: "zrepl_20171006_1000", TXG: 123456789, Flags: []string{"a", "bc"}}

// caller makes one small call.
type caller interface {
	call() error
	io.Closer
}

// streamer receives a stream of n bytes from its server.
type streamer interface {
	stream(n int64) error
	io.Closer
}

// netConns returns a connected pair of t as net.Conns.
func netConns(t benchnet.Transport) (net.Conn, net.Conn, error) {
	a, b, err := t.Pair()
	if err != nil {
		return nil, nil, err
	}
	ca, ok1 := a.(net.Conn)
	cb, ok2 := b.(net.Conn)
	if !ok1 || !ok2 {
		a.Close()
		b.Close()
		return nil, nil, fmt.Errorf("%s: not a net.Conn", t.Name)
	}
	return ca, cb, nil
}

// rawPing is the small call's baseline: 100 bytes each way, echoed.
type rawPing struct {
	c, s net.Conn
	buf  []byte
}

func newRawPing(t benchnet.Transport) (caller, error) {
	c, s, err := netConns(t)
	if err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 100)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	return &rawPing{c: c, s: s, buf: make([]byte, 100)}, nil
}

func (p *rawPing) call() error {
	if _, err := p.c.Write(p.buf); err != nil {
		return err
	}
	_, err := io.ReadFull(p.c, p.buf)
	return err
}

func (p *rawPing) Close() error {
	p.c.Close()
	return p.s.Close()
}

// framerpcPeer is framerpc with the JSON codec its client and server were
// given (nil: the default, encoding/json).
type framerpcPeer struct {
	cli    *rpc.Client
	served chan error
	out    Small
}

func newFramerpc(t benchnet.Transport, codec rpc.JSONCodec) (*framerpcPeer, error) {
	s := rpc.NewServer(&rpc.ServerOptions{Codec: codec})
	if err := s.RegisterEndpoint("Ping", func(in *Small, out *Small) error {
		*out = *in
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.RegisterEndpoint("Send", func(in *streamRequest, out *io.Reader) error {
		*out = &benchnet.Zeros{N: in.N}
		return nil
	}); err != nil {
		return nil, err
	}
	c, sc, err := t.Pair()
	if err != nil {
		return nil, err
	}
	p := &framerpcPeer{cli: rpc.NewClient(c, &rpc.ClientOptions{Codec: codec}), served: make(chan error, 1)}
	go func() { p.served <- s.Serve(sc) }()
	return p, nil
}

func (p *framerpcPeer) call() error {
	return p.cli.Call(context.Background(), "Ping", &small, &p.out)
}

func (p *framerpcPeer) stream(n int64) error {
	var body io.Reader
	if err := p.cli.Call(context.Background(), "Send", &streamRequest{N: n}, &body); err != nil {
		return err
	}
	got, err := io.Copy(benchnet.Sink{}, body)
	if err == nil && got != n {
		err = fmt.Errorf("framerpc: stream of %d bytes, want %d", got, n)
	}
	return err
}

func (p *framerpcPeer) Close() error {
	err := p.cli.Close()
	<-p.served
	return err
}

// PingService is the net/rpc service.
type PingService struct{}

// Ping echoes its argument.
func (PingService) Ping(in *Small, out *Small) error {
	*out = *in
	return nil
}

// netrpcPeer is net/rpc with gob or, with json set, its JSON-RPC codec.
type netrpcPeer struct {
	cli  *netrpc.Client
	conn net.Conn
	out  Small
}

func newNetrpc(t benchnet.Transport, json bool) (caller, error) {
	srv := netrpc.NewServer()
	if err := srv.Register(PingService{}); err != nil {
		return nil, err
	}
	c, s, err := netConns(t)
	if err != nil {
		return nil, err
	}
	p := &netrpcPeer{conn: s}
	if json {
		go srv.ServeCodec(jsonrpc.NewServerCodec(s))
		p.cli = jsonrpc.NewClient(c)
	} else {
		go srv.ServeConn(s)
		p.cli = netrpc.NewClient(c)
	}
	return p, nil
}

func (p *netrpcPeer) call() error { return p.cli.Call("PingService.Ping", &small, &p.out) }

func (p *netrpcPeer) Close() error {
	err := p.cli.Close()
	p.conn.Close()
	return err
}

// streamRequest asks for a stream of N bytes in messages of Size bytes
// (gRPC; framerpc has no messages in a stream).
type streamRequest struct {
	N    int64
	Size int
}

// chunk is a gRPC stream message: the pass-through codec sends data as it
// is and, receiving, only counts the bytes, as a sink would.
type chunk struct {
	data []byte
	n    int
}

// codec is gRPC's codec here: pass-through for chunks, encoding/json for
// the rest, as framerpc's bodies.
type codec struct{}

func (codec) Name() string { return "peersjson" }

func (codec) Marshal(v any) ([]byte, error) {
	if c, ok := v.(*chunk); ok {
		return c.data, nil
	}
	return json.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if c, ok := v.(*chunk); ok {
		c.n = len(data)
		return nil
	}
	return json.Unmarshal(data, v)
}

var grpcService = grpc.ServiceDesc{
	ServiceName: "peers.Bench",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Ping", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var in Small
		if err := dec(&in); err != nil {
			return nil, err
		}
		return &in, nil
	}}},
	Streams: []grpc.StreamDesc{{StreamName: "Send", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
		var req streamRequest
		if err := ss.RecvMsg(&req); err != nil {
			return err
		}
		buf := make([]byte, req.Size)
		for left := req.N; left > 0; {
			k := min(left, int64(len(buf)))
			if err := ss.SendMsg(&chunk{data: buf[:k]}); err != nil {
				return err
			}
			left -= k
		}
		return nil
	}}},
}

// oneConn is a listener that accepts one given connection.
type oneConn struct {
	conns  chan net.Conn
	closed chan struct{}
	addr   net.Addr
}

func (l *oneConn) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneConn) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *oneConn) Addr() net.Addr { return l.addr }

// grpcPeer is gRPC-go on one connection of the transport, with flow
// control windows large enough not to be what limits a stream.
type grpcPeer struct {
	srv *grpc.Server
	cc  *grpc.ClientConn
	out Small
}

func newGRPC(t benchnet.Transport) (*grpcPeer, error) {
	c, s, err := netConns(t)
	if err != nil {
		return nil, err
	}
	const window = 16 << 20
	srv := grpc.NewServer(grpc.ForceServerCodec(codec{}), grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(window))
	srv.RegisterService(&grpcService, struct{}{})
	l := &oneConn{conns: make(chan net.Conn, 1), closed: make(chan struct{}), addr: s.LocalAddr()}
	l.conns <- s
	go srv.Serve(l)
	dialed := false
	cc, err := grpc.NewClient("passthrough:///pair",
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) {
			if dialed {
				return nil, net.ErrClosed
			}
			dialed = true
			return c, nil
		}),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec{}), grpc.MaxCallRecvMsgSize(8<<20)))
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &grpcPeer{srv: srv, cc: cc}, nil
}

func (p *grpcPeer) call() error {
	return p.cc.Invoke(context.Background(), "/peers.Bench/Ping", &small, &p.out)
}

// grpcStreamer streams in messages of size bytes.
type grpcStreamer struct {
	*grpcPeer
	size int
}

func (p grpcStreamer) stream(n int64) error {
	cs, err := p.cc.NewStream(context.Background(), &grpcService.Streams[0], "/peers.Bench/Send")
	if err != nil {
		return err
	}
	if err := cs.SendMsg(&streamRequest{N: n, Size: p.size}); err != nil {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	var got int64
	var c chunk
	for {
		err := cs.RecvMsg(&c)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		got += int64(c.n)
	}
	if got != n {
		return fmt.Errorf("gRPC: stream of %d bytes, want %d", got, n)
	}
	return nil
}

func (p *grpcPeer) Close() error {
	err := p.cc.Close()
	p.srv.Stop()
	return err
}
