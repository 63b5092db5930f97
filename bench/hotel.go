package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// Hotel defaults: a mid-sized hotel on a busy morning.
const (
	DefaultHotelRooms       = 300
	DefaultHotelStaff       = 150
	DefaultHotelGuests      = 2000
	DefaultHotelFrontDesk   = 4
	DefaultHotelAcceptDelay = 50 * time.Millisecond
	DefaultHotelWorkTime    = 200 * time.Millisecond
	DefaultHotelAPIWorkers  = 8
	DefaultHotelProperty    = "hotel-1"
	DefaultHotelAPIURL      = "http://127.0.0.1:9090/api"
	// DefaultHotelJWTSecret and DefaultHotelAPIKey are the development
	// credentials of `make run`; a server started with others needs them
	// passed in.
	DefaultHotelJWTSecret = "bellhop-development-secret-do-not-use-in-prod"
	DefaultHotelAPIKey    = "bellhop-dev-api-key"
	// hotelProtocol is offered when Config.Protocol is empty: the hotel
	// endpoint's subprotocol.
	hotelProtocol = "bellhop.v1"
	// Bounds that keep one run's memory and token sizes reasonable.
	maxHotelRooms  = 20000
	maxHotelEvents = 1 << 22 // entries of the sent-event table (56 B each, touched only as used)
	hotelSetup     = 30 * time.Second
	hotelDrain     = 5 * time.Second // added to AcceptDelay+WorkTime: the wait for the last deliveries
)

// DefaultHotelMix is the load of a hotel run per second when
// HotelConfig.Mix is nil.
func DefaultHotelMix() HotelMix {
	return HotelMix{RoomUpdates: 50, Requests: 20, Alerts: 10, CheckIns: 5, Low: 500}
}

// HotelMix is the load of a hotel run, in events per second; 0 turns a
// kind off.
type HotelMix struct {
	RoomUpdates float64 // ROOM_STATUS_UPDATE sent over WebSocket by housekeeping and the front desk
	Requests    float64 // guests' SERVICE_REQUESTs; the assignee accepts and completes each
	Alerts      float64 // HOUSEKEEPING_ALERT (front desk) and MAINTENANCE_ALERT (housekeeping), MEDIUM
	CheckIns    float64 // GUEST_CHECKIN and GUEST_CHECKOUT through the backend API, alternately
	Low         float64 // HOUSEKEEPING_ALERTs sent with priority LOW by the front desk: the flood
}

func (m HotelMix) total() float64 { return m.RoomUpdates + m.Requests + m.Alerts + m.CheckIns + m.Low }

// HotelConfig is what the hotel scenario needs besides Config. Zero fields
// take the defaults noted per field.
type HotelConfig struct {
	Rooms       int           // rooms on the board; 0 means DefaultHotelRooms
	Staff       int           // housekeeping, maintenance and concierge connections; 0 means DefaultHotelStaff
	Guests      int           // guest devices, each bound to a room; 0 means DefaultHotelGuests
	FrontDesk   int           // front-desk connections; 0 means DefaultHotelFrontDesk
	Mix         *HotelMix     // load per second; nil means DefaultHotelMix
	AcceptDelay time.Duration // how long staff wait before accepting an assignment; 0 means DefaultHotelAcceptDelay
	WorkTime    time.Duration // how long staff take from accepting to completing; 0 means DefaultHotelWorkTime
	Property    string        // the tokens' property; empty means DefaultHotelProperty
	JWTSecret   string        // the server's JWT_SECRET (HS256, key id "dev"); empty means DefaultHotelJWTSecret
	APIURL      string        // backend API base, http:// on loopback; empty means DefaultHotelAPIURL
	APIKey      string        // the server's API_KEY; empty means DefaultHotelAPIKey
	APIWorkers  int           // backend API calls in flight at once; 0 means DefaultHotelAPIWorkers
	Seed        uint64        // seeds the cast and the choices of the run
}

