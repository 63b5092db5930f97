package dispatch

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// Service request statuses. A request is created, assigned to the best
// connected staff member, who must accept it within AcceptTimeout; if they
// decline or let it lapse it goes to the next candidate, and when nobody is
// left it is escalated to the front desk.
const (
	ReqCreated    = "CREATED"
	ReqAssigned   = "ASSIGNED"
	ReqAccepted   = "ACCEPTED"
	ReqInProgress = "IN_PROGRESS"
	ReqCompleted  = "COMPLETED"
	ReqEscalated  = "ESCALATED"
	ReqCancelled  = "CANCELLED"
)

// departmentOf maps request types to the department that handles them.
var departmentOf = map[string]string{
	"housekeeping": "housekeeping", "towels": "housekeeping", "cleaning": "housekeeping",
	"amenities": "housekeeping", "turndown": "housekeeping", "laundry": "housekeeping",
	"maintenance": "maintenance", "repair": "maintenance", "plumbing": "maintenance",
	"electrical": "maintenance", "hvac": "maintenance",
	"concierge": "concierge", "room_service": "concierge", "transport": "concierge",
	"reservation": "concierge", "luggage": "concierge",
	"front_desk": "front_desk", "wake_up": "front_desk", "billing": "front_desk",
}

// ServiceRequest is a guest or staff request as stored and sent.
type ServiceRequest struct {
	ID          string     `json:"requestId"`
	RoomNumber  string     `json:"roomNumber"`
	Type        string     `json:"type"`
	Department  string     `json:"department"`
	Description string     `json:"description,omitempty"`
	Priority    string     `json:"priority"`
	Status      string     `json:"status"`
	Assignee    string     `json:"assignee,omitempty"`
	Tried       []string   `json:"tried,omitempty"`
	CreatedBy   string     `json:"createdBy"`
	CreatorRole string     `json:"creatorRole"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	AssignedAt  *time.Time `json:"assignedAt,omitempty"`
	AcceptBy    *time.Time `json:"acceptBy,omitempty"`
	Attempt     int        `json:"attempt"`
	Version     uint64     `json:"version"`
}

func (r *ServiceRequest) terminal() bool { return r.Status == ReqCompleted || r.Status == ReqCancelled }

// requestUpdate is the payload of SERVICE_REQUEST_UPDATE from a client.
type requestUpdate struct {
	RequestID string `json:"requestId"`
	Action    string `json:"action"` // accept, decline, start, complete, cancel
	Note      string `json:"note,omitempty"`
}

// actionDone names what a client's action did, as the "action" of the
// SERVICE_REQUEST_UPDATE sent out: every step of the lifecycle is told in
// the past tense (created, assigned, accepted, started, completed, declined,
// timed_out, escalated, cancelled).
var actionDone = map[string]string{
	"accept": "accepted", "start": "started", "complete": "completed", "decline": "declined", "cancel": "cancelled",
}

// requestChange is the payload of SERVICE_REQUEST_UPDATE sent out.
type requestChange struct {
	Action  string         `json:"action"`
	Request ServiceRequest `json:"request"`
	Note    string         `json:"note,omitempty"`
}

// requestDesk creates, routes and tracks service requests. A request's
// events run on one worker (keyed by its id); accept deadlines are timers
// that queue a job on that worker.
type requestDesk struct {
	svc     *Service
	mu      sync.Mutex             // guards timers and stopped
	timers  map[string]*time.Timer // accept deadline per request id
	stopped bool
}

func newRequestDesk(s *Service) *requestDesk {
	return &requestDesk{svc: s, timers: make(map[string]*time.Timer)}
}

// requestsTable holds a property's open requests: routing reads all of it
// to balance load, so finished ones move to doneTable and it stays small.
func requestsTable(property string) string { return "requests:" + property }

// doneTable holds a property's completed and cancelled requests.
func doneTable(property string) string { return "requests-done:" + property }

func newRequestID() string { return "req-" + randomHex(8) }

// create checks a SERVICE_REQUEST and queues it.
func (d *requestDesk) create(o *origin, env *Envelope) error {
	var in struct {
		Type        string `json:"type"`
		RoomNumber  string `json:"roomNumber"`
		Department  string `json:"department"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(env.Payload, &in); err != nil || in.Type == "" || len(in.Type) > 64 || len(in.Description) > 2000 {
		return newError(CodeInvalidPayload, `SERVICE_REQUEST needs {"type": "towels", "description": "..."}`)
	}
	room := in.RoomNumber
	if o.claims.Role == auth.Guest {
		if room != "" && room != o.claims.Room {
			return newError(CodeForbidden, "guests make requests for their own room only")
		}
		room = o.claims.Room
	}
	if !validName(room) {
		return newError(CodeInvalidPayload, "roomNumber required")
	}
	dept := in.Department
	if dept == "" {
		dept = departmentOf[in.Type]
	}
	if dept == "" {
		dept = "front_desk"
	}
	if !slices.Contains([]string{"housekeeping", "maintenance", "concierge", "front_desk"}, dept) {
		return newError(CodeInvalidPayload, "unknown department "+dept)
	}
	prio, _ := parsePriority(env.Priority, Medium)
	now := d.svc.cfg.Now().UTC()
	req := ServiceRequest{
		ID: newRequestID(), RoomNumber: room, Type: in.Type, Department: dept, Description: in.Description,
		Priority: prio.String(), CreatedBy: o.claims.Subject, CreatorRole: o.claims.Role.String(),
		CreatedAt: now, UpdatedAt: now,
	}
	return d.svc.submit(shardKey(o.claims.Property, req.ID), prio, func() {
		start := time.Now()
		res, err := d.open(o, &req)
		d.svc.metrics.processed(EventServiceRequest, prio, time.Since(start))
		o.finish(d.svc, EventServiceRequest, res, err)
	})
}

