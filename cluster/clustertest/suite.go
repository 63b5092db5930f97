package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
)

// MaxHistory is the history size per channel that the factory given to
// RunBrokerSuite must configure: the suite checks trimming by size against
// it.
const MaxHistory = 64

// waitTimeout bounds every wait for a delivery.
const waitTimeout = 5 * time.Second

// RunBrokerSuite runs the shared broker tests. newBroker returns a new,
// empty broker that delivers to h and keeps MaxHistory publications per
// channel, with a retention and an idempotency window of at least a
// minute; the suite closes it when each test ends.
func RunBrokerSuite(t *testing.T, newBroker func(t *testing.T, h cluster.Handler) cluster.Broker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b cluster.Broker, rec *recorder)
	}{
		{"PublishOrder", testPublishOrder},
		{"ConcurrentPublish", testConcurrentPublish},
		{"SubscriptionCounting", testSubscriptionCounting},
		{"ChannelIsolation", testChannelIsolation},
		{"InvalidChannel", testInvalidChannel},
		{"RecoverExact", testRecoverExact},
		{"TrimBySize", testTrimBySize},
		{"RecoverHoldsDeliveries", testRecoverHoldsDeliveries},
		{"Idempotency", testIdempotency},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			b := newBroker(t, rec.handle)
			t.Cleanup(func() { _ = b.Close() })
			tc.fn(t, b, rec)
		})
	}
}

// entry is one line of a recorder's log: a delivery, or a Recover call's
// result marked from inside its fn.
type entry struct {
	pub    cluster.Publication
	marker bool
	top    cluster.Position // for a marker
}

// recorder is the Handler of the suite's brokers: it logs deliveries in
// the order they arrive. Safe for concurrent use.
type recorder struct {
	mu  sync.Mutex
	log []entry
}

func (r *recorder) handle(p cluster.Publication) {
	r.mu.Lock()
	r.log = append(r.log, entry{pub: p})
	r.mu.Unlock()
}

func (r *recorder) mark(top cluster.Position) {
	r.mu.Lock()
	r.log = append(r.log, entry{marker: true, top: top})
	r.mu.Unlock()
}

// deliveries returns the publications delivered on ch so far, in order.
func (r *recorder) deliveries(ch string) []cluster.Publication {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cluster.Publication
	for _, e := range r.log {
		if !e.marker && e.pub.Channel == ch {
			out = append(out, e.pub)
		}
	}
	return out
}

// await waits until n publications of ch were delivered and returns them.
func (r *recorder) await(t *testing.T, ch string, n int) []cluster.Publication {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		got := r.deliveries(ch)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries on %s within %v, want %d", len(got), ch, waitTimeout, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle publishes on a subscribed sentinel channel and waits for it, so
// that any delivery of an earlier publication has arrived too.
func settle(t *testing.T, b cluster.Broker, rec *recorder) {
	t.Helper()
	ch := channel(t, "sentinel")
	ctx := context.Background()
	if err := b.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Unsubscribe(ctx, ch) }()
	n := len(rec.deliveries(ch))
	mustPublish(t, b, ch, "sentinel", "")
	rec.await(t, ch, n+1)
}

// channel names a channel unique to the test.
func channel(t *testing.T, name string) string {
	return "ct:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + name
}

func mustPublish(t *testing.T, b cluster.Broker, ch, data, key string) cluster.Publication {
	t.Helper()
	pub, err := b.Publish(context.Background(), ch, []byte(data), cluster.PublishOptions{IdempotencyKey: key})
	if err != nil {
		t.Fatalf("publish on %s: %v", ch, err)
	}
	return pub
}

func mustSubscribe(t *testing.T, b cluster.Broker, ch string) {
	t.Helper()
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatalf("subscribe %s: %v", ch, err)
	}
}

// recoverOnce calls Recover and checks that fn ran exactly once.
func recoverOnce(t *testing.T, b cluster.Broker, ch string, since cluster.Position, limit int) cluster.HistoryResult {
	t.Helper()
	calls := 0
	var res cluster.HistoryResult
	err := b.Recover(context.Background(), ch, since, limit, func(r cluster.HistoryResult) {
		calls++
		res = r
	})
	if err != nil || calls != 1 {
		t.Fatalf("Recover(%s, %v, %d): err %v, fn called %d times", ch, since, limit, err, calls)
	}
	return res
}

