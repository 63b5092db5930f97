package pqueue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestWorkersParkWhenIdle checks that idle workers block on their wake
// channel instead of spinning: synctest.Wait returns only once every
// goroutine of the bubble is durably blocked.
func TestWorkersParkWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int32
		p, err := New(Config{Workers: 3}, func(int) { ran.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		for round := 1; round <= 3; round++ {
			synctest.Wait()
			for i := range p.shards {
				requireEqual(t, "worker parked", p.shards[i].sleeping.Load(), true)
			}
			for k := range 10 {
				mustSubmit(t, p, uint64(k), Priority(k%3), k)
			}
			synctest.Wait()
			requireEqual(t, "ran", ran.Load(), int32(10*round))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestShutdownDeadlineFakeClock checks on the bubble's fake clock that
// Shutdown returns when its context ends, not before and not after.
func TestShutdownDeadlineFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p, err := New(Config{Workers: 1}, func(int) { <-release })
		if err != nil {
			t.Fatal(err)
		}
		mustSubmit(t, p, 0, High, 1)
		mustSubmit(t, p, 0, High, 2)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
		}
		requireEqual(t, "waited", time.Since(start), time.Second)
		requireEqual(t, "Submit after Shutdown", p.Submit(0, High, 3), ErrClosed)
		close(release)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		// HIGH runs whole turns of up to HighBurst items, so the second
		// item still ran in the turn the abort found in progress.
		requireEqual(t, "stats", p.Stats(High), Stats{Submitted: 2, Executed: 2})
	})
}