// open stores a new request and routes it. Runs on the request's worker.
func (d *requestDesk) open(o *origin, req *ServiceRequest) (ackPayload, error) {
	ctx, cancel := d.svc.ctx()
	defer cancel()
	p := o.claims.Property
	req.Status = ReqCreated
	if err := d.save(ctx, p, req); err != nil {
		return ackPayload{}, err
	}
	d.svc.metrics.openRequests.Add(1)
	d.announce(p, req, "created", "")
	if err := d.route(ctx, p, req); err != nil {
		return ackPayload{}, err
	}
	d.svc.log.Info("service request created", "event", "service_request", "correlationId", o.corr,
		"metadata", map[string]any{"property": p, "requestId": req.ID, "roomNumber": req.RoomNumber,
			"type": req.Type, "department": req.Department, "status": req.Status, "assignee": req.Assignee,
			"priority": req.Priority})
	return ackPayload{Event: EventServiceRequest, Data: req}, nil
}

// route assigns req to the best candidate not tried yet, or escalates it,
// then saves it and tells the people concerned. Runs on the request's worker.
func (d *requestDesk) route(ctx context.Context, p string, req *ServiceRequest) error {
	s := d.svc
	now := s.cfg.Now().UTC()
	exclude := make(map[string]bool, len(req.Tried))
	for _, t := range req.Tried {
		exclude[t] = true
	}
	action := "assigned"
	cands, err := s.candidates(ctx, p, req.Department, floorOf(req.RoomNumber), exclude)
	if err != nil {
		s.log.Error("cannot read the staff on shift", "err", err)
		return newError(CodeUnavailable, "staff registry unavailable")
	}
	req.Attempt++
	req.UpdatedAt = now
	if len(cands) == 0 {
		req.Status, req.Assignee, req.AcceptBy = ReqEscalated, "", nil
		action = "escalated"
		s.metrics.escalated.Inc()
	} else {
		deadline := now.Add(s.cfg.AcceptTimeout)
		req.Status, req.Assignee, req.AssignedAt, req.AcceptBy = ReqAssigned, cands[0], &now, &deadline
		req.Tried = append(req.Tried, cands[0])
	}
	if err := d.save(ctx, p, req); err != nil {
		return err
	}
	if req.Status == ReqAssigned {
		s.staff.assignedHere(p, req.Assignee, now)
		d.arm(ctx, p, req.ID, req.Attempt, *req.AcceptBy)
		prio, _ := parsePriority(req.Priority, Medium)
		_, _ = s.publish(staffChannel(p, req.Assignee), EventServiceRequest, NSPersonal, req, prio, 0, "", "server", "")
	}
	d.announce(p, req, action, "")
	return nil
}

