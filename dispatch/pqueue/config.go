package pqueue

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
)

// Defaults for Config fields left at zero, and the limits validate holds
// them to.
const (
	// DefaultCapacity is the number of items one lane (one priority of one
	// shard) holds before Submit returns ErrFull.
	DefaultCapacity = 4096
	// DefaultHighBurst is how many HIGH items a worker runs per turn before
	// it lets one burst of MEDIUM and LOW through; gnet's event loop takes
	// the same number of queued tasks per turn (MaxAsyncTasksAtOneTime).
	DefaultHighBurst = 256
	// DefaultMediumBurst is how many MEDIUM items a worker runs per turn.
	DefaultMediumBurst = 64
	// DefaultLowBurst is how many LOW items a worker runs per turn.
	DefaultLowBurst = 16

	// MaxCapacity bounds one lane's capacity, after rounding up.
	MaxCapacity = 1 << 24
	// MaxWorkers bounds the number of shards and worker goroutines.
	MaxWorkers = 4096
)

// Config configures a Pool. Zero fields take the Default constants, except
// Workers (zero means runtime.GOMAXPROCS) and OnPanic (nil means panics are
// only counted).
type Config struct {
	// Workers is the number of shards, each drained by its own worker
	// goroutine; fixed for the Pool's life. 0 means runtime.GOMAXPROCS(0).
	Workers int

	// Capacities are in items per shard, rounded up to a power of two (at
	// least 2); Submit returns ErrFull beyond them.
	HighCapacity   int // HIGH items per shard
	MediumCapacity int // MEDIUM items per shard
	LowCapacity    int // LOW items per shard

	HighBurst   int // HIGH items per turn before MEDIUM and LOW get their burst
	MediumBurst int // MEDIUM items per turn at most
	LowBurst    int // LOW items per turn at most

	// OnPanic, when set, is called on the worker goroutine with the value a
	// handler panicked with and the stack of that goroutine. The worker
	// keeps running; the panic is counted in Stats.Panicked either way.
	OnPanic func(recovered any, stack []byte)
}

// withDefaults fills zero fields and rounds capacities up to powers of two,
// which the ring's index mask needs.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Workers, runtime.GOMAXPROCS(0))
	for _, v := range []*int{&c.HighCapacity, &c.MediumCapacity, &c.LowCapacity} {
		def(v, DefaultCapacity)
		*v = ceilPow2(*v)
	}
	def(&c.HighBurst, DefaultHighBurst)
	def(&c.MediumBurst, DefaultMediumBurst)
	def(&c.LowBurst, DefaultLowBurst)
	return c
}

func (c Config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
		}
	}
	check(c.Workers > 0 && c.Workers <= MaxWorkers,
		"Workers=%d must be between 1 and %d", c.Workers, MaxWorkers)
	for p, v := range c.capacities() {
		check(v > 0 && v <= MaxCapacity,
			"%sCapacity=%d must be between 1 and %d", fieldName(Priority(p)), v, MaxCapacity)
	}
	for p, v := range c.bursts() {
		check(v > 0, "%sBurst=%d must be positive", fieldName(Priority(p)), v)
	}
	return errors.Join(errs...)
}

// capacities returns the lane capacities indexed by Priority.
func (c Config) capacities() [NumPriorities]int {
	return [NumPriorities]int{c.HighCapacity, c.MediumCapacity, c.LowCapacity}
}

// bursts returns the per-turn bursts indexed by Priority.
func (c Config) bursts() [NumPriorities]int {
	return [NumPriorities]int{c.HighBurst, c.MediumBurst, c.LowBurst}
}

// fieldName returns the Config field prefix for p ("High", "Medium", "Low").
func fieldName(p Priority) string {
	return [NumPriorities]string{"High", "Medium", "Low"}[p]
}

// ceilPow2 rounds n up to a power of two, at least 2: with one cell a
// ring could not tell "published at p" (seq p+1) from "free for p+1" (seq
// p+cap). n <= 0 and n above MaxCapacity are returned unchanged so that
// validate reports the value as given.
func ceilPow2(n int) int {
	if n <= 0 || n > MaxCapacity {
		return n
	}
	if n == 1 {
		return 2
	}
	return 1 << bits.Len(uint(n-1))
}
