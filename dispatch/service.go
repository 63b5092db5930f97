package dispatch

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/dispatch/pqueue"
	"github.com/bellhop/bellhop/engine"
)

// Defaults for Config fields left at zero.
const (
	DefaultAuthTimeout     = 10 * time.Second
	DefaultAcceptTimeout   = 90 * time.Second
	DefaultCallTimeout     = 5 * time.Second
	DefaultRecoveryLimit   = 1000
	DefaultMaxBadMessages  = 20
	DefaultPresenceTTL     = 30 * time.Second
	DefaultPresenceGrace   = 10 * time.Second
	DefaultSweepInterval   = time.Second
	DefaultMaxJSONDepth    = 32
	DefaultMaxJSONString   = 16 << 10
	DefaultMaxConnsPerUser = 10
)

// Config configures a Service.
type Config struct {
	Verifier *auth.Verifier // checks tokens; required
	Store    cluster.Store  // room boards, requests; required
	// Coordinator shares presence and accept deadlines between nodes; nil
	// means an in-memory one (a single node).
	Coordinator cluster.Coordinator
	NodeID      string // this node's name in presence and leases; empty means a random one

	AuthTimeout     time.Duration // time a client has to authenticate before close 4001
	AcceptTimeout   time.Duration // time an assignee has to accept a service request
	CallTimeout     time.Duration // deadline of each broker and store call
	RecoveryLimit   int           // most messages replayed on SUBSCRIBE with since; more answers recovered:false
	MaxBadMessages  int           // consecutive bad messages before close 4029
	Workers         int           // handler workers; 0 means GOMAXPROCS
	PresenceTTL     time.Duration // a node's staff drop out this long after it stops heartbeating (it died)
	PresenceGrace   time.Duration // a member stays on shift this long after their last connection closed
	SweepInterval   time.Duration // how often the lease holder looks for deadlines whose node died
	MaxJSONDepth    int           // most nesting in a client message; deeper answers BAD_MESSAGE
	MaxJSONString   int           // longest string in a client message, in bytes
	MaxConnsPerUser int           // open connections of one subject on this node; more close with 4029
	Queue           pqueue.Config // dispatch queue sizes and bursts (Workers overrides its Workers)

	Logger *slog.Logger     // nil discards
	Now    func() time.Time // clock; nil means time.Now
}

func (c Config) withDefaults() Config {
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.AcceptTimeout <= 0 {
		c.AcceptTimeout = DefaultAcceptTimeout
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.RecoveryLimit <= 0 {
		c.RecoveryLimit = DefaultRecoveryLimit
	}
	if c.MaxBadMessages <= 0 {
		c.MaxBadMessages = DefaultMaxBadMessages
	}
	c.PresenceTTL = cmp.Or(max(c.PresenceTTL, 0), DefaultPresenceTTL)
	c.PresenceGrace = cmp.Or(max(c.PresenceGrace, 0), DefaultPresenceGrace)
	c.SweepInterval = cmp.Or(max(c.SweepInterval, 0), DefaultSweepInterval)
	c.MaxJSONDepth = cmp.Or(max(c.MaxJSONDepth, 0), DefaultMaxJSONDepth)
	c.MaxJSONString = cmp.Or(max(c.MaxJSONString, 0), DefaultMaxJSONString)
	c.MaxConnsPerUser = cmp.Or(max(c.MaxConnsPerUser, 0), DefaultMaxConnsPerUser)
	if c.Coordinator == nil {
		c.Coordinator = cluster.NewMemoryCoordinator(nil)
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = cmp.Or(host, "node") + "-" + randomHex(3)
	}
	if c.Workers > 0 {
		c.Queue.Workers = c.Workers
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service is the hotel's real-time service on one node: the engine.Handler
// of WS_PATH, the broker's delivery handler and the backend API. Its
// exported methods are safe for concurrent use.
//
// Work is split by owner: a connection's session is touched only on its
// event loop; anything that may wait (broker, store) runs on the worker pool,
// keyed so that one room's or one request's events run in order; workers
// reach sessions back through engine.Conn's asynchronous methods.
type Service struct {
	cfg     Config
	log     *slog.Logger
	srv     *engine.Server
	broker  cluster.Broker
	store   cluster.Store
	coord   cluster.Coordinator
	verify  *auth.Verifier
	pool    *pqueue.Pool[func()]
	metrics *serviceMetrics
	rooms   *roomBoard
	reqs    *requestDesk
	staff   *registry
	refs    brokerRefs
	batches recoveryBatches

	droppedLog atomic.Int64 // unix ns of the last "delivery dropped" warning
	jsonLimits jsonLimits   // read-only after New

	usersMu sync.Mutex     // guards users
	users   map[string]int // property+"/"+subject -> authenticated connections on this node

	stopBackground context.CancelFunc // ends the presence keeper and the deadline sweeper
	background     sync.WaitGroup

	mu     sync.Mutex // guards closed
	closed bool
}

// New returns a Service. Bind it to the engine server and its broker with
// Start before clients connect.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.Verifier == nil || cfg.Store == nil {
		return nil, errors.New("dispatch: Config needs a Verifier and a Store")
	}
	s := &Service{cfg: cfg, log: cfg.Logger, store: cfg.Store, coord: cfg.Coordinator, verify: cfg.Verifier}
	s.metrics = newServiceMetrics()
	pool, err := pqueue.New(cfg.Queue, func(job func()) { job() })
	if err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	s.pool = pool
	s.metrics.watchQueue(pool)
	s.staff = newRegistry(cfg.NodeID, cfg.PresenceGrace)
	s.jsonLimits = jsonLimits{depth: cfg.MaxJSONDepth, string: cfg.MaxJSONString}
	s.users = make(map[string]int)
	s.refs.failed = make(map[string]int)
	s.batches.pending = make(map[string][]*recovery)
	s.rooms = &roomBoard{svc: s}
	s.reqs = newRequestDesk(s)
	return s, nil
}

// Start binds the service to the engine server it handles and the broker it
// publishes through, and starts its two background goroutines: the
// presence keeper and the deadline sweeper (Close ends them).
func (s *Service) Start(srv *engine.Server, b cluster.Broker) {
	s.srv, s.broker = srv, b
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBackground = cancel
	s.background.Add(2)
	go func() { defer s.background.Done(); s.keep(ctx) }()
	go func() { defer s.background.Done(); s.reqs.sweep(ctx, s.cfg.SweepInterval) }()
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NodeID returns this node's name in presence and leases.
func (s *Service) NodeID() string { return s.cfg.NodeID }

// Metrics returns the service's metric set, to be registered for /metrics.
func (s *Service) Metrics() *metrics.Set { return s.metrics.set }

// Close stops the workers after the queued jobs ran and the request timers.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.reqs.stop()
	if s.stopBackground != nil {
		s.stopBackground()
		s.background.Wait()
	}
	return s.pool.Shutdown(ctx)
}

// submit queues job on the worker that owns key. It never blocks: a full
// queue fails with an OVERLOADED error for the caller to report, a closed
// service with errShuttingDown (UNAVAILABLE).
func (s *Service) submit(key uint64, prio Priority, job func()) error {
	err := s.pool.Submit(key, prio, job)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pqueue.ErrClosed):
		return errShuttingDown
	}
	s.metrics.rejected.Inc()
	return newError(CodeOverloaded, "server busy, retry later")
}

