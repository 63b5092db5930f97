package pqueue

import (
	"testing"
	"time"
)

// checkFor polls fn every interval until it returns nil or total passes,
// then fails with fn's last error.
func checkFor(t *testing.T, total, every time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", total, err)
		}
		time.Sleep(every)
	}
}

// requireEqual fails the test when got != want.
func requireEqual[V comparable](t *testing.T, what string, got, want V) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

// newTestWorker builds a Pool with no running workers and a worker for
// shard 0 that the test drives by calling turn itself, so the order of
// execution is deterministic.
func newTestWorker[T any](t *testing.T, cfg Config, handle func(T)) (*Pool[T], *worker[T]) {
	t.Helper()
	cfg.Workers = 1
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	p := newPool[T](cfg)
	return p, p.newWorker(0, handle)
}

// mustSubmit submits item or fails the test.
func mustSubmit[T any](t *testing.T, p *Pool[T], key uint64, prio Priority, item T) {
	t.Helper()
	if err := p.Submit(key, prio, item); err != nil {
		t.Fatalf("Submit(%d, %v): %v", key, prio, err)
	}
}
