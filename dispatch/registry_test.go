package dispatch

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// newRoutingService returns a Service on a memory store and coord, not
// started (no background goroutines), for white-box tests.
func newRoutingService(t testing.TB, coord cluster.Coordinator, grace time.Duration) *Service {
	t.Helper()
	s := newTestService(t, Config{Coordinator: coord, NodeID: "n1", PresenceGrace: grace})
	t.Cleanup(func() { _ = s.pool.Shutdown(context.Background()) })
	return s
}

// TestCandidateOrdering checks routing's order: department (claim, else
// role), on shift only, not yet tried; then fewest open requests, nearest
// floor, longest since the last assignment, name. Members marked remote
// are on shift on another node (known from presence only).
func TestCandidateOrdering(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	type staff struct {
		sub    string
		role   auth.Role
		dept   string
		floors []int
		open   int
		last   time.Duration // since t0 of the last assignment here; 0 for never
		away   bool          // joined then left, beyond the grace
		remote bool          // connected to another node
	}
	cases := []struct {
		name    string
		staff   []staff
		dept    string
		floor   int
		exclude []string
		want    []string
	}{
		{"department_by_role", []staff{
			{sub: "hk", role: auth.Housekeeping}, {sub: "mt", role: auth.Maintenance}, {sub: "fd", role: auth.FrontDesk},
			{sub: "cc", role: auth.Concierge},
		}, "maintenance", 1, nil, []string{"mt"}},
		{"department_claim_wins", []staff{
			{sub: "a", role: auth.Housekeeping, dept: "maintenance"}, {sub: "b", role: auth.Maintenance},
		}, "maintenance", 1, nil, []string{"a", "b"}},
		{"fewest_open_first", []staff{
			{sub: "busy", role: auth.Housekeeping, floors: []int{3}, open: 2},
			{sub: "far", role: auth.Housekeeping, floors: []int{9}, open: 0},
			{sub: "some", role: auth.Housekeeping, floors: []int{3}, open: 1, remote: true},
		}, "housekeeping", 3, nil, []string{"far", "some", "busy"}},
		{"nearest_floor", []staff{
			{sub: "f9", role: auth.Housekeeping, floors: []int{9}},
			{sub: "none", role: auth.Housekeeping},
			{sub: "f2f5", role: auth.Housekeeping, floors: []int{2, 5}, remote: true},
			{sub: "f4", role: auth.Housekeeping, floors: []int{4}},
			{sub: "basement", role: auth.Housekeeping, floors: []int{-1}},
		}, "housekeeping", 5, nil, []string{"f2f5", "f4", "f9", "basement", "none"}},
		{"longest_idle_then_name", []staff{
			{sub: "recent", role: auth.Housekeeping, last: 2 * time.Hour},
			{sub: "b-never", role: auth.Housekeeping},
			{sub: "a-never", role: auth.Housekeeping},
			{sub: "earlier", role: auth.Housekeeping, last: time.Hour},
		}, "housekeeping", 0, nil, []string{"a-never", "b-never", "earlier", "recent"}},
		{"exclude_and_offline", []staff{
			{sub: "tried", role: auth.Housekeeping}, {sub: "gone", role: auth.Housekeeping, away: true, open: 1},
			{sub: "left", role: auth.Housekeeping, remote: true},
		}, "housekeeping", 0, []string{"tried"}, []string{"left"}},
		{"not_staff", []staff{
			{sub: "admin", role: auth.Admin, dept: "housekeeping"}, {sub: "guest", role: auth.Guest, dept: "housekeeping"},
			{sub: "pms", role: auth.Service, dept: "housekeeping"},
		}, "housekeeping", 0, nil, []string{}},
		{"other_property", nil, "housekeeping", 0, nil, []string{}},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			coord := cluster.NewMemoryCoordinator(nil)
			s := newRoutingService(t, coord, time.Nanosecond) // a member who left is gone at once
			ctx := context.Background()
			for _, m := range tc.staff {
				c := &auth.Claims{Subject: m.sub, Role: m.role, Property: "grand", Dept: m.dept, Floors: m.floors}
				if m.remote {
					v, _ := json.Marshal(member{Subject: m.sub, Role: m.role.String(), Dept: department(c), Floors: m.floors, Node: "n2", Connections: 1})
					if err := coord.SetPresence(ctx, presenceGroup("grand"), m.sub+"@n2", v, time.Minute); err != nil {
						t.Fatal(err)
					}
				} else if isStaff(m.role) {
					conn := new(engine.Conn)
					s.staff.join(c, conn)
					if m.away {
						s.staff.leave(c, conn)
					}
				}
				for i := range m.open {
					r := ServiceRequest{ID: m.sub + strconv.Itoa(i), Status: ReqAccepted, Assignee: m.sub}
					if err := s.reqs.save(ctx, "grand", &r); err != nil {
						t.Fatal(err)
					}
				}
				if m.last != 0 {
					s.staff.assignedHere("grand", m.sub, t0.Add(m.last))
				}
			}
			exclude := map[string]bool{}
			for _, x := range tc.exclude {
				exclude[x] = true
			}
			time.Sleep(time.Millisecond) // past the grace of who left
			got, err := s.candidates(ctx, "grand", tc.dept, tc.floor, exclude)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("candidates = %q, %v; want %q", got, err, tc.want)
			}
			if got, _ := s.candidates(ctx, "annex", tc.dept, tc.floor, nil); len(got) != 0 {
				t.Fatalf("another property's staff: %q", got)
			}
		})
	}
}

