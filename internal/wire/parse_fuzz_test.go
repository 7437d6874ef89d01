package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseHeader: the strict decoder never panics, and whatever it
// accepts, encoding/json accepts too (it is a subset), with the same
// values for the known members. encoding/json matches member names without
// regard to case where [RPC-5] compares them byte for byte after
// unescaping: when an unknown member's name folds to a known one, the two
// decoders rightly disagree and only the first property is checked.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n"))
	f.Add([]byte(`{"Endpoint":"framerpc:hello","DataType":1,"Accept":1,"Error":0,"ErrorMessage":"","Extensions":["trailer"]}` + "\n"))
	f.Add([]byte(`{"X":[1,{"a":null}],"Error":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		if ParseHeader(b, &h, "") != nil {
			return
		}
		for _, u := range h.Unknown {
			for _, k := range knownFields {
				if strings.EqualFold(u.Name, k) {
					return
				}
			}
		}
		var v struct {
			Endpoint, ErrorMessage string
			DataType, Accept       DataType
			Error                  Status
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%q: accepted, but encoding/json says %v", b, err)
		}
		if v.Endpoint != h.Endpoint || v.ErrorMessage != h.ErrorMessage || v.DataType != h.DataType ||
			v.Accept != h.Accept || v.Error != h.Error {
			t.Fatalf("%q: decoded as %+v, encoding/json gives %+v", b, h, v)
		}
	})
}
