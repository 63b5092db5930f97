package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// Setup phases of a connection.
const (
	phaseAuth      uint8 = iota // AUTH sent
	phaseSubscribe              // SUBSCRIBEs sent, SUBSCRIBED due
	phaseReady                  // subscribed to everything its role needs
	phaseFailed                 // refused or closed before it was ready
)

// hotelConn is one connection of the run. c and id are read-only once
// OnUpgrade made it; gone is atomic; phase and waiting belong to the
// connection's event loop.
type hotelConn struct {
	c       *Conn
	id      *hotelIdentity
	gone    atomic.Bool
	phase   uint8
	waiting int // SUBSCRIBED still due
}

// hotelRun is one hotel measurement. Its Handler methods run on the event
// loops and share with the rest only atomics, the tracker, the room model,
// the delay queue (each safe for concurrent use) and ready (under mu);
// everything else is read-only after newHotelRun, or belongs to the run's
// goroutine (cast, rng, turn, checkIn).
type hotelRun struct {
	NopHandler
	cfg   Config
	h     HotelConfig
	plan  *hotelPlan
	stats *Stats
	api   *hotelAPI
	track *hotelTracker
	rooms *roomModel
	delay *delayQueue

	next    atomic.Int64 // identities handed out, in upgrade order
	settled atomic.Int64 // connections whose setup ended, ready or not
	dropped atomic.Int64 // ready connections the server closed
	live    atomic.Int64 // ready connections still open
	mu      sync.Mutex   // guards ready
	ready   []*hotelConn

	cast    *hotelCast
	rng     *rand.Rand
	turn    int  // rotates front-desk senders
	checkIn bool // the next guest event is a check-in, else a check-out
}

func newHotelRun(cfg Config, h HotelConfig, plan *hotelPlan, stats *Stats, api *hotelAPI) *hotelRun {
	return &hotelRun{
		cfg: cfg, h: h, plan: plan, stats: stats, api: api,
		track: newHotelTracker(fmt.Sprintf("%08x", rand.Uint32()), hotelEventCap(*h.Mix, cfg.Duration)),
		rooms: newRoomModel(plan),
		delay: newDelayQueue(1 << 16),
		rng:   rand.New(rand.NewPCG(h.Seed, 0x72756e)),

		checkIn: true,
	}
}

// close stops the delay queue; scheduled actions are dropped.
func (r *hotelRun) close() { r.delay.stop() }

// connect opens every connection of the plan (reporting the connect
// metrics), waits until each is authenticated and subscribed or failed,
// and builds the cast of the ready ones.
func (r *hotelRun) connect(ctx context.Context, env *Env, cl *Client, res *Result) error {
	henv := *env
	henv.Config = r.cfg
	p, err := connectAll(ctx, &henv, cl)
	if err != nil {
		return err
	}
	p.addMetrics(res, cl)
	if len(p.conns) == 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: no connection upgraded (first error: %s)", ErrHandshake, env.Stats.FirstError())
	}
	env.Stats.SetPhase("subscribing")
	start := time.Now()
	deadline := start.Add(hotelSetup)
	for r.settled.Load() < int64(len(p.conns)) && time.Now().Before(deadline) {
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
	}
	r.mu.Lock()
	ready := append([]*hotelConn(nil), r.ready...)
	r.mu.Unlock()
	res.Metrics.Add("ready", float64(len(ready)), UnitCount)
	res.Metrics.Add("setup_seconds", time.Since(start).Seconds(), UnitSeconds)
	r.cast = newHotelCast(r.plan, ready)
	if len(r.cast.frontDesk) == 0 || len(r.cast.byRole[auth.Housekeeping]) == 0 || len(r.cast.guests) == 0 {
		return fmt.Errorf("%w: %d of %d connections authenticated and subscribed, not a front desk, a housekeeper and a guest "+
			"(first error: %s; is the URL the hotel endpoint and the JWT secret the server's?)",
			ErrHotel, len(ready), len(p.conns), env.Stats.FirstError())
	}
	return nil
}

// OnUpgrade gives the connection the next identity and authenticates it.
func (r *hotelRun) OnUpgrade(c *Conn) {
	i := r.next.Add(1) - 1
	if i >= int64(len(r.plan.ids)) {
		c.Fail(KindMismatch, fmt.Errorf("%w: more connections than identities", ErrHotel))
		return
	}
	id := &r.plan.ids[i]
	hc := &hotelConn{c: c, id: id}
	c.SetData(hc)
	b := getBuf()
	*b = appendAuth((*b)[:0], id.token)
	_ = c.Send(codec.OpText, *b)
	putBuf(b)
}

// OnClose ends a connection's part in the run.
func (r *hotelRun) OnClose(c *Conn, err error) {
	hc, _ := c.Data().(*hotelConn)
	if hc == nil {
		return
	}
	hc.gone.Store(true)
	if err != nil {
		r.track.closed(closeCodeOf(err))
	}
	if hc.phase < phaseReady {
		r.setupEnded(hc, phaseFailed)
		return
	}
	r.live.Add(-1)
	if err != nil {
		r.dropped.Add(1)
	}
}

// closeCodeOf reads the close code in the error a Conn reports when the
// server closed it with a close frame ("... with code 4008"), or returns 0.
func closeCodeOf(err error) int {
	s := err.Error()
	i := strings.LastIndex(s, "with code ")
	if i < 0 {
		return 0
	}
	code, _ := strconv.Atoi(s[i+len("with code "):])
	return code
}

// setupEnded records that a connection is ready or failed. Loop only.
func (r *hotelRun) setupEnded(hc *hotelConn, phase uint8) {
	if hc.phase >= phaseReady {
		return
	}
	hc.phase = phase
	r.settled.Add(1)
	if phase == phaseReady {
		r.live.Add(1)
		r.mu.Lock()
		r.ready = append(r.ready, hc)
		r.mu.Unlock()
	}
}

// setupFailed counts err and closes a connection that cannot take part.
// Loop only.
func (r *hotelRun) setupFailed(hc *hotelConn, err error) {
	if hc.phase >= phaseReady {
		return
	}
	if err != nil {
		r.stats.AddError(KindMismatch, err)
	}
	r.setupEnded(hc, phaseFailed)
	hc.c.Close()
}
