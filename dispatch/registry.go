package dispatch

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// registry is this node's staff on shift: who is connected here, their
// role, department and floors. A presence keeper (keep) mirrors it into
// the cluster's Coordinator with TTL heartbeats, so routing on any node
// sees staff connected to every node, and a dead node's staff drop out
// when their entries expire. Someone whose last connection closed stays
// present for the grace period, so a phone roaming between access points
// does not flap. Safe for concurrent use: loops join and leave, workers
// read, the keeper goroutine (owned by the Service) writes presence.
type registry struct {
	node  string        // this node's id, part of every presence key
	grace time.Duration // how long a member stays after their last connection closed

	mu    sync.Mutex
	staff map[string]map[string]*staffEntry // property -> subject -> entry
	last  map[string]time.Time              // property+"/"+subject -> last assignment made here (a tie-break hint)
	kick  chan struct{}                     // capacity 1: the keeper has changes to write
}

type staffEntry struct {
	member
	conns  map[*engine.Conn]struct{} // open connections (a phone and a tablet)
	leftAt time.Time                 // when the last connection closed; zero while connected
	dirty  bool                      // changed since the keeper last wrote it
}

// member is a staff member as stored in presence and shown by the API.
type member struct {
	Subject     string `json:"sub"`
	Role        string `json:"role"`
	Dept        string `json:"dept"`
	Floors      []int  `json:"floors,omitempty"`
	Shift       string `json:"shift,omitempty"`
	Node        string `json:"node"`
	Connections int    `json:"connections"`
}

func newRegistry(node string, grace time.Duration) *registry {
	return &registry{
		node: node, grace: grace,
		staff: make(map[string]map[string]*staffEntry),
		last:  make(map[string]time.Time),
		kick:  make(chan struct{}, 1),
	}
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
		e = &staffEntry{member: member{Subject: c.Subject, Node: r.node}, conns: make(map[*engine.Conn]struct{})}
		p[c.Subject] = e
	}
	e.Role, e.Dept, e.Floors, e.Shift = c.Role.String(), department(c), c.Floors, c.Shift
	e.conns[conn] = struct{}{}
	e.Connections, e.leftAt, e.dirty = len(e.conns), time.Time{}, true
	r.wake()
}

// leave drops a connection. The member stays present for the grace period.
func (r *registry) leave(c *auth.Claims, conn *engine.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.staff[c.Property][c.Subject]
	if e == nil {
		return
	}
	delete(e.conns, conn)
	e.Connections, e.dirty = len(e.conns), true
	if len(e.conns) == 0 {
		e.leftAt = time.Now()
	}
	r.wake()
}

func (r *registry) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// present reports whether e counts as on shift at now. r.mu is held.
func (r *registry) present(e *staffEntry, now time.Time) bool {
	return len(e.conns) > 0 || now.Sub(e.leftAt) < r.grace
}

// local returns this node's present members of property.
func (r *registry) local(property string) []member {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	var out []member
	for _, e := range r.staff[property] {
		if r.present(e, now) {
			m := e.member
			m.Floors = slices.Clone(e.Floors)
			out = append(out, m)
		}
	}
	return out
}

// assignedHere notes an assignment made on this node, for tie-breaks.
func (r *registry) assignedHere(property, subject string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.last) >= 1<<16 { // a bound: the hint is only a tie-break
		clear(r.last)
	}
	r.last[property+"/"+subject] = now
}

// lastAssignedAll returns the last assignment made here of each subject,
// read under one lock.
func (r *registry) lastAssignedAll(property string, subjects []string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Time, len(subjects))
	for i, sub := range subjects {
		out[i] = r.last[property+"/"+sub]
	}
	return out
}

func presenceGroup(property string) string { return "staff:" + property }

// keep runs the presence keeper until ctx ends: it writes changed entries
// at once, refreshes every entry each heartbeat (a third of ttl), and
// removes members whose grace ran out. It owns the registry's writes to
// the Coordinator; a failed write is retried on the next beat.
func (s *Service) keep(ctx context.Context) {
	r := s.staff
	beat := s.cfg.PresenceTTL / 3
	tick := time.NewTicker(min(beat, max(r.grace/4, 10*time.Millisecond)))
	defer tick.Stop()
	lastBeat := time.Now()
	for {
		select {
		case <-ctx.Done():
			s.leaveCluster()
			return
		case <-r.kick:
			s.syncPresence(false)
		case now := <-tick.C:
			all := now.Sub(lastBeat) >= beat
			if all {
				lastBeat = now
			}
			s.syncPresence(all)
		}
	}
}

type presenceWrite struct {
	property, subject string
	value             []byte // nil: remove
}

