package cluster

import (
	"context"
	"testing"
	"time"
)

// TestMemoryBrokerSweep checks the janitor's pass: expired history and
// idempotency keys are dropped from every shard, the offsets stay.
func TestMemoryBrokerSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewMemoryBroker(MemoryConfig{Retention: time.Hour, IdempotencyWindow: time.Minute, Now: func() time.Time { return now }}, nil)
	defer b.Close()
	ctx := context.Background()
	for i, ch := range []string{"a", "b", "c"} {
		for range i + 1 {
			if _, err := b.Publish(ctx, ch, []byte("x"), PublishOptions{IdempotencyKey: ch + time.Duration(i).String()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now = now.Add(2 * time.Hour)
	b.sweep()
	for i := range b.shards {
		s := &b.shards[i]
		if len(s.idem) != 0 {
			t.Fatalf("shard %d keeps %d expired keys", i, len(s.idem))
		}
		for name, c := range s.chans {
			if len(c.history) != 0 || c.offset == 0 {
				t.Fatalf("channel %s: %d publications kept, offset %d", name, len(c.history), c.offset)
			}
		}
	}
}

// TestMemoryBrokerJanitorStops checks Close stops the janitor goroutine.
func TestMemoryBrokerJanitorStops(t *testing.T) {
	b := &MemoryBroker{cfg: MemoryConfig{}.withDefaults(), stop: make(chan struct{}), done: make(chan struct{})}
	for i := range b.shards {
		b.shards[i].chans = make(map[string]*memChannel)
		b.shards[i].idem = make(map[string]idemEntry)
	}
	go b.janitor(time.Millisecond)
	time.Sleep(5 * time.Millisecond) // let it tick a few times; the race detector watches the sweeps
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.done:
	default:
		t.Fatal("janitor still running after Close")
	}
}

// TestHistoryCapacity checks that trimming by count releases the array
// instead of growing it for ever.
func TestHistoryCapacity(t *testing.T) {
	b := NewMemoryBroker(MemoryConfig{MaxHistory: 8}, nil)
	defer b.Close()
	for range 1000 {
		if _, err := b.Publish(context.Background(), "cap", []byte("x"), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s := b.shard("cap")
	c := s.chans["cap"]
	if len(c.history) != 8 || cap(c.history) > 2*8+8 || c.history[7].Offset != 1000 {
		t.Fatalf("history len %d cap %d last %d, want 8 kept, capacity bounded", len(c.history), cap(c.history), c.history[len(c.history)-1].Offset)
	}
}
