// Package fuzz holds the native Go fuzz targets of framerpc. Each target
// feeds arbitrary bytes to one decoding layer and checks the invariants the
// spec promises for any input: no panic, no hang, every error one of the
// closed classes of spec/PROTOCOL.md section 5 with an offset inside the
// input, and every accepted frame or body reproducible by the writer.
//
// .ci/run gives every target a bounded run; run one longer with
//
//	go test -run '^$' -fuzz '^FuzzFrameStream$' -fuzztime 5m ./fuzz/
//
// README.md in this directory lists every target of the module (some live
// next to the package they test), their seed corpora and its generator
// (internal/seedgen), the libFuzzer builds for OSS-Fuzz (oss-fuzz/), the
// record of how long each has run, and the coverage script.
package fuzz
