package dispatch_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// roomUpdates takes n ROOM_STATUS_UPDATE envelopes from c and returns them.
func roomUpdates(t testing.TB, c *client, n int) []envelope {
	t.Helper()
	out := make([]envelope, n)
	for i := range out {
		out[i] = c.await(isEventIn(dispatch.EventRoomStatusUpdate, dispatch.NSRooms))
	}
	return out
}

// flip sets room to the i-th of two statuses (role service may set any).
func flip(h *harness, number string, i int) apiAnswer {
	return h.setRoom(number, [...]string{"DIRTY", "CLEANING"}[i%2])
}

// TestReconnectWithSinceGetsExactlyWhatItMissed disconnects a subscriber,
// publishes while it is away, and checks the replay then the live messages.
func TestReconnectWithSinceGetsExactlyWhatItMissed(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSRooms, "")
	flip(h, "101", 0)
	flip(h, "102", 0)
	seen := roomUpdates(t, desk, 2)
	last := seen[1].MessageID
	desk.close()

	var missed []string
	for i := range 3 {
		missed = append(missed, flip(h, "10"+strconv.Itoa(i+3), 0).MessageID)
	}
	back := h.connect(staff("fd-1", auth.FrontDesk))
	sub := back.subscribe(dispatch.NSRooms, last)
	if !sub.Recovered || sub.Missed != 3 || sub.Snapshot != nil || sub.Position != missed[2] {
		t.Fatalf("SUBSCRIBED %+v, want recovered with 3 missed up to %s and no snapshot", sub, missed[2])
	}
	for i, want := range missed {
		e := back.next(waitTimeout)
		if e.Event != dispatch.EventRoomStatusUpdate || e.MessageID != want {
			t.Fatalf("replay %d: got %s, want %s", i, e, want)
		}
	}
	live := flip(h, "101", 1).MessageID
	if e := back.next(waitTimeout); e.MessageID != live {
		t.Fatalf("after the replay got %s, want the live %s", e, live)
	}
	back.quiet(func(e envelope) bool { return e.Event == dispatch.EventRoomStatusUpdate }) // no duplicate

	// Up to date already: recovered with nothing missed.
	again := h.connect(staff("fd-1", auth.FrontDesk))
	if sub := again.subscribe(dispatch.NSRooms, live); !sub.Recovered || sub.Missed != 0 {
		t.Fatalf("SUBSCRIBED %+v, want recovered with nothing missed", sub)
	}
}

// TestRecoveryUnderLoad subscribes with since while messages keep being
// published, and checks that the replay and the live messages together are
// every offset after since exactly once, in order: no gap at the seam.
func TestRecoveryUnderLoad(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	first := flip(h, "101", 0).MessageID
	const total = 200
	var wg sync.WaitGroup
	wg.Add(1)
	var lastID string
	var pubErr error
	go func() {
		defer wg.Done()
		for i := 1; i < total && pubErr == nil; i++ {
			var ans apiAnswer
			ans, pubErr = h.tryPublish(dispatch.EventRoomStatusUpdate,
				map[string]string{"roomNumber": "10" + strconv.Itoa(i%10), "status": [...]string{"DIRTY", "CLEANING"}[i%2]})
			lastID = ans.MessageID
		}
	}()
	clients := make([]*client, 4)
	for i := range clients {
		clients[i] = h.connect(staff("fd-"+strconv.Itoa(i), auth.FrontDesk))
		clients[i].subscribe(dispatch.NSRooms, first)
	}
	wg.Wait()
	if pubErr != nil {
		t.Fatal(pubErr)
	}
	end := offsetOf(t, lastID)
	for i, c := range clients {
		want := offsetOf(t, first) + 1
		for want <= end {
			e := c.next(waitTimeout)
			if got := offsetOf(t, e.MessageID); got != want {
				t.Fatalf("client %d: offset %d (%s), want %d", i, got, e, want)
			}
			want++
		}
		c.quiet(func(e envelope) bool { return e.Event == dispatch.EventRoomStatusUpdate })
	}
}

