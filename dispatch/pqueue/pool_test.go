package pqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gate blocks handlers until opened, so a test can fill queues behind a
// running item.
type gate struct {
	entered chan struct{} // one token per handler that reached the gate
	open    chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 1024), open: make(chan struct{})}
}

func (g *gate) wait() {
	g.entered <- struct{}{}
	<-g.open
}

func mustNew[T any](t *testing.T, cfg Config, handle func(T)) *Pool[T] {
	t.Helper()
	p, err := New(cfg, handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p
}

func TestPoolOrderPerKey(t *testing.T) {
	const keys, perKey = 50, 200
	var mu sync.Mutex // the handler runs on several workers
	got := make(map[uint64][]int)
	p := mustNew(t, Config{Workers: 4}, func(it [2]uint64) {
		mu.Lock()
		got[it[0]] = append(got[it[0]], int(it[1]))
		mu.Unlock()
	})
	for i := range perKey {
		for k := range uint64(keys) {
			mustSubmit(t, p, k, Medium, [2]uint64{k, uint64(i)})
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for k := range uint64(keys) {
		seq := got[k]
		requireEqual(t, fmt.Sprintf("key %d items", k), len(seq), perKey)
		for i, v := range seq {
			if v != i {
				t.Fatalf("key %d: position %d holds item %d", k, i, v)
			}
		}
	}
}

// TestPoolSameKeySerial checks that items of one key never run in parallel.
func TestPoolSameKeySerial(t *testing.T) {
	var running, overlaps atomic.Int32
	p := mustNew(t, Config{Workers: 4}, func(int) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(10 * time.Microsecond)
		running.Add(-1)
	})
	var wg sync.WaitGroup
	for prod := range 4 {
		wg.Go(func() {
			for i := range 100 {
				for p.Submit(42, Priority(i%3), prod) != nil {
					time.Sleep(time.Microsecond)
				}
			}
		})
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "overlapping runs of one key", overlaps.Load(), int32(0))
}

func TestPoolFullNeverBlocks(t *testing.T) {
	g := newGate()
	p := mustNew(t, Config{Workers: 1, HighCapacity: 4, MediumCapacity: 2, LowCapacity: 8}, func(int) { g.wait() })
	mustSubmit(t, p, 1, Low, 0) // the worker takes it and blocks in the gate
	<-g.entered
	for prio, capacity := range []int{4, 2, 8} {
		for i := range capacity {
			mustSubmit(t, p, 1, Priority(prio), i)
		}
		start := time.Now()
		if err := p.Submit(1, Priority(prio), -1); !errors.Is(err, ErrFull) {
			t.Fatalf("%v: Submit at capacity = %v, want ErrFull", Priority(prio), err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Submit at capacity took %s", d)
		}
		requireEqual(t, "Capacity", p.Capacity(Priority(prio)), capacity)
	}
	st := p.Stats(Medium)
	requireEqual(t, "medium stats", st, Stats{Depth: 2, Submitted: 2, Rejected: 1})
	close(g.open)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "executed", p.Stats(High).Executed+p.Stats(Medium).Executed+p.Stats(Low).Executed, uint64(15))
}

func TestPoolCloseDrains(t *testing.T) {
	g := newGate()
	var ran atomic.Int64
	p := mustNew(t, Config{Workers: 2}, func(int) {
		g.wait()
		ran.Add(1)
	})
	const n = 300
	for i := range n {
		mustSubmit(t, p, uint64(i), Priority(i%3), i)
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	accepted := 0 // Submits that won the race with Close also run
	checkFor(t, 5*time.Second, time.Millisecond, func() error {
		switch err := p.Submit(1, High, 0); {
		case err == nil:
			accepted++
			return errors.New("Submit still accepted")
		case !errors.Is(err, ErrClosed):
			return fmt.Errorf("Submit during Close = %v, want ErrClosed", err)
		}
		return nil
	})
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v with items still queued", err)
	default:
	}
	close(g.open)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "ran", ran.Load(), int64(n+accepted))
	for prio := range Priority(NumPriorities) {
		if d := p.Stats(prio).Depth; d != 0 {
			t.Fatalf("%v depth after Close = %d", prio, d)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestPoolShutdownDeadline(t *testing.T) {
	g := newGate()
	// LowBurst 1: a turn runs one LOW item, and an aborted worker stops
	// after its current turn.
	p, err := New(Config{Workers: 1, LowBurst: 1}, func(int) { g.wait() })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustSubmit(t, p, 0, Low, i)
	}
	<-g.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a handler stuck = %v, want DeadlineExceeded", err)
	}
	close(g.open) // the running item finishes; the rest is abandoned
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats(Low)
	if st.Executed != 1 || st.Depth != 9 {
		t.Fatalf("after an expired Shutdown: %+v; want some items abandoned", st)
	}
}

func TestPoolSubmitInvalidPriority(t *testing.T) {
	p := mustNew(t, Config{Workers: 1}, func(int) {})
	if err := p.Submit(1, Priority(7), 0); !errors.Is(err, ErrPriority) {
		t.Fatalf("Submit(prio 7) = %v, want ErrPriority", err)
	}
	requireEqual(t, "Stats(7)", p.Stats(Priority(7)), Stats{})
	requireEqual(t, "Capacity(7)", p.Capacity(Priority(7)), 0)
}

func TestPoolShardOf(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 7, 64} {
		p := mustNew(t, Config{Workers: workers}, func(int) {})
		requireEqual(t, "Workers", p.Workers(), workers)
		counts := make([]int, workers)
		const keys = 64000
		for k := range uint64(keys) {
			s := p.ShardOf(k)
			if s < 0 || s >= workers {
				t.Fatalf("workers=%d: ShardOf(%d) = %d", workers, k, s)
			}
			requireEqual(t, "ShardOf stable", p.ShardOf(k), s)
			counts[s]++
		}
		for s, c := range counts { // sequential keys spread within ±10%
			if want := keys / workers; c < want*9/10 || c > want*11/10 {
				t.Fatalf("workers=%d: shard %d got %d of %d keys", workers, s, c, keys)
			}
		}
	}
}

// TestPoolIdleWakes checks that parked workers wake for new items again
// and again.
func TestPoolIdleWakes(t *testing.T) {
	done := make(chan int)
	p := mustNew(t, Config{Workers: 2}, func(n int) { done <- n })
	for i := range 50 {
		mustSubmit(t, p, uint64(i), Priority(i%3), i)
		select {
		case got := <-done:
			requireEqual(t, "ran", got, i)
		case <-time.After(5 * time.Second):
			t.Fatalf("item %d not run: a parked worker missed its wake-up", i)
		}
		time.Sleep(100 * time.Microsecond) // let the worker park again
	}
}
