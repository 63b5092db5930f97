// Package guard admits connections and messages per client IP, so one
// abusive address cannot degrade a node: concurrent connections and new
// connections per second per IP, messages per second per IP, and a
// blacklist that IPs earn by repeated violations. Trusted networks (the
// ERP backend, load balancers, a hotel's guest-Wi-Fi NAT) skip it all.
//
// IPv6 clients are counted by /64, the block one subscriber usually holds.
// State is sharded by IP; every method is safe for concurrent use and
// never blocks on anything but a shard's short lock, so the engine calls
// it from its event loops.
package guard

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets the limits. Zero values take the defaults; a negative rate
// or count turns that limit off.
type Config struct {
	MaxConnsPerIP int           // open connections per IP (default 256)
	ConnectRate   float64       // new connections per IP per second (default 20)
	ConnectBurst  int           // new connections per IP at once (default 2×ConnectRate)
	MessageRate   float64       // inbound messages per IP per second (RATE_LIMIT_PER_IP, default 100)
	MessageBurst  int           // messages per IP at once (default 2×MessageRate)
	BanAfter      int           // violations within BanWindow that earn a ban (default 20)
	BanWindow     time.Duration // default 1 minute
	BanFor        time.Duration // how long a ban lasts (default 10 minutes)
	MaxTracked    int           // IPs tracked at once; more are refused with 429 (default 1<<20)
	Allow         []netip.Prefix
	Now           func() time.Time // clock; nil means time.Now
	OnBan         func(ip netip.Addr, until time.Time)
	sweepEvery    time.Duration
}

// Defaults.
const (
	DefaultMaxConnsPerIP = 256
	DefaultConnectRate   = 20
	DefaultMessageRate   = 100
	DefaultBanAfter      = 20
	DefaultBanWindow     = time.Minute
	DefaultBanFor        = 10 * time.Minute
	DefaultMaxTracked    = 1 << 20
)

// Refusal statuses, as HTTP answers before the handshake.
const (
	Admitted    = 0
	Banned      = 403 // on the blacklist
	OverLimit   = 429 // too many connections, or too fast
	shardsCount = 64
)

// Guard is the per-IP admission state of one node.
type Guard struct {
	cfg     Config
	seed    maphash.Seed
	shards  [shardsCount]shard
	tracked atomic.Int64

	stop chan struct{}
	done chan struct{}
}

type shard struct {
	mu  sync.Mutex
	ips map[netip.Addr]*ipState
}

// ipState is one IP's counters; guarded by its shard's mu.
type ipState struct {
	remote     Load // the IP's use on the other nodes, as last reported
	admits     int  // connections admitted since the last Report
	msgs       int  // messages taken since the last Report
	conns      int
	connTok    float64
	msgTok     float64
	last       time.Time // when the buckets were last filled
	violations int
	winStart   time.Time
	bannedTill time.Time
}

// New returns a Guard and starts its sweeper, which forgets idle IPs once
// a minute; Close stops it.
func New(cfg Config) *Guard {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	deff(&cfg.ConnectRate, DefaultConnectRate)
	deff(&cfg.MessageRate, DefaultMessageRate)
	def(&cfg.ConnectBurst, int(2*max(cfg.ConnectRate, 1)))
	def(&cfg.MessageBurst, int(2*max(cfg.MessageRate, 1)))
	def(&cfg.BanAfter, DefaultBanAfter)
	def(&cfg.MaxTracked, DefaultMaxTracked)
	if cfg.BanWindow <= 0 {
		cfg.BanWindow = DefaultBanWindow
	}
	if cfg.BanFor <= 0 {
		cfg.BanFor = DefaultBanFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.sweepEvery <= 0 {
		cfg.sweepEvery = time.Minute
	}
	g := &Guard{cfg: cfg, seed: maphash.MakeSeed(), stop: make(chan struct{}), done: make(chan struct{})}
	for i := range g.shards {
		g.shards[i].ips = make(map[netip.Addr]*ipState)
	}
	go g.sweep()
	return g
}

// Close stops the sweeper.
func (g *Guard) Close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
		<-g.done
	}
}

