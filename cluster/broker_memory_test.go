package cluster_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/clustertest"
)

func TestMemoryBroker(t *testing.T) {
	clustertest.RunBrokerSuite(t, func(t *testing.T, h cluster.Handler) cluster.Broker {
		return cluster.NewMemoryBroker(cluster.MemoryConfig{MaxHistory: clustertest.MaxHistory}, h)
	})
}

// clock is a settable time source for the broker. Safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClockedBroker(t *testing.T, cfg cluster.MemoryConfig) (*cluster.MemoryBroker, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	b := cluster.NewMemoryBroker(cfg, nil)
	t.Cleanup(func() { _ = b.Close() })
	return b, clk
}

func publishN(t *testing.T, b cluster.Broker, ch string, n int) cluster.Publication {
	t.Helper()
	var p cluster.Publication
	for i := range n {
		var err error
		if p, err = b.Publish(context.Background(), ch, []byte(strconv.Itoa(i)), cluster.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func recoverFrom(t *testing.T, b cluster.Broker, ch string, since cluster.Position) cluster.HistoryResult {
	t.Helper()
	var res cluster.HistoryResult
	if err := b.Recover(context.Background(), ch, since, 0, func(r cluster.HistoryResult) { res = r }); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestMemoryBrokerRetention trims history by age with an injected clock:
// a since whose next publication has expired is not recovered; one whose
// missed publications are all still kept is.
func TestMemoryBrokerRetention(t *testing.T) {
	b, clk := newClockedBroker(t, cluster.MemoryConfig{Retention: time.Hour})
	publishN(t, b, "r", 5) // offsets 1-5 at 10:00
	clk.advance(30 * time.Minute)
	last := publishN(t, b, "r", 5) // offsets 6-10 at 10:30
	clk.advance(31 * time.Minute)  // 1-5 expired at 11:00
	at := func(off uint64) cluster.Position { return cluster.Position{Epoch: b.Epoch(), Offset: off} }
	cases := []struct {
		since     uint64
		recovered bool
		missed    int
	}{
		{2, false, 0}, // 3-5 expired
		{4, false, 0}, // 5 expired
		{5, true, 5},  // 6-10 kept
		{9, true, 1},
		{10, true, 0},
	}
	for _, tc := range cases {
		res := recoverFrom(t, b, "r", at(tc.since))
		if res.Recovered != tc.recovered || len(res.Publications) != tc.missed || res.Top != last.Position {
			t.Fatalf("since %d at 11:01: recovered %v with %d (top %v), want %v with %d", tc.since, res.Recovered,
				len(res.Publications), res.Top, tc.recovered, tc.missed)
		}
	}
	clk.advance(time.Hour) // everything expired: only an up-to-date since recovers
	if res := recoverFrom(t, b, "r", at(9)); res.Recovered {
		t.Fatalf("since 9 with empty history: %+v", res)
	}
	if res := recoverFrom(t, b, "r", at(10)); !res.Recovered || res.Top.Offset != 10 {
		t.Fatalf("since top with empty history: %+v", res)
	}
	// Offsets continue after the history emptied: an id is never reused.
	if p := publishN(t, b, "r", 1); p.Offset != 11 {
		t.Fatalf("offset %d after expiry, want 11", p.Offset)
	}
}

// TestMemoryBrokerIdempotencyWindow checks that a key is honoured for the
// window and forgotten after it.
func TestMemoryBrokerIdempotencyWindow(t *testing.T) {
	b, clk := newClockedBroker(t, cluster.MemoryConfig{IdempotencyWindow: time.Minute})
	ctx := context.Background()
	pub := func() cluster.Publication {
		p, err := b.Publish(ctx, "i", []byte("x"), cluster.PublishOptions{IdempotencyKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := pub()
	clk.advance(59 * time.Second)
	if p := pub(); p.Position != first.Position {
		t.Fatalf("within the window: %v, want %v", p.Position, first.Position)
	}
	clk.advance(time.Second)
	if p := pub(); p.Offset != 2 {
		t.Fatalf("after the window: offset %d, want a new publication", p.Offset)
	}
}

// TestMemoryBrokerIdempotencyBound checks that a full key table forgets
// expired keys first, and otherwise stops remembering new ones.
func TestMemoryBrokerIdempotencyBound(t *testing.T) {
	// One key per shard at most: 64 shards.
	b, clk := newClockedBroker(t, cluster.MemoryConfig{IdempotencyWindow: time.Minute, MaxIdempotencyKeys: 1})
	ctx := context.Background()
	pub := func(key string) cluster.Publication {
		p, err := b.Publish(ctx, "bound", []byte(key), cluster.PublishOptions{IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := pub("a")
	if p := pub("b"); p.Offset != 2 {
		t.Fatalf("second key: offset %d", p.Offset)
	}
	if p := pub("b"); p.Offset != 3 {
		t.Fatalf("a key past the bound was remembered: offset %d, want 3", p.Offset)
	}
	if p := pub("a"); p.Position != a.Position {
		t.Fatalf("the remembered key was lost: %v, want %v", p.Position, a.Position)
	}
	clk.advance(2 * time.Minute) // "a" expired: room for "b"
	b4 := pub("b")
	if p := pub("b"); b4.Offset != 4 || p.Position != b4.Position {
		t.Fatalf("after expiry the new key was not remembered: offsets %d then %d, want 4 twice", b4.Offset, p.Offset)
	}
}

// TestMemoryBrokerEpoch checks each broker has its own epoch, so a
// position from before a restart is not recovered.
func TestMemoryBrokerEpoch(t *testing.T) {
	a := cluster.NewMemoryBroker(cluster.MemoryConfig{}, nil)
	defer a.Close()
	b := cluster.NewMemoryBroker(cluster.MemoryConfig{}, nil)
	defer b.Close()
	if a.Epoch() == b.Epoch() || len(a.Epoch()) != 8 {
		t.Fatalf("epochs %q and %q: want two distinct 8-character epochs", a.Epoch(), b.Epoch())
	}
	p := publishN(t, a, "e", 3)
	publishN(t, b, "e", 3)
	if res := recoverFrom(t, b, "e", p.Position); res.Recovered {
		t.Fatalf("a position of another epoch recovered: %+v", res)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
