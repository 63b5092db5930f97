package cluster

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"
)

// Redis broker defaults.
const (
	DefaultRedisPrefix  = "bellhop"
	DefaultRedisTimeout = 5 * time.Second
	redisCacheSize      = 1 << 20 // client-side cache per connection; rueidis's default is 128 MiB
)

// RedisConfig configures a RedisBroker. Zero values take the defaults noted.
type RedisConfig struct {
	Addrs             []string      // host:port of the server (or of cluster nodes)
	Password          string        // REDIS_PASSWORD; empty for none
	TLS               *tls.Config   // REDIS_TLS_ENABLED; nil for plain TCP
	Prefix            string        // key and channel prefix; empty means DefaultRedisPrefix
	Retention         time.Duration // history kept by age; 0 means DefaultRetention
	MaxHistory        int           // history kept per channel; 0 means DefaultMaxHistory
	IdempotencyWindow time.Duration // how long an idempotency key is remembered; 0 means DefaultIdempotencyWindow
	Timeout           time.Duration // deadline of each Redis call; 0 means DefaultRedisTimeout
	Handler           Handler       // receives this node's deliveries (required)
	// OnGap is told when this node missed publications of a channel (its
	// pub/sub connection dropped them, say during a reconnect) that the
	// history no longer holds, so the subscribers must resync; nil ignores
	// it. It must not block.
	OnGap func(channel string)
	// BreakerReset is how long the circuit breaker stays open before it
	// lets a probe through; 0 means DefaultBreakerReset.
	BreakerReset time.Duration
	// OutboxMessages and OutboxBytes bound the publications held while
	// Redis is unreachable (0: the defaults); OutboxMessages < 0 turns the
	// outbox off, so such publications fail at once.
	OutboxMessages int
	OutboxBytes    int
	// OnDropped is told at Close how many queued publications were never
	// stored; nil ignores it.
	OnDropped func(n int)
}

// Circuit breaker settings (the spec's): the breaker opens when at least
// breakerVolume calls in the current window failed half or more, stays open
// for BreakerReset, then lets one probe through.
const (
	DefaultBreakerReset = 30 * time.Second
	breakerVolume       = 10
	breakerWindow       = 10 * time.Second
)

// ErrUnavailable is returned without calling Redis while the circuit
// breaker is open: Redis failed too often recently.
var ErrUnavailable = errors.New("cluster: Redis unavailable (circuit breaker open)")

// Health is the broker's view of Redis.
type Health int

// Health values, as /readyz and the metrics show them.
const (
	Healthy  Health = iota // breaker closed
	Probing                // breaker half-open: one call tests Redis
	Degraded               // breaker open: calls fail at once
)

func (h Health) String() string {
	switch h {
	case Healthy:
		return "ok"
	case Probing:
		return "probing"
	}
	return "degraded"
}

// RedisBroker is the Broker of a cluster of nodes joined through Redis.
//
// Each channel has, under one hash tag so they share a cluster slot: a
// counter of offsets, an epoch (a random name made when the channel's
// history starts, so a Redis that comes back empty starts a new epoch and
// old positions read as lost), and a stream trimmed by size and age. A
// publish is one Lua call that checks the idempotency key, takes the next
// offset, appends to the stream and publishes the message with its
// position on the channel's shard (SPUBLISH, Redis 7.0+), so every node
// sees one order, and on a Redis Cluster a subscriber hears a message only
// if it subscribed before the message was published. A node subscribes to the pub/sub
// channels it has local subscribers for, reference counted.
type RedisBroker struct {
	cfg     RedisConfig
	client  rueidis.Client
	publish *rueidis.Lua
	history *rueidis.Lua
	breaker *gobreaker.CircuitBreaker[rueidis.RedisMessage]    // wraps every Redis call (do)
	store   *RedisStore                                        // the store on the same client, made once
	out     *outbox                                            // nil when off
	args    struct{ maxHistory, retention, idemWindow string } // the publish script's fixed arguments, formatted once

	mu     sync.Mutex           // guards subs and closed
	subs   map[string]*redisSub // by channel
	closed bool
	wg     sync.WaitGroup // one goroutine per subscribed channel
}