func (h HotelConfig) withDefaults() HotelConfig {
	h.Rooms = cmp0(h.Rooms, DefaultHotelRooms)
	h.Staff = cmp0(h.Staff, DefaultHotelStaff)
	h.Guests = cmp0(h.Guests, DefaultHotelGuests)
	h.FrontDesk = cmp0(h.FrontDesk, DefaultHotelFrontDesk)
	if h.Mix == nil {
		m := DefaultHotelMix()
		h.Mix = &m
	}
	h.AcceptDelay = cmp0(h.AcceptDelay, DefaultHotelAcceptDelay)
	h.WorkTime = cmp0(h.WorkTime, DefaultHotelWorkTime)
	h.Property = cmp0(h.Property, DefaultHotelProperty)
	h.JWTSecret = cmp0(h.JWTSecret, DefaultHotelJWTSecret)
	h.APIURL = cmp0(h.APIURL, DefaultHotelAPIURL)
	h.APIKey = cmp0(h.APIKey, DefaultHotelAPIKey)
	h.APIWorkers = cmp0(h.APIWorkers, DefaultHotelAPIWorkers)
	return h
}

// validate checks h, after withDefaults, for a run of duration d.
func (h HotelConfig) validate(d time.Duration) error {
	m := *h.Mix
	rates := []float64{m.RoomUpdates, m.Requests, m.Alerts, m.CheckIns, m.Low}
	checks := []struct {
		bad  bool
		what string
	}{
		{h.Rooms < 1 || h.Rooms > maxHotelRooms, fmt.Sprintf("hotel Rooms must be 1 to %d", maxHotelRooms)},
		{h.Staff < 3 || h.Staff > 1<<16, "hotel Staff must be 3 to 65536 (one per department at least)"},
		{h.Guests < 1 || h.Guests > 1<<20, "hotel Guests must be 1 to 1048576"},
		{h.FrontDesk < 1 || h.FrontDesk > 1024, "hotel FrontDesk must be 1 to 1024"},
		{h.AcceptDelay < 0 || h.WorkTime < 0 || h.AcceptDelay+h.WorkTime > time.Minute, "hotel AcceptDelay and WorkTime must be 0 to 1m together"},
		{h.APIWorkers < 1 || h.APIWorkers > 256, "hotel APIWorkers must be 1 to 256"},
		{len(h.JWTSecret) < auth.MinSecretSize, fmt.Sprintf("hotel JWTSecret must be at least %d bytes", auth.MinSecretSize)},
		{!validHotelName(h.Property), "hotel Property must be 1 to 64 bytes without ':' or spaces"},
		{slices.ContainsFunc(rates, func(r float64) bool { return r < 0 || math.IsNaN(r) || math.IsInf(r, 0) }), "hotel rates must be finite and not negative"},
		{hotelEventCap(m, d) > maxHotelEvents, fmt.Sprintf("hotel rates times Duration must stay under %d events", maxHotelEvents)},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("%w: %s", ErrBadConfig, c.what)
		}
	}
	return nil
}

// hotelEventCap is the size of the sent-event table of a run: every event
// the generator can issue in d, plus one per kind for rounding.
func hotelEventCap(m HotelMix, d time.Duration) int64 {
	return int64(math.Ceil(m.total()*d.Seconds())) + 8
}

// validHotelName accepts what the server accepts in channel names.
func validHotelName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		switch s[i] {
		case ':', ' ', '\t', '\r', '\n', 0:
			return false
		}
	}
	return true
}

// ErrHotel is returned (and counted) when the hotel endpoint answers
// something the workload did not expect: an ERROR event, an escalated
// request, a refused backend API call, a message it cannot place.
var ErrHotel = errors.New("bench: unexpected hotel answer")

