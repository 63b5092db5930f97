package dispatch_test

import (
	"encoding/json"

	"testing"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// TestRoomCleanedReachesFrontDesk is the first scenario: the board
// is seeded through the API, the front desk subscribes to rooms and gets the
// snapshot with versions, a housekeeper marks a room CLEANED and the front
// desk sees the change with the new version.
func TestRoomCleanedReachesFrontDesk(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	seed := h.publish(dispatch.EventRoomStatusUpdate, map[string]any{"roomNumber": "101", "status": "CLEANING"})
	h.publish(dispatch.EventRoomStatusUpdate, map[string]any{"roomNumber": "412", "status": "DIRTY"})

	desk := h.connect(staff("fd-1", auth.FrontDesk))
	sub := desk.subscribe(dispatch.NSRooms, "")
	if sub.Snapshot == nil || sub.Recovered || sub.Channel != testProperty+":rooms" {
		t.Fatalf("SUBSCRIBED %+v: want a snapshot of channel grand:rooms, recovered false", sub)
	}
	r101, ok := sub.Snapshot.room("101")
	if !ok || r101.Status != "CLEANING" || r101.Version != 1 || r101.Floor != 1 {
		t.Fatalf("snapshot room 101 %+v, want CLEANING version 1 floor 1", r101)
	}
	if r412, _ := sub.Snapshot.room("412"); r412.Status != "DIRTY" || r412.Floor != 4 {
		t.Fatalf("snapshot room 412 %+v, want DIRTY on floor 4", r412)
	}
	if sub.Position == "" || offsetOf(t, sub.Position) < offsetOf(t, seed.MessageID) {
		t.Fatalf("snapshot position %q is before the seed %q", sub.Position, seed.MessageID)
	}

	hk := h.connect(staff("hk-anna", auth.Housekeeping, 1))
	ack := expectAck(t, hk.call(dispatch.EventRoomStatusUpdate, "", map[string]string{"roomNumber": "101", "status": "CLEANED"}),
		dispatch.EventRoomStatusUpdate)

	e := desk.await(isEventIn(dispatch.EventRoomStatusUpdate, dispatch.NSRooms))
	var got room
	e.decode(t, &got)
	want := room{RoomNumber: "101", Status: "CLEANED", Floor: 1, Version: 2, UpdatedBy: "hk-anna", PreviousStatus: "CLEANING"}
	if got != want {
		t.Fatalf("front desk got %+v, want %+v", got, want)
	}
	if e.MessageID != ack.MessageID || e.Sender != "hk-anna" || e.Priority != "HIGH" || e.Timestamp == "" {
		t.Fatalf("envelope %s: want messageId %q from hk-anna, HIGH, with a timestamp", e, ack.MessageID)
	}
	if offsetOf(t, e.MessageID) <= offsetOf(t, sub.Position) {
		t.Fatalf("change %q not after the snapshot position %q", e.MessageID, sub.Position)
	}
	if r, _ := h.board().room("101"); r.Status != "CLEANED" || r.Version != 2 {
		t.Fatalf("board has %+v, want CLEANED version 2", r)
	}
}

// TestRoomUpdateRefused covers the refusals of ROOM_STATUS_UPDATE: each
// answers ERROR with the client's correlationId and changes nothing.
func TestRoomUpdateRefused(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.setRoom("101", "CLEANING")
	h.setRoom("102", "DIRTY")
	hk := h.connect(staff("hk-1", auth.Housekeeping))
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	maint := h.connect(staff("mt-1", auth.Maintenance))
	g := h.connect(guest("g-1", "101"))
	cases := []struct {
		name    string
		c       *client
		payload any
		code    dispatch.Code
	}{
		{"housekeeping_cannot_inspect", hk, map[string]any{"roomNumber": "101", "status": "INSPECTED"}, dispatch.CodeIllegalTransition},
		{"front_desk_cannot_clean", desk, map[string]any{"roomNumber": "102", "status": "CLEANING"}, dispatch.CodeIllegalTransition},
		{"maintenance_cannot_finish_cleaning", maint, map[string]any{"roomNumber": "101", "status": "CLEANED"}, dispatch.CodeIllegalTransition},
		{"same_status", hk, map[string]any{"roomNumber": "101", "status": "CLEANING"}, dispatch.CodeIllegalTransition},
		{"skip_the_cycle", hk, map[string]any{"roomNumber": "102", "status": "CLEANED"}, dispatch.CodeIllegalTransition},
		{"stale_version", hk, map[string]any{"roomNumber": "101", "status": "CLEANED", "version": 7}, dispatch.CodeVersionConflict},
		{"unknown_room", hk, map[string]any{"roomNumber": "999", "status": "CLEANED"}, dispatch.CodeNotFound},
		{"unknown_status", hk, map[string]any{"roomNumber": "101", "status": "SPARKLING"}, dispatch.CodeInvalidPayload},
		{"no_room_number", hk, map[string]any{"status": "CLEANED"}, dispatch.CodeInvalidPayload},
		{"bad_room_number", hk, map[string]any{"roomNumber": "1:01", "status": "CLEANED"}, dispatch.CodeInvalidPayload},
		{"payload_not_an_object", hk, "CLEANED", dispatch.CodeInvalidPayload},
		{"note_too_long", hk, map[string]any{"roomNumber": "101", "status": "CLEANED", "note": string(make([]byte, 501))}, dispatch.CodeInvalidPayload},
		{"guest_may_not", g, map[string]any{"roomNumber": "101", "status": "CLEANED"}, dispatch.CodeForbidden},
	}
	for _, tc := range cases {
		t.Logf("case %s", tc.name) // the clients belong to the test: no subtests
		expectError(t, tc.c.call(dispatch.EventRoomStatusUpdate, "", tc.payload), tc.code)
	}
	b := h.board()
	if r, _ := b.room("101"); r.Status != "CLEANING" || r.Version != 1 {
		t.Fatalf("room 101 changed to %+v", r)
	}
	if r, _ := b.room("102"); r.Status != "DIRTY" || r.Version != 1 {
		t.Fatalf("room 102 changed to %+v", r)
	}
	if _, ok := b.room("999"); ok {
		t.Fatal("room 999 was created by a refused update")
	}
	// A conditional update at the right version goes through.
	ack := expectAck(t, hk.call(dispatch.EventRoomStatusUpdate, "", map[string]any{"roomNumber": "101", "status": "CLEANED", "version": 1}),
		dispatch.EventRoomStatusUpdate)
	var got room
	if err := json.Unmarshal(ack.Data, &got); err != nil || got.Version != 2 {
		t.Fatalf("ACK data %s (%v), want version 2", ack.Data, err)
	}
}

// TestRoomLifecycle walks a room through its whole cycle, each move made by
// a role allowed to, and checks the guest of the room sees its status on
// their own channel.
func TestRoomLifecycle(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.setRoom("305", "OCCUPIED")
	hk := h.connect(staff("hk-1", auth.Housekeeping))
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	maint := h.connect(staff("mt-1", auth.Maintenance))
	g := h.connect(guest("g-305", "305"))
	g.subscribe(dispatch.NSPersonal, "")
	steps := []struct {
		c      *client
		status string
	}{
		{hk, "DIRTY"}, {hk, "CLEANING"}, {maint, "MAINTENANCE"}, {maint, "DIRTY"}, {hk, "CLEANING"},
		{hk, "CLEANED"}, {desk, "INSPECTED"}, {desk, "AVAILABLE"}, {maint, "OUT_OF_ORDER"},
		{desk, "MAINTENANCE"}, {desk, "DIRTY"},
	}
	for i, st := range steps {
		expectAck(t, st.c.call(dispatch.EventRoomStatusUpdate, "", map[string]string{"roomNumber": "305", "status": st.status}),
			dispatch.EventRoomStatusUpdate)
		e := g.await(isEvent(dispatch.EventRoomStatusUpdate))
		var r room
		e.decode(t, &r)
		if e.Namespace != dispatch.NSPersonal || r.Status != st.status || r.Version != uint64(i+2) {
			t.Fatalf("step %d: guest got %s, want %s version %d on %q", i, e, st.status, i+2, dispatch.NSPersonal)
		}
	}
}