// redisSub is the node's subscription to one channel. Its receive
// goroutine delivers; mu orders deliveries against Recover.
type redisSub struct {
	refs   int // guarded by RedisBroker.mu
	cancel context.CancelFunc

	mu    sync.Mutex
	holds int           // Recover calls and a gap repair in progress: deliveries wait
	held  []Publication // deliveries waiting for holds to reach 0; a hold ends within the call deadline, so this holds at most a deadline's worth of the channel
	last  Position      // the last position delivered, to drop repeats and see gaps
	base  Position      // the newest top a Recover read: where gaps are seen from until a delivery sets last
}

// from returns where the node's view of the channel stands: the last
// delivery, else the newest recovery. s.mu is held.
func (s *redisSub) from() Position {
	if s.last.IsZero() {
		return s.base
	}
	return s.last
}

// NewRedisBroker connects to Redis and returns a broker.
func NewRedisBroker(cfg RedisConfig) (*RedisBroker, error) {
	if cfg.Handler == nil {
		return nil, errors.New("cluster: RedisConfig.Handler is required")
	}
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("cluster: RedisConfig.Addrs is empty")
	}
	cfg.Prefix = cmp.Or(cfg.Prefix, DefaultRedisPrefix)
	cfg.Retention = cmp.Or(cfg.Retention, DefaultRetention)
	cfg.MaxHistory = cmp.Or(cfg.MaxHistory, DefaultMaxHistory)
	cfg.IdempotencyWindow = cmp.Or(cfg.IdempotencyWindow, DefaultIdempotencyWindow)
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultRedisTimeout)
	cfg.BreakerReset = cmp.Or(cfg.BreakerReset, DefaultBreakerReset)
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:       cfg.Addrs,
		Password:          cfg.Password,
		TLSConfig:         cfg.TLS,
		CacheSizeEachConn: redisCacheSize,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot connect to Redis %v: %w", cfg.Addrs, err)
	}
	b := &RedisBroker{
		cfg:     cfg,
		client:  client,
		publish: rueidis.NewLuaScript(publishScript),
		history: rueidis.NewLuaScriptReadOnly(historyScript),
		breaker: newBreaker(cfg.BreakerReset),
		subs:    make(map[string]*redisSub),
	}
	b.store = &RedisStore{b: b}
	b.args.maxHistory = strconv.Itoa(cfg.MaxHistory)
	b.args.retention = strconv.FormatInt(cfg.Retention.Milliseconds(), 10)
	b.args.idemWindow = strconv.FormatInt(cfg.IdempotencyWindow.Milliseconds(), 10)
	if cfg.OutboxMessages >= 0 {
		b.out = newOutbox(b, cmp.Or(cfg.OutboxMessages, DefaultOutboxMessages), cmp.Or(cfg.OutboxBytes, DefaultOutboxBytes))
	}
	return b, nil
}

// newBreaker returns the circuit breaker around Redis calls. An error
// Redis answered with (a script error, say) shows Redis is up, and a
// caller giving up is not Redis's fault: neither counts as a failure.
func newBreaker(reset time.Duration) *gobreaker.CircuitBreaker[rueidis.RedisMessage] {
	return gobreaker.NewCircuitBreaker[rueidis.RedisMessage](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Interval:    breakerWindow,
		Timeout:     reset,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= breakerVolume && 2*c.TotalFailures >= c.Requests
		},
		IsSuccessful: func(err error) bool {
			_, answered := rueidis.IsRedisErr(err)
			return err == nil || answered
		},
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
}

