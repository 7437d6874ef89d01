package format

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxExpand bounds the bytes one Bytes value may stand for. The largest
// vector needs a few MiB; a file that claims more than this is refused
// rather than allocated, so that a corrupted or hostile vector file (a
// runner such as cmd/conform loads whatever directory it is given) is an
// error and never a crash.
const MaxExpand = 1 << 30

// Decode parses the bytes of a vector file strictly, as Load does: unknown
// fields are errors. name says where the bytes came from, for messages.
func Decode[T any](data []byte, name string) (*File[T], error) {
	var f File[T]
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &f, nil
}

// checkedLen is Len for a value that may come from a hostile file: a
// negative pattern length or a total past MaxExpand is an error, where Len
// would overflow or hand a huge size to make.
func (v Bytes) checkedLen() (int64, error) {
	var n int64
	for _, p := range v.Parts {
		l := int64(len(p.Lit))
		if p.Pat != nil {
			l = p.Pat.Length
		}
		if l < 0 || l > MaxExpand-n {
			return 0, fmt.Errorf("format: byte string of more than %d bytes (a part of %d)", MaxExpand, l)
		}
		n += l
	}
	return n, nil
}
