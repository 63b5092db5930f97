package pqueue

import "sync/atomic"

// cacheLine is the padding unit that keeps fields written by different
// goroutines on different cache lines (64 bytes on amd64 and most arm64).
const cacheLine = 64

// slot is one cell of a ring. seq tells whose turn the cell is: seq == pos
// means free for the producer that claims position pos; seq == pos+1 means
// holding the item pushed at pos, ready for the consumer.
type slot[T any] struct {
	seq atomic.Uint64 // turn counter; the only synchronisation on the cell
	val T             // written by the claiming producer, read by the consumer
}

// ring is a bounded multi-producer single-consumer FIFO: Vyukov's bounded
// MPMC array queue with the consumer side specialised to one goroutine.
// The package doc states the algorithm and its invariants.
//
// push is safe for concurrent use by any number of goroutines. pop, empty
// and the head field belong to the single consumer (the shard's worker).
type ring[T any] struct {
	tail atomic.Uint64 // next position to claim; written by producers (CAS)
	_    [cacheLine - 8]byte

	mask  uint64    // len(slots)-1; len(slots) is a power of two; read-only
	slots []slot[T] // the cells; the slice header is read-only
	_     [cacheLine - 32]byte

	head uint64 // next position to consume; consumer-owned, no atomics
	_    [cacheLine - 8]byte
}

// init sizes r to capacity slots; capacity must be a power of two. Slot i
// starts with seq i: free for the producer of position i.
func (r *ring[T]) init(capacity int) {
	r.slots = make([]slot[T], capacity)
	r.mask = uint64(capacity - 1)
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
}

// push appends v, or reports false when the ring is full. It never waits:
// a failed CAS means another producer claimed the position, so the loop
// retries only while others make progress.
func (r *ring[T]) push(v T) bool {
	pos := r.tail.Load()
	for {
		s := &r.slots[pos&r.mask]
		switch dif := int64(s.seq.Load() - pos); {
		case dif == 0: // cell free for pos: try to claim it
			if r.tail.CompareAndSwap(pos, pos+1) {
				s.val = v
				s.seq.Store(pos + 1) // publish: the consumer may read val
				return true
			}
			pos = r.tail.Load()
		case dif < 0: // cell still holds the item of pos-cap: full
			return false
		default: // another producer claimed pos: catch up
			pos = r.tail.Load()
		}
	}
}

// pop removes the oldest published item. It reports false when the cell at
// head is not yet published: the ring is empty, or the producer that
// claimed head has not finished writing (its item, and any after it, become
// visible when it does). Consumer only.
func (r *ring[T]) pop() (T, bool) {
	var zero T
	s := &r.slots[r.head&r.mask]
	if s.seq.Load() != r.head+1 {
		return zero, false
	}
	v := s.val
	s.val = zero                     // drop references so the GC can free them
	s.seq.Store(r.head + r.mask + 1) // free the cell for position head+cap
	r.head++
	return v, true
}

// empty reports whether pop would return false now. Consumer only.
func (r *ring[T]) empty() bool {
	return r.slots[r.head&r.mask].seq.Load() != r.head+1
}

// submitted returns how many items were ever accepted by push. Safe for
// concurrent use.
func (r *ring[T]) submitted() uint64 { return r.tail.Load() }

// capacity returns the number of cells.
func (r *ring[T]) capacity() int { return len(r.slots) }