// Hotel drives a realistic mixed workload against the hotel endpoint of a
// bellhop server (docs/PROTOCOL.md). It seeds the room board through the
// backend API, connects front-desk terminals, staff (housekeeping,
// maintenance, concierge, each covering floors) and guest devices (each
// bound to a room), authenticates each with a token it mints from the
// server's JWT secret and subscribes it to what its role sees. Then, for
// Config.Duration, it sends HotelConfig.Mix per second:
//
//   - room status updates over WebSocket, moving rooms through
//     DIRTY → CLEANING → CLEANED (housekeeping of the room's floor) →
//     INSPECTED → AVAILABLE (front desk);
//   - check-ins (AVAILABLE → OCCUPIED) and check-outs (OCCUPIED → DIRTY)
//     through the backend API;
//   - guests' service requests, which the server routes to a staff member
//     of the department, who accepts after AcceptDelay and completes after
//     WorkTime;
//   - MEDIUM housekeeping and maintenance alerts;
//   - a flood of LOW-priority housekeeping alerts, so the report shows
//     whether HIGH events stay fast under it.
//
// Every event carries a tag (its correlation id, or a request's
// description) naming its entry in a table of sent events, so each
// delivery is matched to its send time and to the recipients expected from
// the subscriptions; the run ends when every expected delivery and answer
// arrived, or a drain time after the last send. It reports latency per
// event type and per priority, deliveries, lost and unexpected deliveries,
// ERROR events and the server's CPU time per delivery.
type Hotel struct{}

// Name returns "hotel".
func (Hotel) Name() string { return "hotel" }

// Run implements Scenario.
func (Hotel) Run(ctx context.Context, env *Env, res *Result) error {
	cfg := env.Config
	cfg.Duration = cmp0(cfg.Duration, DefaultDuration)
	cfg.Protocol = cmp0(cfg.Protocol, hotelProtocol)
	h := cfg.Hotel.withDefaults()
	if err := h.validate(cfg.Duration); err != nil {
		return err
	}
	plan := newHotelPlan(h)
	cfg.Conns = len(plan.ids)
	if err := checkOpenFiles(cfg.Conns, cfg.Concurrency); err != nil {
		return err
	}
	hotelParams(res, cfg, h, env.Server)
	if err := plan.mint(h, time.Now().Add(cfg.Duration+time.Hour)); err != nil {
		return err
	}
	api, err := newHotelAPI(h.APIURL, h.APIKey, h.APIWorkers)
	if err != nil {
		return err
	}
	defer api.stop()
	if _, _, err := env.sample(); err != nil {
		return err // the server is gone: say so rather than that its API is
	}
	env.Stats.SetPhase("seeding")
	if err := api.seed(ctx, h.Property, plan); err != nil {
		return err
	}
	r := newHotelRun(cfg, h, plan, env.Stats, api)
	defer r.close() // after the client closed: no scheduled action outlives the run
	cl, err := NewClient(cfg.clientConfig(r, env.Stats))
	if err != nil {
		return err
	}
	defer closeClient(cl, env.Stats)
	if err := r.connect(ctx, env, cl, res); err != nil {
		return err
	}
	return r.measure(ctx, env, res)
}

func hotelParams(res *Result, cfg Config, h HotelConfig, server *Process) {
	commonParams(res, cfg, server)
	m := h.Mix
	res.Params["duration"] = cfg.Duration.String()
	res.Params["rooms"] = h.Rooms
	res.Params["staff"] = h.Staff
	res.Params["guests"] = h.Guests
	res.Params["front_desk"] = h.FrontDesk
	res.Params["room_rate"] = m.RoomUpdates
	res.Params["request_rate"] = m.Requests
	res.Params["alert_rate"] = m.Alerts
	res.Params["checkin_rate"] = m.CheckIns
	res.Params["low_rate"] = m.Low
	res.Params["accept_delay"] = h.AcceptDelay.String()
	res.Params["work_time"] = h.WorkTime.String()
	res.Params["property"] = h.Property
	res.Params["seed"] = h.Seed
}
