package bench

import (
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// OnMessage handles one server message: setup answers, answers to the
// connection's commands and deliveries.
func (r *hotelRun) OnMessage(c *Conn, op codec.OpCode, payload []byte) {
	now := time.Now().UnixNano()
	hc, _ := c.Data().(*hotelConn)
	if hc == nil {
		return
	}
	var env hotelEnvelope
	if op != codec.OpText || json.Unmarshal(payload, &env) != nil {
		r.strange(hc, fmt.Errorf("%w: not a JSON envelope: %.80q", ErrHotel, payload))
		return
	}
	switch env.Event {
	case evAuthenticated:
		r.authenticated(c, hc)
	case evSubscribed:
		if hc.waiting--; hc.waiting == 0 && hc.phase == phaseSubscribe {
			r.setupEnded(hc, phaseReady)
		}
	case evAck:
		r.ack(hc, &env)
	case evError:
		r.errorEvent(hc, &env)
	case evServiceRequest:
		r.assignment(hc, &env, now)
	case evRequestUpdate:
		r.requestUpdate(&env, now)
	case evRoomStatus, evCheckIn, evCheckOut, evHousekeepingAlert, evMaintenanceAlert:
		r.tagged(&env, now)
	default:
		r.strange(hc, fmt.Errorf("%w: event %q", ErrHotel, env.Event))
	}
}

// strange handles a message the workload has no place for: it ends the
// setup of a connection not ready yet (the URL is not the hotel endpoint,
// say) and is counted after.
func (r *hotelRun) strange(hc *hotelConn, err error) {
	if hc.phase < phaseReady {
		r.setupFailed(hc, err)
		return
	}
	r.track.foreign.Add(1)
}

// authenticated subscribes the connection to its role's namespaces.
func (r *hotelRun) authenticated(c *Conn, hc *hotelConn) {
	if hc.phase != phaseAuth {
		return // a refreshed token: nothing to do
	}
	hc.phase = phaseSubscribe
	b := getBuf()
	for _, ns := range hotelNamespaces(hc.id.role) {
		*b = appendSubscribe((*b)[:0], ns)
		_ = c.Send(codec.OpText, *b)
		hc.waiting++
	}
	putBuf(b)
}

// ack takes the answer to one of the connection's commands.
func (r *hotelRun) ack(hc *hotelConn, env *hotelEnvelope) {
	op, seq, ok := parseTag(env.CorrelationID, r.track.run)
	if !ok {
		r.strange(hc, fmt.Errorf("%w: ACK for %q", ErrHotel, env.CorrelationID))
		return
	}
	r.track.pending.Add(-1)
	switch op {
	case opRoom:
		r.rooms.settle(seq, true, false)
	case opAccept:
		r.later(hc, r.h.WorkTime, opComplete, seq, requestIDOf(env))
	case opComplete:
		r.track.complete(seq)
	}
}

// requestIDOf reads the request id in an ACK's data.
func requestIDOf(env *hotelEnvelope) string {
	var a struct {
		Data hotelRequest `json:"data"`
	}
	_ = json.Unmarshal(env.Payload, &a)
	return a.Data.ID
}

// errorEvent counts an ERROR. One answering a command of the run fails
// that command's event, so its deliveries are no longer expected.
func (r *hotelRun) errorEvent(hc *hotelConn, env *hotelEnvelope) {
	var p hotelErrorPayload
	_ = json.Unmarshal(env.Payload, &p)
	r.track.errorEvent(p.Code)
	err := fmt.Errorf("%w: ERROR %s (correlationId %q): %s", ErrHotel, p.Code, env.CorrelationID, p.Message)
	op, seq, ok := parseTag(env.CorrelationID, r.track.run)
	if !ok {
		if hc.phase < phaseReady {
			r.setupFailed(hc, err)
		} else {
			r.stats.AddError(KindMismatch, err)
		}
		return
	}
	r.stats.AddError(KindMismatch, err)
	r.track.pending.Add(-1)
	if op == opAccept || op == opComplete {
		op = opRequest
	}
	r.track.fail(seq, op)
	if op == opRoom {
		r.rooms.settle(seq, false, true)
	}
}

// assignment takes a SERVICE_REQUEST handed to this staff member: counted,
// then accepted after AcceptDelay.
func (r *hotelRun) assignment(hc *hotelConn, env *hotelEnvelope, now int64) {
	var req hotelRequest
	_ = json.Unmarshal(env.Payload, &req)
	op, seq, ok := parseTag(req.Description, r.track.run)
	if !ok || op != opRequest || !r.track.deliver(opRequest, seq, 0, 0, env.Priority, now) {
		r.strange(hc, fmt.Errorf("%w: assignment of %q", ErrHotel, req.Description))
		return
	}
	r.stats.Ops.Add(1)
	if hc.id.role != auth.Guest && req.ID != "" {
		r.later(hc, r.h.AcceptDelay, opAccept, seq, req.ID)
	}
}

// requestUpdate takes a SERVICE_REQUEST_UPDATE: created and assigned are
// timed from the request, accepted and completed from the staff member's
// command.
func (r *hotelRun) requestUpdate(env *hotelEnvelope, now int64) {
	var ch hotelRequestChange
	_ = json.Unmarshal(env.Payload, &ch)
	op, seq, ok := parseTag(ch.Request.Description, r.track.run)
	if !ok || op != opRequest {
		r.track.foreign.Add(1)
		return
	}
	from := 0
	switch ch.Action {
	case "created", "assigned":
	case "accepted":
		from = 1
	case "completed":
		from = 2
	case "escalated":
		r.escalated(seq)
		return
	default:
		r.track.foreign.Add(1)
		return
	}
	if r.track.deliver(opRequest, seq, 1, from, env.Priority, now) {
		r.stats.Ops.Add(1)
	}
}

// escalated fails a request nobody took: its department had nobody
// connected, or nobody accepted in time. Counted once, by whoever hears
// of it first.
func (r *hotelRun) escalated(seq int64) {
	if r.track.fail(seq, opRequest) {
		r.track.escalated.Add(1)
		r.stats.AddError(KindMismatch, fmt.Errorf("%w: service request escalated: nobody of its department took it in time", ErrHotel))
	}
}

// tagged takes a delivery whose correlation id names its event.
func (r *hotelRun) tagged(env *hotelEnvelope, now int64) {
	op, seq, ok := parseTag(env.CorrelationID, r.track.run)
	p, fits := deliveryPart(op, env.Event)
	if !ok || !fits {
		r.track.foreign.Add(1)
		return
	}
	if r.track.deliver(op, seq, p, 0, env.Priority, now) {
		r.stats.Ops.Add(1)
	}
}

// later has hc send the accept or complete (op) of request seq after d.
// Loop or delay queue.
func (r *hotelRun) later(hc *hotelConn, d time.Duration, op byte, seq int64, requestID string) {
	action, from := "accept", 1
	if op == opComplete {
		action, from = "complete", 2
	}
	send := func() {
		ok := r.send(hc, op, seq, from, kindRequestUpdate, func(dst, tag []byte) []byte {
			return appendRequestAction(dst, tag, requestID, action)
		})
		if !ok {
			r.track.fail(seq, opRequest)
		}
	}
	if !r.delay.after(d, send) {
		send()
	}
}

// send has hc's event loop send the command that build makes, tagged op
// and seq, stamping send time i of the entry just before. Safe from any
// goroutine.
func (r *hotelRun) send(hc *hotelConn, op byte, seq int64, i int, k hotelKind, build func(dst, tag []byte) []byte) bool {
	r.track.pending.Add(1)
	err := hc.c.AsyncDo(func(c *Conn) {
		var tb [32]byte
		tag := appendTag(tb[:0], op, r.track.run, seq)
		b := getBuf()
		*b = build((*b)[:0], tag)
		r.track.stamp(seq, i, k)
		if err := c.Send(codec.OpText, *b); err != nil {
			c.Fail(KindWrite, err)
		}
		putBuf(b)
	})
	if err != nil {
		r.track.pending.Add(-1)
		r.stats.AddError(KindWrite, err)
		return false
	}
	return true
}
