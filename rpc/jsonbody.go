package rpc

import (
	"bytes"
	"encoding/json"

	"github.com/framerpc/framerpc/internal/fastjson"
)

// encodeBody appends v's JSON body to buf as enc.Encode (an Encoder on
// buf with default options) writes it: through the fast path for the
// plain types it handles, by enc otherwise.
func encodeBody(buf *bytes.Buffer, enc *json.Encoder, v any) error {
	if b, ok := fastjson.AppendEncode(buf.AvailableBuffer(), v); ok {
		buf.Write(b)
		return nil
	}
	return enc.Encode(v)
}

// bodyDecoder decodes a connection's JSON bodies with json.Unmarshal's
// results and error texts. Plain types go through package fastjson, which
// gives exactly json.Unmarshal's result or declines. Other types, and
// bodies fastjson declines, go through a json.Decoder kept per connection:
// json.Unmarshal allocates a decoder state and a scanner stack for every
// body, the kept decoder reuses both. A body the kept decoder does not
// take cleanly (a syntax or type error, bytes after the value, an empty
// body) is decoded again by json.Unmarshal, which decides and words the
// error. A nil *bodyDecoder skips the kept decoder.
type bodyDecoder struct {
	src bytes.Reader
	dec *json.Decoder
	// fed is the stream offset, in the decoder's view, where the current
	// body starts: the decoder sees all bodies as one stream.
	fed int64
}

// maxReusedBody bounds the bodies that go through the reused decoder,
// which keeps a buffer as large as the largest body it has read.
const maxReusedBody = 64 << 10

func (d *bodyDecoder) decode(js []byte, v any) error {
	if fastjson.Unmarshal(js, v) {
		return nil
	}
	if d == nil || len(js) > maxReusedBody {
		return json.Unmarshal(js, v)
	}
	if d.dec == nil {
		d.dec = json.NewDecoder(&d.src)
		d.fed = 0
	}
	d.src.Reset(js)
	start := d.fed
	d.fed += int64(len(js))
	if err := d.dec.Decode(v); err == nil && onlySpace(js[d.dec.InputOffset()-start:]) {
		return nil
	}
	d.dec = nil
	return json.Unmarshal(js, v)
}

// onlySpace reports whether b is JSON white space only.
func onlySpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
