package conform

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/testvectors/format"

	"github.com/framerpc/framerpc/cmd/conform/internal/script"
)

// The toys are small implementations of the fixture, written on raw bytes
// so that each can carry one defect of the kind issue 15 lists. Without a
// defect they pass the vectors they are run with: that is what makes a
// FAIL with the defect the runner's doing.

// toyServer serves the endpoints Ping, Echo, Fail and Download, the hello,
// and RequestError for anything else.
type toyServer struct {
	grants []string
	// The defects.
	noDrainUnknown bool // answers an unknown endpoint before reading its body
	jsonToBrace    bool // reads a JSON body only up to the end of its value
	anyFrameType   bool // takes a frame of any message type inside a message
	grantUnasked   bool // grants every extension it has, asked or not
	trailerAlways  bool // ends every octets reply with a Trailer, negotiated or not
	lenientHeader  bool // decodes a header with encoding/json alone: a repeated member passes, the last one winning
	closeAfterFail bool // ends the connection after a non-OK reply
	rawErrorText   bool // writes "<" in an error text as itself, not as [RPC-1]'s \u003c
}

var errRST = errors.New("toy: RST")

// toyConn is one connection of a toy server.
type toyConn struct {
	s       *toyServer
	r       *bufio.Reader
	w       *frame.Writer
	c       net.Conn
	trailer bool
	helloed bool
}

func (s *toyServer) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := &toyConn{s: s, r: bufio.NewReader(c), w: frame.NewWriter(c), c: c}
				if err := tc.serve(); err != nil && !errors.Is(err, errRST) && !errors.Is(err, io.EOF) {
					_ = tc.w.WriteRST()
				}
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// readFrame reads one frame header; the payload is left on the wire.
func (c *toyConn) readFrame() (typ, final byte, n int, err error) {
	var h [6]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, 0, 0, err
	}
	typ, final, n = h[0], h[1], int(binary.LittleEndian.Uint32(h[2:]))
	switch {
	case typ == typeRST:
		return 0, 0, 0, errRST
	case typ < typeHeader || typ > typeTrailer || final > 1 || n > maxPayload:
		return 0, 0, 0, errors.New("toy: bad frame header")
	}
	return typ, final, n, nil
}

// readMessage reads a whole message of type want.
func (c *toyConn) readMessage(want byte) ([]byte, error) {
	var body []byte
	for {
		typ, final, n, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		if typ != want && !c.s.anyFrameType {
			return nil, errors.New("toy: type-mismatch")
		}
		if want == typeHeader && len(body)+n > 4096 {
			return nil, errors.New("toy: message-too-large")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.r, p); err != nil {
			return nil, err
		}
		body = append(body, p...)
		if final == 1 {
			return body, nil
		}
	}
}

// readJSONBody reads a JSON Data message, or with jsonToBrace only its
// first frame's bytes up to the end of the value, as the original did.
func (c *toyConn) readJSONBody() ([]byte, error) {
	if !c.s.jsonToBrace {
		return c.readMessage(typeData)
	}
	if _, _, _, err := c.readFrame(); err != nil {
		return nil, err
	}
	var body []byte
	depth, inString, escaped := 0, false, false
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return nil, err
		}
		body = append(body, b)
		switch {
		case escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case b == '"':
			inString = !inString
		case !inString && (b == '{' || b == '['):
			depth++
		case !inString && (b == '}' || b == ']'):
			if depth--; depth == 0 {
				return body, nil
			}
		}
	}
}

type toyHeader struct {
	Endpoint     string
	DataType     uint32
	Accept       uint32
	Error        uint32
	ErrorMessage string
	Extensions   []string `json:",omitempty"`
}

// errClosedAfterFail ends a connection quietly after a non-OK reply.
var errClosedAfterFail = io.EOF

func (c *toyConn) reply(h toyHeader, body []byte, octets bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if c.s.rawErrorText {
		h.ErrorMessage = "<" + h.ErrorMessage + ">"
		enc.SetEscapeHTML(false)
	}
	_ = enc.Encode(h)
	if err := c.w.WriteMessage(frame.TypeHeader, buf.Bytes()); err != nil {
		return err
	}
	if h.Error != 1 && c.s.closeAfterFail {
		return errClosedAfterFail
	}
	if h.Error != 1 || h.DataType == 1 {
		return nil
	}
	if err := c.w.WriteMessage(frame.TypeData, body); err != nil {
		return err
	}
	if octets && (c.trailer || c.s.trailerAlways) {
		return c.w.WriteMessage(frame.TypeTrailer, []byte(`{"Error":1,"ErrorMessage":""}`+"\n"))
	}
	return nil
}

