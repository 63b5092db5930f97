package dispatch_test

import (
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// TestBadMessages sends malformed and unknown messages: each gets an ERROR
// with a stable code (and the correlationId when one could be read), and
// the connection stays open.
func TestBadMessages(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	c := h.connect(staff("fd-1", auth.FrontDesk))
	cases := []struct {
		name string
		op   ws.OpCode
		msg  string
		corr string // expected correlationId on the ERROR
		code dispatch.Code
	}{
		{"not_json", ws.OpText, "hello", "", dispatch.CodeBadMessage},
		{"truncated", ws.OpText, `{"event":"SUBSCRIBE"`, "", dispatch.CodeBadMessage},
		{"array", ws.OpText, `[1,2]`, "", dispatch.CodeBadMessage},
		{"no_event", ws.OpText, `{"namespace":"rooms","correlationId":"x1"}`, "", dispatch.CodeBadMessage},
		{"event_not_string", ws.OpText, `{"event":7}`, "", dispatch.CodeBadMessage},
		{"binary", ws.OpBinary, `{"event":"SUBSCRIBE"}`, "", dispatch.CodeBadMessage},
		{"event_too_long", ws.OpText, `{"event":"` + strings.Repeat("E", 65) + `"}`, "", dispatch.CodeBadMessage},
		{"bad_priority", ws.OpText, `{"event":"SYSTEM_ALERT","priority":"NOW"}`, "", dispatch.CodeBadMessage},
		{"unknown_event", ws.OpText, `{"event":"TELEPORT","correlationId":"u1"}`, "u1", dispatch.CodeUnknownEvent},
		{"server_only_event", ws.OpText, `{"event":"SUBSCRIBED","correlationId":"u2"}`, "u2", dispatch.CodeUnknownEvent},
		{"unknown_namespace", ws.OpText, `{"event":"SUBSCRIBE","namespace":"spa","correlationId":"n1"}`, "n1", dispatch.CodeBadNamespace},
		{"not_subscribed", ws.OpText, `{"event":"UNSUBSCRIBE","namespace":"rooms","correlationId":"n2"}`, "n2", dispatch.CodeBadNamespace},
		{"alert_without_message", ws.OpText, `{"event":"HOUSEKEEPING_ALERT","payload":{},"correlationId":"p1"}`, "p1", dispatch.CodeInvalidPayload},
		{"alert_bad_scope", ws.OpText, `{"event":"HOUSEKEEPING_ALERT","payload":{"message":"m","scope":"moon"},"correlationId":"p2"}`, "p2", dispatch.CodeInvalidPayload},
		{"alert_bad_severity", ws.OpText, `{"event":"MAINTENANCE_ALERT","payload":{"message":"m","severity":"meh"},"correlationId":"p3"}`, "p3", dispatch.CodeInvalidPayload},
		{"alert_bad_assignee", ws.OpText, `{"event":"MAINTENANCE_ALERT","payload":{"message":"m","assignee":"a b"},"correlationId":"p4"}`, "p4", dispatch.CodeInvalidPayload},
		{"global_alert_by_staff", ws.OpText, `{"event":"HOUSEKEEPING_ALERT","payload":{"message":"m","scope":"global"},"correlationId":"p5"}`, "p5", dispatch.CodeForbidden},
		{"checkin_without_room", ws.OpText, `{"event":"GUEST_CHECKIN","payload":{"guestName":"Ada"},"correlationId":"p6"}`, "p6", dispatch.CodeInvalidPayload},
		{"checkin_too_long", ws.OpText, `{"event":"GUEST_CHECKIN","payload":{"roomNumber":"1","note":"` + strings.Repeat("n", 1001) + `"},"correlationId":"p7"}`, "p7", dispatch.CodeInvalidPayload},
	}
	for _, tc := range cases {
		t.Logf("case %s", tc.name) // the clients belong to the test: no subtests
		c.sendRaw(tc.op, tc.msg)
		e := c.next(waitTimeout)
		expectError(t, e, tc.code)
		if e.CorrelationID != tc.corr {
			t.Fatalf("ERROR correlationId %q, want %q", e.CorrelationID, tc.corr)
		}
		c.subscribe(dispatch.NSSystem, "") // still open, and the bad-message count resets
	}
	if n := h.metric(`bellhop_errors_total{code="BAD_MESSAGE"}`); n != 8 {
		t.Fatalf("BAD_MESSAGE errors counted %v, want 8", n)
	}
}

// TestFloodCloses checks that MaxBadMessages bad messages in a row close
// the connection with 4029, and that a good message in between resets the
// count.
func TestFloodCloses(t *testing.T) {
	t.Parallel()
	h := start(t, options{dispatch: dispatch.Config{MaxBadMessages: 3}})
	c := h.connect(staff("fd-1", auth.FrontDesk))
	for range 3 {
		c.sendRaw(ws.OpText, "junk")
		c.sendRaw(ws.OpText, "junk")
		c.subscribe(dispatch.NSSystem, "")
	}
	for range 3 {
		c.sendRaw(ws.OpText, "junk")
	}
	for range 3 {
		expectError(t, c.next(waitTimeout), dispatch.CodeBadMessage)
	}
	c.expectClose(ws.StatusCode(dispatch.CloseFlood))
	// Before authenticating, messages other than AUTH count as bad too.
	u := h.dial(dialOptions{})
	for range 3 {
		u.sendRaw(ws.OpText, `{"event":"SUBSCRIBE","namespace":"rooms"}`)
	}
	for range 3 {
		expectError(t, u.next(waitTimeout), dispatch.CodeAuthRequired)
	}
	u.expectClose(ws.StatusCode(dispatch.CloseFlood))
}

// TestGuestAndAlertEvents covers check-in and check-out (notices and the
// room's move on the board) and the alerts, each to its audience.
func TestGuestAndAlertEvents(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.setRoom("305", "INSPECTED")
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSGuests, "")
	desk.subscribe(dispatch.NSRooms, "")
	hk := h.connect(staff("hk-1", auth.Housekeeping))
	hk.subscribe(dispatch.NSHousekeeping, "")
	hk.subscribe(dispatch.NSPersonal, "")
	mt := h.connect(staff("mt-1", auth.Maintenance))
	mt.subscribe(dispatch.NSMaintenance, "")
	g := h.connect(guest("g-305", "305"))
	g.subscribe(dispatch.NSPersonal, "")
	g.subscribe(dispatch.NSSystem, "")

	in := expectAck(t, desk.call(dispatch.EventGuestCheckIn, "", map[string]string{"roomNumber": "305", "guestName": "Ada Lovelace"}),
		dispatch.EventGuestCheckIn)
	if e := desk.await(isEventIn(dispatch.EventGuestCheckIn, dispatch.NSGuests)); e.MessageID != in.MessageID || e.Priority != "HIGH" {
		t.Fatalf("front desk got %s", e)
	}
	g.await(isEventIn(dispatch.EventGuestCheckIn, dispatch.NSPersonal))
	var moved room
	desk.await(isEventIn(dispatch.EventRoomStatusUpdate, dispatch.NSRooms)).decode(t, &moved)
	if moved.Status != "OCCUPIED" || moved.PreviousStatus != "INSPECTED" {
		t.Fatalf("check-in moved the room to %+v, want OCCUPIED", moved)
	}
	h.publish(dispatch.EventGuestCheckOut, map[string]string{"roomNumber": "305"})
	desk.await(isEventIn(dispatch.EventGuestCheckOut, dispatch.NSGuests))
	desk.await(isEventIn(dispatch.EventRoomStatusUpdate, dispatch.NSRooms)).decode(t, &moved)
	if moved.Status != "DIRTY" {
		t.Fatalf("check-out moved the room to %+v, want DIRTY", moved)
	}
	// A check-in of a room not on the board is still announced.
	h.publish(dispatch.EventGuestCheckIn, map[string]string{"roomNumber": "999"})
	desk.await(isEventIn(dispatch.EventGuestCheckIn, dispatch.NSGuests))

	ack := expectAck(t, desk.call(dispatch.EventHousekeepingAlert, "", map[string]any{"message": "VIP in 305", "assignee": "hk-1", "severity": "warning"}),
		dispatch.EventHousekeepingAlert)
	if e := hk.await(isEventIn(dispatch.EventHousekeepingAlert, dispatch.NSHousekeeping)); e.MessageID != ack.MessageID || e.Priority != "MEDIUM" {
		t.Fatalf("housekeeping got %s", e)
	}
	hk.await(isEventIn(dispatch.EventHousekeepingAlert, dispatch.NSPersonal))
	desk.sendEnv(map[string]any{"event": dispatch.EventMaintenanceAlert, "priority": "LOW", "payload": map[string]string{"message": "leak"}})
	if e := mt.await(isEvent(dispatch.EventMaintenanceAlert)); e.Priority != "LOW" || e.Namespace != dispatch.NSMaintenance {
		t.Fatalf("maintenance got %s", e)
	}
	h.publish(dispatch.EventSystemAlert, map[string]string{"message": "fire drill at noon"})
	if e := g.await(isEvent(dispatch.EventSystemAlert)); e.Namespace != dispatch.NSSystem || e.Priority != "HIGH" {
		t.Fatalf("guest got %s", e)
	}
	// A global alert reaches every property on record.
	h.publish(dispatch.EventSystemAlert, map[string]string{"message": "network maintenance", "scope": "global"})
	var alert struct{ Message, Scope string }
	g.await(isEvent(dispatch.EventSystemAlert)).decode(t, &alert)
	if alert.Scope != "global" || alert.Message != "network maintenance" {
		t.Fatalf("global alert %+v", alert)
	}
}
