package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
)

// lossyHub is a fake broadcast server that, on purpose, drops some
// messages to its first subscriber and sends some twice to its second, and
// counts what it did. mu serialises every write to every connection.
type lossyHub struct {
	mu      sync.Mutex
	subs    []*fakeConn
	dropped atomic.Int64
	doubled atomic.Int64
}

func (h *lossyHub) serve(c *fakeConn) {
	c.accept101("")
	h.mu.Lock()
	h.subs = append(h.subs, c)
	h.mu.Unlock()
	for {
		f, err := c.next()
		if err != nil {
			return
		}
		switch {
		case f.OpCode == codec.OpClose:
			h.mu.Lock()
			c.send(codec.OpClose, f.Payload)
			h.mu.Unlock()
			return
		case f.OpCode == codec.OpText && len(f.Payload) > 0 && f.Payload[0] == 'B':
			h.broadcast(c, append([]byte(nil), f.Payload...))
		}
	}
}

// broadcast sends p to every connection but from: receiver 0 misses every
// message whose sequence number is a multiple of 5, receiver 1 gets every
// multiple of 4 twice.
func (h *lossyHub) broadcast(from *fakeConn, p []byte) {
	seq, _, err := ParseBroadcastPayload(p)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	for _, c := range h.subs {
		if c == from {
			continue
		}
		switch {
		case i == 0 && seq%5 == 0:
			h.dropped.Add(1)
		case i == 1 && seq%4 == 0:
			c.send(codec.OpText, p)
			c.send(codec.OpText, p)
			h.doubled.Add(1)
		default:
			c.send(codec.OpText, p)
		}
		i++
	}
}

// TestBroadcastCountsLossOnTheWire runs the broadcast scenario against a
// server that loses and duplicates deliveries, and checks that the harness
// counts exactly what the server did and still stops by itself.
func TestBroadcastCountsLossOnTheWire(t *testing.T) {
	hub := &lossyHub{}
	srv := startFake(t, nil, map[string]func(*fakeConn){"/lossy": hub.serve})
	const subs, messages = 6, 20
	cfg := Config{Target: srv.target("/lossy"), Conns: subs, Messages: messages, PublishRate: 200, Size: 64}
	start := time.Now()
	res, err := Run(context.Background(), Broadcast{}, &Env{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > broadcastDrain+5*time.Second {
		t.Errorf("run took %v; it should end %v after the last send", took, broadcastDrain)
	}
	got := func(name string) int64 {
		v, ok := res.Metrics.Get(name)
		if !ok {
			t.Fatalf("metric %s missing: %v", name, res.Metrics)
		}
		return int64(v)
	}
	if hub.dropped.Load() == 0 || hub.doubled.Load() == 0 {
		t.Fatalf("the hub dropped %d and doubled %d: the test proves nothing", hub.dropped.Load(), hub.doubled.Load())
	}
	if lost := got("lost"); lost != hub.dropped.Load() {
		t.Errorf("lost = %d, the server dropped %d", lost, hub.dropped.Load())
	}
	if dup := got("duplicated"); dup != hub.doubled.Load() {
		t.Errorf("duplicated = %d, the server doubled %d", dup, hub.doubled.Load())
	}
	if n := got("subscribers_with_loss"); n != 1 {
		t.Errorf("subscribers_with_loss = %d, want 1", n)
	}
	want := int64(subs*messages) - hub.dropped.Load() + hub.doubled.Load()
	if d := got("deliveries"); d != want {
		t.Errorf("deliveries = %d, want %d", d, want)
	}
}
