package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// requestOf decodes the request in an ACK's data.
func requestOf(t testing.TB, a ackPayload) serviceRequest {
	t.Helper()
	var r serviceRequest
	if err := json.Unmarshal(a.Data, &r); err != nil || r.ID == "" {
		t.Fatalf("ACK data %s is not a request (%v)", a.Data, err)
	}
	return r
}

// create sends SERVICE_REQUEST from c and returns the request of its ACK.
func create(t testing.TB, c *client, payload any) serviceRequest {
	t.Helper()
	return requestOf(t, expectAck(t, c.call(dispatch.EventServiceRequest, "", payload), dispatch.EventServiceRequest))
}

// act sends SERVICE_REQUEST_UPDATE and returns the answer.
func act(c *client, id, action string) envelope {
	return c.call(dispatch.EventServiceRequestUpdate, "", map[string]string{"requestId": id, "action": action})
}

// mustAct sends an action that must succeed and returns the request after it.
func mustAct(t testing.TB, c *client, id, action, status string) serviceRequest {
	t.Helper()
	r := requestOf(t, expectAck(t, act(c, id, action), dispatch.EventServiceRequestUpdate))
	if r.Status != status {
		t.Fatalf("%s: request status %s, want %s", action, r.Status, status)
	}
	return r
}

// changeOf waits for the next SERVICE_REQUEST_UPDATE of request id on c.
func changeOf(t testing.TB, c *client, id string) (envelope, requestChange) {
	t.Helper()
	var ch requestChange
	e := c.await(func(e envelope) bool {
		if e.Event != dispatch.EventServiceRequestUpdate {
			return false
		}
		ch = requestChange{}
		_ = json.Unmarshal(e.Payload, &ch)
		return ch.Request.ID == id
	})
	return e, ch
}

// expectActions checks the next updates of request id on c, in order.
func expectActions(t testing.TB, c *client, id string, actions ...string) requestChange {
	t.Helper()
	var last requestChange
	for _, want := range actions {
		_, last = changeOf(t, c, id)
		if last.Action != want {
			t.Fatalf("request %s: action %q (status %s), want %q", id, last.Action, last.Request.Status, want)
		}
	}
	return last
}

// assignment waits for the SERVICE_REQUEST that hands a request to c.
func assignment(t testing.TB, c *client) serviceRequest {
	t.Helper()
	e := c.await(isEventIn(dispatch.EventServiceRequest, dispatch.NSPersonal))
	var r serviceRequest
	e.decode(t, &r)
	return r
}

