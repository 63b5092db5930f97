//go:build race

package peers_test

// raceEnabled builds the servers under test with the race detector when the
// tests themselves run with it.
const raceEnabled = true
