package bench

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// hotelTick is how often the generator issues the events that fell due.
const hotelTick = 5 * time.Millisecond

// hotelCast is who is ready to work and how many connections each event
// reaches. It is fixed once the setup ends, which is what makes the
// expected recipients of every event known. Generator only.
type hotelCast struct {
	frontDesk  []*hotelConn
	byRole     map[auth.Role][]*hotelConn
	hkByFloor  map[int][]*hotelConn
	guests     []*hotelConn
	subs       map[string]int32 // ready connections per namespace
	roomGuests []int32          // ready guests per room
	depts      []int            // indexes of hotelRequestTypes whose department has someone ready
	weights    []int            // their weights
}

func newHotelCast(plan *hotelPlan, ready []*hotelConn) *hotelCast {
	c := &hotelCast{
		byRole: map[auth.Role][]*hotelConn{}, hkByFloor: map[int][]*hotelConn{},
		subs: map[string]int32{}, roomGuests: make([]int32, len(plan.rooms)),
	}
	// Setup order depends on timing; the cast does not.
	ready = slices.Clone(ready)
	slices.SortFunc(ready, func(a, b *hotelConn) int { return strings.Compare(a.id.sub, b.id.sub) })
	for _, hc := range ready {
		role := hc.id.role
		c.byRole[role] = append(c.byRole[role], hc)
		for _, ns := range hotelNamespaces(role) {
			c.subs[ns]++
		}
		switch role {
		case auth.Guest:
			c.guests = append(c.guests, hc)
			c.roomGuests[hc.id.room]++
		case auth.FrontDesk:
			c.frontDesk = append(c.frontDesk, hc)
		case auth.Housekeeping:
			for _, f := range hc.id.floors {
				c.hkByFloor[f] = append(c.hkByFloor[f], hc)
			}
		}
	}
	for i, t := range hotelRequestTypes {
		if len(c.byRole[t.role]) > 0 {
			c.depts = append(c.depts, i)
			c.weights = append(c.weights, t.weight)
		}
	}
	return c
}

// alive returns the first connection of list from start, wrapping, that
// is still open, or nil.
func alive(list []*hotelConn, start int) *hotelConn {
	for i := range list {
		if hc := list[(start+i)%len(list)]; !hc.gone.Load() {
			return hc
		}
	}
	return nil
}

// measure sends the load for Config.Duration, waits for what is still due
// and reports.
func (r *hotelRun) measure(ctx context.Context, env *Env, res *Result) error {
	env.Stats.SetPhase("measuring")
	before, measured, err := env.sample()
	if err != nil {
		return err
	}
	r.api.start()
	load0, start := SelfCPUTime(), time.Now()
	r.generate(ctx, start, r.cfg.Duration)
	env.Stats.SetPhase("draining")
	r.drain(ctx)
	load, elapsed := SelfCPUTime()-load0, time.Since(start)
	after, _, err := env.sample()
	r.api.stop()
	if err != nil {
		return err
	}
	m := &res.Metrics
	m.Add("measure_seconds", elapsed.Seconds(), UnitSeconds)
	deliverFor := elapsed
	if last := r.track.lastRecv.Load(); last > 0 {
		deliverFor = time.Duration(last - start.UnixNano())
	}
	r.track.addMetrics(m, deliverFor)
	_, broken := r.rooms.counts()
	m.Add("conns_dropped", float64(r.dropped.Load()), UnitCount)
	m.Add("rooms_untracked", float64(broken), UnitCount)
	n := r.stats.Ops.Load()
	if measured {
		cpu := after.CPU - before.CPU
		m.Add("server_cpu_us_per_delivery", perOp(cpu, n), UnitMicros)
		m.Add("server_cpu_percent", 100*cpu.Seconds()/elapsed.Seconds(), UnitPercent)
	}
	if measured && pinned(res) {
		m.Add("server_core_us_per_delivery", perOp(after.Cores-before.Cores, n), UnitMicros)
	}
	m.Add("load_cpu_us_per_delivery", perOp(load, n), UnitMicros)
	return ctx.Err()
}

