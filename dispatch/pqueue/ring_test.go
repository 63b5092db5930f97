package pqueue

import (
	"runtime"
	"sync"
	"testing"
)

func newRing[T any](capacity int) *ring[T] {
	r := new(ring[T])
	r.init(capacity)
	return r
}

func TestRingFIFOAndFull(t *testing.T) {
	for _, capacity := range []int{2, 4, 8, 64} {
		r := newRing[int](capacity)
		for lap := range 5 { // several laps exercise the seq arithmetic
			if !r.empty() {
				t.Fatalf("cap=%d lap=%d: not empty before pushing", capacity, lap)
			}
			for i := range capacity {
				if !r.push(lap*1000 + i) {
					t.Fatalf("cap=%d lap=%d: push %d refused below capacity", capacity, lap, i)
				}
			}
			if r.push(-1) {
				t.Fatalf("cap=%d lap=%d: push accepted at capacity", capacity, lap)
			}
			for i := range capacity {
				v, ok := r.pop()
				if !ok || v != lap*1000+i {
					t.Fatalf("cap=%d lap=%d: pop %d = %d, %v", capacity, lap, i, v, ok)
				}
			}
			if v, ok := r.pop(); ok {
				t.Fatalf("cap=%d lap=%d: pop from empty ring = %d", capacity, lap, v)
			}
		}
		requireEqual(t, "submitted", r.submitted(), uint64(5*capacity))
	}
}

func TestRingInterleaved(t *testing.T) {
	r := newRing[int](4)
	next, want := 0, 0
	for round := range 100 {
		for range round%4 + 1 {
			if r.push(next) {
				next++
			}
		}
		for range round%3 + 1 {
			if v, ok := r.pop(); ok {
				requireEqual(t, "pop", v, want)
				want++
			}
		}
	}
	if next-want > 4 || next-want < 0 {
		t.Fatalf("ring holds %d items, want 0..4", next-want)
	}
}

func TestRingClearsPoppedValue(t *testing.T) {
	r := newRing[*int](2)
	x := 7
	r.push(&x)
	if v, ok := r.pop(); !ok || v != &x {
		t.Fatalf("pop = %v, %v", v, ok)
	}
	if r.slots[0].val != nil {
		t.Fatal("popped cell still references the item: it would be kept from the GC")
	}
}

// TestRingConcurrentProducers pushes from many goroutines into a small
// ring while one consumer pops: each value must come out exactly once and,
// per producer, in push order.
func TestRingConcurrentProducers(t *testing.T) {
	const producers, perProducer = 8, 20000
	r := newRing[uint64](64)
	var wg sync.WaitGroup
	for id := range producers {
		wg.Go(func() {
			for i := range uint64(perProducer) {
				for !r.push(uint64(id)<<32 | i) {
					runtime.Gosched() // full: let the consumer run
				}
			}
		})
	}
	var next [producers]uint64
	for got := 0; got < producers*perProducer; {
		v, ok := r.pop()
		if !ok {
			runtime.Gosched()
			continue
		}
		id, i := v>>32, v&(1<<32-1)
		if i != next[id] {
			t.Fatalf("producer %d: got item %d, want %d", id, i, next[id])
		}
		next[id]++
		got++
	}
	wg.Wait()
	if v, ok := r.pop(); ok {
		t.Fatalf("extra item %d", v)
	}
}
