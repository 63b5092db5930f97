package bench

import "sync"

// roomActor is who moves a room one step on.
type roomActor uint8

const (
	actorHousekeeping roomActor = iota // a housekeeper of the room's floor, over WebSocket
	actorFrontDesk                     // a front-desk connection, over WebSocket
	actorCheckIn                       // the backend API checks a guest in
	actorCheckOut                      // the backend API checks the guest out
)

// wsStep is a room's next status in the housekeeping cycle and who sets it
// over WebSocket, or ok=false when the cycle waits for a guest.
func wsStep(s roomStatus) (to roomStatus, by roomActor, ok bool) {
	switch s {
	case roomDirty:
		return roomCleaning, actorHousekeeping, true
	case roomCleaning:
		return roomCleaned, actorHousekeeping, true
	case roomCleaned:
		return roomInspected, actorFrontDesk, true
	case roomInspected:
		return roomAvailable, actorFrontDesk, true
	}
	return 0, 0, false
}

// Room slot states.
const (
	roomFree   uint8 = iota
	roomBusy         // a change is in flight
	roomBroken       // the server refused a change: the harness no longer knows the room's status
)

// roomModel is the harness's copy of the room board: each room's status as
// of the last change the server confirmed, and whether a change is in
// flight. Only one change per room is in flight at a time, so every change
// sent is legal for the status the server holds. The generator takes
// changes; answers, on event loops and API workers, settle them. Guarded
// by mu.
type roomModel struct {
	mu      sync.Mutex
	status  []roomStatus
	slot    []uint8
	pending map[int64]roomMove // entry seq -> the change in flight
	broken  int
}

type roomMove struct {
	room int
	to   roomStatus
}

func newRoomModel(plan *hotelPlan) *roomModel {
	m := &roomModel{
		status:  make([]roomStatus, len(plan.rooms)),
		slot:    make([]uint8, len(plan.rooms)),
		pending: make(map[int64]roomMove),
	}
	for i, r := range plan.rooms {
		m.status[i] = r.status
	}
	return m
}

// takeUpdate picks a free room for a status update over WebSocket,
// scanning from start: the next step of the housekeeping cycle, or, when
// every free room waits for a guest, a stay-over clean (OCCUPIED or
// AVAILABLE to DIRTY by housekeeping). It marks the room busy under seq.
func (m *roomModel) takeUpdate(seq int64, start int) (room int, to roomStatus, by roomActor, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	room = m.scan(start, func(s roomStatus) bool { _, _, ok := wsStep(s); return ok })
	if room >= 0 {
		to, by, _ = wsStep(m.status[room])
	} else if room = m.scan(start, func(s roomStatus) bool { return s == roomOccupied || s == roomAvailable }); room >= 0 {
		to, by = roomDirty, actorHousekeeping
	} else {
		return 0, 0, 0, false
	}
	m.begin(seq, room, to)
	return room, to, by, true
}

// takeGuest picks a free room to check a guest into (AVAILABLE) or out of
// (OCCUPIED), the other when none is free, scanning from start.
func (m *roomModel) takeGuest(seq int64, start int, checkIn bool) (room int, by roomActor, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range []bool{checkIn, !checkIn} {
		from, to, act := roomOccupied, roomDirty, actorCheckOut
		if in {
			from, to, act = roomAvailable, roomOccupied, actorCheckIn
		}
		if room = m.scan(start, func(s roomStatus) bool { return s == from }); room >= 0 {
			m.begin(seq, room, to)
			return room, act, true
		}
	}
	return 0, 0, false
}

// scan returns the first free room from start, wrapping, whose status
// matches, or -1.
func (m *roomModel) scan(start int, match func(roomStatus) bool) int {
	n := len(m.status)
	for i := range n {
		r := (start + i) % n
		if m.slot[r] == roomFree && match(m.status[r]) {
			return r
		}
	}
	return -1
}

func (m *roomModel) begin(seq int64, room int, to roomStatus) {
	m.slot[room] = roomBusy
	m.pending[seq] = roomMove{room: room, to: to}
}

// settle ends the change of entry seq: applied moves the room, refused
// leaves it out from then on, neither (the change was never sent) frees it
// as it was.
func (m *roomModel) settle(seq int64, applied, refused bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mv, ok := m.pending[seq]
	if !ok {
		return
	}
	delete(m.pending, seq)
	switch {
	case applied:
		m.status[mv.room] = mv.to
		m.slot[mv.room] = roomFree
	case refused:
		m.slot[mv.room] = roomBroken
		m.broken++
	default:
		m.slot[mv.room] = roomFree
	}
}

// counts returns how many rooms are in each status, and how many the
// harness lost track of.
func (m *roomModel) counts() (by [numRoomStatuses]int, broken int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.status {
		if m.slot[i] != roomBroken {
			by[s]++
		}
	}
	return by, m.broken
}