// errShuttingDown answers work that arrives after Close.
var errShuttingDown = newError(CodeUnavailable, "server shutting down, reconnect")

// ctx returns a context with the per-call deadline.
func (s *Service) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.CallTimeout)
}

// publish encodes an event once and publishes it on channel through the
// broker, which stores it and delivers it to every node. Runs on a worker.
func (s *Service) publish(channel, event, namespace string, payload any, prio Priority, conflate uint64,
	correlationID, sender, idemKey string) (cluster.Publication, error) {
	env, err := encode(event, namespace, payload, prio, correlationID, sender, s.cfg.Now())
	if err != nil {
		return cluster.Publication{}, fmt.Errorf("cannot encode %s: %w", event, err)
	}
	data := appendPubHeader(make([]byte, 0, pubHeaderSize+len(env)), prio, conflate)
	data = append(data, env...)
	ctx, cancel := s.ctx()
	defer cancel()
	pub, err := s.broker.Publish(ctx, channel, data, cluster.PublishOptions{IdempotencyKey: idemKey})
	if err != nil {
		s.log.Error("publish failed", "channel", channel, "event", event, "err", err)
		return pub, newError(CodeUnavailable, "message could not be stored")
	}
	s.metrics.published(event, prio)
	if pub.Pending {
		s.metrics.queued.Inc()
	}
	return pub, nil
}

// Deliver is the broker's Handler: it turns a publication into one engine
// message (JSON with its messageId, frame, deflate) and hands it to the
// loops with subscribers.
func (s *Service) Deliver(pub cluster.Publication) {
	m, ok := s.message(pub)
	if !ok {
		return
	}
	if err := s.srv.Publish(pub.Channel, m, nil); err != nil {
		// A loop's task queue is full (or the server stopped): that loop's
		// subscribers miss this message. Counted, so that it shows.
		s.metrics.dropped.Inc()
		if now := time.Now().UnixNano(); now-s.droppedLog.Load() >= int64(time.Second) {
			s.droppedLog.Store(now) // one warning a second at most
			s.log.Warn("delivery dropped", "channel", pub.Channel, "messageId", pub.Position.String(), "err", err)
		}
	}
}

// message renders a publication for clients.
func (s *Service) message(pub cluster.Publication) (*engine.Message, bool) {
	prio, conflate, env, ok := splitPub(pub.Data)
	if !ok {
		s.log.Warn("foreign publication ignored", "channel", pub.Channel)
		return nil, false
	}
	buf := make([]byte, 0, len(env)+32)
	buf = withMessageID(buf, env, pub.Position.String())
	m := s.srv.NewMessage(codec.OpText, buf)
	if !pub.Pending {
		m.Seq = pub.Offset // a pending one's offset is provisional: never skipped
	}
	m.Priority = engine.Priority(prio)
	m.Conflate = conflate
	return m, true
}
