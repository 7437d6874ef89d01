// Package peers compares framerpc with its peers on the same workloads, in
// one run, each variant interleaved with the others round by round and
// every figure a ratio to a raw baseline of the same run (see
// BENCHMARKS.md at the repository's root):
//
//   - a small call (~100 bytes of JSON each way) against a raw 100-byte
//     ping-pong, net/rpc with gob, net/rpc with its JSON-RPC codec, and
//     gRPC-go with a JSON codec; framerpc runs it with its default codec
//     (encoding/json) and with a faster third-party one plugged in through
//     its codec option (SegmentioJSON), which only this module depends on;
//   - a 1 GiB stream from server to client against raw copying at its best
//     buffer size and gRPC-go server streaming with a pass-through codec,
//     in messages of 32 KiB to 1 MiB.
//
// It is a module of its own so that users of framerpc never download
// gRPC. Run it from this directory:
//
//	go test -run '^$' -bench . -benchtime 7x .
package peers
