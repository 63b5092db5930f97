package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

func TestHotelTag(t *testing.T) {
	const run = "5f2a91c0"
	for _, c := range []struct {
		op  byte
		seq int64
	}{{opRoom, 0}, {opRequest, 42}, {opLow, 1<<62 + 7}} {
		tag := string(appendTag(nil, c.op, run, c.seq))
		op, seq, ok := parseTag(tag, run)
		if !ok || op != c.op || seq != c.seq {
			t.Errorf("parseTag(%q) = %c %d %v, want %c %d", tag, op, seq, ok, c.op, c.seq)
		}
	}
	for _, bad := range []string{"", "r", "r5f2a91c0", "r5f2a91c1" + "12", "r5f2a91c0-1", "r5f2a91c0x", "r5f2a91c099999999999999999999"} {
		if _, _, ok := parseTag(bad, run); ok {
			t.Errorf("parseTag(%q) accepted", bad)
		}
	}
}

// TestHotelMessages checks that every message the harness sends is JSON
// with the fields the protocol names.
func TestHotelMessages(t *testing.T) {
	tag := []byte("r5f2a91c07")
	room := &hotelRoom{number: "412", floor: 4, status: roomDirty}
	cases := []struct {
		name string
		msg  []byte
		want map[string]any // top-level fields; "payload.x" for payload fields
	}{
		{"auth", appendAuth(nil, "a.b\"c"), map[string]any{"event": evAuth, "payload.token": "a.b\"c"}},
		{"subscribe", appendSubscribe(nil, nsRooms), map[string]any{"event": evSubscribe, "namespace": "rooms"}},
		{"room", appendRoomUpdate(nil, tag, "412", roomCleaning), map[string]any{
			"event": evRoomStatus, "correlationId": string(tag), "payload.roomNumber": "412", "payload.status": "CLEANING"}},
		{"request", appendServiceRequest(nil, tag, "towels"), map[string]any{
			"event": evServiceRequest, "payload.type": "towels", "payload.description": string(tag)}},
		{"accept", appendRequestAction(nil, tag, "req-1", "accept"), map[string]any{
			"event": evRequestUpdate, "payload.requestId": "req-1", "payload.action": "accept"}},
		{"low alert", appendAlert(nil, tag, evHousekeepingAlert, "LOW", "101", "info", "m"), map[string]any{
			"event": evHousekeepingAlert, "priority": "LOW", "payload.message": "m", "payload.severity": "info", "payload.roomNumber": "101"}},
		{"alert", appendAlert(nil, tag, evMaintenanceAlert, "", "101", "warning", "m"), map[string]any{
			"event": evMaintenanceAlert, "payload.severity": "warning"}},
		{"check-in", appendAPIGuest(nil, tag, evCheckIn, "grand \"1\"", "412"), map[string]any{
			"event": evCheckIn, "property": "grand \"1\"", "correlationId": string(tag), "payload.roomNumber": "412", "payload.guestId": string(tag)}},
		{"seed", appendAPISeed(nil, "grand", room), map[string]any{
			"event": evRoomStatus, "property": "grand", "payload.roomNumber": "412", "payload.status": "DIRTY", "payload.floor": 4.0}},
	}
	for _, c := range cases {
		var m map[string]any
		if err := json.Unmarshal(c.msg, &m); err != nil {
			t.Fatalf("%s: %s is not JSON: %v", c.name, c.msg, err)
		}
		payload, _ := m["payload"].(map[string]any)
		for k, want := range c.want {
			got := m[k]
			if len(k) > 8 && k[:8] == "payload." {
				got = payload[k[8:]]
			}
			if got != want {
				t.Errorf("%s: %s = %v, want %v (%s)", c.name, k, got, want, c.msg)
			}
		}
		if _, ok := m["priority"]; ok && c.want["priority"] == nil {
			t.Errorf("%s: priority set: %s", c.name, c.msg)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{`quote " back \ slash`, `quote " back \ slash`},
		{"ctl \x00\x1f\n\t", "ctl \x00\x1f\n\t"},
		{"é ü 日本 🛎", "é ü 日本 🛎"},
		{"bad \xff byte", "bad \ufffd byte"},
		{"cut \xe6\x97", "cut \ufffd\ufffd"},
	}
	for _, c := range cases {
		b := appendJSONString([]byte("x"), c.in)
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil || got != c.want || b[0] != 'x' {
			t.Errorf("appendJSONString(%q) = %s (%q, %v), want %q", c.in, b, got, err, c.want)
		}
	}
}

func TestHotelDeliveryParts(t *testing.T) {
	cases := []struct {
		op    byte
		event string
		part  int
		ok    bool
		kind  hotelKind
	}{
		{opRoom, evRoomStatus, 0, true, kindRoomUpdate},
		{opCheckIn, evCheckIn, 0, true, kindCheckIn},
		{opCheckIn, evRoomStatus, 1, true, kindRoomUpdate},
		{opCheckOut, evCheckOut, 0, true, kindCheckOut},
		{opCheckOut, evRoomStatus, 1, true, kindRoomUpdate},
		{opAlert, evHousekeepingAlert, 0, true, kindAlert},
		{opAlert, evMaintenanceAlert, 0, true, kindAlert},
		{opLow, evHousekeepingAlert, 0, true, kindLowAlert},
		{opLow, evMaintenanceAlert, 0, false, 0},
		{opRoom, evCheckIn, 0, false, 0},
		{opCheckIn, evCheckOut, 0, false, 0},
		{opRequest, evRoomStatus, 0, false, 0},
		{opRoom, evServiceRequest, 0, false, 0},
	}
	for _, c := range cases {
		p, ok := deliveryPart(c.op, c.event)
		if ok != c.ok || ok && (p != c.part || partKind(c.op, p) != c.kind) {
			t.Errorf("deliveryPart(%c, %s) = %d %v (kind %v), want %d %v (kind %v)", c.op, c.event, p, ok, partKind(c.op, p), c.part, c.ok, c.kind)
		}
	}
	if partKind(opRequest, 0) != kindAssignment || partKind(opRequest, 1) != kindRequestUpdate {
		t.Error("request parts are not assignment then updates")
	}
}

func TestCloseCodeOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w with code %d", ErrPeerClosed, 4008), 4008},
		{fmt.Errorf("%w with code %d", ErrPeerClosed, 1001), 1001},
		{closedErr("", io.EOF), 0},
		{closedErr("before the upgrade answer", nil), 0},
		{errTest, 0},
	}
	for _, c := range cases {
		if got := closeCodeOf(c.err); got != c.want {
			t.Errorf("closeCodeOf(%q) = %d, want %d", c.err, got, c.want)
		}
	}
}
