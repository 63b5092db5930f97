package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for MemoryConfig fields left at zero.
const (
	DefaultRetention          = 24 * time.Hour
	DefaultMaxHistory         = 10000
	DefaultIdempotencyWindow  = 5 * time.Minute
	DefaultMaxIdempotencyKeys = 1 << 20
)

// MemoryConfig configures a MemoryBroker.
type MemoryConfig struct {
	Retention         time.Duration // how long publications stay in history (MESSAGE_RETENTION_HOURS)
	MaxHistory        int           // most publications kept per channel
	IdempotencyWindow time.Duration // how long an idempotency key is remembered
	// MaxIdempotencyKeys bounds the keys remembered at once, over all
	// channels. Past it, expired keys are dropped first; if the window
	// still holds that many, a new key is not remembered (its retry would
	// publish again) rather than the memory growing without bound.
	MaxIdempotencyKeys int
	Now                func() time.Time // clock; nil means time.Now
}

func (c MemoryConfig) withDefaults() MemoryConfig {
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxHistory <= 0 {
		c.MaxHistory = DefaultMaxHistory
	}
	if c.IdempotencyWindow <= 0 {
		c.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if c.MaxIdempotencyKeys <= 0 {
		c.MaxIdempotencyKeys = DefaultMaxIdempotencyKeys
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

const memShards = 64

// MemoryBroker is the broker of a single node: history and delivery in
// process memory, no Redis. It is the default of `make run`. Its epoch is
// new at every start, since the history does not survive a restart.
//
// Each channel's state is guarded by its shard's mutex; Publish delivers to
// the Handler while holding it, which gives per-channel order and lets
// Recover hold deliveries back. Safe for concurrent use.
type MemoryBroker struct {
	cfg     MemoryConfig
	handler Handler
	epoch   string
	seed    maphash.Seed
	shards  [memShards]memShard
	closed  atomic.Bool
	stop    chan struct{}
	done    chan struct{}
}

type memShard struct {
	mu    sync.Mutex
	chans map[string]*memChannel
	idem  map[string]idemEntry // channel + "\x00" + key
	swept time.Time            // last expireKeys run by remember, to scan at most once a second
}

type memChannel struct {
	offset  uint64        // last offset given
	history []Publication // oldest first; trimmed by age and MaxHistory
	subs    int           // this node's Subscribe count
}

type idemEntry struct {
	pub     Publication
	expires time.Time
}

// NewMemoryBroker returns a broker that delivers to h. It starts one
// goroutine that trims expired history each minute, stopped by Close.
func NewMemoryBroker(cfg MemoryConfig, h Handler) *MemoryBroker {
	b := &MemoryBroker{
		cfg:     cfg.withDefaults(),
		handler: h,
		epoch:   newEpoch(),
		seed:    maphash.MakeSeed(),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for i := range b.shards {
		b.shards[i].chans = make(map[string]*memChannel)
		b.shards[i].idem = make(map[string]idemEntry)
	}
	go b.janitor(time.Minute)
	return b
}

// newEpoch returns 8 random hex characters.
func newEpoch() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Epoch returns the broker's current epoch.
func (b *MemoryBroker) Epoch() string { return b.epoch }

func (b *MemoryBroker) shard(ch string) *memShard {
	return &b.shards[maphash.String(b.seed, ch)%memShards]
}

// channel returns the channel's state, creating it. Offsets are never
// forgotten, so an id is never reused within an epoch. Caller holds s.mu.
func (s *memShard) channel(name string) *memChannel {
	c := s.chans[name]
	if c == nil {
		c = &memChannel{}
		s.chans[name] = c
	}
	return c
}

// Publish implements Broker.
func (b *MemoryBroker) Publish(_ context.Context, channel string, data []byte, opts PublishOptions) (Publication, error) {
	if b.closed.Load() {
		return Publication{}, ErrClosed
	}
	if err := validChannel(channel); err != nil {
		return Publication{}, err
	}
	now := b.cfg.Now()
	s := b.shard(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	var idemKey string
	if opts.IdempotencyKey != "" {
		idemKey = channel + "\x00" + opts.IdempotencyKey
		if e, ok := s.idem[idemKey]; ok && now.Before(e.expires) {
			return e.pub, nil
		}
	}
	c := s.channel(channel)
	c.offset++
	pub := Publication{Channel: channel, Position: Position{Epoch: b.epoch, Offset: c.offset}, Data: data, Time: now}
	c.history = append(c.history, pub)
	b.trim(c, now)
	if idemKey != "" {
		b.remember(s, idemKey, pub, now)
	}
	if c.subs > 0 && b.handler != nil {
		b.handler(pub)
	}
	return pub, nil
}

// remember records an idempotency key within the shard's share of
// MaxIdempotencyKeys. Caller holds s.mu.
func (b *MemoryBroker) remember(s *memShard, key string, pub Publication, now time.Time) {
	limit := max(1, b.cfg.MaxIdempotencyKeys/memShards)
	if len(s.idem) >= limit && now.Sub(s.swept) >= time.Second {
		s.swept = now
		s.expireKeys(now)
	}
	if len(s.idem) < limit {
		s.idem[key] = idemEntry{pub: pub, expires: now.Add(b.cfg.IdempotencyWindow)}
	}
}

// expireKeys drops the shard's expired idempotency keys. Caller holds s.mu.
func (s *memShard) expireKeys(now time.Time) {
	for k, e := range s.idem {
		if !now.Before(e.expires) {
			delete(s.idem, k)
		}
	}
}

// trim drops publications past the age or count limits. Caller holds the lock.
func (b *MemoryBroker) trim(c *memChannel, now time.Time) {
	drop := len(c.history) - b.cfg.MaxHistory
	if drop < 0 {
		drop = 0
	}
	cutoff := now.Add(-b.cfg.Retention)
	for drop < len(c.history) && c.history[drop].Time.Before(cutoff) {
		drop++
	}
	if drop == 0 {
		return
	}
	clear(c.history[:drop])
	c.history = c.history[drop:]
	if cap(c.history) > 2*b.cfg.MaxHistory || (len(c.history) == 0 && cap(c.history) > 0) {
		c.history = append([]Publication(nil), c.history...) // let the old array go
	}
}

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(_ context.Context, channel string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := validChannel(channel); err != nil {
		return err
	}
	s := b.shard(channel)
	s.mu.Lock()
	s.channel(channel).subs++
	s.mu.Unlock()
	return nil
}

// Unsubscribe implements Broker.
func (b *MemoryBroker) Unsubscribe(_ context.Context, channel string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	s := b.shard(channel)
	s.mu.Lock()
	if c := s.chans[channel]; c != nil && c.subs > 0 {
		c.subs--
	}
	s.mu.Unlock()
	return nil
}

// Recover implements Broker.
func (b *MemoryBroker) Recover(_ context.Context, channel string, since Position, limit int, fn func(HistoryResult)) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := validChannel(channel); err != nil {
		return err
	}
	s := b.shard(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channel(channel)
	b.trim(c, b.cfg.Now())
	fn(b.history(c, since, limit))
	return nil
}

// history computes a HistoryResult. Caller holds the lock.
func (b *MemoryBroker) history(c *memChannel, since Position, limit int) HistoryResult {
	res := HistoryResult{Top: Position{Epoch: b.epoch, Offset: c.offset}}
	if since.IsZero() {
		res.Recovered = true
		return res
	}
	if since.Epoch != b.epoch {
		// Another lifetime's position: not recovered, but what this
		// history holds from its start is sent, when it holds all of it.
		if c.offset > 0 && c.offset == uint64(len(c.history)) && (limit <= 0 || c.offset <= uint64(limit)) {
			res.Publications = append([]Publication(nil), c.history...)
		}
		return res
	}
	if since.Offset > c.offset {
		return res
	}
	missed := c.offset - since.Offset
	if missed == 0 {
		res.Recovered = true
		return res
	}
	if missed > uint64(len(c.history)) || (limit > 0 && missed > uint64(limit)) {
		return res // trimmed, or too long to replay: never a partial replay
	}
	from := len(c.history) - int(missed)
	res.Publications = append([]Publication(nil), c.history[from:]...)
	res.Recovered = true
	return res
}

// Close implements Broker.
func (b *MemoryBroker) Close() error {
	if b.closed.Swap(true) {
		return ErrClosed
	}
	close(b.stop)
	<-b.done
	return nil
}

// janitor trims expired history and idempotency keys. It runs in its own
// goroutine, owned by the broker, until Close.
func (b *MemoryBroker) janitor(every time.Duration) {
	defer close(b.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.sweep()
		}
	}
}

func (b *MemoryBroker) sweep() {
	now := b.cfg.Now()
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		for _, c := range s.chans {
			b.trim(c, now)
		}
		s.expireKeys(now)
		s.mu.Unlock()
	}
}
