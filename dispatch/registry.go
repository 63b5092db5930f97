package dispatch

import (
	"sort"
	"sync"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// registry is this node's staff on shift: who is connected, their role,
// department and floors, and how many requests they hold. Routing reads it
// to pick an assignee. Safe for concurrent use (loops join and leave,
// workers assign).
type registry struct {
	mu    sync.Mutex
	staff map[string]map[string]*staffEntry // property -> subject -> entry
}

type staffEntry struct {
	subject      string
	role         auth.Role
	dept         string
	floors       []int
	conns        map[*engine.Conn]struct{} // open connections (a phone and a tablet)
	open         int                       // requests assigned or in progress
	lastAssigned time.Time
}

func newRegistry() *registry {
	return &registry{staff: make(map[string]map[string]*staffEntry)}
}

// department is the routing department of a staff member: the dept claim,
// else the role's own department.
func department(c *auth.Claims) string {
	if c.Dept != "" {
		return c.Dept
	}
	switch c.Role {
	case auth.Housekeeping:
		return "housekeeping"
	case auth.Maintenance:
		return "maintenance"
	case auth.Concierge:
		return "concierge"
	case auth.FrontDesk:
		return "front_desk"
	}
	return ""
}

func isStaff(r auth.Role) bool {
	return r == auth.FrontDesk || r == auth.Housekeeping || r == auth.Maintenance || r == auth.Concierge
}

func (r *registry) join(c *auth.Claims, conn *engine.Conn) {
	if !isStaff(c.Role) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.staff[c.Property]
	if p == nil {
		p = make(map[string]*staffEntry)
		r.staff[c.Property] = p
	}
	e := p[c.Subject]
	if e == nil {
		e = &staffEntry{subject: c.Subject, conns: make(map[*engine.Conn]struct{})}
		p[c.Subject] = e
	}
	e.role, e.dept, e.floors = c.Role, department(c), c.Floors
	e.conns[conn] = struct{}{}
}

// leave drops a connection. The entry stays while it holds open requests,
// so their counts survive a phone roaming between access points.
func (r *registry) leave(c *auth.Claims, conn *engine.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.staff[c.Property][c.Subject]
	if e == nil {
		return
	}
	delete(e.conns, conn)
	if len(e.conns) == 0 && e.open == 0 {
		delete(r.staff[c.Property], c.Subject)
	}
}

// candidates returns the connected staff of dept, best first: fewest open
// requests, nearest floor to floor, longest since their last assignment.
func (r *registry) candidates(property, dept string, floor int, exclude map[string]bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []*staffEntry
	for _, e := range r.staff[property] {
		if e.dept == dept && len(e.conns) > 0 && !exclude[e.subject] {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.open != b.open {
			return a.open < b.open
		}
		if da, db := floorDistance(a.floors, floor), floorDistance(b.floors, floor); da != db {
			return da < db
		}
		if !a.lastAssigned.Equal(b.lastAssigned) {
			return a.lastAssigned.Before(b.lastAssigned)
		}
		return a.subject < b.subject
	})
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.subject
	}
	return out
}

// floorDistance is how far the nearest covered floor is; staff without
// floors come after those with any.
func floorDistance(floors []int, floor int) int {
	best := 1 << 20
	for _, f := range floors {
		d := f - floor
		if d < 0 {
			d = -d
		}
		best = min(best, d)
	}
	return best
}

// assigned adjusts a staff member's open count (+1 on assignment, -1 when
// a request leaves them).
func (r *registry) assigned(property, subject string, delta int, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.staff[property][subject]
	if e == nil {
		return
	}
	e.open = max(0, e.open+delta)
	if delta > 0 {
		e.lastAssigned = now
	}
	if len(e.conns) == 0 && e.open == 0 {
		delete(r.staff[property], subject)
	}
}

// staffView is one row of GET /api/v1/staff.
type staffView struct {
	Subject     string `json:"sub"`
	Role        string `json:"role"`
	Dept        string `json:"dept"`
	Floors      []int  `json:"floors,omitempty"`
	Connections int    `json:"connections"`
	Open        int    `json:"openRequests"`
}

func (r *registry) list(property string) []staffView {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []staffView{}
	for _, e := range r.staff[property] {
		out = append(out, staffView{e.subject, e.role.String(), e.dept, e.floors, len(e.conns), e.open})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subject < out[j].Subject })
	return out
}
