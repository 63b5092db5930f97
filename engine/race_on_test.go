//go:build race

package engine_test

// raceEnabled reports a -race build: pools drop items at random, so
// allocation counts are not meaningful.
const raceEnabled = true
