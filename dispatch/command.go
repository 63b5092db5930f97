package dispatch

import (
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// origin is who asked for a command and where its answer goes: a client
// connection (an ACK or ERROR event) or the backend API (an HTTP answer).
type origin struct {
	conn   *engine.Conn // nil for the API
	claims *auth.Claims
	corr   string                          // correlationId to echo
	idem   string                          // idempotency key of an API call
	done   func(res ackPayload, err error) // the API's answer; nil for clients
}

// ackPayload is the payload of the ACK a sender gets once its event was
// applied and published.
type ackPayload struct {
	Event     string `json:"event"`
	MessageID string `json:"messageId,omitempty"`
	Data      any    `json:"data,omitempty"`
	// Queued: Redis was unreachable, so the event went to this node's
	// clients only and waits in the node's outbox for the rest of the
	// cluster; its messageId is provisional (resuming from it resyncs).
	Queued bool `json:"queued,omitempty"`
}

// finish reports a command's outcome to its origin. Runs on a worker.
func (o *origin) finish(s *Service, event string, res ackPayload, err error) {
	if o.done != nil {
		o.done(res, err)
		return
	}
	if o.conn == nil {
		return
	}
	if err != nil {
		e := asError(err)
		s.metrics.errorSent(e.Code)
		s.replyAsync(o.conn, EventError, "", errorPayload{Code: e.Code, Message: e.Message}, High, o.corr)
		return
	}
	s.replyAsync(o.conn, EventAck, "", res, High, o.corr)
}

// command routes a business event, already checked against the role table.
// It runs on the client's loop (or the API's goroutine) and only queues
// work.
func (s *Service) command(conn *engine.Conn, claims *auth.Claims, env *Envelope) error {
	return s.commandFrom(&origin{conn: conn, claims: claims, corr: env.CorrelationID}, env)
}

func (s *Service) commandFrom(o *origin, env *Envelope) error {
	switch env.Event {
	case EventRoomStatusUpdate:
		return s.rooms.command(o, env)
	case EventServiceRequest:
		return s.reqs.create(o, env)
	case EventServiceRequestUpdate:
		return s.reqs.update(o, env)
	case EventGuestCheckIn, EventGuestCheckOut:
		return s.guestEvent(o, env)
	case EventHousekeepingAlert, EventMaintenanceAlert, EventSystemAlert:
		return s.alert(o, env)
	}
	return newError(CodeUnknownEvent, "unknown event "+env.Event)
}

// guestStay is the payload of GUEST_CHECKIN and GUEST_CHECKOUT.
type guestStay struct {
	RoomNumber string `json:"roomNumber"`
	GuestName  string `json:"guestName,omitempty"`
	GuestID    string `json:"guestId,omitempty"`
	Departure  string `json:"departure,omitempty"`
	Note       string `json:"note,omitempty"`
}

// guestEvent notifies the front office and the room of an arrival or a
// departure, and moves the room on the board: a check-in occupies it, a
// check-out leaves it dirty for housekeeping.
func (s *Service) guestEvent(o *origin, env *Envelope) error {
	var g guestStay
	if err := json.Unmarshal(env.Payload, &g); err != nil || !validName(g.RoomNumber) {
		return newError(CodeInvalidPayload, env.Event+` needs {"roomNumber": "101", ...}`)
	}
	if len(g.GuestName)+len(g.GuestID)+len(g.Departure)+len(g.Note) > 1000 {
		return newError(CodeInvalidPayload, env.Event+" payload too long")
	}
	p := o.claims.Property
	event := env.Event
	return s.submit(shardKey(p, "room", g.RoomNumber), High, func() {
		start := time.Now()
		pub, err := s.publish(nsChannel(p, NSGuests), event, NSGuests, g, High, 0, o.corr, o.claims.Subject, o.idem)
		if err == nil {
			_, _ = s.publish(roomChannel(p, g.RoomNumber), event, NSPersonal, g, High, 0, o.corr, o.claims.Subject, "")
			s.moveRoomFor(o, event, g.RoomNumber)
			s.log.Info("guest "+map[bool]string{true: "check-in", false: "check-out"}[event == EventGuestCheckIn],
				"event", event, "correlationId", o.corr,
				"metadata", map[string]any{"property": p, "roomNumber": g.RoomNumber, "priority": "HIGH"})
		}
		s.metrics.processed(event, High, time.Since(start))
		o.finish(s, event, ackPayload{Event: event, MessageID: pub.Position.String(), Queued: pub.Pending}, err)
	})
}

// moveRoomFor applies the room status that follows a check-in or
// check-out, when the room is on the board and the move is legal.
func (s *Service) moveRoomFor(o *origin, event, room string) {
	to := Occupied
	if event == EventGuestCheckOut {
		to = Dirty
	}
	sys := &origin{claims: &auth.Claims{Subject: o.claims.Subject, Role: auth.FrontDesk, Property: o.claims.Property}, corr: o.corr}
	if _, err := s.rooms.apply(sys, &roomUpdate{RoomNumber: room, Status: to}); err != nil {
		s.log.Debug("room not moved after "+event, "roomNumber", room, "err", err)
	}
}

// alertPayload is the payload of the alerts.
type alertPayload struct {
	Message    string `json:"message"`
	Severity   string `json:"severity,omitempty"` // info, warning, critical
	RoomNumber string `json:"roomNumber,omitempty"`
	Floor      *int   `json:"floor,omitempty"`
	Assignee   string `json:"assignee,omitempty"` // a staff member to notify directly
	Scope      string `json:"scope,omitempty"`    // SYSTEM_ALERT: "property" (default) or "global"
}

// alert publishes a housekeeping, maintenance or system alert to its
// audience: the namespace, plus the assignee's own channel when named.
// A global system alert goes to every property on record.
func (s *Service) alert(o *origin, env *Envelope) error {
	var a alertPayload
	if err := json.Unmarshal(env.Payload, &a); err != nil || a.Message == "" || len(a.Message) > 2000 {
		return newError(CodeInvalidPayload, env.Event+` needs {"message": "..."} of at most 2000 bytes`)
	}
	if (a.RoomNumber != "" && !validName(a.RoomNumber)) || (a.Assignee != "" && !validName(a.Assignee)) {
		return newError(CodeInvalidPayload, "invalid roomNumber or assignee")
	}
	ns, prio := NSHousekeeping, Medium
	switch env.Event {
	case EventMaintenanceAlert:
		ns = NSMaintenance
	case EventSystemAlert:
		ns, prio = NSSystem, High
	}
	if a.Scope != "" && a.Scope != "property" && a.Scope != "global" {
		return newError(CodeInvalidPayload, `scope must be "property" or "global"`)
	}
	if a.Severity != "" && a.Severity != "info" && a.Severity != "warning" && a.Severity != "critical" {
		return newError(CodeInvalidPayload, `severity must be "info", "warning" or "critical"`)
	}
	if a.Scope == "global" && (env.Event != EventSystemAlert || o.claims.Role != auth.Service) {
		return newError(CodeForbidden, "only backends (role service) send global system alerts")
	}
	if p, ok := parsePriority(env.Priority, prio); ok {
		prio = p
	}
	event, p := env.Event, o.claims.Property
	return s.submit(shardKey(p, ns), prio, func() {
		start := time.Now()
		properties := []string{p}
		if a.Scope == "global" {
			properties = s.properties()
		}
		var pub ackPayload
		var err error
		for _, prop := range properties {
			var res = ackPayload{Event: event}
			r, e := s.publish(nsChannel(prop, ns), event, ns, a, prio, 0, o.corr, o.claims.Subject, o.idem)
			if e != nil {
				err = e
				continue
			}
			res.MessageID, res.Queued = r.Position.String(), r.Pending
			pub = res
			if a.Assignee != "" {
				_, _ = s.publish(staffChannel(prop, a.Assignee), event, NSPersonal, a, prio, 0, o.corr, o.claims.Subject, "")
			}
		}
		s.log.Info("alert sent", "event", event, "correlationId", o.corr,
			"metadata", map[string]any{"property": p, "scope": a.Scope, "priority": prio.String(), "severity": a.Severity})
		s.metrics.processed(event, prio, time.Since(start))
		o.finish(s, event, pub, err)
	})
}

// parsePriority reads an envelope priority; empty means the default.
func parsePriority(s string, def Priority) (Priority, bool) {
	switch s {
	case "HIGH":
		return High, true
	case "MEDIUM":
		return Medium, true
	case "LOW":
		return Low, true
	}
	return def, false
}

// properties lists the properties on record (seen on a room board).
func (s *Service) properties() []string {
	ctx, cancel := s.ctx()
	defer cancel()
	recs, err := s.store.List(ctx, "properties")
	if err != nil {
		return nil
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Key
	}
	return out
}