// TestPresenceGraceAndHeartbeats checks the presence keeper: a join is
// written to the coordinator, a member who left stays for the grace then
// is removed, a member with two connections stays while one is open, and
// the roster merges another node's entry for the same subject.
func TestPresenceGraceAndHeartbeats(t *testing.T) {
	coord := cluster.NewMemoryCoordinator(nil)
	const grace = 300 * time.Millisecond
	s := newRoutingService(t, coord, grace)
	ctx := context.Background()
	entries := func() []string {
		recs, err := coord.Presence(ctx, presenceGroup("grand"))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, r := range recs {
			keys = append(keys, r.Key)
		}
		slices.Sort(keys)
		return keys
	}
	anna := &auth.Claims{Subject: "anna", Role: auth.Housekeeping, Property: "grand", Floors: []int{2}, Shift: "morning"}
	bob := &auth.Claims{Subject: "bob", Role: auth.Maintenance, Property: "grand"}
	phone, tablet, bobs := new(engine.Conn), new(engine.Conn), new(engine.Conn)
	s.staff.join(anna, phone)
	s.staff.join(anna, tablet)
	s.staff.join(bob, bobs)
	s.staff.join(&auth.Claims{Subject: "g", Role: auth.Guest, Property: "grand"}, new(engine.Conn)) // not staff
	s.syncPresence(false)
	if got := entries(); !slices.Equal(got, []string{"anna@n1", "bob@n1"}) {
		t.Fatalf("after joins: %q", got)
	}
	s.staff.leave(anna, phone) // one of two: still connected
	s.staff.leave(bob, bobs)   // last: within the grace
	s.syncPresence(false)
	if got := entries(); !slices.Equal(got, []string{"anna@n1", "bob@n1"}) {
		t.Fatalf("within the grace: %q", got)
	}
	v, _ := json.Marshal(member{Subject: "anna", Role: "housekeeping", Dept: "housekeeping", Node: "n2", Connections: 2})
	if err := coord.SetPresence(ctx, presenceGroup("grand"), "anna@n2", v, time.Minute); err != nil {
		t.Fatal(err)
	}
	roster, err := s.roster(ctx, "grand")
	if err != nil || len(roster) != 2 || roster[0].Subject != "anna" || roster[0].Connections != 3 || roster[0].Shift != "morning" ||
		!slices.Equal(roster[0].Nodes, []string{"n1", "n2"}) || roster[1].Connections != 0 {
		t.Fatalf("roster %+v, %v", roster, err)
	}
	time.Sleep(grace + 50*time.Millisecond)
	s.syncPresence(false)
	if got := entries(); !slices.Equal(got, []string{"anna@n1", "anna@n2"}) {
		t.Fatalf("after the grace: %q", got)
	}
	s.staff.leave(bob, bobs) // leaving twice is harmless
	s.leaveCluster()
	if got := entries(); !slices.Equal(got, []string{"anna@n2"}) {
		t.Fatalf("after leaving the cluster: %q", got)
	}
	if got := department(&auth.Claims{Role: auth.Guest}); got != "" {
		t.Fatalf("guest department %q", got)
	}
}