// TestSubscribeSeamUnderLoad subscribes guests to their rooms' channels
// while an admin keeps changing those rooms, so that each subscription
// starts in the middle of a stream of publications. Each guest is the only
// subscriber of its channel, the case where a delivery racing the
// subscription could be lost. After SUBSCRIBED at position P, a guest must
// get offsets P+1, P+2, ... up to the last publication, each exactly once.
func TestSubscribeSeamUnderLoad(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	const rooms, perRoom = 16, 40
	for r := range rooms {
		h.setRoom(strconv.Itoa(201+r), "DIRTY") // offset 1 of each room's channel
	}
	admin := h.connect(auth.Claims{Subject: "admin", Role: auth.Admin})
	done := make(chan struct{})
	go func() { // pipelines updates without waiting for their ACKs
		defer close(done)
		for i := range perRoom {
			for r := range rooms {
				admin.sendEnv(map[string]any{"event": dispatch.EventRoomStatusUpdate, "payload": map[string]string{
					"roomNumber": strconv.Itoa(201 + r), "status": [...]string{"CLEANING", "DIRTY"}[i%2]}})
			}
			time.Sleep(time.Millisecond) // pacing only, to spread the stream over the subscriptions
		}
	}()
	guests := make([]*client, rooms)
	tops := make([]uint64, rooms)
	for r := range guests {
		guests[r] = h.connect(guest("g-"+strconv.Itoa(r), strconv.Itoa(201+r)))
		sub := guests[r].subscribe(dispatch.NSPersonal, "")
		tops[r] = offsetOf(t, sub.Position)
	}
	<-done
	const last = perRoom + 1
	for r, g := range guests {
		for want := tops[r] + 1; want <= last; want++ {
			e := g.await(isEvent(dispatch.EventRoomStatusUpdate))
			if got := offsetOf(t, e.MessageID); got != want {
				t.Fatalf("guest of room %d subscribed at %d: offset %d, want %d", 201+r, tops[r], got, want)
			}
		}
		g.quiet(func(e envelope) bool { return e.Event == dispatch.EventRoomStatusUpdate })
	}
}

// racingBroker publishes on a channel right after each Recover of it
// returned, before the subscriber's loop could act on the recovery: the
// deliveries that race a subscription.
type racingBroker struct {
	cluster.Broker
	n int // publications after each Recover
}

func (b *racingBroker) Recover(ctx context.Context, ch string, since cluster.Position, limit int, fn func(cluster.HistoryResult)) error {
	if err := b.Broker.Recover(ctx, ch, since, limit, fn); err != nil {
		return err
	}
	for i := range b.n {
		// The format of dispatch's publications: version, priority,
		// conflation key, then the envelope without messageId.
		data := append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			`{"event":"SYSTEM_ALERT","namespace":"system","payload":{"message":"race `+strconv.Itoa(i)+`"}}`...)
		if _, err := b.Broker.Publish(ctx, ch, data, cluster.PublishOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// TestSubscribeSeamRace checks that publications right after the history
// was read reach a new subscriber, after SUBSCRIBED and in order.
func TestSubscribeSeamRace(t *testing.T) {
	t.Parallel()
	h := start(t, options{wrap: func(b *cluster.MemoryBroker) cluster.Broker { return &racingBroker{Broker: b, n: 3} }})
	for i := range 8 {
		c := h.connect(staff("fd-"+strconv.Itoa(i), auth.FrontDesk))
		sub := c.subscribe(dispatch.NSSystem, "")
		top := uint64(0)
		if sub.Position != "" {
			top = offsetOf(t, sub.Position)
		}
		for want := top + 1; want <= top+3; want++ {
			e := c.next(waitTimeout)
			if e.Event != dispatch.EventSystemAlert || offsetOf(t, e.MessageID) != want {
				t.Fatalf("subscriber %d: got %s, want offset %d", i, e, want)
			}
		}
		c.close() // the next subscriber is again the channel's only one
	}
}

// TestRecoveryImpossible checks that a since the history cannot answer
// exactly gets recovered:false and a fresh snapshot, never a partial
// replay: another epoch, history trimmed by size, too many missed, or a
// position ahead of the channel.
func TestRecoveryImpossible(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		limit int                                           // RecoveryLimit
		since func(first, last uint64, epoch string) string // first and last offsets published
	}{
		{"other_epoch", 0, func(_, _ uint64, _ string) string { return "00000000-3" }},
		{"trimmed", 0, func(first, _ uint64, epoch string) string { return position(epoch, first) }}, // 6 missed, 5 kept
		{"over_recovery_limit", 3, func(_, last uint64, epoch string) string { return position(epoch, last-4) }},
		{"ahead", 0, func(_, last uint64, epoch string) string { return position(epoch, last+10) }},
	}
	for _, tc := range cases {
		t.Run("since="+tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, options{broker: cluster.MemoryConfig{MaxHistory: 5}, dispatch: dispatch.Config{RecoveryLimit: tc.limit}})
			first := flip(h, "101", 0).MessageID
			var last string
			for i := 1; i <= 6; i++ {
				last = flip(h, "101", i).MessageID
			}
			c := h.connect(staff("fd-1", auth.FrontDesk))
			sub := c.subscribe(dispatch.NSRooms, tc.since(offsetOf(t, first), offsetOf(t, last), h.broker.Epoch()))
			if sub.Recovered || sub.Missed != 0 || sub.Snapshot == nil || sub.Position != last {
				t.Fatalf("SUBSCRIBED %+v, want recovered:false, a snapshot, position %s", sub, last)
			}
			if r, ok := sub.Snapshot.room("101"); !ok || r.Version != 7 {
				t.Fatalf("snapshot room %+v, want version 7", r)
			}
			c.quiet(func(e envelope) bool { return e.Event == dispatch.EventRoomStatusUpdate }) // no partial replay
			// Within both bounds the same history recovers.
			sub = c.subscribe(dispatch.NSRooms, position(h.broker.Epoch(), offsetOf(t, last)-3))
			if !sub.Recovered || sub.Missed != 3 || sub.Snapshot != nil {
				t.Fatalf("SUBSCRIBED %+v, want 3 recovered", sub)
			}
			roomUpdates(t, c, 3)
		})
	}
	t.Run("since=malformed", func(t *testing.T) {
		t.Parallel()
		h := start(t, options{})
		c := h.connect(staff("fd-1", auth.FrontDesk))
		expectError(t, c.call(dispatch.EventSubscribe, dispatch.NSRooms, map[string]string{"since": "42"}), dispatch.CodeInvalidPayload)
		expectError(t, c.call(dispatch.EventSubscribe, dispatch.NSRooms, "since"), dispatch.CodeInvalidPayload)
		c.quiet(func(e envelope) bool { return e.Event == dispatch.EventSubscribed })
	})
}

