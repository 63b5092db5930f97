package pqueue

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
)

// worker drains one shard. It owns the consumer side of the shard's lanes
// and its executed and panicked counters; nothing else reads the lanes'
// heads or pops their items.
type worker[T any] struct {
	s        *shard[T]
	handle   func(T)
	onPanic  func(any, []byte)
	burst    [NumPriorities]int // per-turn limits from Config
	highLeft int                // HIGH items the current turn may still run
	abort    *atomic.Bool       // the Pool's abort flag
}

func (p *Pool[T]) newWorker(i int, handle func(T)) *worker[T] {
	return &worker[T]{
		s:       &p.shards[i],
		handle:  handle,
		onPanic: p.cfg.OnPanic,
		burst:   p.cfg.bursts(),
		abort:   &p.abort,
	}
}

// loop runs in its own goroutine, one per shard, for the Pool's life. It
// runs turns while there is work and parks when there is none; it returns
// when the shard is closed and drained, or when Shutdown's context ended.
func (w *worker[T]) loop() {
	for !w.abort.Load() {
		if w.turn() > 0 {
			continue
		}
		if w.idle() {
			return
		}
	}
}

// turn is one round of the drain rule: HIGH items until HIGH is empty or
// HighBurst ran, then up to MediumBurst MEDIUM items and up to LowBurst
// LOW items, with HIGH (within what is left of HighBurst) run before each
// of them. It returns how many items ran.
func (w *worker[T]) turn() int {
	w.highLeft = w.burst[High]
	n := w.runHigh()
	n += w.runLane(Medium)
	n += w.runLane(Low)
	return n
}

// runHigh runs HIGH items while any are queued and the turn's HIGH budget
// lasts.
func (w *worker[T]) runHigh() int {
	n := 0
	for ; w.highLeft > 0; w.highLeft-- {
		v, ok := w.s.lanes[High].pop()
		if !ok {
			break
		}
		w.exec(High, v)
		n++
	}
	return n
}

// runLane runs up to the burst of prio (Medium or Low), letting queued
// HIGH items go first after each one.
func (w *worker[T]) runLane(prio Priority) int {
	n := 0
	for range w.burst[prio] {
		v, ok := w.s.lanes[prio].pop()
		if !ok {
			break
		}
		w.exec(prio, v)
		n += 1 + w.runHigh()
	}
	return n
}

// exec runs the handler on v; a panic is recovered by finish, so one bad
// item cannot stop the shard.
func (w *worker[T]) exec(prio Priority, v T) {
	defer w.finish(prio)
	w.handle(v)
}

// finish counts the item as executed and recovers a handler panic.
func (w *worker[T]) finish(prio Priority) {
	w.s.executed[prio].Add(1)
	if r := recover(); r != nil {
		w.s.panicked[prio].Add(1)
		if w.onPanic != nil {
			w.onPanic(r, debug.Stack())
		}
	}
}

// idle runs when a turn found nothing. On a closed shard it reports true
// once no Submit is in flight and the lanes are empty; on an open shard it
// parks until a producer or Shutdown leaves a wake-up token.
func (w *worker[T]) idle() bool {
	s := w.s
	if st := s.state.Load(); st&closedBit != 0 {
		if st == closedBit {
			// No Submit in flight and none can start: the lanes hold
			// their final contents.
			return s.empty()
		}
		runtime.Gosched() // a Submit is between its closed check and its push
		return false
	}
	s.sleeping.Store(true)
	// Re-check after announcing sleep: a producer that pushed before the
	// store above is seen here; one that pushes after it sees sleeping.
	if s.empty() && s.state.Load()&closedBit == 0 {
		<-s.wake
	}
	s.sleeping.Store(false)
	return false
}