// TestDeadlineKeys checks the deadline key round trip and its refusals.
func TestDeadlineKeys(t *testing.T) {
	p, id, n, ok := parseDeadlineKey(deadlineKey("grand", "req-1", 3))
	if !ok || p != "grand" || id != "req-1" || n != 3 {
		t.Fatalf("round trip: %q %q %d %v", p, id, n, ok)
	}
	for _, bad := range []string{"", "a:b", "a:b:c", "a:b:0", ":b:1", "a::1", "a:b:1:2"} {
		if _, _, _, ok := parseDeadlineKey(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// BenchmarkCandidates measures routing's read of the staff on shift: 40
// members here, 40 on another node, 200 open requests on the memory store.
func BenchmarkCandidates(b *testing.B) {
	coord := cluster.NewMemoryCoordinator(nil)
	s := newRoutingService(b, coord, time.Minute)
	ctx := context.Background()
	for i := range 40 {
		sub := "hk-" + strconv.Itoa(i)
		s.staff.join(&auth.Claims{Subject: sub, Role: auth.Housekeeping, Property: "grand", Floors: []int{i % 8}}, new(engine.Conn))
		v, _ := json.Marshal(member{Subject: "r" + sub, Role: "housekeeping", Dept: "housekeeping", Node: "n2", Connections: 1})
		_ = coord.SetPresence(ctx, presenceGroup("grand"), "r"+sub+"@n2", v, time.Hour)
	}
	for i := range 200 {
		r := ServiceRequest{ID: "req-" + strconv.Itoa(i), Status: ReqAssigned, Assignee: "hk-" + strconv.Itoa(i%40)}
		if err := s.reqs.save(ctx, "grand", &r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if c, err := s.candidates(ctx, "grand", "housekeeping", 3, nil); err != nil || len(c) != 80 {
			b.Fatalf("%d candidates, %v", len(c), err)
		}
	}
}

// TestListPrefersDoneCopy: a finished request left among the open ones (a
// crash between the archive's two writes) is listed once, as archived,
// and not at all among the open ones.
func TestListPrefersDoneCopy(t *testing.T) {
	s := newRoutingService(t, cluster.NewMemoryCoordinator(nil), time.Minute)
	ctx := context.Background()
	stale := ServiceRequest{ID: "req-1", Status: ReqCompleted, Assignee: "hk"}
	if err := s.reqs.save(ctx, "grand", &stale); err != nil {
		t.Fatal(err)
	}
	done, _ := json.Marshal(ServiceRequest{ID: "req-1", Status: ReqCompleted, Assignee: "hk", Description: "archived"})
	if _, err := s.store.Put(ctx, doneTable("grand"), "req-1", done, 0); err != nil {
		t.Fatal(err)
	}
	all, err := s.reqs.list(ctx, "grand", true)
	if err != nil || len(all) != 1 || all[0].Description != "archived" {
		t.Fatalf("list(all) = %+v, %v", all, err)
	}
	if open, err := s.reqs.list(ctx, "grand", false); err != nil || len(open) != 0 {
		t.Fatalf("list(open) = %+v, %v", open, err)
	}
}
