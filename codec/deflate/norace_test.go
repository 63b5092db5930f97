//go:build !race

package deflate

// raceEnabled reports whether the race detector is on; it makes sync.Pool
// drop items at random, so pooled code allocates.
const raceEnabled = false