// generate issues, every tick, the events of each kind that fell due since
// start at its rate, until d has passed or ctx ends.
func (r *hotelRun) generate(ctx context.Context, start time.Time, d time.Duration) {
	m := r.h.Mix
	rates := [...]float64{m.RoomUpdates, m.Requests, m.Alerts, m.CheckIns, m.Low}
	issue := [...]func(){r.issueRoom, r.issueRequest, r.issueAlert, r.issueGuest, r.issueLow}
	var done [len(rates)]int64
	tick := time.NewTicker(hotelTick)
	defer tick.Stop()
	for {
		el := time.Since(start)
		last := el >= d
		if last {
			el = d
		}
		for k, rt := range rates {
			for due := int64(rt * el.Seconds()); done[k] < due; done[k]++ {
				issue[k]()
			}
		}
		if last || r.live.Load() == 0 {
			return // done, or nobody left to send or receive
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// drain waits until nothing more is due, at most hotelDrain past the time
// staff need to finish a request, and not at all once every connection is
// gone.
func (r *hotelRun) drain(ctx context.Context) {
	deadline := time.Now().Add(hotelDrain + r.h.AcceptDelay + r.h.WorkTime)
	for !r.track.settled() && r.live.Load() > 0 && time.Now().Before(deadline) {
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return
		}
	}
}

// issueRoom moves a room one step over WebSocket, sent by a housekeeper of
// its floor or the front desk.
func (r *hotelRun) issueRoom() {
	seq, ok := r.track.reserve()
	if !ok {
		return
	}
	room, to, by, ok := r.rooms.takeUpdate(seq, r.rng.IntN(len(r.plan.rooms)))
	if !ok {
		r.track.unsend(seq)
		return
	}
	pr := &r.plan.rooms[room]
	var from *hotelConn
	if by == actorFrontDesk {
		from = alive(r.cast.frontDesk, r.nextTurn())
	} else if from = r.pick(r.cast.hkByFloor[pr.floor]); from == nil {
		from = r.pick(r.cast.byRole[auth.Housekeeping])
	}
	r.track.begin(seq, opRoom, r.cast.subs[nsRooms]+r.cast.roomGuests[room])
	if from == nil || !r.send(from, opRoom, seq, 0, kindRoomUpdate, func(dst, tag []byte) []byte {
		return appendRoomUpdate(dst, tag, pr.number, to)
	}) {
		r.rooms.settle(seq, false, false)
		r.track.unsend(seq)
	}
}

// issueGuest checks a guest in or out through the backend API, in turn.
func (r *hotelRun) issueGuest() {
	seq, ok := r.track.reserve()
	if !ok {
		return
	}
	room, by, ok := r.rooms.takeGuest(seq, r.rng.IntN(len(r.plan.rooms)), r.checkIn)
	r.checkIn = !r.checkIn
	if !ok {
		r.track.unsend(seq)
		return
	}
	op, event := opCheckIn, evCheckIn
	if by == actorCheckOut {
		op, event = opCheckOut, evCheckOut
	}
	g := r.cast.roomGuests[room]
	r.track.begin(seq, op, r.cast.subs[nsGuests]+g, r.cast.subs[nsRooms]+g)
	var tb [32]byte
	body := appendAPIGuest(nil, appendTag(tb[:0], op, r.track.run, seq), event, r.h.Property, r.plan.rooms[room].number)
	r.track.pending.Add(1)
	job := hotelAPIJob{
		body:   body,
		before: func() { r.track.stamp(seq, 0, partKind(op, 0)) },
		done:   func(status int, err error) { r.apiDone(op, seq, status, err) },
	}
	if !r.api.submit(job) {
		r.track.pending.Add(-1)
		r.rooms.settle(seq, false, false)
		r.track.unsend(seq)
	}
}

// apiDone takes the answer to a check-in or check-out. API worker.
func (r *hotelRun) apiDone(op byte, seq int64, status int, err error) {
	r.track.pending.Add(-1)
	if err == nil {
		r.rooms.settle(seq, true, false)
		return
	}
	r.rooms.settle(seq, false, true) // applied or not, the harness cannot tell
	r.track.fail(seq, op)
	if errors.Is(err, context.Canceled) {
		return // cut short at the end of the run
	}
	r.track.apiErrors.Add(1)
	kind := KindMismatch
	if status == 0 {
		kind = KindDial
	} else if status >= http.StatusInternalServerError {
		kind = KindClosed
	}
	r.stats.AddError(kind, err)
}

// issueRequest has a guest ask for a service of a department with someone
// ready to take it.
func (r *hotelRun) issueRequest() {
	g := r.pick(r.cast.guests)
	if g == nil {
		r.track.skipped.Add(1)
		return
	}
	seq, ok := r.track.reserve()
	if !ok {
		return
	}
	types := hotelRequestTypes[r.cast.depts[pickWeighted(r.rng, r.cast.weights)]].types
	typ := types[r.rng.IntN(len(types))]
	// The assignee gets SERVICE_REQUEST; service and the room's guests get
	// created, assigned, accepted and completed.
	r.track.begin(seq, opRequest, 1, 4*(r.cast.subs[nsService]+r.cast.roomGuests[g.id.room]))
	if !r.send(g, opRequest, seq, 0, kindAssignment, func(dst, tag []byte) []byte {
		return appendServiceRequest(dst, tag, typ)
	}) {
		r.track.unsend(seq)
	}
}

// issueAlert sends a MEDIUM alert: housekeeping from the front desk or
// maintenance from a housekeeper, in equal shares.
func (r *hotelRun) issueAlert() {
	event, ns, list := evHousekeepingAlert, nsHousekeeping, r.cast.frontDesk
	msg := "Guest reports a spill in the corridor"
	if r.rng.IntN(2) == 1 {
		event, ns, list = evMaintenanceAlert, nsMaintenance, r.cast.byRole[auth.Housekeeping]
		msg = "Corridor light out"
	}
	r.alert(opAlert, event, ns, "", "warning", msg, r.pick(list))
}

// issueLow sends one LOW housekeeping alert of the flood from the front
// desk, in turn.
func (r *hotelRun) issueLow() {
	r.alert(opLow, evHousekeepingAlert, nsHousekeeping, "LOW", "info", "Minibar restock round", alive(r.cast.frontDesk, r.nextTurn()))
}

func (r *hotelRun) alert(op byte, event, ns, prio, severity, msg string, from *hotelConn) {
	if from == nil {
		r.track.skipped.Add(1)
		return
	}
	seq, ok := r.track.reserve()
	if !ok {
		return
	}
	room := r.plan.rooms[r.rng.IntN(len(r.plan.rooms))].number
	r.track.begin(seq, op, r.cast.subs[ns])
	if !r.send(from, op, seq, 0, partKind(op, 0), func(dst, tag []byte) []byte {
		return appendAlert(dst, tag, event, prio, room, severity, msg)
	}) {
		r.track.unsend(seq)
	}
}

// pick returns a random open connection of list, or nil.
func (r *hotelRun) pick(list []*hotelConn) *hotelConn {
	if len(list) == 0 {
		return nil
	}
	return alive(list, r.rng.IntN(len(list)))
}

// nextTurn counts turns, so front-desk senders take theirs.
func (r *hotelRun) nextTurn() int {
	r.turn++
	return r.turn
}