func testPublishOrder(t *testing.T, b cluster.Broker, rec *recorder) {
	ch := channel(t, "a")
	mustSubscribe(t, b, ch)
	var sent []cluster.Publication
	for i := range 50 {
		sent = append(sent, mustPublish(t, b, ch, "m-"+strconv.Itoa(i), ""))
	}
	epoch := sent[0].Epoch
	if epoch == "" || strings.Contains(epoch, "-") {
		t.Fatalf("epoch %q: want non-empty, without '-'", epoch)
	}
	for i, p := range sent {
		if p.Channel != ch || p.Epoch != epoch || p.Offset != uint64(i+1) || p.Time.IsZero() {
			t.Fatalf("publication %d: %+v, want offset %d of epoch %s", i, p.Position, i+1, epoch)
		}
		if back, err := cluster.ParsePosition(p.String()); err != nil || back != p.Position {
			t.Fatalf("messageId %q parses to %v (%v)", p.String(), back, err)
		}
	}
	got := rec.await(t, ch, 50)
	for i, p := range got {
		if p.Position != sent[i].Position || string(p.Data) != "m-"+strconv.Itoa(i) || p.Channel != ch {
			t.Fatalf("delivery %d: %v %q, want %v %q", i, p.Position, p.Data, sent[i].Position, "m-"+strconv.Itoa(i))
		}
	}
}

func testConcurrentPublish(t *testing.T, b cluster.Broker, rec *recorder) {
	ch := channel(t, "a")
	mustSubscribe(t, b, ch)
	const writers, each = 4, 50
	offsets := make(chan uint64, writers*each)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p, err := b.Publish(context.Background(), ch, fmt.Appendf(nil, "%d-%d", w, i), cluster.PublishOptions{})
				if err != nil {
					errs <- err
					return
				}
				offsets <- p.Offset
			}
		}()
	}
	wg.Wait()
	close(offsets)
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	seen := make(map[uint64]bool)
	for o := range offsets {
		if seen[o] || o < 1 || o > writers*each {
			t.Fatalf("offset %d given twice or out of 1..%d", o, writers*each)
		}
		seen[o] = true
	}
	for i, p := range rec.await(t, ch, writers*each) {
		if p.Offset != uint64(i+1) {
			t.Fatalf("delivery %d has offset %d: deliveries out of order", i, p.Offset)
		}
	}
}

func testSubscriptionCounting(t *testing.T, b cluster.Broker, rec *recorder) {
	ctx := context.Background()
	ch := channel(t, "a")
	if err := b.Unsubscribe(ctx, ch); err != nil {
		t.Fatalf("unsubscribe of a channel never subscribed: %v", err)
	}
	mustPublish(t, b, ch, "unheard", "")
	settle(t, b, rec)
	if got := rec.deliveries(ch); len(got) != 0 {
		t.Fatalf("%d deliveries without a subscription", len(got))
	}
	mustSubscribe(t, b, ch)
	mustSubscribe(t, b, ch)
	if err := b.Unsubscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, ch, "heard", "")
	if got := rec.await(t, ch, 1); string(got[0].Data) != "heard" || got[0].Offset != 2 {
		t.Fatalf("delivery %v %q, want offset 2 \"heard\"", got[0].Position, got[0].Data)
	}
	if err := b.Unsubscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, ch, "unheard again", "")
	settle(t, b, rec)
	if got := rec.deliveries(ch); len(got) != 1 {
		t.Fatalf("%d deliveries after the last unsubscribe, want still 1", len(got))
	}
}