// save writes req with a compare-and-set on its version.
func (d *requestDesk) save(ctx context.Context, p string, req *ServiceRequest) error {
	val, _ := json.Marshal(req)
	rec, err := d.svc.store.Put(ctx, requestsTable(p), req.ID, val, req.Version)
	if err != nil {
		if errors.Is(err, cluster.ErrConflict) {
			return newError(CodeVersionConflict, "request "+req.ID+" changed meanwhile; retry")
		}
		return newError(CodeUnavailable, "request store unavailable")
	}
	req.Version = rec.Version
	return nil
}

// announce publishes a lifecycle change to the service namespace (front
// desk, concierge) and to the room's own channel (the guest).
func (d *requestDesk) announce(p string, req *ServiceRequest, action, note string) {
	s := d.svc
	prio, _ := parsePriority(req.Priority, Medium)
	if action == "escalated" {
		prio = High
	}
	ch := requestChange{Action: action, Request: *req, Note: note}
	_, _ = s.publish(nsChannel(p, NSService), EventServiceRequestUpdate, NSService, ch, prio, 0, "", "server", "")
	_, _ = s.publish(roomChannel(p, req.RoomNumber), EventServiceRequestUpdate, NSPersonal, ch, prio, 0, "", "server", "")
}

// deadlineKey names an assignment's accept deadline in the Coordinator.
func deadlineKey(p, id string, attempt int) string { return p + ":" + id + ":" + strconv.Itoa(attempt) }

