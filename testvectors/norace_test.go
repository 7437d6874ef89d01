//go:build !race

package testvectors

// raceEnabled: the race detector is off; see oneByte.
const raceEnabled = false
