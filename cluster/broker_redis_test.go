package cluster_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/clustertest"
	"github.com/bellhop/bellhop/cluster/redistest"
)

// newRedisBroker returns a broker on srv with the suite's history size.
func newRedisBroker(t *testing.T, addr string, h cluster.Handler) *cluster.RedisBroker {
	t.Helper()
	b, err := cluster.NewRedisBroker(cluster.RedisConfig{
		Addrs: []string{addr}, Handler: h, MaxHistory: clustertest.MaxHistory, Timeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSuiteOnRedisBroker(t *testing.T) {
	srv := redistest.Start(t)
	clustertest.RunBrokerSuite(t, func(t *testing.T, h cluster.Handler) cluster.Broker {
		return newRedisBroker(t, srv.Addr, h)
	})
}

// TestRedisBrokerAcrossNodes checks that a publication on one node reaches
// the subscribers of two others once, in order.
func TestRedisBrokerAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	type got struct{ pubs chan cluster.Publication }
	nodes := make([]got, 3)
	brokers := make([]*cluster.RedisBroker, 3)
	for i := range nodes {
		nodes[i].pubs = make(chan cluster.Publication, 100)
		ch := nodes[i].pubs
		brokers[i] = newRedisBroker(t, srv.Addr, func(p cluster.Publication) { ch <- p })
		t.Cleanup(func() { _ = brokers[i].Close() })
	}
	ctx := context.Background()
	for _, b := range brokers[1:] {
		if err := b.Subscribe(ctx, "h1:rooms"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if _, err := brokers[0].Publish(ctx, "h1:rooms", []byte{byte('a' + i)}, cluster.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for n, node := range nodes[1:] {
		for i := range 10 {
			select {
			case p := <-node.pubs:
				if p.Offset != uint64(i+1) || string(p.Data) != string(rune('a'+i)) {
					t.Fatalf("node %d delivery %d: %v %q", n+1, i, p.Position, p.Data)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("node %d: delivery %d missing", n+1, i)
			}
		}
	}
	select {
	case p := <-nodes[0].pubs:
		t.Fatalf("the publishing node, not subscribed, got %v", p.Position)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestRedisBrokerEpochAfterDataLoss restarts Redis empty: positions of the
// old history must read as not recovered, never as a silent gap.
func TestRedisBrokerEpochAfterDataLoss(t *testing.T) {
	srv := redistest.Start(t)
	b := newRedisBroker(t, srv.Addr, func(cluster.Publication) {})
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	var last cluster.Publication
	for range 5 {
		p, err := b.Publish(ctx, "h1:rooms", []byte("x"), cluster.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last = p
	}
	srv.Kill()
	srv.Restart()
	var p cluster.Publication
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for { // each connection finds the old one gone on its next command (EOF), then reconnects
		if p, err = b.Publish(ctx, "h1:rooms", []byte("y"), cluster.PublishOptions{}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || p.Pending {
		t.Fatalf("publish after the restart: %+v, %v", p, err)
	}
	if p.Epoch == last.Epoch {
		t.Fatalf("same epoch %s after Redis lost its data", p.Epoch)
	}
	var res cluster.HistoryResult
	if err := b.Recover(ctx, "h1:rooms", last.Position, 0, func(r cluster.HistoryResult) { res = r }); err != nil {
		t.Fatal(err)
	}
	// Not recovered, with the new history from its start.
	if res.Recovered || len(res.Publications) != 1 || res.Publications[0].Position != p.Position || res.Top != p.Position {
		t.Fatalf("recover from the lost epoch: %+v", res)
	}
}

// TestRedisBrokerRepairsGaps makes the pub/sub connection miss
// publications (they are written to the history without being published,
// as happens when a node's pub/sub connection drops): the node must
// deliver them from the history, in order, before the next one; and when
// the history no longer has them, tell OnGap and go on.
func TestRedisBrokerRepairsGaps(t *testing.T) {
	srv := redistest.Start(t)
	pubs := make(chan cluster.Publication, 100)
	gaps := make(chan string, 10)
	b, err := cluster.NewRedisBroker(cluster.RedisConfig{
		Addrs: []string{srv.Addr}, Handler: func(p cluster.Publication) { pubs <- p },
		OnGap: func(ch string) { gaps <- ch }, Timeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	const ch = "h1:rooms"
	if err := b.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	publish := func(data string) cluster.Publication {
		t.Helper()
		p, err := b.Publish(ctx, ch, []byte(data), cluster.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	expect := func(offset uint64, data string) {
		t.Helper()
		select {
		case p := <-pubs:
			if p.Offset != offset || string(p.Data) != data {
				t.Fatalf("got %d %q, want %d %q", p.Offset, p.Data, offset, data)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("offset %d not delivered", offset)
		}
	}
	publish("one")
	expect(1, "one")
	// Offsets 2 and 3 reach the history but not pub/sub.
	for _, d := range []string{"two", "three"} {
		off, err := srv.Do("incr", "bellhop:{"+ch+"}:seq")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Do("xadd", "bellhop:{"+ch+"}:stream", "*", "o", off, "d", d); err != nil {
			t.Fatal(err)
		}
	}
	publish("four")
	expect(2, "two")
	expect(3, "three")
	expect(4, "four")
	// Offset 5 is lost entirely: only the counter moved.
	if _, err := srv.Do("incr", "bellhop:{"+ch+"}:seq"); err != nil {
		t.Fatal(err)
	}
	publish("six")
	select {
	case got := <-gaps:
		if got != ch {
			t.Fatalf("OnGap(%q)", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnGap not called for a gap the history cannot fill")
	}
	expect(6, "six")
	publish("seven")
	expect(7, "seven")
}

func TestNewRedisBrokerRefuses(t *testing.T) {
	h := func(cluster.Publication) {}
	tests := []struct {
		name string
		cfg  cluster.RedisConfig
		want string
	}{
		{"no handler", cluster.RedisConfig{Addrs: []string{"127.0.0.1:1"}}, "Handler is required"},
		{"no address", cluster.RedisConfig{Handler: h}, "Addrs is empty"},
		{"nothing listening", cluster.RedisConfig{Addrs: []string{"127.0.0.1:1"}, Handler: h}, "cannot connect"},
	}
	for _, tt := range tests {
		if _, err := cluster.NewRedisBroker(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestRedisBrokerIgnoresForeignMessages publishes malformed messages on
// the broker's pub/sub channel: they are dropped, and later publications
// still arrive.
func TestRedisBrokerIgnoresForeignMessages(t *testing.T) {
	srv := redistest.Start(t)
	pubs := make(chan cluster.Publication, 10)
	b := newRedisBroker(t, srv.Addr, func(p cluster.Publication) { pubs <- p })
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	if err := b.Subscribe(ctx, "h1:x"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "a b", "e 0 1 d", "e x 1 d", " 1 1 d", "e 1 x d"} {
		if _, err := srv.Do("spublish", "bellhop:{h1:x}:pub", bad); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Publish(ctx, "h1:x", []byte("ok"), cluster.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pubs:
		if string(p.Data) != "ok" || p.Offset != 1 {
			t.Fatalf("got %v %q", p.Position, p.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery")
	}
}

// TestSuiteOnRedisCluster runs the shared suite against a Redis Cluster of
// three masters: a channel's keys share a slot through their hash tag.
func TestSuiteOnRedisCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	clustertest.RunBrokerSuite(t, func(t *testing.T, h cluster.Handler) cluster.Broker {
		b, err := cluster.NewRedisBroker(cluster.RedisConfig{
			Addrs: rc.Addrs(), Handler: h, MaxHistory: clustertest.MaxHistory, Timeout: 3 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// TestRedisBrokerCircuitBreaker stops Redis under a broker without an
// outbox: publishes fail, the breaker
// opens after the spec's volume of failures and then fails calls at once
// without waiting on Redis; once Redis is back and the reset time passed,
// a probe closes it again.
func TestRedisBrokerCircuitBreaker(t *testing.T) {
	srv := redistest.Start(t)
	b, err := cluster.NewRedisBroker(cluster.RedisConfig{
		Addrs: []string{srv.Addr}, Handler: func(cluster.Publication) {}, Timeout: time.Second, BreakerReset: 300 * time.Millisecond,
		OutboxMessages: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	publish := func() error {
		_, err := b.Publish(ctx, "h1:rooms", []byte("x"), cluster.PublishOptions{})
		return err
	}
	if err := publish(); err != nil || b.Health() != cluster.Healthy {
		t.Fatalf("healthy Redis: %v, %v", err, b.Health())
	}
	srv.Stop()
	var failures int
	for failures = 0; failures < 50; failures++ {
		if err := publish(); errors.Is(err, cluster.ErrUnavailable) {
			break
		} else if err == nil {
			t.Fatal("a publish succeeded with Redis stopped")
		}
	}
	if failures < 5 || failures >= 50 {
		t.Fatalf("breaker opened after %d failures", failures)
	}
	if b.Health() != cluster.Degraded || b.Health().String() != "degraded" {
		t.Fatalf("health %v while open", b.Health())
	}
	start := time.Now()
	if err := publish(); !errors.Is(err, cluster.ErrUnavailable) || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("open breaker: %v after %v, want ErrUnavailable at once", err, time.Since(start))
	}
	if err := b.Recover(ctx, "h1:rooms", cluster.Position{}, 0, func(cluster.HistoryResult) {}); !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("Recover with the breaker open: %v", err)
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for publish() != nil {
		if time.Now().After(deadline) {
			t.Fatal("breaker never closed after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if b.Health() != cluster.Healthy {
		t.Fatalf("health %v after a successful probe", b.Health())
	}
}

func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	storeSuite(t, func(t *testing.T) cluster.Store {
		b := newRedisBroker(t, srv.Addr, func(cluster.Publication) {})
		t.Cleanup(func() { _ = b.Close() })
		_, _ = srv.Do("flushall") // each test starts empty
		return b.Store()
	})
}

func TestRedisStoreOnCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	n := 0
	storeSuite(t, func(t *testing.T) cluster.Store {
		b, err := cluster.NewRedisBroker(cluster.RedisConfig{
			Addrs: rc.Addrs(), Handler: func(cluster.Publication) {}, Prefix: "s" + strconv.Itoa(n), Timeout: 3 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		n++ // a prefix per test: each starts empty
		t.Cleanup(func() { _ = b.Close() })
		return b.Store()
	})
}

// TestRedisStoreSharedBetweenNodes: a record written through node A is read
// by node B, and B's cached copy is replaced as soon as A changes it.
func TestRedisStoreSharedBetweenNodes(t *testing.T) {
	srv := redistest.Start(t)
	nodeA := newRedisBroker(t, srv.Addr, func(cluster.Publication) {})
	nodeB := newRedisBroker(t, srv.Addr, func(cluster.Publication) {})
	t.Cleanup(func() { _ = nodeA.Close(); _ = nodeB.Close() })
	a, b := nodeA.Store(), nodeB.Store()
	ctx := context.Background()
	if _, err := a.Put(ctx, "rooms:grand", "101", []byte("DIRTY"), 0); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Get(ctx, "rooms:grand", "101"); err != nil || string(r.Value) != "DIRTY" || r.Version != 1 {
		t.Fatalf("node B read %+v, %v", r, err)
	}
	if _, err := a.Put(ctx, "rooms:grand", "101", []byte("CLEANING"), 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := b.Get(ctx, "rooms:grand", "101")
		if err == nil && string(r.Value) == "CLEANING" && r.Version == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B still reads %+v, %v after node A's change", r, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if recs, err := b.List(ctx, "rooms:grand"); err != nil || len(recs) != 1 || string(recs[0].Value) != "CLEANING" {
		t.Fatalf("node B lists %+v, %v", recs, err)
	}
}

// TestRedisBrokerResubscribeChurn unsubscribes and subscribes one channel
// in quick succession, as clients that reconnect do: the node must end up
// subscribed, hearing the next publication once.
func TestRedisBrokerResubscribeChurn(t *testing.T) {
	srv := redistest.Start(t)
	pubs := make(chan cluster.Publication, 10)
	b := newRedisBroker(t, srv.Addr, func(p cluster.Publication) { pubs <- p })
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	for range 50 {
		if err := b.Subscribe(ctx, "h1:room:101"); err != nil {
			t.Fatal(err)
		}
		if err := b.Unsubscribe(ctx, "h1:room:101"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Subscribe(ctx, "h1:room:101"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let any late unsubscribe land
	if _, err := b.Publish(ctx, "h1:room:101", []byte("x"), cluster.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pubs:
	case <-time.After(3 * time.Second):
		t.Fatal("subscribed, but the publication never came")
	}
	select {
	case p := <-pubs:
		t.Fatalf("heard twice: %v", p.Position)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestRedisStoreReadsItsOwnWrites reads each record right after writing
// or deleting it, many times: the cached copy must never hide the write.
func TestRedisStoreReadsItsOwnWrites(t *testing.T) {
	srv := redistest.Start(t)
	b := newRedisBroker(t, srv.Addr, func(cluster.Publication) {})
	t.Cleanup(func() { _ = b.Close() })
	s, ctx := b.Store(), context.Background()
	var ver uint64
	for i := range 300 {
		if i%50 == 49 {
			if err := s.Delete(ctx, "t", "k", ver); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "t", "k"); !errors.Is(err, cluster.ErrNotFound) {
				t.Fatalf("Get right after Delete: %v", err)
			}
			if recs, err := s.List(ctx, "t"); err != nil || len(recs) != 0 {
				t.Fatalf("List right after Delete: %v %v", recs, err)
			}
			ver = 0
			continue
		}
		if _, err := s.Get(ctx, "t", "k"); err != nil && !errors.Is(err, cluster.ErrNotFound) {
			t.Fatal(err) // fills the cache with the current copy
		}
		r, err := s.Put(ctx, "t", "k", []byte(strconv.Itoa(i)), ver)
		if err != nil {
			t.Fatal(err)
		}
		ver = r.Version
		if got, err := s.Get(ctx, "t", "k"); err != nil || got.Version != ver || string(got.Value) != strconv.Itoa(i) {
			t.Fatalf("Get right after Put %d: %+v, %v", ver, got, err)
		}
		if recs, err := s.List(ctx, "t"); err != nil || len(recs) != 1 || recs[0].Version != ver {
			t.Fatalf("List right after Put %d: %+v, %v", ver, recs, err)
		}
	}
}

func TestRedisCoordinator(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	coordSuite(t, func(t *testing.T) cluster.Coordinator {
		n++
		b, err := cluster.NewRedisBroker(cluster.RedisConfig{
			Addrs: []string{srv.Addr}, Handler: func(cluster.Publication) {}, Prefix: "c" + strconv.Itoa(n),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b.Coordinator()
	})
}

func TestRedisCoordinatorOnCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	n := 0
	coordSuite(t, func(t *testing.T) cluster.Coordinator {
		n++
		b, err := cluster.NewRedisBroker(cluster.RedisConfig{
			Addrs: rc.Addrs(), Handler: func(cluster.Publication) {}, Prefix: "c" + strconv.Itoa(n),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b.Coordinator()
	})
}

// TestRedisBrokerOutbox stops Redis under two nodes: node A's publishes
// are delivered to its own subscribers at once, marked pending, and
// queued; node B hears nothing yet. Redis comes back empty: the outbox
// replays in order, node B gets every queued publication once and in
// order, node A none a second time, both are told that the old history
// is gone (their subscribers resync), and what follows flows normally.
func TestRedisBrokerOutbox(t *testing.T) {
	srv := redistest.Start(t)
	type node struct {
		b    *cluster.RedisBroker
		pubs chan cluster.Publication
		gaps chan string
	}
	nodes := make([]node, 2)
	var unsubscribed atomic.Int64 // deliveries of h1:probe, which no node subscribed to
	for i := range nodes {
		pubs, gaps := make(chan cluster.Publication, 100), make(chan string, 10)
		b, err := cluster.NewRedisBroker(cluster.RedisConfig{
			Addrs: []string{srv.Addr}, Handler: func(p cluster.Publication) {
				if p.Channel == "h1:probe" {
					unsubscribed.Add(1)
					return
				}
				pubs <- p
			},
			OnGap:   func(ch string) { gaps <- ch },
			Timeout: time.Second, BreakerReset: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		nodes[i] = node{b, pubs, gaps}
	}
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	for _, n := range nodes {
		if err := n.b.Subscribe(ctx, "h1:alerts"); err != nil {
			t.Fatal(err)
		}
	}
	next := func(n node, want string, pending bool) {
		t.Helper()
		select {
		case p := <-n.pubs:
			if string(p.Data) != want || p.Pending != pending {
				t.Fatalf("got %q pending=%v, want %q pending=%v", p.Data, p.Pending, want, pending)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no delivery of %q", want)
		}
	}
	publish := func(data string) cluster.Publication {
		t.Helper()
		p, err := a.b.Publish(ctx, "h1:alerts", []byte(data), cluster.PublishOptions{})
		if err != nil {
			t.Fatalf("publish %s: %v", data, err)
		}
		return p
	}
	publish("m1")
	next(a, "m1", false)
	next(b, "m1", false)

	srv.Stop()
	awaitQueued(t, a.b)
	var last uint64
	var m4 cluster.Position
	for i := 2; i <= 6; i++ {
		p := publish("m" + strconv.Itoa(i))
		if !p.Pending || p.Offset <= last || p.Epoch == "" {
			t.Fatalf("publish with Redis stopped: %+v, want pending", p)
		}
		if i == 4 {
			m4 = p.Position
		}
		last = p.Offset
		next(a, "m"+strconv.Itoa(i), true) // local delivery goes on
	}
	if got := a.b.Outboxed(); got != 6 { // and the probe
		t.Fatalf("outbox holds %d, want 6", got)
	}
	if _, err := a.b.Store().Put(ctx, "t", "k", []byte("v"), 0); err == nil {
		t.Fatal("a store write succeeded with Redis stopped")
	}
	srv.Restart()
	deadline := time.Now().Add(15 * time.Second)
	for a.b.Outboxed() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("outbox never drained")
		}
		time.Sleep(20 * time.Millisecond)
	}
	publish("m7")
	for i := 2; i <= 7; i++ {
		next(b, "m"+strconv.Itoa(i), false)
	}
	next(a, "m7", false) // not m2..m6 again
	for _, n := range nodes {
		select {
		case ch := <-n.gaps:
			if ch != "h1:alerts" {
				t.Fatalf("gap on %q", ch)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a node was not told that the history was lost")
		}
	}
	if n := unsubscribed.Load(); n != 0 {
		t.Fatalf("%d deliveries of a channel nobody subscribed to", n)
	}
	// A client of node A resuming from m4's provisional messageId gets
	// exactly what followed it.
	var got []string
	err := a.b.Recover(ctx, "h1:alerts", m4, 0, func(res cluster.HistoryResult) {
		if !res.Recovered {
			t.Error("resume from a replayed provisional position not recovered")
		}
		for _, p := range res.Publications {
			got = append(got, string(p.Data))
		}
	})
	if err != nil || strings.Join(got, ",") != "m5,m6,m7" {
		t.Fatalf("resume from m4's provisional position: %v, %v", got, err)
	}
	select {
	case p := <-a.pubs:
		t.Fatalf("node A got %q twice", p.Data)
	case p := <-b.pubs:
		t.Fatalf("node B got %q twice", p.Data)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestRedisBrokerOutboxBounds: with Redis gone, the outbox takes what its
// bound allows and refuses the rest; Close reports what it dropped.
func TestRedisBrokerOutboxBounds(t *testing.T) {
	srv := redistest.Start(t)
	dropped := make(chan int, 1)
	b, err := cluster.NewRedisBroker(cluster.RedisConfig{
		Addrs: []string{srv.Addr}, Handler: func(cluster.Publication) {}, Timeout: time.Second,
		OutboxMessages: 4, OutboxBytes: 11, OnDropped: func(n int) { dropped <- n },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	awaitQueued(t, b)
	ctx := context.Background()
	cases := []struct {
		data string
		full bool
	}{{"aaaa", false}, {"bbbb", false}, {"ccc", true}, {"cc", false}, {"d", true}}
	for _, tc := range cases {
		_, err := b.Publish(ctx, "h1:alerts", []byte(tc.data), cluster.PublishOptions{})
		if full := errors.Is(err, cluster.ErrOutboxFull); full != tc.full || (!tc.full && err != nil) {
			t.Fatalf("publish %q: %v, want full=%v", tc.data, err, tc.full)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-dropped:
		if n != 4 { // and the probe
			t.Fatalf("dropped %d, want 4", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not report what it dropped")
	}
}

// awaitQueued publishes "x" through b to channel "h1:probe" until a
// publish is queued, which it returns. The first calls after Redis stopped
// may fail on the connection Redis dropped instead: a publish failing that
// way cannot tell whether Redis applied it, so it is returned to the
// caller, never queued.
func awaitQueued(t *testing.T, b *cluster.RedisBroker) {
	t.Helper()
	for range 10 {
		p, err := b.Publish(context.Background(), "h1:probe", []byte("x"), cluster.PublishOptions{})
		if err == nil && p.Pending {
			return
		}
		if err == nil {
			t.Fatal("a publish succeeded with Redis stopped")
		}
	}
	t.Fatal("publishes never queued with Redis stopped")
}

// TestRedisBrokerGapBeforeAnyDelivery: a node whose subscribers only
// recovered (nothing was delivered live yet) still notices that Redis lost
// the history when its subscription is renewed: the recovery's top is its
// baseline.
func TestRedisBrokerGapBeforeAnyDelivery(t *testing.T) {
	srv := redistest.Start(t)
	gaps := make(chan string, 4)
	b, err := cluster.NewRedisBroker(cluster.RedisConfig{
		Addrs: []string{srv.Addr}, Handler: func(cluster.Publication) {}, OnGap: func(ch string) { gaps <- ch }, Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	for range 3 {
		if _, err := b.Publish(ctx, "h1:rooms", []byte("x"), cluster.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Subscribe(ctx, "h1:rooms"); err != nil {
		t.Fatal(err)
	}
	if err := b.Recover(ctx, "h1:rooms", cluster.Position{}, 0, func(cluster.HistoryResult) {}); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	srv.Restart()
	select {
	case ch := <-gaps:
		if ch != "h1:rooms" {
			t.Fatalf("gap on %q", ch)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the lost history went unnoticed")
	}
}
