package dispatch

import (
	"context"
	"errors"
	"testing"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/dispatch/pqueue"
)

func newTestService(t testing.TB, cfg Config) *Service {
	t.Helper()
	keys, err := auth.LoadKeySet("bellhop-test-secret-of-32-bytes-or-more", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Verifier, err = auth.NewVerifier(keys, auth.Config{}); err != nil {
		t.Fatal(err)
	}
	cfg.Store = cluster.NewMemoryStore()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNewValidates checks New refuses a Config it cannot run with.
func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Verifier and Store succeeded")
	}
	keys, _ := auth.LoadKeySet("bellhop-test-secret-of-32-bytes-or-more", "")
	v, _ := auth.NewVerifier(keys, auth.Config{})
	_, err := New(Config{Verifier: v, Store: cluster.NewMemoryStore(), Queue: pqueue.Config{HighBurst: -1}})
	if !errors.Is(err, pqueue.ErrConfig) {
		t.Fatalf("bad queue config: %v", err)
	}
}

// TestSubmitOverloadAndClose fills the one worker's HIGH lane: the next
// job is refused with OVERLOADED at once, never waited for; after Close,
// jobs are refused as a shutdown.
func TestSubmitOverloadAndClose(t *testing.T) {
	s := newTestService(t, Config{Queue: pqueue.Config{Workers: 1, HighCapacity: 2}})
	release := make(chan struct{})
	started := make(chan struct{})
	if err := s.submit(1, High, func() { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	<-started
	for i := range 2 {
		if err := s.submit(uint64(i), High, func() {}); err != nil {
			t.Fatalf("job %d within capacity: %v", i, err)
		}
	}
	err := s.submit(7, High, func() {})
	if e := asError(err); e.Code != CodeOverloaded {
		t.Fatalf("job past capacity: %v, want OVERLOADED", err)
	}
	if n := s.metrics.rejected.Get(); n != 1 {
		t.Fatalf("rejected counted %d", n)
	}
	close(release)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.submit(1, High, func() {}); err != errShuttingDown {
		t.Fatalf("submit after Close: %v", err)
	}
}
