// Package pqueue runs work items on a fixed pool of workers, through
// sharded, bounded, lock-free priority queues. dispatch uses it so that the
// event loops hand hotel events to handlers without ever waiting for one.
//
// # Shape
//
// A Pool has Workers shards. Each shard has one queue (a lane) per
// Priority and exactly one worker goroutine, which is the only consumer of
// its lanes: every lane is a multi-producer, single-consumer (MPSC) queue.
// Submit(key, prio, item) puts item on lane prio of shard ShardOf(key) and
// returns at once. The handler given to New runs on the worker, one item at
// a time per shard.
//
// # Ordering
//
// All items with the same key go to the same shard, so they run one at a
// time, never in parallel. Items with the same key and the same priority
// run in the order their Submit calls took effect (for calls made one after
// another by one goroutine, the order of the calls). Across priorities
// there is no order: a HIGH item overtakes MEDIUM and LOW items of the same
// key that are still queued. Callers that need one key's events strictly in
// order give them one priority.
//
// # Algorithm of a lane
//
// A lane is Dmitry Vyukov's bounded MPMC array queue ("Bounded MPMC
// queue", 1024cores.net) with the consumer side specialised to one
// goroutine. A ring of 2^k cells (k >= 1), each with a sequence number
// seq, and two 64-bit positions, tail (shared by producers) and head
// (private to the worker). Cell i starts with seq = i. One cell is not
// enough: "published at p" (p+1) and "free for p+1" (p+cap) would be equal.
//
//   - push: load tail into pos; if the cell at pos has seq == pos it is
//     free for pos: claim it with CAS(tail, pos, pos+1), write the value,
//     then store seq = pos+1 (publish). seq < pos means the cell still
//     holds the item from one lap ago: the lane is full and push fails.
//     seq > pos means another producer claimed pos first: reload and retry.
//   - pop: the cell at head is ready when seq == head+1; read the value,
//     clear it, store seq = head+cap (free for the next lap) and head++.
//     Any other seq means nothing is published at head: report empty.
//
// Invariants, for a cell at ring index i on lap L (position p = L*cap+i):
// seq == p (free for the producer of p), then seq == p+1 (published, owned
// by the consumer), then seq == p+cap (free for the next lap). Only the
// producer whose CAS took position p writes the cell's value in that lap,
// and only the consumer reads it; seq hands the cell between them.
// head <= tail <= head+cap at all times, which is the bound.
//
// Linearization: a push takes its place in the queue at its successful CAS
// on tail; items leave in that position order (FIFO). Publication is the
// later store of seq, so a pop can see an empty head while later positions
// are already published, when the producer of head was descheduled between
// its CAS and its store. Nothing is lost: that producer wakes the worker
// after its store, and every item behind it becomes visible then. Producers
// never wait for one another (a failed CAS means another producer
// succeeded, which makes the producer side lock-free); the consumer never
// waits at all. There is no allocation per item: items live in the ring.
//
// ABA: positions are 64-bit and only grow, and a cell's seq names the lap
// it belongs to, so a producer holding a stale position fails its CAS or
// its seq check instead of writing into a recycled cell. Positions would
// wrap after 2^64 pushes (about 584 years at 10^9 a second).
//
// Memory ordering: Go's sync/atomic operations are sequentially consistent.
// The producer's write of the value comes before its store of seq, and the
// consumer's load of seq that observes it comes before its read of the
// value, so the read sees the write; the consumer's clearing of the value
// and the next lap's write are ordered the same way through seq = p+cap.
// The race detector checks exactly these edges in the stress test.
//
// A bounded array ring was chosen over Vyukov's intrusive node-based MPSC
// queue (one atomic swap per push): it needs no node allocation or node
// pool, its bound gives back-pressure where a node queue grows without
// limit, and both have the same window in which a descheduled producer
// hides the items behind it.
//
// # Bounds and overflow
//
// Every lane holds at most its capacity (Config.HighCapacity and so on,
// per shard, rounded up to a power of two, at least 2). The overflow policy
// is reject: Submit returns ErrFull at once and the item is not queued,
// counted in Stats.Rejected. Nothing is dropped silently and no caller ever
// blocks.
//
// # Drain rule and starvation bound
//
// A worker runs turns. One turn: run HIGH items until HIGH is empty or
// HighBurst of them ran; then up to MediumBurst MEDIUM items, then up to
// LowBurst LOW items, and before each MEDIUM or LOW item run the HIGH items
// queued since, as long as the turn's HighBurst is not used up. A turn
// therefore runs at most B = HighBurst + MediumBurst + LowBurst items
// (336 with the defaults 256, 64, 16). This is the shape of gnet's event
// loop, which drains its urgent queue fully and takes at most a fixed
// number of normal tasks per turn, with one change: HIGH is also capped per
// turn, so a flood of HIGH items cannot starve the others.
//
// Bounds, counted in items run on the same shard, for an item that finds
// n items of its own priority ahead of it in its lane:
//
//   - MEDIUM: it starts before the end of the ⌊n/MediumBurst⌋+1-th turn
//     after the current one, so at most (⌊n/MediumBurst⌋ + 2) × B items run
//     before it, whatever the HIGH load.
//   - LOW: likewise with LowBurst: at most (⌊n/LowBurst⌋ + 2) × B items.
//   - HIGH: at most n + 1 + (⌊n/HighBurst⌋ + 1) × (MediumBurst + LowBurst)
//     items: the one running when it arrived, the n HIGH items ahead, and
//     one MEDIUM and LOW burst each time a turn's HighBurst runs out.
//
// (A producer descheduled between claiming a position and publishing it
// delays the items behind it by that time, as described above; the bounds
// count items run, not that pause.)
//
// With every lane saturated, the worker's time splits HighBurst :
// MediumBurst : LowBurst (76%, 19% and 5% with the defaults), and any spare
// share goes to the others. A bound in items becomes a bound in time only
// when handlers are short: they must not block on I/O without a deadline.
//
// # Concurrency contract
//
// Submit, Stats, ShardOf, Workers, Capacity, Shutdown and Close are safe
// for concurrent use and never block, except that Shutdown and Close wait
// for the workers. Each worker goroutine owns its shard's consumer side.
// An idle worker parks on a one-slot wake channel after announcing it in
// an atomic flag; a producer sends a token only when it sees the flag, so
// busy workers cost producers one atomic load. Handlers that panic are
// recovered and counted, the worker goes on; handlers must not call
// runtime.Goexit.
//
// Shutdown (or Close) makes Submit return ErrClosed, lets the workers run
// everything already queued and waits for them. Every item whose Submit
// returned nil runs, also when that Submit raced with Shutdown: a worker
// exits only once no Submit is between its closed check and its push. If
// Shutdown's context ends first, workers stop after their current turn and
// the rest is abandoned.
//
// Usage:
//
//	pool, err := pqueue.New(pqueue.Config{}, func(t task) { t.run() })
//	if err != nil { ... }
//	defer pool.Close()
//	if err := pool.Submit(roomKey, pqueue.High, task{...}); err != nil {
//		// ErrFull: answer the client with an error, never wait
//	}
package pqueue
