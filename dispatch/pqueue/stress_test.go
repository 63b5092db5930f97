package pqueue

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stressItem identifies one submitted item.
type stressItem struct {
	id   uint32 // index into hits
	prod uint16 // producer goroutine
	key  uint8
	prio Priority
}

// laneKey names one (producer, key, priority) stream, whose items must run
// in submission order.
type laneKey struct {
	prod uint16
	key  uint8
	prio Priority
}

// TestStressRace has many producers submit into small lanes (so ErrFull
// and ring wrap-around happen all the time) while Close races with them.
// Every accepted item must run exactly once, no refused item may run, and
// each producer's items of one key and priority must run in order. The
// handler keeps its order state per shard without a lock: the race
// detector checks that a shard's items really run on one goroutine.
func TestStressRace(t *testing.T) {
	const producers, perProducer, keys = 8, 20000, 16
	hits := make([]atomic.Uint32, producers*perProducer)
	accepted := make([]bool, producers*perProducer)
	var p *Pool[stressItem]
	last := make([]map[laneKey]uint32, 4) // per shard, owned by its worker
	for i := range last {
		last[i] = make(map[laneKey]uint32)
	}
	var disorder atomic.Int32
	p = mustNew(t, Config{Workers: 4, HighCapacity: 16, MediumCapacity: 32, LowCapacity: 8,
		HighBurst: 8, MediumBurst: 4, LowBurst: 2},
		func(it stressItem) {
			hits[it.id].Add(1)
			lk := laneKey{it.prod, it.key, it.prio}
			m := last[p.ShardOf(uint64(it.key))]
			if prev, ok := m[lk]; ok && prev >= it.id {
				disorder.Add(1)
			}
			m[lk] = it.id
		})
	var wg sync.WaitGroup
	var submitted atomic.Int64
	for prod := range uint16(producers) {
		wg.Go(func() {
			for i := range uint32(perProducer) {
				id := uint32(prod)*perProducer + i
				it := stressItem{id: id, prod: prod, key: uint8(id*7) % keys, prio: Priority(id % 3)}
				err := p.Submit(uint64(it.key), it.prio, it)
				for errors.Is(err, ErrFull) {
					runtime.Gosched()
					err = p.Submit(uint64(it.key), it.prio, it)
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Submit: %v", err)
					return
				}
				accepted[id] = true
				submitted.Add(1)
			}
		})
	}
	// Close once about half the items are in, while producers still run.
	checkFor(t, 30*time.Second, time.Millisecond, func() error {
		if submitted.Load() < producers*perProducer/2 {
			return errors.New("producers too slow")
		}
		return nil
	})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var nAccepted, nRun uint64
	for id := range hits {
		want := uint32(0)
		if accepted[id] {
			want = 1
			nAccepted++
		}
		if got := hits[id].Load(); got != want {
			t.Fatalf("item %d (accepted=%v) ran %d times", id, accepted[id], got)
		}
	}
	requireEqual(t, "out-of-order items", disorder.Load(), int32(0))
	var st Stats
	for prio := range Priority(NumPriorities) {
		s := p.Stats(prio)
		st.Submitted += s.Submitted
		st.Executed += s.Executed
		st.Depth += s.Depth
		st.Rejected += s.Rejected
		nRun += s.Executed
	}
	requireEqual(t, "Stats.Submitted", st.Submitted, nAccepted)
	requireEqual(t, "Stats.Executed", nRun, nAccepted)
	requireEqual(t, "Stats.Depth", st.Depth, uint64(0))
	t.Logf("accepted %d of %d items before Close; %d ErrFull retries", nAccepted, len(hits), st.Rejected)
}
