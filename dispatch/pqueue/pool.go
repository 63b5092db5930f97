package pqueue

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
)

// closedBit is set in shard.state once Shutdown begins; the low bits count
// Submit calls between their closed check and the end of their push.
const closedBit = 1 << 63

// Pool is a fixed set of shards, each with one bounded MPSC queue per
// priority and one worker goroutine that runs handle on every item.
//
// Submit, Stats, ShardOf, Workers, Capacity, Shutdown and Close are safe
// for concurrent use. The handler runs on the worker goroutines only, one
// item at a time per shard, so state touched only by items of one shard
// needs no lock.
type Pool[T any] struct {
	shards []shard[T] // fixed at New; shard i is drained by worker i
	cfg    Config     // with defaults applied; read-only

	closing sync.Once     // runs beginClose once
	live    atomic.Int32  // workers still running
	done    chan struct{} // closed by the last worker to exit
	abort   atomic.Bool   // set when a Shutdown context ends: stop draining
}

// shard is one worker's queues and counters. Fields are grouped by the
// goroutines that write them so producers and the worker do not share
// cache lines they write.
type shard[T any] struct {
	state    atomic.Uint64                // closedBit | Submits in flight; producers and Shutdown write
	rejected [NumPriorities]atomic.Uint64 // ErrFull refusals; producers write
	_        [cacheLine - 32]byte

	lanes [NumPriorities]ring[T] // consumer side owned by the worker

	sleeping atomic.Bool   // worker is parked or about to park; worker writes
	wake     chan struct{} // capacity 1: a pending wake-up token
	_        [cacheLine - 16]byte

	executed [NumPriorities]atomic.Uint64 // handler returned or panicked; worker writes
	panicked [NumPriorities]atomic.Uint64 // handler panicked; worker writes
	_        [cacheLine - 48]byte
}

// Stats are counters for one priority summed over all shards. Read them
// for metrics gauges and counters; they are exact per field but not a
// snapshot across fields.
type Stats struct {
	Depth     uint64 // items accepted and not yet finished (queued or running)
	Submitted uint64 // items accepted by Submit
	Executed  uint64 // items whose handler returned or panicked
	Rejected  uint64 // Submit calls refused with ErrFull
	Panicked  uint64 // handler panics recovered
}

// New builds a Pool and starts its workers. Each queued item is passed to
// handle on the worker of its shard. The Pool runs until Shutdown or Close.
// Items are stored by value in preallocated rings (Workers × the three
// capacities), so T should be small: a pointer and a function, say.
func New[T any](cfg Config, handle func(T)) (*Pool[T], error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if handle == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	p := newPool[T](cfg)
	for i := range p.shards {
		p.goWorker(p.newWorker(i, handle))
	}
	return p, nil
}

// newPool allocates the shards without starting workers.
func newPool[T any](cfg Config) *Pool[T] {
	p := &Pool[T]{
		shards: make([]shard[T], cfg.Workers),
		cfg:    cfg,
		done:   make(chan struct{}),
	}
	caps := cfg.capacities()
	for i := range p.shards {
		s := &p.shards[i]
		s.wake = make(chan struct{}, 1)
		for prio := range s.lanes {
			s.lanes[prio].init(caps[prio])
		}
	}
	return p
}

// goWorker starts w in its own goroutine and closes p.done when the last
// worker returns. Workers start only in New, before any Shutdown.
func (p *Pool[T]) goWorker(w *worker[T]) {
	p.live.Add(1)
	go func() {
		defer func() {
			if p.live.Add(-1) == 0 {
				close(p.done)
			}
		}()
		w.loop()
	}()
}

// Submit queues item on the shard of key at priority prio and returns at
// once; it never blocks and does not allocate. Items with the same key and
// priority run in the order their Submit calls took effect, one at a time,
// on the same worker. It returns ErrFull when that lane is at capacity,
// ErrClosed after Shutdown began, and ErrPriority for an invalid prio; in
// each case the item was not queued.
func (p *Pool[T]) Submit(key uint64, prio Priority, item T) error {
	if !prio.Valid() {
		return ErrPriority
	}
	s := &p.shards[p.ShardOf(key)]
	if s.state.Add(1)&closedBit != 0 {
		s.state.Add(^uint64(0))
		return ErrClosed
	}
	ok := s.lanes[prio].push(item)
	s.state.Add(^uint64(0))
	if !ok {
		s.rejected[prio].Add(1)
		return ErrFull
	}
	// The push above is ordered before this load, and the worker's store
	// of sleeping before its last emptiness check: one of the two sees the
	// other, so a parked worker is always woken.
	if s.sleeping.Load() {
		s.signal()
	}
	return nil
}

// ShardOf returns the shard (and worker) index that items with key go to:
// Fibonacci hashing of key mapped onto [0, Workers) without division, so
// sequential keys such as room numbers spread evenly.
func (p *Pool[T]) ShardOf(key uint64) int {
	hi, _ := bits.Mul64(key*0x9E3779B97F4A7C15, uint64(len(p.shards)))
	return int(hi)
}

// Workers returns the number of shards and worker goroutines.
func (p *Pool[T]) Workers() int { return len(p.shards) }

// Capacity returns how many items of priority prio one shard holds (the
// configured capacity rounded up to a power of two), or 0 for an invalid
// prio.
func (p *Pool[T]) Capacity(prio Priority) int {
	if !prio.Valid() {
		return 0
	}
	return p.shards[0].lanes[prio].capacity()
}

// Stats returns the counters of priority prio summed over all shards; the
// zero Stats for an invalid prio.
func (p *Pool[T]) Stats(prio Priority) Stats {
	var st Stats
	if !prio.Valid() {
		return st
	}
	for i := range p.shards {
		s := &p.shards[i]
		// executed is read before submitted, and never exceeds it, so
		// Depth cannot underflow.
		st.Executed += s.executed[prio].Load()
		st.Panicked += s.panicked[prio].Load()
		st.Submitted += s.lanes[prio].submitted()
		st.Rejected += s.rejected[prio].Load()
	}
	st.Depth = st.Submitted - st.Executed
	return st
}

// Shutdown stops accepting items (Submit returns ErrClosed from then on),
// lets the workers run everything already queued, and waits for them to
// exit. If ctx ends first, each worker stops after its current turn, the
// items still queued are abandoned (they stay counted in Stats.Depth) and
// Shutdown returns ctx.Err() without waiting further. Calling it again,
// or after Close, waits for the same exit. It must not be called from a
// handler, which would wait for its own worker.
func (p *Pool[T]) Shutdown(ctx context.Context) error {
	p.closing.Do(p.beginClose)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.abort.Store(true)
		p.wakeAll()
		select {
		case <-p.done: // finished as ctx ended: nothing was abandoned
			return nil
		default:
			return ctx.Err()
		}
	}
}

// Close is Shutdown without a deadline: it returns once every queued item
// has run.
func (p *Pool[T]) Close() error { return p.Shutdown(context.Background()) }

// beginClose marks every shard closed and wakes its worker, which drains
// the shard and exits once no Submit is in flight.
func (p *Pool[T]) beginClose() {
	for i := range p.shards {
		p.shards[i].state.Or(closedBit)
	}
	p.wakeAll()
}

func (p *Pool[T]) wakeAll() {
	for i := range p.shards {
		p.shards[i].signal()
	}
}

// signal leaves a wake-up token for the worker unless one is pending.
func (s *shard[T]) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// empty reports whether every lane of s is empty. Worker only.
func (s *shard[T]) empty() bool {
	for i := range s.lanes {
		if !s.lanes[i].empty() {
			return false
		}
	}
	return true
}