// do runs one Redis call with the broker's deadline, through the circuit
// breaker: every call of the broker and its store goes through here.
func (b *RedisBroker) do(ctx context.Context, fn func(ctx context.Context) rueidis.RedisResult) (rueidis.RedisMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	m, err := b.breaker.Execute(func() (rueidis.RedisMessage, error) { return fn(ctx).ToMessage() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return m, ErrUnavailable
	}
	return m, err
}

// call runs a script through do and returns its array answer.
func (b *RedisBroker) call(ctx context.Context, script *rueidis.Lua, keys, args []string) ([]rueidis.RedisMessage, error) {
	m, err := b.do(ctx, func(ctx context.Context) rueidis.RedisResult { return script.Exec(ctx, b.client, keys, args) })
	if err != nil {
		return nil, err
	}
	return m.ToArray()
}

// Health reports the circuit breaker's state.
func (b *RedisBroker) Health() Health {
	switch b.breaker.State() {
	case gobreaker.StateClosed:
		return Healthy
	case gobreaker.StateHalfOpen:
		return Probing
	}
	return Degraded
}

// keys returns the channel's Redis keys: offset counter, epoch, stream,
// and the pub/sub channel; the hash tag keeps them in one cluster slot.
func (b *RedisBroker) keys(ch string) (seq, epoch, stream, pubsub string) {
	base := b.cfg.Prefix + ":{" + ch + "}:"
	return base + "seq", base + "epoch", base + "stream", base + "pub"
}

// publishScript appends a publication and publishes it, atomically.
// KEYS: seq, epoch, stream, idempotency key (or the seq key again when
// none). ARGV: data, max history, retention ms, pub/sub channel,
// idempotency window ms, a fresh epoch, whether a key was given ("1"),
// the origin ("-", or the id of the node replaying its outbox).
// It returns "<epoch> <offset> <ms>", and 1 when a new publication was
// made or 0 when the idempotency key named an earlier one.
const publishScript = `
if ARGV[7] == "1" then
  local prev = redis.call("GET", KEYS[4])
  if prev then return {0, prev} end
end
local epoch = redis.call("GET", KEYS[2])
if not epoch then
  epoch = ARGV[6]
  redis.call("SET", KEYS[2], epoch)
end
local off = redis.call("INCR", KEYS[1])
local t = redis.call("TIME")
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call("XADD", KEYS[3], "MAXLEN", ARGV[2], "*", "o", off, "d", ARGV[1], "n", ARGV[8])
redis.call("XTRIM", KEYS[3], "MINID", tostring(ms - tonumber(ARGV[3])))
local pos = epoch .. " " .. off .. " " .. ms
redis.call("SPUBLISH", ARGV[4], pos .. " " .. ARGV[8] .. " " .. ARGV[1])
if ARGV[7] == "1" then
  redis.call("SET", KEYS[4], pos, "PX", ARGV[5])
end
return {1, pos}
`

// historyScript reads a channel's epoch, top offset and its newest
// entries. KEYS: seq, epoch, stream. ARGV: how many entries (0: none).
const historyScript = `
local top = redis.call("GET", KEYS[1]) or "0"
local epoch = redis.call("GET", KEYS[2]) or ""
local n = tonumber(ARGV[1])
local entries = {}
if n > 0 then entries = redis.call("XREVRANGE", KEYS[3], "+", "-", "COUNT", n) end
return {epoch, top, entries}
`

func (b *RedisBroker) check(ch string) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return validChannel(ch)
}

// Publish implements Broker. When Redis cannot be reached (the breaker
// is open, or the connection cannot be made, so nothing was sent) and the
// outbox has room, the publication is queued: delivered to this node's
// subscribers at once, marked Pending, and replayed to Redis in order when
// it returns. While the outbox holds anything, later publications queue
// behind it, so every channel keeps one order.
func (b *RedisBroker) Publish(ctx context.Context, ch string, data []byte, opts PublishOptions) (Publication, error) {
	if err := b.check(ch); err != nil {
		return Publication{}, err
	}
	if b.out != nil {
		if p, ok, err := b.out.queueBehind(ch, data, opts.IdempotencyKey); ok || err != nil {
			return p, err
		}
	}
	p, err := b.publishNow(ctx, ch, data, opts.IdempotencyKey, originNone)
	if err != nil && b.out != nil && notSent(err) {
		return b.out.queue(ch, data, opts.IdempotencyKey, err)
	}
	return p, err
}

// originNone marks a publication to be delivered to every node; a replay
// from the outbox carries its node's id, and that node skips it (its
// subscribers had it when it was queued).
const originNone = "-"

// publishNow runs the publish script.
func (b *RedisBroker) publishNow(ctx context.Context, ch string, data []byte, idemKey, origin string) (Publication, error) {
	seq, epoch, stream, pubsub := b.keys(ch)
	idem, hasKey := seq, "0"
	if idemKey != "" {
		idem, hasKey = b.cfg.Prefix+":{"+ch+"}:idem:"+idemKey, "1"
	}
	res, err := b.call(ctx, b.publish, []string{seq, epoch, stream, idem}, []string{
		rueidis.BinaryString(data), b.args.maxHistory, b.args.retention, pubsub, b.args.idemWindow, newEpoch(), hasKey, origin,
	})
	if err != nil {
		return Publication{}, fmt.Errorf("cluster: publish to %s: %w", ch, err)
	}
	if len(res) != 2 {
		return Publication{}, fmt.Errorf("cluster: publish to %s: unexpected answer", ch)
	}
	pos, err := res[1].ToString()
	if err != nil {
		return Publication{}, fmt.Errorf("cluster: publish to %s: %w", ch, err)
	}
	p, ok := parsePosition(pos)
	if !ok {
		return Publication{}, fmt.Errorf("cluster: publish to %s: malformed answer %.40q", ch, pos)
	}
	p.Channel, p.Data = ch, data
	return p, nil
}

