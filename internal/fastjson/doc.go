// Package fastjson is a fast path for encoding/json on the small, plain
// bodies an RPC carries: structs of strings, numbers, booleans, slices and
// pointers. encoding/json spends most of a small call's CPU time in generic
// machinery (a scanner state machine run twice over the input, a
// per-value decoder state); this package compiles a codec once per Go type
// and runs a direct parser and printer instead.
//
// The contract is all-or-nothing: wherever this package answers, the
// answer is exactly encoding/json's (v1, the default in Go 1.26): the same
// bytes when encoding, the same value when decoding. Wherever it is not
// certain to match, it declines and the caller runs encoding/json. It
// declines whole types it does not model (maps, interfaces, arrays,
// embedded fields, []byte, json.Number, types with JSON or text marshaling
// methods, the ",string" option, unusual field names) and individual
// inputs it does not model (any decoding error, keys with escapes or
// non-ASCII bytes, NaN and infinite floats, nesting deeper than
// maxDepth). Errors are therefore always worded by encoding/json.
//
// Decoding validates the whole input first, so a declined input that is
// not valid JSON leaves the destination untouched. A valid input may be
// declined half way, after some fields were written; json.Unmarshal then
// writes every one of those fields again, to the same values, because
// decoding a JSON value into a Go value is idempotent in encoding/json's
// semantics (present fields are overwritten, absent ones kept, slices
// re-filled from index 0). The differential tests in this package check
// that claim against encoding/json on random types, values and inputs.
package fastjson
