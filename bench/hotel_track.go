package bench

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hotelKind is a kind of delivery, as the report names it.
type hotelKind uint8

const (
	kindRoomUpdate    hotelKind = iota // ROOM_STATUS_UPDATE
	kindCheckIn                        // GUEST_CHECKIN
	kindCheckOut                       // GUEST_CHECKOUT
	kindAssignment                     // SERVICE_REQUEST handed to the assignee
	kindRequestUpdate                  // SERVICE_REQUEST_UPDATE: created, assigned, accepted, completed
	kindAlert                          // MEDIUM HOUSEKEEPING_ALERT and MAINTENANCE_ALERT
	kindLowAlert                       // LOW HOUSEKEEPING_ALERT of the flood
	numHotelKinds
)

var hotelKindNames = [numHotelKinds]string{
	"room_update", "checkin", "checkout", "service_request", "request_update", "alert", "low_alert",
}

// Priorities as delivered, indexing hotelTracker.byPrio.
var hotelPrioNames = [...]string{"high", "medium", "low"}

func parsePrio(s string) (int, bool) {
	switch s {
	case "HIGH":
		return 0, true
	case "MEDIUM":
		return 1, true
	case "LOW":
		return 2, true
	}
	return 0, false
}

// An entry's deliveries come in up to two parts with their own expected
// counts: a check-in's GUEST_CHECKIN and the room update it causes, a
// request's assignment and its updates.
const hotelParts = 2

// partKind is the kind of delivery part p of an op's entry counts as.
func partKind(op byte, p int) hotelKind {
	switch {
	case op == opCheckIn && p == 0:
		return kindCheckIn
	case op == opCheckOut && p == 0:
		return kindCheckOut
	case op == opRequest && p == 0:
		return kindAssignment
	case op == opRequest:
		return kindRequestUpdate
	case op == opAlert:
		return kindAlert
	case op == opLow:
		return kindLowAlert
	}
	return kindRoomUpdate
}

// deliveryPart is the part of an op's entry an event delivers, or ok=false
// when the op never causes that event.
func deliveryPart(op byte, event string) (int, bool) {
	switch event {
	case evRoomStatus:
		switch op {
		case opRoom:
			return 0, true
		case opCheckIn, opCheckOut:
			return 1, true
		}
	case evCheckIn:
		return 0, op == opCheckIn
	case evCheckOut:
		return 0, op == opCheckOut
	case evHousekeepingAlert:
		return 0, op == opAlert || op == opLow
	case evMaintenanceAlert:
		return 0, op == opAlert
	}
	return 0, false
}

// Entry states.
const (
	entryActive int32 = iota
	entryDone         // a request completed
	entryFailed       // refused, escalated or never sent: its deliveries are not expected
)

// hotelEvent is one sent event's entry. op is written by the generator
// before the send and read only by the run's goroutine; the rest is atomic,
// for the event loops and API workers.
type hotelEvent struct {
	op    byte
	want  [hotelParts]atomic.Int32
	got   [hotelParts]atomic.Int32
	sent  [3]atomic.Int64 // Unix ns: the event (a request's creation), a request's accept, its complete
	state atomic.Int32
}

// hotelTracker matches deliveries to sent events. The generator issues
// entries; event loops and API workers record deliveries and answers. The
// table is allocated up front for every event the run can issue, so a
// delivery finds its entry by index with no lock.
type hotelTracker struct {
	run    string       // the tag's run id
	events []hotelEvent // entries [0, n) are issued
	n      int64        // generator only until the run's end

	wanted     atomic.Int64 // deliveries expected over all entries
	matched    atomic.Int64 // deliveries matched to an entry
	failedWant atomic.Int64 // expected deliveries of failed entries
	pending    atomic.Int64 // commands waiting for their ACK, ERROR or API answer
	openReqs   atomic.Int64 // service requests neither completed nor failed
	lastRecv   atomic.Int64 // Unix ns of the latest matched delivery

	sent       [numHotelKinds]atomic.Int64 // commands sent, by the kind they cause (accepts and completes: request_update)
	deliveries [numHotelKinds]atomic.Int64
	latency    [numHotelKinds]Histogram
	prioCount  [len(hotelPrioNames)]atomic.Int64
	byPrio     [len(hotelPrioNames)]Histogram
	foreign    atomic.Int64 // events that match no entry of this run
	escalated  atomic.Int64
	skipped    atomic.Int64 // events not sent: no room free, no sender, API queue full
	apiErrors  atomic.Int64

	mu     sync.Mutex       // guards codes and closes
	codes  map[string]int64 // ERROR events by code
	closes map[int]int64    // connections the server closed, by close code (0: without a close frame)
	errors atomic.Int64     // ERROR events
}

func newHotelTracker(run string, capacity int64) *hotelTracker {
	return &hotelTracker{run: run, events: make([]hotelEvent, capacity), codes: map[string]int64{}, closes: map[int]int64{}}
}

// reserve takes the next entry of the table. Generator only.
func (t *hotelTracker) reserve() (int64, bool) {
	if t.n >= int64(len(t.events)) {
		t.skipped.Add(1)
		return 0, false
	}
	t.n++
	return t.n - 1, true
}

// begin makes entry seq an event of op expecting want deliveries per part.
// Generator only, before the event is sent.
func (t *hotelTracker) begin(seq int64, op byte, want ...int32) {
	e := &t.events[seq]
	e.op = op
	for p, w := range want {
		e.want[p].Store(w)
		t.wanted.Add(int64(w))
	}
	if op == opRequest {
		t.openReqs.Add(1)
	}
}

// unsend marks entry seq as never sent. Generator only.
func (t *hotelTracker) unsend(seq int64) {
	t.skipped.Add(1)
	t.fail(seq, t.events[seq].op)
}

