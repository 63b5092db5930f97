package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bellhop/bellhop/codec"
)

// Broadcast defaults and bounds.
const (
	DefaultBroadcastMessages = 100
	broadcastDrain           = 5 * time.Second // how long the run waits for deliveries after the last send
	maxBroadcastBits         = 1 << 30         // bound on Conns*Messages: one bit each tracks what was seen
)

// Broadcast opens Config.Conns subscriber connections and one publisher.
// The publisher sends Config.Messages text messages of Config.Size bytes
// (0 means DefaultBroadcastMessages), Config.PublishRate per second or, when
// it is 0, back to back; the server broadcasts each to every other
// connection on the path. Every subscriber records the delivery latency of
// each message (receive time minus the send time the message carries; the
// publisher is in this process, so the clocks agree) and which sequence
// numbers it saw, so it can tell lost and duplicated messages apart.
//
// The run ends when every subscriber has every message, or broadcastDrain
// after the last send. It reports deliveries, deliveries per second,
// delivery latency, lost and duplicated deliveries and the server's CPU
// time per delivery.
type Broadcast struct{}

// Name returns "broadcast".
func (Broadcast) Name() string { return "broadcast" }

// Run implements Scenario.
func (Broadcast) Run(ctx context.Context, env *Env, res *Result) error {
	cfg := env.Config
	cfg.Messages = cmp0(cfg.Messages, DefaultBroadcastMessages)
	if err := checkBroadcast(cfg); err != nil {
		return err
	}
	broadcastParams(res, cfg, env.Server)
	r := newBroadcastRun(cfg, env.Stats)
	cl, err := NewClient(cfg.clientConfig(r, env.Stats))
	if err != nil {
		return err
	}
	defer closeClient(cl, env.Stats)
	pub, err := r.connect(ctx, env, cl, res)
	if err != nil {
		return err
	}
	return r.measure(ctx, env, res, pub)
}

// checkBroadcast refuses sizes too small for the header and runs whose
// seen-sets would not fit in memory.
func checkBroadcast(cfg Config) error {
	need := len(AppendBroadcastPayload(nil, cfg.Messages-1, time.Now().UnixNano(), 0))
	switch {
	case cfg.Size < need:
		return fmt.Errorf("%w: broadcast Size must be at least %d bytes for %d messages", ErrBadConfig, need, cfg.Messages)
	case int64(cfg.Conns)*cfg.Messages > maxBroadcastBits:
		return fmt.Errorf("%w: broadcast Conns*Messages must be at most %d", ErrBadConfig, maxBroadcastBits)
	case cfg.PublishRate < 0:
		return fmt.Errorf("%w: PublishRate must not be negative", ErrBadConfig)
	}
	return nil
}

func broadcastParams(res *Result, cfg Config, server *Process) {
	commonParams(res, cfg, server)
	res.Params["size"] = cfg.Size
	res.Params["messages"] = cfg.Messages
	res.Params["publish_rate"] = cfg.PublishRate
}

// AppendBroadcastPayload appends a broadcast message to dst: "B<seq>:<sent>:"
// (sent in Unix nanoseconds), padded with lowercase letters to size bytes,
// or left as is when the header is longer. The 'B' makes the echo endpoint
// broadcast it; the letters keep it valid UTF-8.
func AppendBroadcastPayload(dst []byte, seq, sent int64, size int) []byte {
	start := len(dst)
	dst = append(dst, 'B')
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, sent, 10)
	dst = append(dst, ':')
	for i := len(dst) - start; i < size; i++ {
		dst = append(dst, 'a'+byte(i%26))
	}
	return dst
}

// ParseBroadcastPayload returns the sequence number and send time carried
// by a message made by AppendBroadcastPayload. It checks the header only,
// not the padding.
func ParseBroadcastPayload(p []byte) (seq, sent int64, err error) {
	if len(p) == 0 || p[0] != 'B' {
		return 0, 0, fmt.Errorf("%w: does not start with 'B'", ErrBroadcastPayload)
	}
	seq, rest, err := parseField(p[1:])
	if err != nil {
		return 0, 0, fmt.Errorf("sequence: %w", err)
	}
	sent, _, err = parseField(rest)
	if err != nil {
		return 0, 0, fmt.Errorf("send time: %w", err)
	}
	return seq, sent, nil
}