func failReply(status uint32, msg string) toyHeader {
	return toyHeader{DataType: 1, Error: status, ErrorMessage: msg}
}

func (c *toyConn) serve() error {
	for {
		hb, err := c.readMessage(typeHeader)
		if err != nil {
			return err
		}
		var h toyHeader
		decode := strictHeader
		if c.s.lenientHeader {
			decode = func(b []byte, h *toyHeader) error { return json.Unmarshal(b, h) }
		}
		if err := decode(hb, &h); err != nil || h.DataType < 1 || h.DataType > 3 {
			return errors.New("toy: bad-header")
		}
		if h.Endpoint == "framerpc:hello" {
			if err := c.hello(h); err != nil {
				return err
			}
			continue
		}
		type route struct{ dt, accept uint32 }
		routes := map[string]route{"Ping": {2, 2}, "Echo": {2, 2}, "Fail": {2, 2}, "Download": {2, 3}}
		rt, known := routes[h.Endpoint]
		if !known || rt.dt != h.DataType || rt.accept != h.Accept {
			if known || !c.s.noDrainUnknown {
				if err := c.drain(h.DataType); err != nil {
					return err
				}
			}
			if err := c.reply(failReply(2, "no such endpoint or kinds"), nil, false); err != nil {
				return err
			}
			continue
		}
		in, err := c.readJSONBody()
		if err != nil {
			return err
		}
		if len(in) > 1024 || !json.Valid(in) {
			if err := c.reply(failReply(2, "bad JSON body"), nil, false); err != nil {
				return err
			}
			continue
		}
		ok := toyHeader{DataType: h.Accept, Error: 1}
		switch h.Endpoint {
		case "Ping":
			err = c.reply(ok, []byte("{}\n"), false)
		case "Echo":
			var out bytes.Buffer
			_ = json.Compact(&out, in)
			err = c.reply(ok, append(out.Bytes(), '\n'), false)
		case "Fail":
			err = c.reply(failReply(4, "failed: x"), nil, false)
		case "Download":
			var n struct{ N int64 }
			_ = json.Unmarshal(in, &n)
			p, _ := format.Pattern{Pattern: format.Mod251, Length: n.N}.Generate()
			err = c.reply(ok, p, true)
		}
		if err != nil {
			return err
		}
	}
}

// strictHeader decodes a header the way [RPC-4] and [RPC-5] say, beyond
// what encoding/json checks: member names compared exactly, none twice.
func strictHeader(b []byte, h *toyHeader) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		name := k.(string)
		if seen[name] {
			return errors.New("toy: repeated member " + name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		var dst any
		switch name {
		case "Endpoint":
			dst = &h.Endpoint
		case "DataType":
			dst = &h.DataType
		case "Accept":
			dst = &h.Accept
		case "Error":
			dst = &h.Error
		case "ErrorMessage":
			dst = &h.ErrorMessage
		case "Extensions":
			dst = &h.Extensions
		default:
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return err
		}
	}
	return nil
}

func (c *toyConn) drain(dt uint32) error {
	switch dt {
	case 2:
		_, err := c.readMessage(typeData)
		return err
	case 3:
		if _, err := c.readMessage(typeData); err != nil {
			return err
		}
		if c.trailer {
			_, err := c.readMessage(typeTrailer)
			return err
		}
	}
	return nil
}

func (c *toyConn) hello(h toyHeader) error {
	if c.helloed {
		return c.reply(failReply(2, "second hello"), nil, false)
	}
	c.helloed = true
	granted := []string{}
	for _, e := range h.Extensions {
		if slices.Contains(c.s.grants, e) && !slices.Contains(granted, e) {
			granted = append(granted, e)
		}
	}
	if c.s.grantUnasked {
		granted = append([]string{}, c.s.grants...)
	}
	c.trailer = slices.Contains(granted, "trailer")
	// A hello reply always carries its list, empty included [RPC-25].
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(struct {
		Endpoint     string
		DataType     uint32
		Accept       uint32
		Error        uint32
		ErrorMessage string
		Extensions   []string
	}{"", 1, 0, 1, "", granted})
	return c.w.WriteMessage(frame.TypeHeader, buf.Bytes())
}

// toyTarget starts one toy server per set of grants a vector needs.
func toyTarget(t *testing.T, proto toyServer, keys ...string) NetTarget {
	t.Helper()
	nt := NetTarget{Addrs: map[string]string{}}
	for _, k := range keys {
		s := proto
		if k != "none" {
			s.grants = strings.Split(k, ",")
		}
		nt.Addrs[k] = s.listen(t)
	}
	return nt
}