func testChannelIsolation(t *testing.T, b cluster.Broker, rec *recorder) {
	a, c := channel(t, "a"), channel(t, "c")
	mustSubscribe(t, b, a)
	mustSubscribe(t, b, c)
	for i := range 3 {
		pa := mustPublish(t, b, a, "a"+strconv.Itoa(i), "")
		pc := mustPublish(t, b, c, "c"+strconv.Itoa(i), "")
		if pa.Offset != uint64(i+1) || pc.Offset != uint64(i+1) {
			t.Fatalf("offsets %d and %d, want %d on each channel", pa.Offset, pc.Offset, i+1)
		}
	}
	for _, ch := range []string{a, c} {
		for _, p := range rec.await(t, ch, 3) {
			if p.Channel != ch || !bytes.HasPrefix(p.Data, []byte(ch[len(ch)-1:])) {
				t.Fatalf("delivery on %s carries %q of %s", ch, p.Data, p.Channel)
			}
		}
	}
}

func testInvalidChannel(t *testing.T, b cluster.Broker, _ *recorder) {
	for _, ch := range []string{"", "a b", "a\x00b", "tab\t", strings.Repeat("x", 256)} {
		for op, err := range calls(b, ch) {
			if !errors.Is(err, cluster.ErrBadChannel) {
				t.Fatalf("%s(%q): %v, want ErrBadChannel", op, ch, err)
			}
		}
	}
}

// calls makes every Broker call that names a channel, on ch, and returns
// their errors by method. Recover's fn must not run for them.
func calls(b cluster.Broker, ch string) map[string]error {
	ctx := context.Background()
	_, pubErr := b.Publish(ctx, ch, []byte("x"), cluster.PublishOptions{})
	ran := false
	recErr := b.Recover(ctx, ch, cluster.Position{}, 0, func(cluster.HistoryResult) { ran = true })
	if ran {
		recErr = errors.New("fn called")
	}
	return map[string]error{
		"Publish":   pubErr,
		"Subscribe": b.Subscribe(ctx, ch),
		"Recover":   recErr,
	}
}

func testRecoverExact(t *testing.T, b cluster.Broker, _ *recorder) {
	empty := channel(t, "empty")
	if res := recoverOnce(t, b, empty, cluster.Position{}, 0); !res.Recovered || res.Top.Offset != 0 || len(res.Publications) != 0 {
		t.Fatalf("empty channel: %+v", res)
	}
	ch := channel(t, "a")
	var sent []cluster.Publication
	for i := range 20 {
		sent = append(sent, mustPublish(t, b, ch, "m-"+strconv.Itoa(i+1), ""))
	}
	epoch := sent[0].Epoch
	at := func(off uint64) cluster.Position { return cluster.Position{Epoch: epoch, Offset: off} }
	other := "zz" + epoch
	cases := []struct {
		name      string
		since     cluster.Position
		limit     int
		recovered bool
		from      uint64 // first offset returned; 0 for none
	}{
		{"zero_since", cluster.Position{}, 0, true, 0},
		{"middle", at(5), 0, true, 6},
		{"first", at(1), 0, true, 2},
		{"top", at(20), 0, true, 0},
		{"ahead", at(21), 0, false, 0},
		{"other_epoch", cluster.Position{Epoch: other, Offset: 5}, 0, false, 1},             // the whole new history
		{"other_epoch_over_limit", cluster.Position{Epoch: other, Offset: 5}, 10, false, 0}, // too long to send
		{"over_limit", at(5), 10, false, 0},
		{"at_limit", at(5), 15, true, 6},
	}
	for _, tc := range cases {
		res := recoverOnce(t, b, ch, tc.since, tc.limit)
		if res.Recovered != tc.recovered || res.Top != at(20) {
			t.Fatalf("%s: recovered %v top %v, want %v top %v", tc.name, res.Recovered, res.Top, tc.recovered, at(20))
		}
		want := 0
		if tc.from > 0 {
			want = int(20 - tc.from + 1)
		}
		if len(res.Publications) != want {
			t.Fatalf("%s: %d publications, want %d (never a partial replay)", tc.name, len(res.Publications), want)
		}
		for i, p := range res.Publications {
			w := sent[int(tc.from)-1+i]
			if p.Position != w.Position || !bytes.Equal(p.Data, w.Data) || p.Channel != ch {
				t.Fatalf("%s: publication %d is %v %q, want %v %q", tc.name, i, p.Position, p.Data, w.Position, w.Data)
			}
		}
	}
}

