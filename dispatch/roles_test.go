package dispatch

import (
	"slices"
	"testing"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// documentedRoles is the roles table of docs/PROTOCOL.md, written out
// here on its own so that a change to roles.go that the documentation does
// not share fails.
var documentedRoles = map[auth.Role]struct{ send, subscribe []string }{
	auth.Admin: {
		send: []string{EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
			EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert, EventSystemAlert},
		subscribe: []string{NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem, NSPersonal},
	},
	auth.FrontDesk: {
		send: []string{EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
			EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert},
		subscribe: []string{NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem, NSPersonal},
	},
	auth.Housekeeping: {
		send:      []string{EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventMaintenanceAlert},
		subscribe: []string{NSRooms, NSHousekeeping, NSSystem, NSPersonal},
	},
	auth.Maintenance: {
		send:      []string{EventRoomStatusUpdate, EventServiceRequestUpdate, EventMaintenanceAlert},
		subscribe: []string{NSRooms, NSMaintenance, NSSystem, NSPersonal},
	},
	auth.Concierge: {
		send:      []string{EventServiceRequest, EventServiceRequestUpdate},
		subscribe: []string{NSService, NSGuests, NSSystem, NSPersonal},
	},
	auth.Guest: {
		send:      []string{EventServiceRequest, EventServiceRequestUpdate},
		subscribe: []string{NSPersonal, NSSystem},
	},
	auth.Service: {
		send: []string{EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
			EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert, EventSystemAlert},
		subscribe: []string{NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem},
	},
}

var (
	allEvents = []string{EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
		EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert, EventSystemAlert,
		// Control and server events are never checked against the table:
		// they must not be in it.
		EventAuth, EventAuthenticated, EventSubscribe, EventSubscribed, EventUnsubscribe, EventUnsubscribed,
		EventAck, EventError, "", "room_status_update", "UNKNOWN"}
	allNamespaces = []string{NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem, NSPersonal,
		"", "ROOMS", "spa"}
)

// TestRoleTable checks every role against every event and namespace.
func TestRoleTable(t *testing.T) {
	for role := auth.Role(0); role <= auth.Service+1; role++ {
		doc := documentedRoles[role] // zero for the invalid roles 0 and 8: nothing allowed
		for _, ev := range allEvents {
			if got, want := maySend(role, ev), slices.Contains(doc.send, ev); got != want {
				t.Errorf("maySend(%s, %q) = %v, want %v", role, ev, got, want)
			}
		}
		for _, ns := range allNamespaces {
			if got, want := maySubscribe(role, ns), slices.Contains(doc.subscribe, ns); got != want {
				t.Errorf("maySubscribe(%s, %q) = %v, want %v", role, ns, got, want)
			}
		}
	}
}

// TestChannelFor checks the channel each role gets for each namespace.
func TestChannelFor(t *testing.T) {
	cases := []struct {
		claims auth.Claims
		ns     string
		want   string
	}{
		{auth.Claims{Subject: "fd", Role: auth.FrontDesk, Property: "grand"}, NSRooms, "grand:rooms"},
		{auth.Claims{Subject: "fd", Role: auth.FrontDesk, Property: "grand"}, NSPersonal, "grand:staff:fd"},
		{auth.Claims{Subject: "hk", Role: auth.Housekeeping, Property: "annex"}, NSHousekeeping, "annex:housekeeping"},
		{auth.Claims{Subject: "hk", Role: auth.Housekeeping, Property: "annex"}, NSService, ""},
		{auth.Claims{Subject: "g", Role: auth.Guest, Property: "grand", Room: "305"}, NSPersonal, "grand:room:305"},
		{auth.Claims{Subject: "g", Role: auth.Guest, Property: "grand", Room: "305"}, NSSystem, "grand:system"},
		{auth.Claims{Subject: "g", Role: auth.Guest, Property: "grand", Room: "305"}, NSRooms, ""},
		{auth.Claims{Subject: "pms", Role: auth.Service, Property: "grand"}, NSPersonal, ""},
		{auth.Claims{Subject: "x", Role: auth.Admin, Property: "grand"}, "spa", ""},
	}
	for _, tc := range cases {
		if got := channelFor(&tc.claims, tc.ns); got != tc.want {
			t.Errorf("channelFor(%s, %q) = %q, want %q", tc.claims.Role, tc.ns, got, tc.want)
		}
	}
}

// TestValidName checks the names that may go into a channel name.
func TestValidName(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := validName(s); got != want {
			t.Errorf("validName(%q) = %v, want %v", s, got, want)
		}
	}
	f("101", true)
	f("grand-hotel_2", true)
	f("é", true)
	f(string(make([]byte, 64)), false) // NUL bytes
	f("", false)
	f("a:b", false)
	f("a b", false)
	f("a\tb", false)
	f("a\nb", false)
	f(stringOf('x', 64), true)
	f(stringOf('x', 65), false)
}

func stringOf(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// TestShardKey checks keys are stable and that parts do not run together.
func TestShardKey(t *testing.T) {
	a, b := shardKey("grand", "room", "101"), shardKey("grand", "room", "101")
	if a != b {
		t.Fatal("shardKey not deterministic")
	}
	distinct := [][]string{{"ab", "c"}, {"a", "bc"}, {"abc"}, {"grand", "room", "101"}, {"grand", "room", "102"}}
	seen := map[uint64][]string{}
	for _, parts := range distinct {
		k := shardKey(parts...)
		if prev, dup := seen[k]; dup {
			t.Fatalf("shardKey(%q) == shardKey(%q)", parts, prev)
		}
		seen[k] = parts
	}
}

// TestPubHeader round-trips the publication header and refuses foreign data.
func TestPubHeader(t *testing.T) {
	for _, prio := range []Priority{High, Medium, Low} {
		data := appendPubHeader(nil, prio, 0xdeadbeef01)
		data = append(data, `{"event":"X"}`...)
		p, key, env, ok := splitPub(data)
		if !ok || p != prio || key != 0xdeadbeef01 || string(env) != `{"event":"X"}` {
			t.Fatalf("splitPub = %v %x %q %v", p, key, env, ok)
		}
	}
	for _, bad := range [][]byte{nil, {1, 0}, {2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 3, 0, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"event":"ROOM"}`)} {
		if _, _, _, ok := splitPub(bad); ok {
			t.Fatalf("splitPub(%q) accepted foreign data", bad)
		}
	}
}
