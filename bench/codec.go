package peers

import (
	sjson "github.com/segmentio/encoding/json"

	"github.com/framerpc/framerpc/rpc"
)

// SegmentioJSON is framerpc's codec option filled with
// github.com/segmentio/encoding/json, a pure-Go drop-in for encoding/json
// that encodes by appending to the caller's slice and decodes without
// encoding/json's separate scanning pass. It writes encoding/json's bytes
// (HTML escaped, a newline after the value, as json.Encoder writes them),
// so a peer with the default codec reads them as its own.
var SegmentioJSON rpc.JSONCodec = segmentioJSON{}

type segmentioJSON struct{}

func (segmentioJSON) MarshalAppend(dst []byte, v any) ([]byte, error) {
	b, err := sjson.Append(dst, v, sjson.EscapeHTML)
	if err != nil {
		// Append may have written part of the value past dst.
		return dst, err
	}
	return append(b, '\n'), nil
}

// Unmarshal copies the strings it decodes (no DontCopyString flag), as
// framerpc requires: data is the connection's buffer, reused.
func (segmentioJSON) Unmarshal(data []byte, v any) error { return sjson.Unmarshal(data, v) }
