package rpc

import (
	"bytes"
	"encoding/json"
)

// bodyDecoder decodes a connection's JSON bodies. json.Unmarshal allocates
// a decoder state and a scanner stack for every body; a json.Decoder kept
// per connection reuses both, which is most of the allocations of a small
// call. The results and error texts stay exactly json.Unmarshal's: a body
// the reused decoder does not take cleanly (a syntax or type error, bytes
// after the value, an empty body) is decoded again by json.Unmarshal, which
// decides and words the error. A nil *bodyDecoder is json.Unmarshal.
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