// syncPresence writes dirty entries (every entry when all) and removes
// those past their grace.
func (s *Service) syncPresence(all bool) {
	r := s.staff
	var writes []presenceWrite
	r.mu.Lock()
	now := time.Now()
	for p, m := range r.staff {
		for sub, e := range m {
			switch {
			case !r.present(e, now):
				delete(m, sub)
				writes = append(writes, presenceWrite{p, sub, nil})
			case all || e.dirty:
				v, _ := json.Marshal(e.member)
				writes = append(writes, presenceWrite{p, sub, v})
			}
			e.dirty = false
		}
		if len(m) == 0 {
			delete(r.staff, p)
		}
	}
	r.mu.Unlock()
	s.writePresence(writes)
}

// writePresence sends presence writes. A shift starting brings many joins
// at once: up to presenceWriters writes are in flight together (rueidis
// pipelines them), each with its deadline; the caller (the keeper) waits
// for all of them.
func (s *Service) writePresence(writes []presenceWrite) {
	r := s.staff
	sem := make(chan struct{}, presenceWriters)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for _, w := range writes {
		if failed.Load() {
			break // Redis is failing: the next beat writes everything again
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := s.ctx()
			defer cancel()
			var err error
			if w.value == nil {
				err = s.coord.RemovePresence(ctx, presenceGroup(w.property), w.subject+"@"+r.node)
			} else {
				err = s.coord.SetPresence(ctx, presenceGroup(w.property), w.subject+"@"+r.node, w.value, s.cfg.PresenceTTL)
			}
			if err != nil && !failed.Swap(true) {
				s.log.Warn("presence not written; retried on the next beat", "err", err)
			}
		}()
	}
	wg.Wait()
}

// presenceWriters bounds the presence writes in flight at once.
const presenceWriters = 16

// leaveCluster removes this node's entries at shutdown, so other nodes
// stop routing to it before the TTL would tell them.
func (s *Service) leaveCluster() {
	r := s.staff
	r.mu.Lock()
	var writes []presenceWrite
	for p, m := range r.staff {
		for sub := range m {
			writes = append(writes, presenceWrite{p, sub, nil})
		}
	}
	r.mu.Unlock()
	s.writePresence(writes)
}

// staffView is one row of GET /api/v1/staff: a member across the cluster.
type staffView struct {
	Subject     string   `json:"sub"`
	Role        string   `json:"role"`
	Dept        string   `json:"dept"`
	Floors      []int    `json:"floors,omitempty"`
	Shift       string   `json:"shift,omitempty"`
	Nodes       []string `json:"nodes"`
	Connections int      `json:"connections"`
	Open        int      `json:"openRequests"`
}

// roster returns property's staff on shift across the cluster, with their
// open requests: this node's from the registry, the others' from presence.
func (s *Service) roster(ctx context.Context, property string) ([]staffView, error) {
	recs, err := s.coord.Presence(ctx, presenceGroup(property))
	if err != nil {
		return nil, err
	}
	open, err := s.reqs.openBy(ctx, property)
	if err != nil {
		return nil, err
	}
	members := s.staff.local(property)
	for _, rec := range recs {
		var m member
		if json.Unmarshal(rec.Value, &m) == nil && m.Node != s.staff.node && m.Subject != "" {
			members = append(members, m)
		}
	}
	bySub := make(map[string]*staffView)
	for _, m := range members {
		v := bySub[m.Subject]
		if v == nil {
			v = &staffView{Subject: m.Subject, Role: m.Role, Dept: m.Dept, Floors: m.Floors, Shift: m.Shift, Open: open[m.Subject]}
			bySub[m.Subject] = v
		}
		v.Nodes = append(v.Nodes, m.Node)
		v.Connections += m.Connections
	}
	out := make([]staffView, 0, len(bySub))
	for _, v := range bySub {
		slices.Sort(v.Nodes)
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subject < out[j].Subject })
	return out, nil
}

// candidates returns the staff of dept on shift anywhere in the cluster,
// best first: fewest open requests, nearest floor to floor, longest since
// their last assignment here.
func (s *Service) candidates(ctx context.Context, property, dept string, floor int, exclude map[string]bool) ([]string, error) {
	all, err := s.roster(ctx, property)
	if err != nil {
		return nil, err
	}
	type candidate struct {
		sub        string
		open, dist int
		last       time.Time
	}
	var list []candidate
	var subs []string
	for _, v := range all {
		if v.Dept == dept && !exclude[v.Subject] {
			list = append(list, candidate{sub: v.Subject, open: v.Open, dist: floorDistance(v.Floors, floor)})
			subs = append(subs, v.Subject)
		}
	}
	for i, t := range s.staff.lastAssignedAll(property, subs) {
		list[i].last = t
	}
	slices.SortFunc(list, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.open, b.open), cmp.Compare(a.dist, b.dist), a.last.Compare(b.last), cmp.Compare(a.sub, b.sub))
	})
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.sub
	}
	return out, nil
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