func position(epoch string, offset uint64) string {
	return cluster.Position{Epoch: epoch, Offset: offset}.String()
}

// TestResubscribeAndUnsubscribe checks that SUBSCRIBE of a namespace
// already subscribed restarts from the new since without duplicates, and
// that UNSUBSCRIBE stops delivery.
func TestResubscribeAndUnsubscribe(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSRooms, "")
	a := flip(h, "101", 0).MessageID
	b := flip(h, "101", 1).MessageID
	roomUpdates(t, desk, 2)
	if sub := desk.subscribe(dispatch.NSRooms, a); !sub.Recovered || sub.Missed != 1 {
		t.Fatalf("re-SUBSCRIBE %+v, want 1 recovered", sub)
	}
	if e := desk.next(waitTimeout); e.MessageID != b {
		t.Fatalf("replay %s, want %s", e, b)
	}
	c := flip(h, "101", 2).MessageID
	if e := desk.next(waitTimeout); e.MessageID != c {
		t.Fatalf("live %s, want %s", e, c)
	}
	if e := desk.call(dispatch.EventUnsubscribe, dispatch.NSRooms, nil); e.Event != dispatch.EventUnsubscribed {
		t.Fatalf("UNSUBSCRIBE answered %s", e)
	}
	flip(h, "101", 3)
	desk.quiet(func(e envelope) bool { return e.Event == dispatch.EventRoomStatusUpdate })
	expectError(t, desk.call(dispatch.EventUnsubscribe, dispatch.NSRooms, nil), dispatch.CodeBadNamespace)
	// Subscribed again from scratch, it gets live messages once more.
	desk.subscribe(dispatch.NSRooms, "")
	d := flip(h, "101", 4).MessageID
	if e := desk.next(waitTimeout); e.MessageID != d {
		t.Fatalf("live after re-subscribing %s, want %s", e, d)
	}
}

// failingBroker fails Subscribe or Recover on the channels it is told to.
type failingBroker struct {
	cluster.Broker
	subscribe, recover string // channel whose call fails
	unsubscribed       atomic.Int32
}

var errBrokerDown = errors.New("broker down")

func (b *failingBroker) Subscribe(ctx context.Context, ch string) error {
	if ch == b.subscribe {
		return errBrokerDown
	}
	return b.Broker.Subscribe(ctx, ch)
}

func (b *failingBroker) Unsubscribe(ctx context.Context, ch string) error {
	b.unsubscribed.Add(1)
	return b.Broker.Unsubscribe(ctx, ch)
}

func (b *failingBroker) Recover(ctx context.Context, ch string, since cluster.Position, limit int, fn func(cluster.HistoryResult)) error {
	if ch == b.recover {
		return errBrokerDown
	}
	return b.Broker.Recover(ctx, ch, since, limit, fn)
}