// TestServiceRequestRouted checks the routing rules (department by type,
// fewest open requests, nearest floor) and a whole lifecycle seen by the
// guest on their room's channel and by the front desk on service.
func TestServiceRequestRouted(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	busy := h.connect(staff("hk-busy", auth.Housekeeping, 3))
	near := h.connect(staff("hk-near", auth.Housekeeping, 3))
	far := h.connect(staff("hk-far", auth.Housekeeping, 7))
	maint := h.connect(staff("mt-1", auth.Maintenance, 3))
	for _, c := range []*client{busy, near, far, maint} {
		c.subscribe(dispatch.NSPersonal, "")
	}
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSService, "")
	other := h.connect(guest("g-310", "310"))
	g := h.connect(guest("g-305", "305"))
	g.subscribe(dispatch.NSPersonal, "")

	// Equal load and floor: the tie goes by name, so hk-busy takes the first.
	first := create(t, other, map[string]string{"type": "towels"})
	if first.Assignee != "hk-busy" || first.RoomNumber != "310" || first.Department != "housekeeping" {
		t.Fatalf("first request %+v, want housekeeping room 310 assigned to hk-busy", first)
	}
	// Now hk-busy holds one: hk-near (floor 3, none open) beats hk-far (floor 7).
	req := create(t, g, map[string]string{"type": "towels", "description": "two bath towels"})
	if req.Status != "ASSIGNED" || req.Assignee != "hk-near" || req.RoomNumber != "305" || req.CreatedBy != "g-305" {
		t.Fatalf("request %+v, want ASSIGNED to hk-near for room 305", req)
	}
	if got := assignment(t, near); got.ID != req.ID || got.Status != "ASSIGNED" {
		t.Fatalf("hk-near was handed %+v, want %s", got, req.ID)
	}
	// A plumbing request goes to maintenance, whatever the floor.
	if r := create(t, g, map[string]string{"type": "plumbing"}); r.Assignee != "mt-1" || r.Department != "maintenance" {
		t.Fatalf("plumbing request %+v, want maintenance mt-1", r)
	}

	expectError(t, act(far, req.ID, "accept"), dispatch.CodeForbidden)
	expectError(t, act(near, req.ID, "start"), dispatch.CodeIllegalTransition)
	mustAct(t, near, req.ID, "accept", "ACCEPTED")
	mustAct(t, near, req.ID, "start", "IN_PROGRESS")
	openBefore := h.metric("bellhop_service_requests_open")
	done := mustAct(t, near, req.ID, "complete", "COMPLETED")
	if done.Assignee != "hk-near" || done.Version < 4 {
		t.Fatalf("completed request %+v", done)
	}
	if got := h.metric("bellhop_service_requests_open"); got != openBefore-1 {
		t.Fatalf("open requests %v after completing one, want %v", got, openBefore-1)
	}
	expectError(t, act(near, req.ID, "cancel"), dispatch.CodeIllegalTransition)
	// Finished requests leave the open table routing reads.
	ctx := context.Background()
	if _, err := h.store.Get(ctx, "requests:"+testProperty, req.ID); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("completed request still among the open ones: %v", err)
	}
	if _, err := h.store.Get(ctx, "requests-done:"+testProperty, req.ID); err != nil {
		t.Fatalf("completed request not archived: %v", err)
	}

	lifecycle := []string{"created", "assigned", "accepted", "started", "completed"}
	last := expectActions(t, g, req.ID, lifecycle...)
	if last.Request.Status != "COMPLETED" {
		t.Fatalf("guest's last update %+v", last)
	}
	expectActions(t, desk, req.ID, lifecycle...)

	status, ans := h.apiCall("GET", "/api/v1/requests?property="+testProperty+"&all=true", nil)
	var list []serviceRequest
	if status != http.StatusOK || json.Unmarshal(ans.Data, &list) != nil || len(list) != 3 {
		t.Fatalf("GET requests: %d %s", status, ans.Data)
	}
	status, ans = h.apiCall("GET", "/api/v1/requests?property="+testProperty, nil)
	if json.Unmarshal(ans.Data, &list) != nil || len(list) != 2 || slices.ContainsFunc(list, func(r serviceRequest) bool { return r.ID == req.ID }) {
		t.Fatalf("GET open requests: %d %s, want the two others", status, ans.Data)
	}
	var roster []struct {
		Sub  string `json:"sub"`
		Open int    `json:"openRequests"`
	}
	_, ans = h.apiCall("GET", "/api/v1/staff?property="+testProperty, nil)
	if err := json.Unmarshal(ans.Data, &roster); err != nil || len(roster) != 5 {
		t.Fatalf("GET staff: %s (%v)", ans.Data, err)
	}
	for _, s := range roster {
		want := map[string]int{"hk-busy": 1, "mt-1": 1}[s.Sub]
		if s.Open != want {
			t.Fatalf("staff %s has %d open requests, want %d", s.Sub, s.Open, want)
		}
	}
}

// TestServiceRequestReassignedThenEscalated lets every assignee miss the
// accept deadline: the request moves to the next candidate, then escalates
// to the front desk, who takes it over.
func TestServiceRequestReassignedThenEscalated(t *testing.T) {
	t.Parallel()
	h := start(t, options{dispatch: dispatch.Config{AcceptTimeout: 300 * time.Millisecond}})
	a := h.connect(staff("hk-a", auth.Housekeeping, 3))
	b := h.connect(staff("hk-b", auth.Housekeeping, 5))
	a.subscribe(dispatch.NSPersonal, "")
	b.subscribe(dispatch.NSPersonal, "")
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSService, "")
	g := h.connect(guest("g-305", "305"))
	g.subscribe(dispatch.NSPersonal, "")

	start := time.Now()
	req := create(t, g, map[string]string{"type": "turndown"})
	if req.Assignee != "hk-a" {
		t.Fatalf("request %+v, want hk-a (nearest floor)", req)
	}
	if got := assignment(t, a); got.ID != req.ID {
		t.Fatalf("hk-a handed %+v", got)
	}
	_, lapsed := changeOf(t, a, req.ID)
	if lapsed.Action != "timed_out" {
		t.Fatalf("hk-a got %+v, want timed_out", lapsed)
	}
	if got := assignment(t, b); got.ID != req.ID || got.Attempt != 2 || !slices.Equal(got.Tried, []string{"hk-a", "hk-b"}) {
		t.Fatalf("hk-b handed %+v, want attempt 2 after hk-a", got)
	}
	expectActions(t, desk, req.ID, "created", "assigned", "assigned")
	e, esc := changeOf(t, desk, req.ID)
	if esc.Action != "escalated" || esc.Request.Status != "ESCALATED" || esc.Request.Assignee != "" || e.Priority != "HIGH" {
		t.Fatalf("front desk got %s, want a HIGH escalation", e)
	}
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Fatalf("escalated after %v, before two accept deadlines of 300ms", d)
	}
	expectActions(t, g, req.ID, "created", "assigned", "assigned", "escalated")
	expectError(t, act(g, req.ID, "accept"), dispatch.CodeIllegalTransition)

	took := mustAct(t, desk, req.ID, "accept", "ACCEPTED")
	if took.Assignee != "fd-1" {
		t.Fatalf("front desk took over %+v", took)
	}
	mustAct(t, desk, req.ID, "complete", "COMPLETED")
	expectActions(t, g, req.ID, "accepted", "completed")
}

