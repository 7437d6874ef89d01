//go:build race

package testvectors

// raceEnabled: the race detector is on; see oneByte.
const raceEnabled = true
