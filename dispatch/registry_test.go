package dispatch

import (
	"slices"
	"testing"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// TestCandidateOrdering checks routing's order: department (claim, else
// role), connected only, not yet tried; then fewest open requests, nearest
// floor, longest since the last assignment, name.
func TestCandidateOrdering(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	type member struct {
		sub    string
		role   auth.Role
		dept   string
		floors []int
		open   int
		last   time.Duration // since t0 of the last assignment; 0 for never
		away   bool          // joined then left
	}
	cases := []struct {
		name    string
		staff   []member
		dept    string
		floor   int
		exclude []string
		want    []string
	}{
		{"department_by_role", []member{
			{sub: "hk", role: auth.Housekeeping}, {sub: "mt", role: auth.Maintenance}, {sub: "fd", role: auth.FrontDesk},
			{sub: "cc", role: auth.Concierge},
		}, "maintenance", 1, nil, []string{"mt"}},
		{"department_claim_wins", []member{
			{sub: "a", role: auth.Housekeeping, dept: "maintenance"}, {sub: "b", role: auth.Maintenance},
		}, "maintenance", 1, nil, []string{"a", "b"}},
		{"fewest_open_first", []member{
			{sub: "busy", role: auth.Housekeeping, floors: []int{3}, open: 2},
			{sub: "far", role: auth.Housekeeping, floors: []int{9}, open: 0},
			{sub: "some", role: auth.Housekeeping, floors: []int{3}, open: 1},
		}, "housekeeping", 3, nil, []string{"far", "some", "busy"}},
		{"nearest_floor", []member{
			{sub: "f9", role: auth.Housekeeping, floors: []int{9}},
			{sub: "none", role: auth.Housekeeping},
			{sub: "f2f5", role: auth.Housekeeping, floors: []int{2, 5}},
			{sub: "f4", role: auth.Housekeeping, floors: []int{4}},
			{sub: "basement", role: auth.Housekeeping, floors: []int{-1}},
		}, "housekeeping", 5, nil, []string{"f2f5", "f4", "f9", "basement", "none"}},
		{"longest_idle_then_name", []member{
			{sub: "recent", role: auth.Housekeeping, last: 2 * time.Hour},
			{sub: "b-never", role: auth.Housekeeping},
			{sub: "a-never", role: auth.Housekeeping},
			{sub: "earlier", role: auth.Housekeeping, last: time.Hour},
		}, "housekeeping", 0, nil, []string{"a-never", "b-never", "earlier", "recent"}},
		{"exclude_and_offline", []member{
			{sub: "tried", role: auth.Housekeeping}, {sub: "gone", role: auth.Housekeeping, away: true, open: 1},
			{sub: "left", role: auth.Housekeeping},
		}, "housekeeping", 0, []string{"tried"}, []string{"left"}},
		{"not_staff", []member{
			{sub: "admin", role: auth.Admin, dept: "housekeeping"}, {sub: "guest", role: auth.Guest, dept: "housekeeping"},
			{sub: "pms", role: auth.Service, dept: "housekeeping"},
		}, "housekeeping", 0, nil, []string{}},
		{"other_property", nil, "housekeeping", 0, nil, []string{}},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			r := newRegistry()
			for _, m := range tc.staff {
				c := &auth.Claims{Subject: m.sub, Role: m.role, Property: "grand", Dept: m.dept, Floors: m.floors}
				conn := new(engine.Conn)
				r.join(c, conn)
				for i := range m.open {
					r.assigned("grand", m.sub, +1, t0.Add(m.last).Add(-time.Duration(i)))
				}
				if m.open == 0 && m.last != 0 {
					r.assigned("grand", m.sub, +1, t0.Add(m.last))
					r.assigned("grand", m.sub, -1, t0.Add(m.last))
				}
				if m.away {
					r.leave(c, conn)
				}
			}
			exclude := map[string]bool{}
			for _, s := range tc.exclude {
				exclude[s] = true
			}
			if got := r.candidates("grand", tc.dept, tc.floor, exclude); !slices.Equal(got, tc.want) {
				t.Fatalf("candidates = %q, want %q", got, tc.want)
			}
			if got := r.candidates("annex", tc.dept, tc.floor, nil); len(got) != 0 {
				t.Fatalf("another property's staff: %q", got)
			}
		})
	}
}

// TestRegistryPresence checks joins and leaves across connections, and
// that an entry outlives its connections while it holds open requests.
func TestRegistryPresence(t *testing.T) {
	r := newRegistry()
	c := &auth.Claims{Subject: "anna", Role: auth.Housekeeping, Property: "grand", Floors: []int{2}}
	phone, tablet := new(engine.Conn), new(engine.Conn)
	r.join(c, phone)
	r.join(c, tablet)
	now := time.Now()
	r.assigned("grand", "anna", +1, now)
	r.assigned("grand", "nobody", +1, now) // unknown: ignored
	if l := r.list("grand"); len(l) != 1 || l[0].Connections != 2 || l[0].Open != 1 || l[0].Dept != "housekeeping" || l[0].Role != "housekeeping" {
		t.Fatalf("list %+v", l)
	}
	r.leave(c, phone)
	r.leave(c, tablet)
	if got := r.candidates("grand", "housekeeping", 2, nil); len(got) != 0 {
		t.Fatalf("offline staff routed to: %q", got)
	}
	if l := r.list("grand"); len(l) != 1 || l[0].Connections != 0 {
		t.Fatalf("entry with an open request dropped: %+v", l)
	}
	r.join(c, phone) // back online: the count survived
	if l := r.list("grand"); l[0].Open != 1 {
		t.Fatalf("open count lost on reconnect: %+v", l)
	}
	r.leave(c, phone)
	r.assigned("grand", "anna", -1, now)
	r.assigned("grand", "anna", -1, now) // never below zero, entry already gone
	if l := r.list("grand"); len(l) != 0 {
		t.Fatalf("entry kept without connections or requests: %+v", l)
	}
	r.leave(c, phone) // leaving twice is harmless
	if got := department(&auth.Claims{Role: auth.Guest}); got != "" {
		t.Fatalf("guest department %q", got)
	}
}
