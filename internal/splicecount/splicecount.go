// Package splicecount counts the payload bytes that package frame moves
// by splice(2) on Linux, so that the tests of frame and of the layers
// above it can tell the kernel path from the user-space fallback: the
// bytes are the same either way, only this count differs. It is test
// instrumentation, not part of any package's API.
package splicecount

import "sync/atomic"

// Moved is the number of payload bytes spliced to a destination (a
// transport on sending, a pipe or file on receiving) since the process
// started.
var Moved atomic.Int64
