// Package testvectors holds the framerpc golden test vectors and the tests
// that run them against this module's implementation.
//
// The vectors are JSON files in this directory (frame_decode.json,
// message_decode.json, header_decode.json, conversations.json), described in
// README.md and by the JSON Schemas in schema/; captures/ holds recordings of
// real conversations. They are written by the generator in internal/gen from
// the readable Go cases in internal/cases (and, for captures, by running the
// real client and server), never by hand: regenerate them with
// `go generate ./testvectors` and check that the checked-in files are
// current with check-generated.sh. The expected outcomes in the vectors are
// the spec's (spec/PROTOCOL.md), not recordings of this implementation; when
// the two disagree, the implementation or the spec is wrong, never the
// vector by fiat.
//
// The tests of this package:
//   - run every frame and message vector against package frame in both
//     directions, with the input delivered whole, one byte per read, in
//     irregular chunks, and with the end of stream arriving together with
//     the last bytes [FRAME-12];
//   - send every header vector to a real rpc.Server, and check the real
//     rpc.Client's request headers against the valid ones;
//   - replay both sides of every conversation against a real rpc.Server and
//     a real rpc.Client over a socketpair;
//   - check that the files are what the generator writes, that they match
//     their schemas, and that the captures are well framed;
//   - check that every rule ID of the spec is cited by a vector or a test.
package testvectors

//go:generate go run ./internal/gen -out .