// parsePosition reads "<epoch> <offset> <ms>" as the publish script
// writes a position.
func parsePosition(s string) (Publication, bool) {
	ep, rest, ok1 := strings.Cut(s, " ")
	offS, msS, ok2 := strings.Cut(rest, " ")
	off, err1 := strconv.ParseUint(offS, 10, 64)
	ms, err2 := strconv.ParseInt(msS, 10, 64)
	if !ok1 || !ok2 || ep == "" || err1 != nil || err2 != nil || off == 0 {
		return Publication{}, false
	}
	return Publication{Position: Position{Epoch: ep, Offset: off}, Time: time.UnixMilli(ms)}, true
}

// parsePublished reads "<epoch> <offset> <ms> <origin> <data>" as published.
func parsePublished(msg string) (Publication, string, error) {
	end := -1 // the space after the position's three fields
	for i, spaces := 0, 0; i < len(msg) && end < 0; i++ {
		if msg[i] == ' ' {
			if spaces++; spaces == 3 {
				end = i
			}
		}
	}
	if end < 0 {
		return Publication{}, "", fmt.Errorf("malformed publication %.40q", msg)
	}
	p, ok := parsePosition(msg[:end])
	origin, data, ok2 := strings.Cut(msg[end+1:], " ")
	if !ok || !ok2 || origin == "" {
		return Publication{}, "", fmt.Errorf("malformed publication %.40q", msg)
	}
	p.origin = origin
	return p, data, nil
}