// entry returns the entry seq names, nil when it is outside the table.
func (t *hotelTracker) entry(seq int64) *hotelEvent {
	if seq < 0 || seq >= int64(len(t.events)) {
		return nil
	}
	return &t.events[seq]
}

// stamp records when a command of entry seq was sent: i is 0 for the
// event, 1 and 2 for a request's accept and complete.
func (t *hotelTracker) stamp(seq int64, i int, k hotelKind) {
	if e := t.entry(seq); e != nil {
		e.sent[i].Store(time.Now().UnixNano())
		t.sent[k].Add(1)
	}
}

// deliver records a delivery of part p of entry seq at now (Unix ns),
// timed from send i, with the priority it came with.
func (t *hotelTracker) deliver(op byte, seq int64, p, i int, prio string, now int64) bool {
	e := t.entry(seq)
	if e == nil {
		t.foreign.Add(1)
		return false
	}
	k := partKind(op, p)
	e.got[p].Add(1)
	t.matched.Add(1)
	t.deliveries[k].Add(1)
	t.lastRecv.Store(now)
	sent := e.sent[i].Load()
	pi, ok := parsePrio(prio)
	if ok {
		t.prioCount[pi].Add(1)
	}
	if sent > 0 {
		d := time.Duration(now - sent)
		t.latency[k].Record(d)
		if ok {
			t.byPrio[pi].Record(d)
		}
	}
	return true
}

// fail marks entry seq of op failed, once: its deliveries are no longer
// waited for. It reports whether this call failed it. The caller names the
// op (from the tag) since it may run on a goroutine that cannot read the
// entry's.
func (t *hotelTracker) fail(seq int64, op byte) bool {
	e := t.entry(seq)
	if e == nil || !e.state.CompareAndSwap(entryActive, entryFailed) {
		return false
	}
	for p := range e.want {
		t.failedWant.Add(int64(e.want[p].Load()))
	}
	if op == opRequest {
		t.openReqs.Add(-1)
	}
	return true
}

// complete marks request seq done.
func (t *hotelTracker) complete(seq int64) {
	if e := t.entry(seq); e != nil && e.state.CompareAndSwap(entryActive, entryDone) {
		t.openReqs.Add(-1)
	}
}

// errorEvent counts an ERROR event by code.
func (t *hotelTracker) errorEvent(code string) {
	t.errors.Add(1)
	t.mu.Lock()
	t.codes[code]++
	t.mu.Unlock()
}

// closed counts a connection the server closed, by close code.
func (t *hotelTracker) closed(code int) {
	t.mu.Lock()
	t.closes[code]++
	t.mu.Unlock()
}

// settled reports whether nothing more is expected: every command
// answered, every request finished, every expected delivery arrived.
func (t *hotelTracker) settled() bool {
	return t.pending.Load() <= 0 && t.openReqs.Load() <= 0 && t.matched.Load() >= t.wanted.Load()-t.failedWant.Load()
}

// tally counts, per kind, the deliveries missing from entries that were
// not failed and those beyond what was expected. Run's goroutine only,
// after the generator stopped.
func (t *hotelTracker) tally() (lost, extra [numHotelKinds]int64) {
	for i := range t.n {
		e := &t.events[i]
		if e.state.Load() == entryFailed {
			continue
		}
		for p := range e.want {
			w, g := int64(e.want[p].Load()), int64(e.got[p].Load())
			k := partKind(e.op, p)
			if g < w {
				lost[k] += w - g
			} else {
				extra[k] += g - w
			}
		}
	}
	return lost, extra
}

// addMetrics reports deliveries, losses, errors and latencies, totals
// first, then per kind and per priority. elapsed is the time from the
// first send to the last delivery.
func (t *hotelTracker) addMetrics(m *Metrics, elapsed time.Duration) {
	lost, extra := t.tally()
	var sent, deliveries, lostAll, extraAll int64
	for k := range numHotelKinds {
		sent += t.sent[k].Load()
		deliveries += t.deliveries[k].Load()
		lostAll += lost[k]
		extraAll += extra[k]
	}
	m.Add("events_sent", float64(sent), UnitCount)
	m.Add("deliveries", float64(deliveries), UnitCount)
	m.Add("deliveries_per_sec", rate(deliveries, elapsed), UnitPerSec)
	m.Add("lost", float64(lostAll), UnitCount)
	m.Add("unexpected", float64(extraAll+t.foreign.Load()), UnitCount)
	m.Add("error_events", float64(t.errors.Load()), UnitCount)
	t.mu.Lock()
	for _, code := range slices.Sorted(maps.Keys(t.codes)) {
		m.Add("error_"+strings.ToLower(code), float64(t.codes[code]), UnitCount)
	}
	for _, code := range slices.Sorted(maps.Keys(t.closes)) {
		m.Add("close_code_"+strconv.Itoa(code), float64(t.closes[code]), UnitCount)
	}
	t.mu.Unlock()
	m.Add("api_errors", float64(t.apiErrors.Load()), UnitCount)
	m.Add("escalated", float64(t.escalated.Load()), UnitCount)
	m.Add("skipped", float64(t.skipped.Load()), UnitCount)
	for k, name := range hotelKindNames {
		m.Add("sent_"+name, float64(t.sent[k].Load()), UnitCount)
		m.Add("deliveries_"+name, float64(t.deliveries[k].Load()), UnitCount)
		m.Add("lost_"+name, float64(lost[k]), UnitCount)
		m.addLatency("latency_"+name, &t.latency[k])
	}
	for p, name := range hotelPrioNames {
		m.Add("deliveries_"+name, float64(t.prioCount[p].Load()), UnitCount)
		m.addLatency("latency_"+name, &t.byPrio[p])
	}
}