// parseField reads a non-empty non-negative decimal that fits an int64,
// ended by ':', and returns it with what follows the colon.
func parseField(p []byte) (int64, []byte, error) {
	var v int64
	for i, b := range p {
		switch {
		case b == ':' && i > 0:
			return v, p[i+1:], nil
		case b < '0' || b > '9' || v > (1<<63-1-int64(b-'0'))/10:
			return 0, nil, fmt.Errorf("%w: bad number", ErrBroadcastPayload)
		}
		v = v*10 + int64(b-'0')
	}
	return 0, nil, fmt.Errorf("%w: number not ended by ':'", ErrBroadcastPayload)
}

// broadcastRun is one broadcast measurement. Its Handler methods run on the
// event loops; what they share is atomic, guarded by mu, or read-only after
// newBroadcastRun.
type broadcastRun struct {
	NopHandler
	messages int64   // read-only
	size     int     // read-only
	rate     float64 // read-only; 0 means back to back
	stats    *Stats

	pubPhase atomic.Bool  // set before the publisher connects: upgrades from then on are not subscribers
	unique   atomic.Int64 // first deliveries of a sequence number, over all subscribers
	dups     atomic.Int64 // repeated deliveries
	sent     atomic.Int64 // messages the publisher sent
	lastRecv atomic.Int64 // Unix nanoseconds of the latest delivery
	latency  Histogram
	want     atomic.Int64  // unique deliveries that complete the run; set before the first send
	done     chan struct{} // closed when want is reached
	doneOnce sync.Once
	mu       sync.Mutex
	subs     []*broadcastSub // every subscriber, guarded by mu
	pubGone  atomic.Bool     // the publisher's connection failed: no more sends
}

// broadcastSub is one subscriber's state. seen belongs to the
// connection's event loop; unique and dups are read at the end of the run.
type broadcastSub struct {
	seen   []uint64 // bit per sequence number
	unique atomic.Int64
	dups   atomic.Int64
}

// broadcastPub marks the publisher's connection: it receives nothing.
type broadcastPub struct{}

func newBroadcastRun(cfg Config, stats *Stats) *broadcastRun {
	return &broadcastRun{
		messages: cfg.Messages, size: cfg.Size, rate: cfg.PublishRate,
		stats: stats, done: make(chan struct{}),
	}
}

// OnUpgrade gives a subscriber its seen-set, or marks the publisher.
func (r *broadcastRun) OnUpgrade(c *Conn) {
	if r.pubPhase.Load() {
		c.SetData(broadcastPub{})
		return
	}
	s := &broadcastSub{seen: make([]uint64, (r.messages+63)/64)}
	c.SetData(s)
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
}

// OnMessage records one delivery to a subscriber.
func (r *broadcastRun) OnMessage(c *Conn, op codec.OpCode, payload []byte) {
	now := time.Now().UnixNano()
	s, ok := c.Data().(*broadcastSub)
	if !ok {
		c.Fail(KindMismatch, fmt.Errorf("%w: publisher got a message of %d bytes", ErrBroadcastPayload, len(payload)))
		return
	}
	seq, sent, err := ParseBroadcastPayload(payload)
	switch {
	case err == nil && (op != codec.OpText || len(payload) != r.size || seq >= r.messages):
		err = fmt.Errorf("%w: opcode %d, %d bytes, sequence %d", ErrBroadcastPayload, op, len(payload), seq)
	case err == nil:
		r.deliver(s, seq, now, time.Duration(now-sent))
		return
	}
	c.Fail(KindMismatch, err)
}

// deliver counts a delivery of seq to s. Loop only.
func (r *broadcastRun) deliver(s *broadcastSub, seq, now int64, latency time.Duration) {
	r.stats.Ops.Add(1)
	r.lastRecv.Store(now)
	r.latency.Record(latency)
	w, bit := seq/64, uint64(1)<<(seq%64)
	if s.seen[w]&bit != 0 {
		s.dups.Add(1)
		r.dups.Add(1)
		return
	}
	s.seen[w] |= bit
	s.unique.Add(1)
	if u, want := r.unique.Add(1), r.want.Load(); want > 0 && u >= want {
		r.doneOnce.Do(func() { close(r.done) })
	}
}

// OnClose notes that the publisher is gone, so the run stops waiting.
func (r *broadcastRun) OnClose(c *Conn, err error) {
	if _, ok := c.Data().(broadcastPub); ok && err != nil {
		r.pubGone.Store(true)
	}
}