// Subscribe implements Broker: the first reference starts a receive
// goroutine and returns once Redis confirmed the subscription.
func (b *RedisBroker) Subscribe(ctx context.Context, ch string) error {
	if err := validChannel(ch); err != nil {
		return err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	if s := b.subs[ch]; s != nil {
		s.refs++
		b.mu.Unlock()
		return nil
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &redisSub{refs: 1, cancel: cancel}
	b.subs[ch] = s
	b.mu.Unlock()

	confirmed := make(chan struct{})
	var once sync.Once
	hooked := rueidis.WithOnSubscriptionHook(rctx, func(sub rueidis.PubSubSubscription) {
		if sub.Kind != "ssubscribe" {
			return
		}
		first := false
		once.Do(func() { first = true; close(confirmed) })
		if !first {
			b.resubscribed(ch, s)
		}
	})
	_, _, _, pubsub := b.keys(ch)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		// Receive resubscribes by itself after reconnects; it returns when
		// rctx is cancelled (the last Unsubscribe, or Close).
		_ = b.client.Receive(hooked, b.client.B().Ssubscribe().Channel(pubsub).Build(), func(m rueidis.PubSubMessage) {
			b.receive(ch, s, m.Message)
		})

	}()
	t := time.NewTimer(b.cfg.Timeout)
	defer t.Stop()
	select {
	case <-confirmed:
		return nil
	case <-ctx.Done():
		_ = b.Unsubscribe(context.Background(), ch)
		return ctx.Err()
	case <-t.C:
		_ = b.Unsubscribe(context.Background(), ch)
		return fmt.Errorf("cluster: subscribe to %s: not confirmed within %v", ch, b.cfg.Timeout)
	}
}

// receive handles one pub/sub message of ch on rueidis's reading
// goroutine: it must not block.
func (b *RedisBroker) receive(ch string, s *redisSub, msg string) {
	p, data, err := parsePublished(msg)
	if err != nil {
		return
	}
	p.Channel, p.Data = ch, []byte(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds > 0 {
		s.held = append(s.held, p) // ordered, deduplicated and checked for gaps on release
		return
	}
	b.deliver(ch, s, p)
}

// deliver hands p to the Handler unless it repeats one already delivered.
// When p shows that earlier publications were missed, it starts a repair
// from the history instead, and p waits behind it. s.mu is held.
func (b *RedisBroker) deliver(ch string, s *redisSub, p Publication) {
	if p.Pending {
		b.cfg.Handler(p) // provisional: outside the channel's positions
		return
	}
	if p.Epoch == s.last.Epoch && p.Offset <= s.last.Offset {
		return // a repeat
	}
	// A gap, or another epoch: Redis lost the history and started anew.
	// Before any delivery, the newest recovery is what to compare with.
	from := s.from()
	if !from.IsZero() && (p.Offset > from.Offset+1 || p.Epoch != from.Epoch) {
		s.holds++ // later deliveries wait in held, so one repair runs at a time
		s.held = append(s.held, p)
		b.wg.Add(1)
		go b.repair(ch, s, from)
		return
	}
	s.last = p.Position
	if !b.ownReplay(p) {
		b.cfg.Handler(p)
	}
}

// deliverPending hands a publication queued in the outbox to this node's
// subscribers of its channel, like any delivery: not at all without a
// subscription, behind a Recover's hold while one runs, one at a time.
func (b *RedisBroker) deliverPending(p Publication) {
	b.mu.Lock()
	s := b.subs[p.Channel]
	b.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds > 0 {
		s.held = append(s.held, p)
		return
	}
	b.cfg.Handler(p)
}

// ownReplay reports whether p is this node's outbox replay, which its
// subscribers had when it was queued.
func (b *RedisBroker) ownReplay(p Publication) bool { return b.out != nil && p.origin == b.out.id }

// resubscribed runs when rueidis renewed the subscription after a lost
// connection: what was published meanwhile is read from the history.
// It runs on rueidis's reading goroutine and must not block.
func (b *RedisBroker) resubscribed(ch string, s *redisSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.from()
	if from.IsZero() {
		return // nothing delivered or recovered yet: nothing to catch up on
	}
	s.holds++
	b.wg.Add(1)
	go b.repair(ch, s, from)
}

// repair reads the publications after from that pub/sub did not bring,
// delivers them, then what waited behind them. When the history no longer
// holds them, OnGap is told. When Redis started a new history (it came
// back empty), the old one's tail is lost (OnGap) and the new one is
// delivered from its start. It runs in its own goroutine, one per channel at a
// time, bounded by the broker's timeout.
func (b *RedisBroker) repair(ch string, s *redisSub, from Position) {
	defer b.wg.Done()
	ctx := context.Background()
	res, err := b.read(ctx, ch, from, 0)
	lost := err != nil || !res.Recovered
	s.mu.Lock()
	for _, p := range res.Publications { // with lost: a new history from its start
		if p.Epoch != s.last.Epoch || p.Offset > s.last.Offset {
			s.last = p.Position
			if !b.ownReplay(p) {
				b.cfg.Handler(p)
			}
		}
	}
	if lost && len(res.Publications) == 0 {
		// Accept what comes next, from the history as it now stands: the
		// subscribers resync.
		s.last, s.base = Position{}, res.Top
	}
	s.mu.Unlock()
	// Told after the new history's publications were handed on, so a
	// subscriber resyncing from the last one it got loses none of them.
	if lost && b.cfg.OnGap != nil {
		b.cfg.OnGap(ch)
	}
	b.release(s)
}

// Unsubscribe implements Broker.
func (b *RedisBroker) Unsubscribe(_ context.Context, ch string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	s := b.subs[ch]
	if s == nil {
		return nil
	}
	if s.refs--; s.refs == 0 {
		delete(b.subs, ch)
		s.cancel()
	}
	return nil
}

// Recover implements Broker: deliveries of ch to this node wait while the
// history is read and fn runs.
func (b *RedisBroker) Recover(ctx context.Context, ch string, since Position, limit int, fn func(HistoryResult)) error {
	if err := b.check(ch); err != nil {
		return err
	}
	b.mu.Lock()
	s := b.subs[ch]
	b.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.holds++
		s.mu.Unlock()
		defer b.release(s)
	}
	if b.out != nil {
		since = b.out.resolve(since)
	}
	res, err := b.read(ctx, ch, since, limit)
	if err != nil {
		return err
	}
	if s != nil {
		s.mu.Lock()
		if t := res.Top; t.Epoch != "" && (t.Epoch != s.base.Epoch || t.Offset > s.base.Offset) {
			s.base = t
		}
		s.mu.Unlock()
	}
	fn(res)
	return nil
}

// release ends one hold and, after the last, delivers what waited (which
// may start a gap repair, and hold again).
func (b *RedisBroker) release(s *redisSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds--; s.holds > 0 {
		return
	}
	held := s.held
	s.held = nil
	for i, p := range held {
		if s.holds > 0 { // a repair started: the rest waits behind it
			s.held = append(s.held, held[i:]...)
			return
		}
		b.deliver(held[i].Channel, s, p)
	}
}

// read fetches the history of ch after since.
func (b *RedisBroker) read(ctx context.Context, ch string, since Position, limit int) (HistoryResult, error) {
	seq, epoch, stream, _ := b.keys(ch)
	// One read for the top, a second for the entries once their number is
	// known; the script reads both when since is set, at most MaxHistory+1.
	want := 0
	if !since.IsZero() {
		want = b.cfg.MaxHistory + 1
		if limit > 0 && limit < want {
			want = limit + 1
		}
	}
	arr, err := b.call(ctx, b.history, []string{seq, epoch, stream}, []string{strconv.Itoa(want)})
	if err != nil {
		return HistoryResult{}, fmt.Errorf("cluster: history of %s: %w", ch, err)
	}
	if len(arr) != 3 {
		return HistoryResult{}, fmt.Errorf("cluster: history of %s: unexpected answer", ch)
	}
	ep, _ := arr[0].ToString()
	topStr, _ := arr[1].ToString()
	top, err := strconv.ParseUint(topStr, 10, 64)
	if err != nil {
		return HistoryResult{}, fmt.Errorf("cluster: history of %s: bad top %q", ch, topStr)
	}
	res := HistoryResult{Top: Position{Epoch: ep, Offset: top}, Recovered: true}
	if since.IsZero() {
		return res, nil
	}
	if since.Epoch != ep {
		// Another lifetime's position (Redis came back empty): not
		// recovered, but the new history is sent from its start when it
		// holds all of it, so nothing published since is missed.
		res.Recovered = false
		if ep == "" || top == 0 || top >= uint64(want) {
			return res, nil
		}
		since = Position{Epoch: ep}
	} else if since.Offset > top || (limit > 0 && top-since.Offset > uint64(limit)) {
		res.Recovered = false
		return res, nil
	}
	need := top - since.Offset
	if need == 0 {
		return res, nil
	}
	entries, err := arr[2].ToArray()
	if err != nil {
		return HistoryResult{}, fmt.Errorf("cluster: history of %s: %w", ch, err)
	}
	pubs := make([]Publication, 0, need)
	for i := len(entries) - 1; i >= 0; i-- { // newest first in the answer
		p, err := streamEntry(ch, ep, entries[i])
		if err != nil {
			return HistoryResult{}, fmt.Errorf("cluster: history of %s: %w", ch, err)
		}
		if p.Offset > since.Offset {
			pubs = append(pubs, p)
		}
	}
	if uint64(len(pubs)) != need || pubs[0].Offset != since.Offset+1 {
		res.Recovered = false // trimmed by size or age: never a partial replay
		return res, nil
	}
	res.Publications = pubs
	return res, nil
}

// streamEntry decodes one XREVRANGE entry: [id, [field, value, ...]].
func streamEntry(ch, epoch string, m rueidis.RedisMessage) (Publication, error) {
	parts, err := m.ToArray()
	if err != nil || len(parts) != 2 {
		return Publication{}, errors.New("malformed stream entry")
	}
	id, _ := parts[0].ToString()
	fv, err := parts[1].AsStrSlice()
	if err != nil {
		return Publication{}, err
	}
	p := Publication{Channel: ch, Position: Position{Epoch: epoch}}
	for i := 0; i+1 < len(fv); i += 2 {
		switch fv[i] {
		case "o":
			p.Offset, _ = strconv.ParseUint(fv[i+1], 10, 64)
		case "d":
			p.Data = []byte(fv[i+1])
		case "n":
			p.origin = fv[i+1]
		}
	}
	if ms, _, ok := strings.Cut(id, "-"); ok {
		if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
			p.Time = time.UnixMilli(v)
		}
	}
	if p.Offset == 0 {
		return Publication{}, errors.New("stream entry without an offset")
	}
	return p, nil
}

// Close implements Broker: it ends every subscription and the client.
func (b *RedisBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	for ch, s := range b.subs {
		s.cancel()
		delete(b.subs, ch)
	}
	b.mu.Unlock()
	if b.out != nil {
		if n := b.out.close(); n > 0 && b.cfg.OnDropped != nil {
			b.cfg.OnDropped(n)
		}
	}
	b.client.Close()
	b.wg.Wait()
	return nil
}

// Outboxed returns how many publications wait for Redis in the outbox.
func (b *RedisBroker) Outboxed() int {
	if b.out == nil {
		return 0
	}
	return b.out.len()
}
