package dispatch_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// TestAPIKey checks that every API route refuses a missing or wrong key
// with 401, and that an API without a key configured is off (503).
func TestAPIKey(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	off := httptest.NewServer(h.svc.API(""))
	defer off.Close()
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/publish"},
		{"GET", "/api/v1/rooms?property=grand"},
		{"GET", "/api/v1/requests?property=grand"},
		{"GET", "/api/v1/staff?property=grand"},
	}
	for _, r := range routes {
		for _, tc := range []struct {
			name string
			url  string
			key  string
			want int
		}{
			{"missing", h.api.URL, "", http.StatusUnauthorized},
			{"wrong", h.api.URL, "test-kez", http.StatusUnauthorized},
			{"prefix", h.api.URL, "test", http.StatusUnauthorized},
			{"api_off", off.URL, "", http.StatusServiceUnavailable},
		} {
			t.Run("route="+r.path+"/key="+tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(r.method, tc.url+r.path, strings.NewReader(`{"event":"SYSTEM_ALERT","property":"grand","payload":{"message":"x"}}`))
				if tc.key != "" {
					req.Header.Set("X-API-Key", tc.key)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var ans apiAnswer
				if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != tc.want || ans.OK || ans.Error == nil {
					t.Fatalf("status %d, %+v (%v), want %d with an error", resp.StatusCode, ans, err, tc.want)
				}
			})
		}
	}
	if n := h.metric(`bellhop_events_published_total{event="SYSTEM_ALERT",priority="HIGH"}`); n != 0 {
		t.Fatalf("%v alerts published without a key", n)
	}
}

// TestAPIIdempotency posts the same room change twice with one
// Idempotency-Key: the second call answers the first one's messageId with
// replayed:true, and the room changes once.
func TestAPIIdempotency(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.setRoom("101", "DIRTY")
	desk := h.connect(staff("fd-1", auth.FrontDesk))
	desk.subscribe(dispatch.NSRooms, "")

	change := map[string]string{"roomNumber": "101", "status": "CLEANING"}
	first := h.publish(dispatch.EventRoomStatusUpdate, change, "Idempotency-Key", "pms-1")
	second := h.publish(dispatch.EventRoomStatusUpdate, change, "Idempotency-Key", "pms-1")
	if first.Replayed || !second.Replayed || second.MessageID != first.MessageID || first.MessageID == "" {
		t.Fatalf("first %+v, second %+v: want the same messageId, the second replayed", first, second)
	}
	// The key may also come in the body.
	body := map[string]any{"event": dispatch.EventRoomStatusUpdate, "property": testProperty, "idempotencyKey": "pms-1",
		"payload": change}
	if status, ans := h.apiCall("POST", "/api/v1/publish", body); status != http.StatusOK || !ans.Replayed || ans.MessageID != first.MessageID {
		t.Fatalf("body key: %d %+v", status, ans)
	}
	if r, _ := h.board().room("101"); r.Status != "CLEANING" || r.Version != 2 {
		t.Fatalf("room %+v, want CLEANING at version 2 (changed once)", r)
	}
	if e := desk.await(isEvent(dispatch.EventRoomStatusUpdate)); e.MessageID != first.MessageID {
		t.Fatalf("subscriber got %s", e)
	}
	desk.quiet(func(e envelope) bool { return e.Event == dispatch.EventRoomStatusUpdate })

	// Another key is another change; the same key for another property too.
	third := h.publish(dispatch.EventRoomStatusUpdate, map[string]string{"roomNumber": "101", "status": "CLEANED"},
		"Idempotency-Key", "pms-2")
	if third.Replayed || third.MessageID == first.MessageID {
		t.Fatalf("a new key replayed: %+v", third)
	}
	status, ans := h.apiCall("POST", "/api/v1/publish", map[string]any{"event": dispatch.EventRoomStatusUpdate,
		"property": "annex", "payload": change}, "Idempotency-Key", "pms-1")
	if status != http.StatusOK || ans.Replayed {
		t.Fatalf("same key, other property: %d %+v", status, ans)
	}
	if status, ans := h.apiCall("POST", "/api/v1/publish", body, "Idempotency-Key", strings.Repeat("k", 201)); status != http.StatusBadRequest {
		t.Fatalf("long key: %d %+v", status, ans)
	}
}

// TestAPIPublishValidation checks the API applies the same validation as a
// client event, with the documented statuses.
func TestAPIPublishValidation(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.setRoom("101", "DIRTY")
	cases := []struct {
		name string
		body any
		want int
		code dispatch.Code
	}{
		{"not_json", []byte("{"), http.StatusBadRequest, dispatch.CodeBadMessage},
		{"no_event", map[string]any{"property": "grand"}, http.StatusBadRequest, dispatch.CodeBadMessage},
		{"no_property", map[string]any{"event": "SYSTEM_ALERT", "payload": map[string]string{"message": "x"}}, http.StatusBadRequest, dispatch.CodeInvalidPayload},
		{"bad_property", map[string]any{"event": "SYSTEM_ALERT", "property": "a:b"}, http.StatusBadRequest, dispatch.CodeInvalidPayload},
		{"unknown_event", map[string]any{"event": "TELEPORT", "property": "grand"}, http.StatusBadRequest, dispatch.CodeUnknownEvent},
		{"control_event", map[string]any{"event": "SUBSCRIBE", "property": "grand"}, http.StatusBadRequest, dispatch.CodeUnknownEvent},
		{"bad_priority", map[string]any{"event": "SYSTEM_ALERT", "property": "grand", "priority": "URGENT"}, http.StatusBadRequest, dispatch.CodeBadMessage},
		{"bad_payload", map[string]any{"event": "SYSTEM_ALERT", "property": "grand", "payload": map[string]int{"message": 1}}, http.StatusBadRequest, dispatch.CodeInvalidPayload},
		{"unknown_request", map[string]any{"event": "SERVICE_REQUEST_UPDATE", "property": "grand", "payload": map[string]string{"requestId": "req-1", "action": "cancel"}}, http.StatusNotFound, dispatch.CodeNotFound},
		{"body_too_big", []byte(`{"event":"SYSTEM_ALERT","property":"grand","payload":{"message":"` + strings.Repeat("x", 70<<10) + `"}}`), http.StatusRequestEntityTooLarge, dispatch.CodeBadMessage},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			status, ans := h.sub(t).apiCall("POST", "/api/v1/publish", tc.body)
			if status != tc.want || ans.OK || ans.Error == nil || ans.Error.Code != string(tc.code) {
				t.Fatalf("status %d %+v, want %d %s", status, ans.Error, tc.want, tc.code)
			}
		})
	}
	for _, path := range []string{"/api/v1/rooms", "/api/v1/requests?property=", "/api/v1/staff?property=a%20b"} {
		if status, _ := h.apiCall("GET", path, nil); status != http.StatusBadRequest {
			t.Fatalf("GET %s: %d, want 400", path, status)
		}
	}
	if status, ans := h.apiCall("GET", "/api/v1/rooms?property=nowhere", nil); status != http.StatusOK || !strings.Contains(string(ans.Data), `"rooms":[]`) {
		t.Fatalf("empty board: %d %s", status, ans.Data)
	}
}
