package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/engine/guard"
)

// Coordinator presence groups the guard shares: bans (one entry per IP,
// expiring with the ban) and loads (one entry per node: its busiest IPs).
const (
	banGroup  = "bans"
	loadGroup = "ipload"
	maxShared = 1000 // IPs a node reports at most
)

// banSync shares the guard's state between the nodes of a cluster: a ban
// earned on one node refuses that IP on every node within a sync period,
// and each node's per-IP load counts against the limits on every other,
// so a client spreading over nodes meets the same limits. It owns one
// goroutine (run), ended by stop; offers from the event loops go through
// a bounded channel and are dropped when it is full (the ban still holds
// on this node).
type banSync struct {
	guard  *guard.Guard
	coord  cluster.Coordinator
	node   string
	log    *slog.Logger
	every  time.Duration
	offers chan ban
	quit   chan struct{}
	done   chan struct{}
}

type ban struct {
	ip    netip.Addr
	until time.Time
}

// newBanSync returns a sync that start turns on; stop ends it (the app
// owns it: start after newApp built the server, stop in shutdown). Until
// started, stop returns at once.
func newBanSync(log *slog.Logger, every time.Duration) *banSync {
	done := make(chan struct{})
	close(done) // nothing runs until start
	return &banSync{log: log, every: every, offers: make(chan ban, 256), quit: make(chan struct{}), done: done}
}

// onBan is the guard's OnBan: it logs the ban once and queues it for the
// cluster. Called on an event loop: it never blocks.
func (b *banSync) onBan(ip netip.Addr, until time.Time) {
	b.log.Warn("client IP blacklisted", "ip", ip.String(), "until", until.UTC().Format(time.RFC3339))
	select {
	case b.offers <- ban{ip, until}:
	default:
	}
}

// start begins sharing through coord as node (nil coord: this node only,
// nothing to run).
func (b *banSync) start(g *guard.Guard, coord cluster.Coordinator, node string) {
	b.guard, b.coord, b.node = g, coord, node
	if coord == nil {
		return
	}
	b.done = make(chan struct{})
	go b.run()
}

func (b *banSync) run() {
	defer close(b.done)
	t := time.NewTicker(b.every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-b.quit:
			return
		case o := <-b.offers:
			ttl := time.Until(o.until)
			if ttl <= 0 {
				continue // over while it waited
			}
			ctx, cancel := context.WithTimeout(context.Background(), b.every)
			_ = b.coord.SetPresence(ctx, banGroup, o.ip.String(), []byte(strconv.FormatInt(o.until.UnixMilli(), 10)), ttl)
			cancel()
		case now := <-t.C:
			b.pull()
			b.shareLoad(now.Sub(last))
			last = now
		}
	}
}

// pull applies the cluster's bans to this node's guard.
func (b *banSync) pull() {
	ctx, cancel := context.WithTimeout(context.Background(), b.every)
	defer cancel()
	recs, err := b.coord.Presence(ctx, banGroup)
	if err != nil {
		return // Redis is down: this node's own bans still hold
	}
	for _, r := range recs {
		ip, err1 := netip.ParseAddr(r.Key)
		ms, err2 := strconv.ParseInt(string(r.Value), 10, 64)
		if err1 == nil && err2 == nil && !b.guard.Banned(ip) {
			b.guard.Ban(ip, time.UnixMilli(ms))
		}
	}
}

// shareLoad publishes this node's per-IP load and applies the others'.
func (b *banSync) shareLoad(since time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), b.every)
	defer cancel()
	mine := make(map[string]guard.Load)
	for ip, l := range b.guard.Report(maxShared, since) {
		mine[ip.String()] = l
	}
	v, _ := json.Marshal(mine)
	if err := b.coord.SetPresence(ctx, loadGroup, b.node, v, 3*b.every); err != nil {
		return
	}
	recs, err := b.coord.Presence(ctx, loadGroup)
	if err != nil {
		return
	}
	others := make(map[netip.Addr]guard.Load)
	for _, r := range recs {
		if r.Key == b.node {
			continue
		}
		var theirs map[string]guard.Load
		if json.Unmarshal(r.Value, &theirs) != nil {
			continue
		}
		for s, l := range theirs {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				continue
			}
			// Bounded: past the cap, only IPs already counted are summed.
			if o, seen := others[ip]; seen || len(others) < 4*maxShared {
				others[ip] = o.Add(l)
			}
		}
	}
	b.guard.SetRemote(others)
}

func (b *banSync) stop() {
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	<-b.done
}