// TestSubscribeBrokerFailure checks that a SUBSCRIBE the broker cannot
// serve is answered UNAVAILABLE and forgotten, so it can be retried, and
// that a failed broker Subscribe is never paired with an Unsubscribe.
func TestSubscribeBrokerFailure(t *testing.T) {
	t.Parallel()
	fb := &failingBroker{subscribe: testProperty + ":" + dispatch.NSGuests, recover: testProperty + ":" + dispatch.NSService}
	h := start(t, options{wrap: func(b *cluster.MemoryBroker) cluster.Broker { fb.Broker = b; return fb }})
	c := h.connect(staff("fd-1", auth.FrontDesk))
	for _, ns := range []string{dispatch.NSGuests, dispatch.NSService} {
		e := c.call(dispatch.EventSubscribe, ns, nil)
		expectError(t, e, dispatch.CodeUnavailable)
		// Forgotten: UNSUBSCRIBE finds nothing, and a retry fails the same way.
		expectError(t, c.call(dispatch.EventUnsubscribe, ns, nil), dispatch.CodeBadNamespace)
	}
	waitFor(t, waitTimeout, "the failed Recover's subscription to be released", func() bool { return fb.unsubscribed.Load() == 1 })
	c.subscribe(dispatch.NSRooms, "") // other namespaces unaffected
	c.close()
	waitFor(t, waitTimeout, "the rooms subscription to be released", func() bool { return fb.unsubscribed.Load() == 2 })
}

// countingBroker counts Recover calls; while gate is set, they wait for
// it to close (the channel's worker is busy, and SUBSCRIBEs pile up).
type countingBroker struct {
	cluster.Broker
	recovers atomic.Int64
	gate     atomic.Pointer[chan struct{}]
}

func (b *countingBroker) Recover(ctx context.Context, ch string, since cluster.Position, limit int, fn func(cluster.HistoryResult)) error {
	b.recovers.Add(1)
	if g := b.gate.Load(); g != nil {
		<-*g
	}
	return b.Broker.Recover(ctx, ch, since, limit, fn)
}

// TestSubscribeStorm: many clients subscribe to one channel at once, some
// fresh, some resuming, some from a lost history: the batched answers are
// each right (recovered, missed, snapshot), far fewer history reads than
// subscribers are made, and every client then gets the next change once.
func TestSubscribeStorm(t *testing.T) {
	t.Parallel()
	cb := &countingBroker{}
	h := start(t, options{wrap: func(b *cluster.MemoryBroker) cluster.Broker { cb.Broker = b; return cb }})
	var ids []string
	for i := range 5 {
		ids = append(ids, h.setRoom(strconv.Itoa(101+i), "DIRTY").MessageID)
	}
	kinds := []struct {
		since     string
		recovered bool
		missed    int
		snapshot  bool
	}{
		{"", false, 0, true},
		{ids[2], true, 2, false},
		{"lost1-3", false, 5, true}, // another epoch: a snapshot and the whole history held
	}
	type sub struct {
		c    *client
		kind int
		corr string
	}
	var subs []sub
	clients := make([]*client, 30)
	for i := range clients {
		clients[i] = h.connect(staff("fd-"+strconv.Itoa(i), auth.FrontDesk))
	}
	before := cb.recovers.Load()
	gate := make(chan struct{})
	cb.gate.Store(&gate)
	for i, c := range clients {
		k := i % len(kinds)
		var payload any
		if kinds[k].since != "" {
			payload = map[string]string{"since": kinds[k].since}
		}
		subs = append(subs, sub{c, k, ""})
		subs[i].corr = c.send(dispatch.EventSubscribe, dispatch.NSRooms, payload)
	}
	time.Sleep(300 * time.Millisecond) // the SUBSCRIBEs reach the node while its first read waits
	close(gate)
	for _, s := range subs {
		e := s.c.await(func(e envelope) bool { return e.CorrelationID == s.corr })
		var p subscribedPayload
		e.decode(t, &p)
		k := kinds[s.kind]
		if p.Recovered != k.recovered || p.Missed != k.missed || (p.Snapshot != nil) != k.snapshot {
			t.Fatalf("since %q: %+v, want recovered %v missed %d snapshot %v", k.since, p, k.recovered, k.missed, k.snapshot)
		}
		if k.snapshot && len(p.Snapshot.Rooms) != 5 {
			t.Fatalf("snapshot of %d rooms", len(p.Snapshot.Rooms))
		}
	}
	// Those that arrived while the first batch's read waited were answered
	// together: at most one read per distinct since in each of two batches
	// (one read each would be 30).
	if n := cb.recovers.Load() - before; n > int64(2*len(kinds)) {
		t.Fatalf("%d history reads for 30 subscribers: not batched", n)
	}
	h.setRoom("101", "CLEANING")
	for _, s := range subs {
		s.c.await(func(e envelope) bool {
			return e.Event == dispatch.EventRoomStatusUpdate && strings.Contains(string(e.Payload), `"CLEANING"`)
		})
	}
}