// TestServiceRequestDeclinedAndCancelled covers decline (to the next
// candidate), who may cancel, and a request nobody can take.
func TestServiceRequestDeclinedAndCancelled(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a := h.connect(staff("hk-a", auth.Housekeeping, 3))
	b := h.connect(staff("hk-b", auth.Housekeeping, 5))
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSService, "")
	g := h.connect(guest("g-305", "305"))

	req := create(t, g, map[string]string{"type": "laundry"})
	expectError(t, act(b, req.ID, "decline"), dispatch.CodeForbidden)
	r := requestOf(t, expectAck(t, act(a, req.ID, "decline"), dispatch.EventServiceRequestUpdate))
	if r.Assignee != "hk-b" || r.Status != "ASSIGNED" {
		t.Fatalf("after decline %+v, want assigned to hk-b", r)
	}
	expectActions(t, desk, req.ID, "created", "assigned", "declined", "assigned")
	expectError(t, act(a, req.ID, "cancel"), dispatch.CodeForbidden) // not the creator
	mustAct(t, g, req.ID, "cancel", "CANCELLED")
	last := expectActions(t, desk, req.ID, "cancelled")
	if last.Request.Status != "CANCELLED" {
		t.Fatalf("desk saw %+v", last)
	}
	expectError(t, act(b, req.ID, "accept"), dispatch.CodeIllegalTransition)

	// Nobody of the concierge is on shift: escalated at once.
	lug := create(t, desk, map[string]string{"type": "luggage", "roomNumber": "305"})
	if lug.Status != "ESCALATED" || lug.Department != "concierge" {
		t.Fatalf("luggage request %+v, want ESCALATED for concierge", lug)
	}
	expectActions(t, desk, lug.ID, "created", "escalated")

	for _, tc := range []struct {
		name    string
		event   string
		payload any
		code    dispatch.Code
	}{
		{"no_type", dispatch.EventServiceRequest, map[string]string{}, dispatch.CodeInvalidPayload},
		{"staff_without_room", dispatch.EventServiceRequest, map[string]string{"type": "towels"}, dispatch.CodeInvalidPayload},
		{"unknown_department", dispatch.EventServiceRequest, map[string]string{"type": "x", "roomNumber": "1", "department": "spa"}, dispatch.CodeInvalidPayload},
		{"no_request_id", dispatch.EventServiceRequestUpdate, map[string]string{"action": "accept"}, dispatch.CodeInvalidPayload},
		{"unknown_action", dispatch.EventServiceRequestUpdate, map[string]string{"requestId": req.ID, "action": "ignore"}, dispatch.CodeInvalidPayload},
		{"unknown_request", dispatch.EventServiceRequestUpdate, map[string]string{"requestId": "req-0", "action": "accept"}, dispatch.CodeNotFound},
	} {
		t.Logf("case %s", tc.name) // the clients belong to the test: no subtests
		expectError(t, desk.call(tc.event, "", tc.payload), tc.code)
	}
}

// TestServiceSnapshot: a desk subscribing to service gets the open
// requests, oldest first; finished ones are not in it.
func TestServiceSnapshot(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.connect(staff("hk-1", auth.Housekeeping)).subscribe(dispatch.NSPersonal, "")
	g := h.connect(guest("g-1", "101"))
	first := create(t, g, map[string]string{"type": "towels"})
	second := create(t, g, map[string]string{"type": "plumbing"})
	done := create(t, g, map[string]string{"type": "amenities"})
	mustAct(t, g, done.ID, "cancel", "CANCELLED")
	sub := h.connect(staff("fd-1", auth.FrontDesk)).subscribe(dispatch.NSService, "")
	var ids []string
	for _, r := range sub.Requests {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{first.ID, second.ID}) {
		t.Fatalf("snapshot requests %v, want %s then %s", ids, first.ID, second.ID)
	}
}
