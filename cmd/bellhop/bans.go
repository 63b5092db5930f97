package main

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/engine/guard"
)

// banGroup is the Coordinator presence group bans are shared in: one
// entry per IP, expiring with the ban.
const banGroup = "bans"

// banSync shares the guard's bans between the nodes of a cluster: a ban
// earned on one node refuses that IP on every node within a sync period.
// It owns one goroutine (run), ended by stop; offers from the event loops
// go through a bounded channel and are dropped when it is full (the ban
// still holds on this node).
type banSync struct {
	guard  *guard.Guard
	coord  cluster.Coordinator
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

func newBanSync(log *slog.Logger, every time.Duration) *banSync {
	return &banSync{log: log, every: every, offers: make(chan ban, 256), quit: make(chan struct{}), done: make(chan struct{})}
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

// start begins sharing through coord (nil: this node only, nothing to run).
func (b *banSync) start(g *guard.Guard, coord cluster.Coordinator) {
	b.guard, b.coord = g, coord
	if coord == nil {
		close(b.done)
		return
	}
	go b.run()
}

func (b *banSync) run() {
	defer close(b.done)
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case o := <-b.offers:
			ctx, cancel := context.WithTimeout(context.Background(), b.every)
			ttl := time.Until(o.until)
			_ = b.coord.SetPresence(ctx, banGroup, o.ip.String(), []byte(strconv.FormatInt(o.until.UnixMilli(), 10)), ttl)
			cancel()
		case <-t.C:
			b.pull()
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

func (b *banSync) stop() {
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	<-b.done
}