// connect opens the subscribers (reporting the connect metrics) and then
// the publisher, which it returns.
func (r *broadcastRun) connect(ctx context.Context, env *Env, cl *Client, res *Result) (*Conn, error) {
	p, err := connectAll(ctx, env, cl)
	if err != nil {
		return nil, err
	}
	p.addMetrics(res, cl)
	if len(p.conns) == 0 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: no connection upgraded (first error: %s)", ErrHandshake, env.Stats.FirstError())
	}
	r.pubPhase.Store(true)
	pub := cl.Connect(ctx, 1, ConnectOptions{Concurrency: 1})
	if len(pub) == 0 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: publisher did not connect (first error: %s)", ErrHandshake, env.Stats.FirstError())
	}
	return pub[0], nil
}

// measure publishes every message, waits for the deliveries and reports.
func (r *broadcastRun) measure(ctx context.Context, env *Env, res *Result, pub *Conn) error {
	r.mu.Lock()
	subs := len(r.subs)
	r.mu.Unlock()
	r.want.Store(int64(subs) * r.messages)
	env.Stats.SetPhase("measuring")
	before, measured, err := env.sample()
	if err != nil {
		return err
	}
	load0, start := SelfCPUTime(), time.Now()
	r.publish(ctx, pub, start)
	r.wait(ctx)
	load := SelfCPUTime() - load0
	after, _, err := env.sample()
	if err != nil {
		return err
	}
	r.addMetrics(res, subs, start)
	if measured {
		r.addServerMetrics(res, after.CPU-before.CPU, after.Cores-before.Cores)
	}
	res.Metrics.Add("load_cpu_us_per_delivery", perOp(load, env.Stats.Ops.Load()), UnitMicros)
	return ctx.Err()
}

// publish has the publisher's loop send the messages: at r.rate per second
// from start, or all at once when the rate is 0.
func (r *broadcastRun) publish(ctx context.Context, pub *Conn, start time.Time) {
	for seq := range r.messages {
		if r.rate > 0 {
			due := start.Add(time.Duration(float64(seq) / r.rate * float64(time.Second)))
			if !sleepCtx(ctx, time.Until(due)) {
				return
			}
		}
		if err := pub.AsyncDo(func(c *Conn) { r.send(c, seq) }); err != nil {
			r.stats.AddError(KindWrite, err)
			r.pubGone.Store(true)
			return
		}
	}
}

// send sends message seq, stamped with the time now. Loop only.
func (r *broadcastRun) send(c *Conn, seq int64) {
	b := getBuf()
	*b = AppendBroadcastPayload((*b)[:0], seq, time.Now().UnixNano(), r.size)
	if err := c.Send(codec.OpText, *b); err != nil {
		c.Fail(KindWrite, err)
		r.pubGone.Store(true)
	} else {
		r.sent.Add(1)
	}
	putBuf(b)
}

// wait returns when every subscriber has every message, broadcastDrain
// after the publisher sent its last one (or went away), or when ctx ends.
func (r *broadcastRun) wait(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var deadline time.Time
	for {
		select {
		case <-r.done:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if deadline.IsZero() && (r.sent.Load() == r.messages || r.pubGone.Load()) {
				deadline = now.Add(broadcastDrain)
			}
			if !deadline.IsZero() && now.After(deadline) {
				return
			}
		}
	}
}

// addMetrics reports deliveries, their rate and latency, and what was lost
// or duplicated. The rate is over the time from the first send to the last
// delivery.
func (r *broadcastRun) addMetrics(res *Result, subs int, start time.Time) {
	m := &res.Metrics
	deliveries := r.stats.Ops.Load()
	lost, lossy := r.lost()
	m.Add("subscribers", float64(subs), UnitCount)
	m.Add("messages_sent", float64(r.sent.Load()), UnitCount)
	m.Add("deliveries", float64(deliveries), UnitCount)
	m.addDeliveryRate(deliveries, r.lastRecv.Load(), start)
	m.addLatency("latency", &r.latency)
	m.Add("lost", float64(lost), UnitCount)
	m.Add("subscribers_with_loss", float64(lossy), UnitCount)
	m.Add("duplicated", float64(r.dups.Load()), UnitCount)
}

// lost returns the deliveries that never happened (every subscriber should
// have seen every message) and how many subscribers missed any.
func (r *broadcastRun) lost() (lost, lossy int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.subs {
		if n := r.messages - s.unique.Load(); n > 0 {
			lost += n
			lossy++
		}
	}
	return lost, lossy
}

// addServerMetrics reports the server's CPU time per delivery.
func (r *broadcastRun) addServerMetrics(res *Result, cpu, cores time.Duration) {
	n := r.stats.Ops.Load()
	res.Metrics.Add("server_cpu_us_per_delivery", perOp(cpu, n), UnitMicros)
	if pinned(res) {
		res.Metrics.Add("server_core_us_per_delivery", perOp(cores, n), UnitMicros)
	}
}