func testTrimBySize(t *testing.T, b cluster.Broker, _ *recorder) {
	ch := channel(t, "a")
	const n = MaxHistory + 36
	var last cluster.Publication
	for i := range n {
		last = mustPublish(t, b, ch, strconv.Itoa(i+1), "")
	}
	oldest := cluster.Position{Epoch: last.Epoch, Offset: n - MaxHistory}
	res := recoverOnce(t, b, ch, oldest, 0)
	if !res.Recovered || len(res.Publications) != MaxHistory || res.Publications[0].Offset != oldest.Offset+1 {
		t.Fatalf("since %v: recovered %v with %d, want the last %d", oldest, res.Recovered, len(res.Publications), MaxHistory)
	}
	trimmed := cluster.Position{Epoch: last.Epoch, Offset: oldest.Offset - 1}
	if res := recoverOnce(t, b, ch, trimmed, 0); res.Recovered || len(res.Publications) != 0 {
		t.Fatalf("since %v, one before the history: recovered %v with %d, want not recovered", trimmed, res.Recovered, len(res.Publications))
	}
}

// testRecoverHoldsDeliveries recovers while another goroutine publishes:
// no publication above a result's Top may be delivered before its fn
// returns (the subscriber would miss it), and every publication is
// delivered, in order.
func testRecoverHoldsDeliveries(t *testing.T, b cluster.Broker, rec *recorder) {
	ch := channel(t, "a")
	mustSubscribe(t, b, ch)
	const total = 400
	done := make(chan error, 1)
	go func() {
		for i := range total {
			if _, err := b.Publish(context.Background(), ch, []byte(strconv.Itoa(i)), cluster.PublishOptions{}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 40 {
		err := b.Recover(context.Background(), ch, cluster.Position{}, 0, func(res cluster.HistoryResult) { rec.mark(res.Top) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.await(t, ch, total)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var delivered uint64 // highest offset delivered so far
	for _, e := range rec.log {
		switch {
		case e.marker && e.top.Offset < delivered:
			t.Fatalf("Recover saw top %d after %d was delivered: deliveries were not held", e.top.Offset, delivered)
		case !e.marker && e.pub.Channel == ch:
			if e.pub.Offset != delivered+1 {
				t.Fatalf("delivery %d after %d", e.pub.Offset, delivered)
			}
			delivered = e.pub.Offset
		}
	}
}

func testIdempotency(t *testing.T, b cluster.Broker, rec *recorder) {
	ch, other := channel(t, "a"), channel(t, "b")
	mustSubscribe(t, b, ch)
	first := mustPublish(t, b, ch, "once", "key-1")
	again := mustPublish(t, b, ch, "once", "key-1")
	if again.Position != first.Position || string(again.Data) != "once" {
		t.Fatalf("retry got %v %q, want the first publication %v", again.Position, again.Data, first.Position)
	}
	if res := recoverOnce(t, b, ch, cluster.Position{}, 0); res.Top != first.Position {
		t.Fatalf("top %v after a retried publish, want %v", res.Top, first.Position)
	}
	if next := mustPublish(t, b, ch, "twice", "key-2"); next.Offset != first.Offset+1 {
		t.Fatalf("another key got offset %d, want %d", next.Offset, first.Offset+1)
	}
	if p := mustPublish(t, b, other, "elsewhere", "key-1"); p.Offset != 1 {
		t.Fatalf("the same key on another channel got offset %d, want a new publication", p.Offset)
	}
	settle(t, b, rec)
	if got := rec.deliveries(ch); len(got) != 2 {
		t.Fatalf("%d deliveries, want 2 (the retry is not delivered)", len(got))
	}
}

func testClose(t *testing.T, b cluster.Broker, _ *recorder) {
	ch := channel(t, "a")
	mustSubscribe(t, b, ch)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	after := calls(b, ch)
	after["Unsubscribe"] = b.Unsubscribe(context.Background(), ch)
	after["second Close"] = b.Close()
	for op, err := range after {
		if !errors.Is(err, cluster.ErrClosed) {
			t.Fatalf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
}