// parseDeadlineKey reads a deadlineKey (property and id hold no ':').
func parseDeadlineKey(key string) (p, id string, attempt int, ok bool) {
	parts := strings.Split(key, ":")
	if len(parts) != 3 {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(parts[2])
	return parts[0], parts[1], n, err == nil && n > 0 && parts[0] != "" && parts[1] != ""
}

// arm starts the accept deadline of an assignment: durable in the
// Coordinator, so that it fires from another node when this one dies (the
// sweeper), and a local timer, so that it fires on time here.
func (d *requestDesk) arm(ctx context.Context, p, id string, attempt int, at time.Time) {
	key := deadlineKey(p, id, attempt)
	if err := d.svc.coord.Schedule(ctx, key, at); err != nil {
		d.svc.log.Error("accept deadline not stored; it fires from this node only", "requestId", id, "err", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	if t := d.timers[id]; t != nil {
		t.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(max(0, at.Sub(d.svc.cfg.Now())), func() {
		d.mu.Lock()
		if d.timers[id] == t {
			delete(d.timers, id)
		}
		d.mu.Unlock()
		d.queueFire(key, p, id, attempt)
	})
	d.timers[id] = t
}

// queueFire queues the handling of the due deadline key (of request id,
// assignment attempt, in property p) on its request's worker.
func (d *requestDesk) queueFire(key, p, id string, attempt int) {
	if err := d.svc.submit(shardKey(p, id), High, func() { d.fire(key, p, id, attempt) }); err != nil {
		d.svc.log.Error("accept deadline not handled", "requestId", id, "err", err)
	}
}

// claimRetry is how long a claimed deadline waits before it comes due
// again, for when the node that claimed it dies before it is done.
const claimRetry = 30 * time.Second

// fire handles a due deadline once across the cluster: the node that
// claims it reassigns the request, then cancels it. Runs on the request's
// worker.
func (d *requestDesk) fire(key, p, id string, attempt int) {
	ctx, cancel := d.svc.ctx()
	defer cancel()
	now := d.svc.cfg.Now()
	ok, err := d.svc.coord.Claim(ctx, key, now, now.Add(claimRetry))
	if err != nil || !ok {
		return // handled elsewhere, cancelled, or Redis is down (the sweeper retries)
	}
	d.expired(ctx, p, id, attempt)
	if err := d.svc.coord.Cancel(ctx, key); err != nil {
		d.svc.log.Warn("handled deadline not cancelled; it comes back and is ignored", "requestId", id, "err", err)
	}
}

func (d *requestDesk) disarm(ctx context.Context, p, id string, attempt int) {
	d.mu.Lock()
	if t := d.timers[id]; t != nil {
		t.Stop()
		delete(d.timers, id)
	}
	d.mu.Unlock()
	if err := d.svc.coord.Cancel(ctx, deadlineKey(p, id, attempt)); err != nil {
		d.svc.log.Warn("deadline not cancelled; it comes back and is ignored", "requestId", id, "err", err)
	}
}

func (d *requestDesk) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	for id, t := range d.timers {
		t.Stop()
		delete(d.timers, id)
	}
}

// sweepLease names the lease of the node that fires the cluster's overdue
// deadlines: those whose own node died before its timer fired.
const sweepLease = "deadlines"

// sweep runs until ctx ends: each interval, when this node holds the sweep
// lease (or takes it over from a node that stopped renewing it), it queues
// the deadlines that are due. The Service owns this goroutine.
func (d *requestDesk) sweep(ctx context.Context, every time.Duration) {
	s := d.svc
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c, cancel := s.ctx()
			_ = s.coord.ReleaseLease(c, sweepLease, s.staff.node)
			cancel()
			return
		case <-t.C:
		}
		c, cancel := s.ctx()
		held, err := s.coord.Lease(c, sweepLease, s.staff.node, 3*every)
		var keys []string
		if err == nil && held {
			keys, err = s.coord.Due(c, s.cfg.Now(), 256)
		}
		cancel()
		if err != nil {
			continue // Redis is down: the next tick tries again
		}
		for _, k := range keys {
			p, id, attempt, ok := parseDeadlineKey(k)
			if !ok {
				c, cancel := s.ctx()
				_ = s.coord.Cancel(c, k) // not a deadline of ours: never comes back
				cancel()
				continue
			}
			d.queueFire(k, p, id, attempt)
		}
	}
}

// expired runs when an assignee did not accept in time: the request goes
// to the next candidate. Runs on the request's worker.
func (d *requestDesk) expired(ctx context.Context, p, id string, attempt int) {
	req, err := d.load(ctx, p, id)
	if err != nil || req.Status != ReqAssigned || req.Attempt != attempt {
		return // accepted, cancelled or reassigned meanwhile
	}
	_, _ = d.svc.publish(staffChannel(p, req.Assignee), EventServiceRequestUpdate, NSPersonal,
		requestChange{Action: "timed_out", Request: req}, High, 0, "", "server", "")
	d.svc.metrics.reassigned.Inc()
	if err := d.route(ctx, p, &req); err != nil {
		d.svc.log.Error("cannot reassign request", "requestId", id, "err", err)
	}
}

func (d *requestDesk) load(ctx context.Context, p, id string) (ServiceRequest, error) {
	rec, err := d.svc.store.Get(ctx, requestsTable(p), id)
	if errors.Is(err, cluster.ErrNotFound) {
		rec, err = d.svc.store.Get(ctx, doneTable(p), id)
	}
	if err != nil {
		return ServiceRequest{}, err
	}
	var req ServiceRequest
	if err := json.Unmarshal(rec.Value, &req); err != nil {
		return ServiceRequest{}, err
	}
	req.Version = rec.Version
	return req, nil
}

// update checks a SERVICE_REQUEST_UPDATE and queues it.
func (d *requestDesk) update(o *origin, env *Envelope) error {
	var u requestUpdate
	if err := json.Unmarshal(env.Payload, &u); err != nil || !validName(u.RequestID) || len(u.Note) > 1000 {
		return newError(CodeInvalidPayload, `SERVICE_REQUEST_UPDATE needs {"requestId": "...", "action": "accept"}`)
	}
	switch u.Action {
	case "accept", "decline", "start", "complete", "cancel":
	default:
		return newError(CodeInvalidPayload, "action must be accept, decline, start, complete or cancel")
	}
	p := o.claims.Property
	return d.svc.submit(shardKey(p, u.RequestID), High, func() {
		start := time.Now()
		res, err := d.change(o, &u)
		d.svc.metrics.processed(EventServiceRequestUpdate, High, time.Since(start))
		o.finish(d.svc, EventServiceRequestUpdate, res, err)
	})
}

// change applies a lifecycle action. Runs on the request's worker.
func (d *requestDesk) change(o *origin, u *requestUpdate) (ackPayload, error) {
	s := d.svc
	ctx, cancel := s.ctx()
	defer cancel()
	p, who := o.claims.Property, o.claims.Subject
	req, err := d.loadFor(ctx, o.claims, u.RequestID)
	if err != nil {
		return ackPayload{}, err
	}
	if req.terminal() {
		return ackPayload{}, newError(CodeIllegalTransition, "request "+req.ID+" is already "+req.Status)
	}
	if u.Action == "decline" {
		return d.decline(ctx, o, &req, u.Note)
	}
	prevAssignee := req.Assignee
	if err := d.transition(ctx, o.claims, &req, u.Action); err != nil {
		return ackPayload{}, err
	}
	req.UpdatedAt = s.cfg.Now().UTC()
	if err := d.save(ctx, p, &req); err != nil {
		return ackPayload{}, err
	}
	if req.terminal() {
		s.metrics.openRequests.Add(-1)
		d.archive(ctx, p, &req)
	}
	action := actionDone[u.Action]
	d.announce(p, &req, action, u.Note)
	if prevAssignee != "" && prevAssignee != who {
		_, _ = s.publish(staffChannel(p, prevAssignee), EventServiceRequestUpdate, NSPersonal,
			requestChange{Action: action, Request: req, Note: u.Note}, High, 0, o.corr, who, "")
	}
	s.log.Info("service request "+u.Action, "event", "service_request_update", "correlationId", o.corr,
		"metadata", map[string]any{"property": p, "requestId": req.ID, "status": req.Status, "by": who})
	return ackPayload{Event: EventServiceRequestUpdate, Data: req}, nil
}

// loadFor reads a request for claims; a guest sees only their room's.
func (d *requestDesk) loadFor(ctx context.Context, c *auth.Claims, id string) (ServiceRequest, error) {
	req, err := d.load(ctx, c.Property, id)
	if errors.Is(err, cluster.ErrNotFound) || (err == nil && c.Role == auth.Guest && req.RoomNumber != c.Room) {
		return ServiceRequest{}, newError(CodeNotFound, "no request "+id) // never confirm another room's request
	}
	if err != nil {
		return ServiceRequest{}, newError(CodeUnavailable, "request store unavailable")
	}
	return req, nil
}

// supervises reports whether role may complete or cancel anyone's request.
func supervises(r auth.Role) bool { return r == auth.Admin || r == auth.Service || r == auth.FrontDesk }

// transition moves req by action (accept, start, complete, cancel) for the
// holder of c: FORBIDDEN when c may not act on it, ILLEGAL_TRANSITION when
// its status does not allow the action. Runs on the request's worker.
func (d *requestDesk) transition(ctx context.Context, c *auth.Claims, req *ServiceRequest, action string) error {
	s := d.svc
	who, now := c.Subject, s.cfg.Now().UTC()
	isAssignee := req.Assignee != "" && req.Assignee == who
	illegal := newError(CodeIllegalTransition, "cannot "+action+" request "+req.ID+" in status "+req.Status)
	forbidden := newError(CodeForbidden, "cannot "+action+" request "+req.ID+": not yours")
	switch action {
	case "accept":
		switch {
		case req.Status == ReqEscalated && (isStaff(c.Role) || c.Role == auth.Admin):
			req.Assignee = who // a supervisor or colleague takes the escalated request over
		case req.Status != ReqAssigned:
			return illegal
		case !isAssignee:
			return forbidden
		}
		req.Status = ReqAccepted
		d.disarm(ctx, c.Property, req.ID, req.Attempt)
		if req.AssignedAt != nil {
			s.metrics.timeToAccept.Update(now.Sub(*req.AssignedAt).Seconds())
		}
	case "start":
		if !isAssignee {
			return forbidden
		}
		if req.Status != ReqAccepted {
			return illegal
		}
		req.Status = ReqInProgress
	case "complete":
		if !isAssignee && !supervises(c.Role) {
			return forbidden
		}
		if req.Status != ReqAccepted && req.Status != ReqInProgress {
			return illegal
		}
		req.Status = ReqCompleted
	case "cancel":
		if !supervises(c.Role) && req.CreatedBy != who && c.Role != auth.Guest { // loadFor checked the guest's room
			return forbidden
		}
		req.Status = ReqCancelled
		d.disarm(ctx, c.Property, req.ID, req.Attempt)
	default:
		return illegal
	}
	return nil
}

// decline hands an assigned or accepted request back: it is announced as
// declined, then routed to the next candidate or escalated. Runs on the
// request's worker.
func (d *requestDesk) decline(ctx context.Context, o *origin, req *ServiceRequest, note string) (ackPayload, error) {
	s := d.svc
	p := o.claims.Property
	if req.Assignee == "" || req.Assignee != o.claims.Subject {
		return ackPayload{}, newError(CodeForbidden, "cannot decline request "+req.ID+": not yours")
	}
	if req.Status != ReqAssigned && req.Status != ReqAccepted {
		return ackPayload{}, newError(CodeIllegalTransition, "cannot decline request "+req.ID+" in status "+req.Status)
	}
	d.disarm(ctx, p, req.ID, req.Attempt)
	d.announce(p, req, "declined", note)
	if err := d.route(ctx, p, req); err != nil {
		return ackPayload{}, err
	}
	s.log.Info("service request declined", "event", "service_request_update", "correlationId", o.corr,
		"metadata", map[string]any{"property": p, "requestId": req.ID, "status": req.Status, "by": o.claims.Subject})
	return ackPayload{Event: EventServiceRequestUpdate, Data: *req}, nil
}

// archive moves a finished request from the open table to the done
// table. A failure leaves it in the open table, where it is still read
// correctly (list prefers the done copy; routing skips finished ones).
func (d *requestDesk) archive(ctx context.Context, p string, req *ServiceRequest) {
	val, _ := json.Marshal(req)
	if _, err := d.svc.store.Put(ctx, doneTable(p), req.ID, val, 0); err != nil {
		d.svc.log.Warn("finished request not archived", "requestId", req.ID, "err", err)
		return
	}
	if err := d.svc.store.Delete(ctx, requestsTable(p), req.ID, req.Version); err != nil {
		d.svc.log.Warn("finished request left among the open ones", "requestId", req.ID, "err", err)
	}
}

// list returns a property's requests that are not finished, or all of
// them, oldest first.
func (d *requestDesk) list(ctx context.Context, p string, all bool) ([]ServiceRequest, error) {
	recs, err := d.svc.store.List(ctx, requestsTable(p))
	if err != nil {
		return nil, err
	}
	if all {
		// A request is in the done table once finished; a crash between
		// the two writes can leave a finished copy among the open ones
		// too: the done copy, added last, wins.
		done, err := d.svc.store.List(ctx, doneTable(p))
		if err != nil {
			return nil, err
		}
		recs = append(recs, done...)
	}
	byID := make(map[string]ServiceRequest, len(recs))
	for _, rec := range recs {
		var r ServiceRequest
		if json.Unmarshal(rec.Value, &r) == nil && (all || !r.terminal()) {
			r.Version = rec.Version
			byID[r.ID] = r
		}
	}
	out := make([]ServiceRequest, 0, len(byID))
	for _, r := range byID {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ServiceRequest) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// openBy counts each staff member's requests assigned, accepted or in
// progress: the load routing balances, the same on every node.
func (d *requestDesk) openBy(ctx context.Context, p string) (map[string]int, error) {
	recs, err := d.svc.store.List(ctx, requestsTable(p))
	if err != nil {
		return nil, err
	}
	open := make(map[string]int)
	for _, rec := range recs {
		var r struct { // only what counts: a full decode per request per route would dominate routing
			Status   string `json:"status"`
			Assignee string `json:"assignee"`
		}
		if json.Unmarshal(rec.Value, &r) == nil && r.Assignee != "" &&
			(r.Status == ReqAssigned || r.Status == ReqAccepted || r.Status == ReqInProgress) {
			open[r.Assignee]++
		}
	}
	return open, nil
}
