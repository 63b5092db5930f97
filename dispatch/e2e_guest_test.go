package dispatch_test

import (
	"strings"
	"testing"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// TestGuestSeesOnlyTheirRoom checks that a guest can neither read nor act
// on another room, and that their own channel carries only their room.
func TestGuestSeesOnlyTheirRoom(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.setRoom("305", "OCCUPIED")
	h.setRoom("306", "OCCUPIED")
	g := h.connect(guest("g-305", "305"))
	other := h.connect(guest("g-306", "306"))
	other.subscribe(dispatch.NSPersonal, "")
	sub := g.subscribe(dispatch.NSPersonal, "")
	if sub.Channel != testProperty+":room:305" || sub.Snapshot != nil {
		t.Fatalf("guest's own channel %+v, want grand:room:305 without a board", sub)
	}

	for _, ns := range []string{dispatch.NSRooms, dispatch.NSService, dispatch.NSGuests, dispatch.NSHousekeeping, dispatch.NSMaintenance} {
		expectError(t, g.call(dispatch.EventSubscribe, ns, nil), dispatch.CodeForbidden)
	}
	expectError(t, g.call(dispatch.EventServiceRequest, "", map[string]string{"type": "towels", "roomNumber": "306"}),
		dispatch.CodeForbidden)
	for _, ev := range []string{dispatch.EventRoomStatusUpdate, dispatch.EventGuestCheckIn, dispatch.EventSystemAlert} {
		expectError(t, g.call(ev, "", map[string]string{"roomNumber": "306", "status": "DIRTY", "message": "x"}),
			dispatch.CodeForbidden)
	}
	theirs := create(t, other, map[string]string{"type": "towels"})
	for _, action := range []string{"cancel", "accept", "complete"} {
		expectError(t, act(g, theirs.ID, action), dispatch.CodeNotFound)
	}
	// Their request stays untouched, and nothing of room 306 reached 305.
	expectActions(t, other, theirs.ID, "created", "escalated")
	h.publish(dispatch.EventRoomStatusUpdate, map[string]string{"roomNumber": "306", "status": "DIRTY"})
	other.await(isEvent(dispatch.EventRoomStatusUpdate))
	g.quiet(func(e envelope) bool {
		return strings.Contains(string(e.Payload), "306") && e.Event != dispatch.EventError
	})

	// Their own room's request works, and the guest may cancel it.
	mine := create(t, g, map[string]string{"type": "towels", "roomNumber": "305"})
	mustAct(t, g, mine.ID, "cancel", "CANCELLED")
	expectActions(t, g, mine.ID, "created", "escalated", "cancelled")
	if theirs.RoomNumber != "306" || mine.RoomNumber != "305" {
		t.Fatalf("rooms %q and %q", theirs.RoomNumber, mine.RoomNumber)
	}
}

// TestStaffOnlyTheirNamespaces checks the role table at the edge: a few
// namespaces and events each role is refused.
func TestStaffOnlyTheirNamespaces(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	cases := []struct {
		role      auth.Role
		forbidden []string // namespaces
		events    []string // events refused
	}{
		{auth.Housekeeping, []string{dispatch.NSService, dispatch.NSGuests, dispatch.NSMaintenance}, []string{dispatch.EventGuestCheckIn, dispatch.EventSystemAlert}},
		{auth.Maintenance, []string{dispatch.NSService, dispatch.NSHousekeeping}, []string{dispatch.EventServiceRequest, dispatch.EventHousekeepingAlert}},
		{auth.Concierge, []string{dispatch.NSRooms, dispatch.NSMaintenance}, []string{dispatch.EventRoomStatusUpdate, dispatch.EventGuestCheckOut}},
		{auth.FrontDesk, nil, []string{dispatch.EventSystemAlert}},
	}
	for _, tc := range cases {
		t.Run("role="+tc.role.String(), func(t *testing.T) {
			c := h.sub(t).connect(staff("s-"+tc.role.String(), tc.role))
			for _, ns := range tc.forbidden {
				expectError(t, c.call(dispatch.EventSubscribe, ns, nil), dispatch.CodeForbidden)
			}
			for _, ev := range tc.events {
				expectError(t, c.call(ev, "", map[string]string{"message": "x", "roomNumber": "101"}), dispatch.CodeForbidden)
			}
			if sub := c.subscribe(dispatch.NSPersonal, ""); sub.Channel != testProperty+":staff:s-"+tc.role.String() {
				t.Fatalf("personal channel %q", sub.Channel)
			}
		})
	}
}