// key is what an address is counted by: itself for IPv4, its /64 for IPv6.
func key(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// Allowed reports whether ip is in a trusted network (no limit applies).
func (g *Guard) Allowed(ip netip.Addr) bool {
	for _, p := range g.cfg.Allow {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// state returns ip's state with its shard locked (unlock with the
// returned shard), creating it unless create is false or the tracking
// bound is reached (then nil).
func (g *Guard) state(ip netip.Addr, create bool) (*ipState, *shard) {
	k := key(ip)
	b := k.As16()
	s := &g.shards[maphash.Bytes(g.seed, b[:])%shardsCount]
	s.mu.Lock()
	st := s.ips[k]
	if st == nil && create && g.tracked.Load() < int64(g.cfg.MaxTracked) {
		now := g.cfg.Now()
		st = &ipState{connTok: float64(g.cfg.ConnectBurst), msgTok: float64(g.cfg.MessageBurst), last: now}
		s.ips[k] = st
		g.tracked.Add(1)
	}
	return st, s
}

// fill adds the tokens earned since the last fill. The shard is locked.
func (g *Guard) fill(st *ipState, now time.Time) {
	d := now.Sub(st.last).Seconds()
	if d <= 0 {
		return
	}
	st.last = now
	// What the other nodes take of the IP's rate is not earned here.
	st.connTok = min(float64(g.cfg.ConnectBurst), st.connTok+d*max(0, g.cfg.ConnectRate-st.remote.Connects))
	st.msgTok = min(float64(g.cfg.MessageBurst), st.msgTok+d*max(0, g.cfg.MessageRate-st.remote.Messages))
}

// Admit decides on a new connection from ip: Admitted, Banned or
// OverLimit. An admitted connection must be Released when it closes.
// A refusal for a limit counts as a violation.
func (g *Guard) Admit(ip netip.Addr) int {
	if g.Allowed(ip) {
		return Admitted
	}
	st, s := g.state(ip, true)
	if st == nil {
		s.mu.Unlock()
		return OverLimit
	}
	now := g.cfg.Now()
	if now.Before(st.bannedTill) {
		s.mu.Unlock()
		return Banned
	}
	g.fill(st, now)
	limited := (g.cfg.MaxConnsPerIP > 0 && st.conns+st.remote.Conns >= g.cfg.MaxConnsPerIP) || (g.cfg.ConnectRate > 0 && st.connTok < 1)
	if limited {
		ban := g.violateLocked(st, now)
		s.mu.Unlock()
		g.banned(ip, ban)
		return OverLimit
	}
	st.connTok--
	st.conns++
	st.admits++
	s.mu.Unlock()
	return Admitted
}

// Release is told that an admitted connection from ip closed.
func (g *Guard) Release(ip netip.Addr) {
	if g.Allowed(ip) {
		return
	}
	st, s := g.state(ip, false)
	if st != nil && st.conns > 0 {
		st.conns--
	}
	s.mu.Unlock()
}

// Message takes one message from ip's budget; false when there is none
// left, which counts as a violation.
func (g *Guard) Message(ip netip.Addr) bool {
	if g.cfg.MessageRate < 0 || g.Allowed(ip) {
		return true
	}
	st, s := g.state(ip, true)
	if st == nil {
		s.mu.Unlock()
		return true // not tracked (the bound is full): its connection was admitted
	}
	now := g.cfg.Now()
	g.fill(st, now)
	if st.msgTok >= 1 {
		st.msgTok--
		st.msgs++
		s.mu.Unlock()
		return true
	}
	ban := g.violateLocked(st, now)
	s.mu.Unlock()
	g.banned(ip, ban)
	return false
}

// Violation records abuse by ip: a connection closed for a protocol error,
// a rate limit or a refused token.
func (g *Guard) Violation(ip netip.Addr) {
	if g.Allowed(ip) {
		return
	}
	st, s := g.state(ip, true)
	var ban time.Time
	if st != nil {
		ban = g.violateLocked(st, g.cfg.Now())
	}
	s.mu.Unlock()
	g.banned(ip, ban)
}

// violateLocked counts a violation and returns the ban's end when this one
// earned it (zero otherwise). The shard is locked.
func (g *Guard) violateLocked(st *ipState, now time.Time) time.Time {
	if now.Sub(st.winStart) > g.cfg.BanWindow {
		st.winStart, st.violations = now, 0
	}
	st.violations++
	if st.violations < g.cfg.BanAfter || now.Before(st.bannedTill) {
		return time.Time{}
	}
	st.bannedTill = now.Add(g.cfg.BanFor)
	st.violations = 0
	return st.bannedTill
}

func (g *Guard) banned(ip netip.Addr, until time.Time) {
	if !until.IsZero() && g.cfg.OnBan != nil {
		g.cfg.OnBan(key(ip), until)
	}
}

// Ban puts ip on the blacklist until until (another node banned it, or an
// operator did). Allow-listed IPs are never banned.
func (g *Guard) Ban(ip netip.Addr, until time.Time) {
	if g.Allowed(ip) {
		return
	}
	st, s := g.state(ip, true)
	if st != nil && until.After(st.bannedTill) {
		st.bannedTill = until
	}
	s.mu.Unlock()
}

// Banned reports whether ip is on the blacklist now.
func (g *Guard) Banned(ip netip.Addr) bool {
	st, s := g.state(ip, false)
	defer s.mu.Unlock()
	return st != nil && g.cfg.Now().Before(st.bannedTill)
}

// Tracked returns how many IPs the guard holds state for.
func (g *Guard) Tracked() int { return int(g.tracked.Load()) }

// sweep forgets IPs with no connection, full buckets, no recent violation
// and no ban: their state would be the same if made anew.
func (g *Guard) sweep() {
	defer close(g.done)
	t := time.NewTicker(g.cfg.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.forgetIdle()
		}
	}
}

func (g *Guard) forgetIdle() {
	now := g.cfg.Now()
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.Lock()
		for k, st := range s.ips {
			g.fill(st, now)
			if st.conns == 0 && st.remote == (Load{}) && now.After(st.bannedTill) && now.Sub(st.winStart) > g.cfg.BanWindow &&
				st.connTok >= float64(g.cfg.ConnectBurst) && st.msgTok >= float64(g.cfg.MessageBurst) {
				delete(s.ips, k)
				g.tracked.Add(-1)
			}
		}
		s.mu.Unlock()
	}
}

// Load is an IP's use of a node: open connections, and new connections
// and messages per second. Nodes of a cluster exchange their loads, so a
// client spreading its connections over nodes meets the same limits.
type Load struct {
	Conns    int     `json:"c,omitempty"`
	Connects float64 `json:"n,omitempty"`
	Messages float64 `json:"m,omitempty"`
}

// Add returns the sum of two loads.
func (l Load) Add(o Load) Load {
	return Load{Conns: l.Conns + o.Conns, Connects: l.Connects + o.Connects, Messages: l.Messages + o.Messages}
}

// Report returns this node's load per IP (by counting key) since the last
// Report, at most limit IPs, and starts counting anew. IPs without
// connections or activity are left out.
func (g *Guard) Report(limit int, since time.Duration) map[netip.Addr]Load {
	secs := max(since.Seconds(), 1e-3)
	out := make(map[netip.Addr]Load)
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.Lock()
		for k, st := range s.ips {
			if (st.conns > 0 || st.admits > 0 || st.msgs > 0) && len(out) < limit {
				out[k] = Load{Conns: st.conns, Connects: float64(st.admits) / secs, Messages: float64(st.msgs) / secs}
			}
			st.admits, st.msgs = 0, 0
		}
		s.mu.Unlock()
	}
	return out
}

// SetRemote replaces the other nodes' loads: every IP not in loads has
// none. Tracking is bounded as for local clients.
func (g *Guard) SetRemote(loads map[netip.Addr]Load) {
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.Lock()
		for _, st := range s.ips {
			st.remote = Load{}
		}
		s.mu.Unlock()
	}
	for ip, l := range loads {
		if g.Allowed(ip) {
			continue
		}
		st, s := g.state(ip, true)
		if st != nil {
			st.remote = st.remote.Add(l)
		}
		s.mu.Unlock()
	}
}