// toyClient is a client that makes JSON calls with JSON or octets replies
// and asks for no extension, driven by the runner's script in process.
type toyClient struct {
	truncatedIsComplete bool // takes a stream that ends inside a body for its end
	noHangUp            bool // closes the connection without RST
}

type toyDriverProc struct {
	inW  *io.PipeWriter
	outR *io.PipeReader
	done chan struct{}
}

func (p *toyDriverProc) Write(b []byte) (int, error) { return p.inW.Write(b) }
func (p *toyDriverProc) CloseWrite() error           { return p.inW.Close() }
func (p *toyDriverProc) Read(b []byte) (int, error)  { return p.outR.Read(b) }
func (p *toyDriverProc) Close() error {
	p.inW.Close()
	p.outR.Close()
	<-p.done
	return nil
}

func (tc toyClient) Start() (DriverProc, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &toyDriverProc{inW: inW, outR: outR, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		err := tc.run(inR, outW)
		inR.CloseWithError(errors.New("toy client stopped"))
		outW.CloseWithError(err)
	}()
	return p, nil
}

func (tc toyClient) run(in io.Reader, out io.Writer) error {
	var conn net.Conn
	var r *bufio.Reader
	alive := false
	sc := script.NewScanner(in)
	for sc.Scan() {
		var cmd script.Command
		if err := script.DecodeLine(sc.Bytes(), &cmd); err != nil {
			return err
		}
		switch cmd.Op {
		case script.OpConnect:
			c, err := net.Dial(cmd.Network, cmd.Address)
			if err != nil {
				return err
			}
			defer c.Close()
			conn, r, alive = c, bufio.NewReader(c), true
		case script.OpCall:
			o := tc.call(conn, r, cmd)
			if o.ErrorClass != "" {
				alive = false
				conn.Close()
			}
			if err := script.WriteLine(out, o); err != nil {
				return err
			}
		case script.OpClose:
			if alive {
				if !tc.noHangUp {
					_, _ = conn.Write(canonicalRST)
				}
				conn.Close()
				alive = false
			}
		}
	}
	return sc.Err()
}

// readBody reads one message of type want; partial is what arrived of a
// message the stream cut short.
func readBody(r *bufio.Reader, want byte) (body []byte, err error) {
	for {
		var h [6]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if errors.Is(err, io.EOF) && len(body) == 0 {
				return nil, io.ErrUnexpectedEOF // where a message is due
			}
			return body, io.ErrUnexpectedEOF
		}
		if h[0] == typeRST {
			return body, errRST
		}
		if h[0] != want {
			return body, errors.New("toy: type-mismatch")
		}
		p := make([]byte, binary.LittleEndian.Uint32(h[2:]))
		n, err := io.ReadFull(r, p)
		body = append(body, p[:n]...)
		if err != nil {
			return body, io.ErrUnexpectedEOF
		}
		if h[1] == 1 {
			return body, nil
		}
	}
}

func (tc toyClient) call(conn net.Conn, r *bufio.Reader, cmd script.Command) script.Outcome {
	var o script.Outcome
	accept := map[string]uint32{"json": 2, "octets": 3}[cmd.Accept]
	var hb bytes.Buffer
	_ = json.NewEncoder(&hb).Encode(toyHeader{Endpoint: cmd.Endpoint, DataType: 2, Accept: accept})
	var req bytes.Buffer
	w := frame.NewWriter(&req)
	_ = w.WriteMessage(frame.TypeHeader, hb.Bytes())
	_ = w.WriteMessage(frame.TypeData, []byte(cmd.Request.JSON+"\n"))
	if _, err := conn.Write(req.Bytes()); err != nil {
		o.ErrorClass = "other: " + err.Error()
		return o
	}
	rb, err := readBody(r, typeHeader)
	if err != nil {
		o.ErrorClass = className(err)
		return o
	}
	var h toyHeader
	if json.Unmarshal(rb, &h) != nil || h.Error < 1 || h.Error > 4 {
		o.ErrorClass = "bad-reply"
		return o
	}
	o.Status = h.Error
	if h.Error != 1 {
		o.ErrorMessage = h.ErrorMessage
		return o
	}
	body, err := readBody(r, typeData)
	if cmd.Accept == "json" {
		if err != nil {
			o.ErrorClass = className(err)
		}
		o.JSON = bytes.TrimSpace(body)
		return o
	}
	var b format.Bytes
	b.AppendLit(body)
	o.Body = &b
	if err != nil && !(tc.truncatedIsComplete && errors.Is(err, io.ErrUnexpectedEOF)) {
		o.ErrorClass = className(err)
	}
	return o
}

func className(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected-eof"
	case errors.Is(err, errRST):
		return "reset"
	}
	return "other: " + err.Error()
}
