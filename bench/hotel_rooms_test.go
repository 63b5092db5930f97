package bench

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// modelOf returns a room model whose rooms start in the given statuses.
func modelOf(statuses ...roomStatus) *roomModel {
	p := &hotelPlan{rooms: make([]hotelRoom, len(statuses))}
	for i, s := range statuses {
		p.rooms[i].status = s
	}
	return newRoomModel(p)
}

// TestRoomCycle follows one room through the housekeeping cycle and a
// stay: every step legal for who sends it, as docs/PROTOCOL.md allows.
func TestRoomCycle(t *testing.T) {
	m := modelOf(roomOccupied)
	steps := []struct {
		guest bool
		to    roomStatus
		by    roomActor
	}{
		{true, roomDirty, actorCheckOut},
		{false, roomCleaning, actorHousekeeping},
		{false, roomCleaned, actorHousekeeping},
		{false, roomInspected, actorFrontDesk},
		{false, roomAvailable, actorFrontDesk},
		{true, roomOccupied, actorCheckIn},
		{false, roomDirty, actorHousekeeping}, // nothing else to do: a stay-over clean
	}
	for i, s := range steps {
		seq := int64(i)
		var by roomActor
		var ok bool
		if s.guest {
			_, by, ok = m.takeGuest(seq, 0, true)
		} else {
			_, _, by, ok = m.takeUpdate(seq, 0)
		}
		if !ok || by != s.by {
			t.Fatalf("step %d: by %v ok %v, want %v", i, by, ok, s.by)
		}
		// Busy until settled: nothing else is taken meanwhile.
		if _, _, _, again := m.takeUpdate(99, 0); again {
			t.Fatalf("step %d: took a busy room", i)
		}
		m.settle(seq, true, false)
		if m.status[0] != s.to {
			t.Fatalf("step %d: status %v, want %v", i, m.status[0], s.to)
		}
	}
}

func TestRoomModelPicks(t *testing.T) {
	m := modelOf(roomOccupied, roomAvailable, roomCleaning, roomOccupied)
	// From room 3, wrapping: room 2 is the only one in the cycle.
	if room, to, by, ok := m.takeUpdate(1, 3); !ok || room != 2 || to != roomCleaned || by != actorHousekeeping {
		t.Fatalf("takeUpdate = %d %v %v %v, want room 2 to CLEANED by housekeeping", room, to, by, ok)
	}
	// Check-out preferred, from room 1: room 3.
	if room, by, ok := m.takeGuest(2, 1, false); !ok || room != 3 || by != actorCheckOut {
		t.Fatalf("takeGuest = %d %v %v, want room 3 checked out", room, by, ok)
	}
	// Check-in preferred: room 1 is the only AVAILABLE one.
	if room, by, ok := m.takeGuest(3, 0, true); !ok || room != 1 || by != actorCheckIn {
		t.Fatalf("takeGuest = %d %v %v, want room 1 checked in", room, by, ok)
	}
	// Check-in preferred, none left: the last free room is checked out.
	if room, by, ok := m.takeGuest(4, 0, true); !ok || room != 0 || by != actorCheckOut {
		t.Fatalf("takeGuest = %d %v %v, want room 0 checked out", room, by, ok)
	}
	if _, _, ok := m.takeGuest(5, 0, true); ok {
		t.Fatal("took a room while every one is busy")
	}
	m.settle(1, false, true) // refused: room 2 is out
	m.settle(2, false, false)
	m.settle(3, true, false)
	m.settle(77, true, false) // unknown: ignored
	by, broken := m.counts()
	if broken != 1 || by[roomOccupied] != 3 || by[roomCleaning] != 0 {
		t.Fatalf("counts %v broken %d; want 3 occupied, room 2 untracked", by, broken)
	}
	if _, _, _, ok := m.takeUpdate(6, 2); !ok {
		t.Fatal("no stay-over clean of the occupied rooms")
	}
}

func TestDelayQueue(t *testing.T) {
	q := newDelayQueue(3)
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i, d := range []time.Duration{30, 10, 20} {
		wg.Add(1)
		if !q.after(d*time.Millisecond, func() {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			wg.Done()
		}) {
			t.Fatal("queue refused an item below its bound")
		}
	}
	if q.after(0, func() {}) {
		t.Fatal("queue took a fourth item over its bound of 3")
	}
	wg.Wait()
	if len(order) != 3 || order[0] != 1 || order[1] != 2 || order[2] != 0 {
		t.Fatalf("ran in order %v, want by due time [1 2 0]", order)
	}
	var late atomic.Bool
	q.after(time.Hour, func() { late.Store(true) })
	q.stop()
	if late.Load() || q.after(0, func() {}) {
		t.Fatal("stopped queue ran or took an item")
	}
}

func TestHotelTracker(t *testing.T) {
	tr := newHotelTracker("00000000", 5)
	room, _ := tr.reserve()
	tr.begin(room, opRoom, 3)
	req, _ := tr.reserve()
	tr.begin(req, opRequest, 1, 4)
	dead, _ := tr.reserve()
	tr.begin(dead, opAlert, 10)
	tr.stamp(room, 0, kindRoomUpdate)
	tr.stamp(req, 0, kindAssignment)
	now := time.Now().UnixNano() + int64(time.Millisecond)
	for range 2 {
		tr.deliver(opRoom, room, 0, 0, "HIGH", now)
	}
	tr.deliver(opRequest, req, 0, 0, "MEDIUM", now)
	for range 5 { // one more than expected
		tr.deliver(opRequest, req, 1, 0, "MEDIUM", now)
	}
	tr.deliver(opAlert, dead, 0, 0, "bogus", now) // no priority histogram
	if tr.deliver(opRoom, 99, 0, 0, "HIGH", now) || tr.foreign.Load() != 1 {
		t.Fatal("a delivery outside the table was matched")
	}
	if !tr.fail(dead, opAlert) || tr.fail(dead, opAlert) {
		t.Fatal("fail is not once")
	}
	if tr.settled() {
		t.Fatal("settled with a request open and a room update missing")
	}
	tr.complete(req)
	tr.complete(req)
	if tr.openReqs.Load() != 0 {
		t.Fatalf("open requests %d after completing", tr.openReqs.Load())
	}
	lost, extra := tr.tally()
	if lost[kindRoomUpdate] != 1 || extra[kindRequestUpdate] != 1 || lost[kindAlert] != 0 || lost[kindAssignment] != 0 {
		t.Fatalf("lost %v extra %v; want one room update lost, one request update extra", lost, extra)
	}
	tr.deliver(opRoom, room, 0, 0, "HIGH", now)
	if !tr.settled() {
		t.Fatal("not settled once everything arrived")
	}
	if tr.prioCount[0].Load() != 3 || tr.prioCount[1].Load() != 6 || tr.latency[kindRoomUpdate].Count() != 3 {
		t.Fatalf("priority counts %d %d, room latencies %d", tr.prioCount[0].Load(), tr.prioCount[1].Load(), tr.latency[kindRoomUpdate].Count())
	}
	for range 2 {
		tr.reserve()
	}
	if _, ok := tr.reserve(); ok || tr.skipped.Load() != 1 {
		t.Fatal("reserved past the table")
	}
	tr.errorEvent("FORBIDDEN")
	var m Metrics
	tr.addMetrics(&m, time.Second)
	for name, want := range map[string]float64{"lost": 0, "unexpected": 2, "error_events": 1, "error_forbidden": 1,
		"deliveries_room_update": 3, "sent_service_request": 1, "deliveries_high": 3, "skipped": 1} {
		if got, ok := m.Get(name); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
}
