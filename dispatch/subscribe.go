package dispatch

import (
	"context"
	"math"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// A subscription goes through three owners, so that a client gets exactly
// the history it missed and then the live messages, with no gap and no
// duplicate:
//
//  1. The loop (subscribe) records it, joins the engine topic with a filter
//     that holds every delivery back (SubscribeAfter with the largest Seq),
//     and queues the recovery on the channel's worker.
//  2. The worker (recoverInto) subscribes this node to the channel on the
//     broker, then calls broker.Recover: while the channel's deliveries are
//     held, it reads the history after since (and the board snapshot) and
//     posts them to the loop with Conn.AsyncDo. Every later delivery is
//     posted to the loop after that task.
//  3. The loop runs the task: SUBSCRIBED, the missed messages, then
//     SubscribeAfter(top) lowers the filter, so live messages with an offset
//     above the replay flow and those already replayed are skipped.
//
// The broker subscription of a channel is reference counted per
// subscription: taken by its recovery job, released by a job queued when
// the subscription is dropped. Both run on the channel's worker, in order.

// subscription is one namespace a session subscribed to. Owned by the loop.
type subscription struct {
	channel string
	gen     uint64 // the SUBSCRIBE being answered; a recovery of an older one is dropped
}

// subscribePayload is the payload of SUBSCRIBE.
type subscribePayload struct {
	Since string `json:"since"`
}

// subscribed is the payload of SUBSCRIBED.
type subscribed struct {
	Namespace string `json:"namespace"`
	Channel   string `json:"channel"`
	// Recovered tells a client that sent since whether it got exactly
	// what it missed; false means reload from the snapshot (or the ERP).
	Recovered bool `json:"recovered"`
	// Position is the messageId the snapshot and replay are consistent with.
	Position string     `json:"position,omitempty"`
	Missed   int        `json:"missed"`
	Snapshot *roomsView `json:"snapshot,omitempty"`
	// Requests is the service namespace's snapshot: the open requests,
	// oldest first, when the subscriber is not resuming exactly.
	Requests []ServiceRequest `json:"requests,omitempty"`
}

// recovery is one SUBSCRIBE being answered by a worker.
type recovery struct {
	conn   *engine.Conn
	claims *auth.Claims
	ns, ch string
	since  cluster.Position
	corr   string
	gen    uint64
	join   bool // first SUBSCRIBE of the namespace: take a broker subscription
}

// subscribe checks the right to a namespace and queues its recovery on the
// channel's worker. SUBSCRIBE of a namespace already subscribed restarts
// its recovery from the new since. Loop only.
func (s *Service) subscribe(ss *session, env *Envelope) error {
	if _, known := nsIndex[env.Namespace]; !known {
		return newError(CodeBadNamespace, "unknown namespace "+env.Namespace)
	}
	ch := channelFor(ss.claims, env.Namespace)
	if ch == "" {
		return newError(CodeForbidden, "role "+ss.claims.Role.String()+" may not subscribe to "+env.Namespace)
	}
	since, err := parseSince(env.Payload)
	if err != nil {
		return err
	}
	sub := ss.subs[env.Namespace]
	r := &recovery{conn: ss.conn, claims: ss.claims, ns: env.Namespace, ch: ch, since: since,
		corr: env.CorrelationID, gen: ss.gen + 1, join: sub == nil}
	if r.join {
		// Join the topic before the worker can read the history, so every
		// delivery after the read reaches this loop; hold them all until
		// the replay is sent.
		ss.conn.SubscribeAfter(ch, math.MaxUint64)
	}
	if err := s.queueRecovery(r); err != nil {
		if r.join {
			ss.conn.Unsubscribe(ch)
		}
		return err
	}
	ss.gen++
	if r.join {
		ss.subs[env.Namespace] = &subscription{channel: ch, gen: ss.gen}
	} else {
		sub.gen = ss.gen
		ss.conn.SubscribeAfter(ch, math.MaxUint64) // the new replay restarts delivery
	}
	return nil
}

// parseSince reads SUBSCRIBE's optional since.
func parseSince(payload []byte) (cluster.Position, error) {
	var p subscribePayload
	if len(payload) > 0 {
		if err := json.Unmarshal(payload, &p); err != nil {
			return cluster.Position{}, newError(CodeInvalidPayload, `SUBSCRIBE payload must be {"since": "<messageId>"}`)
		}
	}
	if p.Since == "" {
		return cluster.Position{}, nil
	}
	pos, err := cluster.ParsePosition(p.Since)
	if err != nil {
		return cluster.Position{}, newError(CodeInvalidPayload, "since is not a messageId")
	}
	return pos, nil
}

// recoveryBatches gathers the SUBSCRIBEs of a channel that wait for its
// worker: when thousands of clients subscribe at once (a node restarted,
// a shift starts), one job answers them all with one history read per
// distinct since, instead of one Redis round trip each.
type recoveryBatches struct {
	mu      sync.Mutex
	pending map[string][]*recovery // channel -> recoveries its queued job will answer
}

// queueRecovery adds r to its channel's pending batch, queueing the job
// that answers the batch when there is none yet. Loop only (any loop).
func (s *Service) queueRecovery(r *recovery) error {
	b := &s.batches
	b.mu.Lock()
	defer b.mu.Unlock() // held across submit, which never blocks, so no r joins a batch whose job failed to queue
	if list, ok := b.pending[r.ch]; ok {
		b.pending[r.ch] = append(list, r)
		return nil
	}
	if err := s.submit(shardKey(r.ch), High, func() { s.recoverBatch(r.ch) }); err != nil {
		return err
	}
	b.pending[r.ch] = []*recovery{r}
	return nil
}

// recoverBatch runs on the channel's worker: it subscribes the node to the
// channel once per joining connection (reference counted: one round trip
// at most), then for each distinct since reads the history and the
// snapshot while the channel's deliveries are held, and has the loops send
// the answers.
func (s *Service) recoverBatch(ch string) {
	s.batches.mu.Lock()
	list := s.batches.pending[ch]
	delete(s.batches.pending, ch)
	s.batches.mu.Unlock()
	ctx, cancel := s.ctx()
	defer cancel()
	bySince := make(map[cluster.Position][]*recovery)
	var order []cluster.Position
	for _, r := range list {
		if r.join {
			if err := s.brokerSubscribe(ctx, ch); err != nil {
				s.log.Error("broker subscribe failed", "channel", ch, "err", err)
				s.recoveryFailed(r)
				continue
			}
		}
		if _, ok := bySince[r.since]; !ok {
			order = append(order, r.since)
		}
		bySince[r.since] = append(bySince[r.since], r)
	}
	for _, since := range order {
		group := bySince[since]
		shared := &replayShared{}
		err := s.broker.Recover(ctx, ch, since, s.cfg.RecoveryLimit, func(res cluster.HistoryResult) {
			for _, r := range group {
				s.replay(ctx, r, res, shared)
			}
		})
		if err != nil {
			s.log.Error("recovery failed", "channel", ch, "err", err)
			for _, r := range group {
				s.recoveryFailed(r)
			}
		}
	}
}

// replayShared is what every recovery of one history read shares: the
// snapshots, read once.
type replayShared struct {
	snapshot   *roomsView
	requests   []ServiceRequest
	snap, reqs bool // read already
}

// replay renders a recovery's answer and posts it to the loop. It runs
// inside broker.Recover, with the channel's deliveries held.
func (s *Service) replay(ctx context.Context, r *recovery, res cluster.HistoryResult, shared *replayShared) {
	reply := subscribed{Namespace: r.ns, Channel: r.ch, Recovered: res.Recovered && !r.since.IsZero(),
		Missed: len(res.Publications)}
	if res.Top.Offset > 0 {
		reply.Position = res.Top.String()
	}
	if r.ns == NSRooms && !reply.Recovered {
		if !shared.snap {
			shared.snapshot, shared.snap = s.snapshot(ctx, r.claims.Property), true
		}
		reply.Snapshot = shared.snapshot
	}
	if r.ns == NSService && !reply.Recovered {
		if !shared.reqs {
			open, err := s.reqs.list(ctx, r.claims.Property, false)
			if err != nil {
				s.log.Error("cannot read the open requests", "property", r.claims.Property, "err", err)
			}
			shared.requests, shared.reqs = open, true
		}
		reply.Requests = shared.requests
	}
	missed := make([]*engine.Message, 0, len(res.Publications))
	for _, pub := range res.Publications {
		if m, ok := s.message(pub); ok {
			missed = append(missed, m)
		}
	}
	if r.since.IsZero() || res.Recovered {
		s.metrics.recovered.Inc()
	} else {
		s.metrics.notRecovered.Inc()
	}
	top := res.Top.Offset
	err := r.conn.AsyncDo(func(c *engine.Conn) {
		defer releaseAll(missed)
		ss := sessionOf(c)
		if ss == nil || ss.closed {
			return
		}
		if sub := ss.subs[r.ns]; sub == nil || sub.gen != r.gen {
			return // unsubscribed, or subscribed again: that recovery answers
		}
		s.reply(c, EventSubscribed, r.ns, reply, High, r.corr)
		for _, m := range missed {
			c.SendMessage(m)
		}
		c.SubscribeAfter(r.ch, top)
	})
	if err != nil {
		releaseAll(missed)
		s.log.Warn("cannot hand a recovery to its loop", "channel", r.ch, "err", err)
	}
}

// snapshot reads the room board for SUBSCRIBED, nil when unreadable.
func (s *Service) snapshot(ctx context.Context, property string) *roomsView {
	view, err := s.rooms.view(ctx, property)
	if err != nil {
		s.log.Error("cannot read the room board", "property", property, "err", err)
		return nil
	}
	return &view
}

// recoveryFailed tells the client its SUBSCRIBE failed and drops the
// subscription, unless a newer SUBSCRIBE of the namespace is in flight.
func (s *Service) recoveryFailed(r *recovery) {
	_ = r.conn.AsyncDo(func(c *engine.Conn) {
		ss := sessionOf(c)
		if ss == nil || ss.closed {
			return
		}
		if sub := ss.subs[r.ns]; sub == nil || sub.gen != r.gen {
			return
		}
		s.dropSubscription(ss, r.ns)
		s.sendError(ss, newError(CodeUnavailable, "subscription to "+r.ns+" failed, retry"), r.corr)
	})
}

func releaseAll(ms []*engine.Message) {
	for _, m := range ms {
		m.Release()
	}
}

// unsubscribe leaves a namespace. Loop only.
func (s *Service) unsubscribe(ss *session, env *Envelope) error {
	if _, ok := ss.subs[env.Namespace]; !ok {
		return newError(CodeBadNamespace, "not subscribed to "+env.Namespace)
	}
	s.dropSubscription(ss, env.Namespace)
	s.reply(ss.conn, EventUnsubscribed, env.Namespace, struct{}{}, High, env.CorrelationID)
	return nil
}

// dropSubscription forgets a namespace's subscription, leaves its topic and
// releases its broker subscription. Loop only.
func (s *Service) dropSubscription(ss *session, ns string) {
	sub := ss.subs[ns]
	if sub == nil {
		return
	}
	delete(ss.subs, ns)
	ss.conn.Unsubscribe(sub.channel)
	ch := sub.channel
	if err := s.submit(shardKey(ch), High, func() { s.brokerUnsubscribe(ch) }); err != nil && err != errShuttingDown {
		// The node stays subscribed to the channel: extra deliveries
		// nobody here reads, never a lost one.
		s.log.Warn("broker unsubscribe not queued", "channel", ch, "err", err)
	}
}

// brokerRefs pairs broker Subscribe and Unsubscribe calls. Each
// subscription's recovery job subscribes and its drop job unsubscribes, on
// the channel's worker, in that order. A Subscribe that failed leaves a
// debt, so that the matching Unsubscribe does not release another
// subscription's reference. Safe for concurrent use.
type brokerRefs struct {
	mu     sync.Mutex
	failed map[string]int // channel -> Subscribe calls that failed and were not yet matched
}

// brokerSubscribe subscribes the node to ch, recording a failure. Runs on
// the channel's worker.
func (s *Service) brokerSubscribe(ctx context.Context, ch string) error {
	err := s.broker.Subscribe(ctx, ch)
	if err != nil {
		s.refs.mu.Lock()
		s.refs.failed[ch]++
		s.refs.mu.Unlock()
	}
	return err
}

// brokerUnsubscribe releases one broker subscription of ch, or settles the
// debt of a failed Subscribe. Runs on the channel's worker.
func (s *Service) brokerUnsubscribe(ch string) {
	s.refs.mu.Lock()
	if n := s.refs.failed[ch]; n > 0 {
		if n == 1 {
			delete(s.refs.failed, ch)
		} else {
			s.refs.failed[ch] = n - 1
		}
		s.refs.mu.Unlock()
		return
	}
	s.refs.mu.Unlock()
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.broker.Unsubscribe(ctx, ch); err != nil {
		s.log.Error("broker unsubscribe failed", "channel", ch, "err", err)
	}
}
