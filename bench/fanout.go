package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// Fanout defaults and bounds.
const (
	DefaultFanoutMessages = 200
	fanoutDrain           = 5 * time.Second // the run ends when nothing arrived for this long after the last publish
	fanoutMaxDrain        = time.Minute     // and at the latest this long after it
	fanoutTries           = 30              // SUBSCRIBEs a subscriber sends while the node answers OVERLOADED (fanoutSetup bounds them too)
	fanoutBackoff         = 50 * time.Millisecond
	fanoutMaxBackoff      = 2 * time.Second
	fanoutSetup           = 30 * time.Second // how long subscribers get to authenticate and subscribe
	fanoutIdle            = time.Second      // how long Redis's CPU time is read with nothing published, for its baseline
	maxFanoutURLs         = 64
	maxFanoutMessage      = 2000 // the server refuses longer alert messages
	fanoutRooms           = 100  // guests' rooms are numbered 101 to 200, several guests to a room
)

// FanoutConfig is what the fanout scenario needs besides Config and
// Config.Hotel (whose Property, JWTSecret, APIURL, APIKey and APIWorkers it
// uses).
type FanoutConfig struct {
	URLs     []Target  // hotel endpoints of the nodes; subscribers go round-robin over them; empty means Config.Target alone
	NodePIDs []int     // PIDs of the nodes behind URLs, in the same order, for their CPU time; nil leaves it out
	RedisPID int       // the redis-server joining the nodes, for its CPU time per publish; 0 leaves it out
	Role     auth.Role // the subscribers' role; 0 means auth.Guest (see Fanout)
}

// Fanout measures the delivery of one event to many subscribers spread
// over the nodes of a cluster. Config.Conns connections, dealt round-robin
// over URLs, each authenticate with AUTH and a token of its own (a node
// holds few connections per subject) and subscribe to "system". They are
// guests unless Role says otherwise: the nodes keep no presence for
// guests, so Redis's work is the publications alone, while a staff role
// adds a presence entry per subscriber to every heartbeat. A SUBSCRIBE
// answered OVERLOADED (thousands subscribing at once) is sent again after
// a jittered, growing backoff, as the protocol asks of clients.
//
// Config.Messages SYSTEM_ALERTs then go through the backend API of one
// node (HotelConfig.APIURL), Config.PublishRate per second or, at 0, back
// to back with HotelConfig.APIWorkers calls in flight. Each message is
// "B<seq>:<sent>:" (AppendBroadcastPayload) padded to Config.Size bytes
// and stamped just before its call, so every delivery, on whatever node,
// gives its latency from the call.
//
// The run ends when every subscriber has every message, or when nothing
// arrived for fanoutDrain after the last publish (slow is not lost), at
// most fanoutMaxDrain after it. It reports deliveries per second, latency
// overall and per node, lost and duplicated deliveries, subscribers per
// node and, for the PIDs it knows, CPU per delivery of the server and
// each node, and Redis's CPU per publish, also net of its idle rate.
type Fanout struct {
	FanoutConfig
}

// Name returns "fanout".
func (Fanout) Name() string { return "fanout" }

// Run implements Scenario.
func (f Fanout) Run(ctx context.Context, env *Env, res *Result) error {
	cfg := env.Config
	cfg.Messages = cmp0(cfg.Messages, DefaultFanoutMessages)
	cfg.Protocol = cmp0(cfg.Protocol, hotelProtocol)
	h := cfg.Hotel.withDefaults()
	urls := f.URLs
	if len(urls) == 0 {
		urls = []Target{cfg.Target}
	}
	if err := checkFanout(cfg, h, f.FanoutConfig, urls); err != nil {
		return err
	}
	if err := checkOpenFiles(cfg.Conns+h.APIWorkers, cfg.Concurrency); err != nil {
		return err
	}
	role := cmp0(f.Role, auth.Guest)
	fanoutParams(res, cfg, h, f.FanoutConfig, urls, env.Server)
	res.Params["role"] = role.String()
	tokens, err := fanoutTokens(h, role, cfg.Conns, time.Now().Add(fanoutSetup+fanoutPublishing(cfg)+time.Hour))
	if err != nil {
		return err
	}
	api, err := newHotelAPI(h.APIURL, h.APIKey, h.APIWorkers)
	if err != nil {
		return err
	}
	defer api.stop()
	r := newFanoutRun(cfg, h, len(urls), env.Stats)
	r.tokens = tokens
	defer r.delay.stop() // after the clients closed: no retry outlives the run
	clients := make([]*Client, 0, len(urls))
	defer func() { // after the measurement: the closes are outside it
		for _, cl := range clients {
			closeClient(cl, env.Stats)
		}
	}()
	for i, u := range urls {
		cc := cfg
		cc.Target = u
		cl, err := NewClient(cc.clientConfig(&fanoutNode{r: r, node: i}, env.Stats))
		if err != nil {
			return err
		}
		clients = append(clients, cl)
	}
	if err := r.connect(ctx, env, clients, res); err != nil {
		return err
	}
	m := fanoutMeter{server: env.Server, nodes: f.NodePIDs, redis: f.RedisPID}
	return r.measure(ctx, env, res, api, &m)
}

// checkFanout refuses what the server would refuse (a message too long, a
// short secret, a bad property) and runs whose seen-sets would not fit.
func checkFanout(cfg Config, h HotelConfig, f FanoutConfig, urls []Target) error {
	need := len(AppendBroadcastPayload(nil, cfg.Messages-1, time.Now().UnixNano(), 0))
	checks := []struct {
		bad  bool
		what string
	}{
		{cfg.Size < need || cfg.Size > maxFanoutMessage, fmt.Sprintf("fanout Size must be %d to %d bytes for %d messages", need, maxFanoutMessage, cfg.Messages)},
		{int64(cfg.Conns)*cfg.Messages > maxBroadcastBits, fmt.Sprintf("fanout Conns*Messages must be at most %d", maxBroadcastBits)},
		{cfg.PublishRate < 0 || math.IsNaN(cfg.PublishRate) || math.IsInf(cfg.PublishRate, 0), "PublishRate must be finite and not negative"},
		{len(urls) > maxFanoutURLs, fmt.Sprintf("fanout takes at most %d URLs", maxFanoutURLs)},
		{f.NodePIDs != nil && len(f.NodePIDs) != len(urls), fmt.Sprintf("fanout NodePIDs must name one PID per URL (%d)", len(urls))},
		{f.RedisPID < 0, "fanout RedisPID must not be negative"},
		{f.Role != 0 && !f.Role.Valid(), "fanout Role must be a role"},
		{h.APIWorkers < 1 || h.APIWorkers > 256, "hotel APIWorkers must be 1 to 256"},
		{len(h.JWTSecret) < auth.MinSecretSize, fmt.Sprintf("hotel JWTSecret must be at least %d bytes", auth.MinSecretSize)},
		{!validHotelName(h.Property), "hotel Property must be 1 to 64 bytes without ':' or spaces"},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("%w: %s", ErrBadConfig, c.what)
		}
	}
	for _, u := range urls {
		if err := CheckLoopbackAddr(u.Addr); err != nil {
			return err
		}
	}
	return nil
}

func fanoutParams(res *Result, cfg Config, h HotelConfig, f FanoutConfig, urls []Target, server *Process) {
	commonParams(res, cfg, server)
	names := make([]string, len(urls))
	for i, u := range urls {
		names[i] = u.String()
	}
	res.Params["urls"] = strings.Join(names, ",")
	res.Params["nodes"] = len(urls)
	res.Params["size"] = cfg.Size
	res.Params["messages"] = cfg.Messages
	res.Params["publish_rate"] = cfg.PublishRate
	res.Params["api_workers"] = h.APIWorkers
	res.Params["property"] = h.Property
	if f.RedisPID > 0 {
		res.Params["redis_pid"] = f.RedisPID
	}
}

// fanoutPublishing bounds how long publishing takes, the rate taken as at
// least one message a second (back to back is faster): part of the token's
// lifetime, so the server never closes a subscriber for expiry mid-run.
func fanoutPublishing(cfg Config) time.Duration {
	return time.Duration(float64(cfg.Messages) / math.Max(cfg.PublishRate, 1) * float64(time.Second))
}

// fanoutTokens signs the n subscribers' tokens, subjects fanout-1 to
// fanout-n of role; a guest's room is one of fanoutRooms.
func fanoutTokens(h HotelConfig, role auth.Role, n int, exp time.Time) ([]string, error) {
	return signTokens(h, exp, n, func(i int) auth.Claims {
		c := auth.Claims{Subject: "fanout-" + strconv.Itoa(i+1), Role: role}
		if role == auth.Guest {
			c.Room = strconv.Itoa(101 + i%fanoutRooms)
		}
		return c
	})
}

// appendFanoutAlert appends the backend API body of alert seq, sent at
// sent (Unix ns), its message padded to size bytes.
func appendFanoutAlert(dst []byte, property string, seq, sent int64, size int) []byte {
	dst = append(dst, `{"event":"SYSTEM_ALERT","property":`...)
	dst = appendJSONString(dst, property)
	dst = append(dst, `,"payload":{"message":"`...)
	dst = AppendBroadcastPayload(dst, seq, sent, size) // digits, ':' and letters: nothing to escape
	return append(dst, `","severity":"info"}}`...)
}

// evSystemAlert is the event the fanout publishes; fanoutSubscribe is what
// a subscriber sends once authenticated.
const evSystemAlert = "SYSTEM_ALERT"

var fanoutSubscribe = []byte(`{"event":"SUBSCRIBE","namespace":"system","correlationId":"s"}`)

// fanoutEnvelope is the part of a server message the subscribers read.
type fanoutEnvelope struct {
	Event   string `json:"event"`
	Payload struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"payload"`
}

// Publish outcomes of one message.
const (
	pubPending uint32 = iota
	pubOK
	pubFailed
)

// fanoutRun is one fanout measurement. fanoutNode's methods run it on the
// clients' event loops; what they share with the run's goroutine, the API
// workers and the delay queue is atomic, guarded by mu, or read-only once
// the connections open.
type fanoutRun struct {
	messages int64    // read-only
	size     int      // read-only
	rate     float64  // read-only; 0 means back to back
	property string   // read-only
	workers  int      // read-only: API calls in flight at most
	tokens   []string // read-only: one per connection, handed out in upgrade order
	stats    *Stats
	delay    *delayQueue // SUBSCRIBE retries; at most one waits per subscriber

	next      atomic.Int64 // tokens handed out
	start     atomic.Int64 // Unix ns of the first publish; deliveries sent before are another run's
	settled   atomic.Int64 // connections whose setup ended, ready or not
	unique    atomic.Int64 // first deliveries of a sequence number, over all subscribers
	dups      atomic.Int64
	foreign   atomic.Int64 // alerts that are not this run's, and events the run does not expect
	errEvents atomic.Int64 // ERROR events, but for OVERLOADED answers to SUBSCRIBE that were retried
	retries   atomic.Int64 // SUBSCRIBEs sent again after OVERLOADED
	dropped   atomic.Int64 // ready subscribers the server closed
	published atomic.Int64 // API calls answered OK
	apiErrors atomic.Int64
	lastRecv  atomic.Int64    // Unix ns of the latest delivery
	outcome   []atomic.Uint32 // per message: pubPending, pubOK or pubFailed; written by the API workers
	got       []atomic.Int64  // per message: subscribers that have it
	latency   Histogram
	apiCall   Histogram     // duration of each API call
	nodes     []fanoutTally // per node, by URL index

	mu   sync.Mutex   // guards subs
	subs []*fanoutSub // every subscriber that became ready
}

// fanoutTally is what one node's subscribers received.
type fanoutTally struct {
	ready      atomic.Int64
	deliveries atomic.Int64
	latency    Histogram
}

// fanoutSub is one subscriber. node is read-only; phase belongs to the
// connection's event loop; seen has one writer, that loop, and is read
// with atomics by the run's goroutine at the end.
type fanoutSub struct {
	node   int
	phase  uint8
	tries  int             // SUBSCRIBEs sent; loop only
	seen   []atomic.Uint64 // bit per sequence number
	unique atomic.Int64
}

// fanoutNode is the Handler of one node's client: it tells the run which
// node a connection is on.
type fanoutNode struct {
	r    *fanoutRun
	node int
}

func newFanoutRun(cfg Config, h HotelConfig, nodes int, stats *Stats) *fanoutRun {
	return &fanoutRun{
		messages: cfg.Messages, size: cfg.Size, rate: cfg.PublishRate, property: h.Property, workers: h.APIWorkers,
		stats: stats, delay: newDelayQueue(max(cfg.Conns, 1)),
		outcome: make([]atomic.Uint32, cfg.Messages), got: make([]atomic.Int64, cfg.Messages), nodes: make([]fanoutTally, nodes),
	}
}

// OnUpgrade gives the connection the next token and authenticates it.
func (n *fanoutNode) OnUpgrade(c *Conn) {
	i := n.r.next.Add(1) - 1
	if i >= int64(len(n.r.tokens)) {
		c.Fail(KindMismatch, fmt.Errorf("%w: more connections than tokens", ErrHotel))
		return
	}
	c.SetData(&fanoutSub{node: n.node, phase: phaseAuth})
	b := getBuf()
	*b = appendAuth((*b)[:0], n.r.tokens[i])
	_ = c.Send(codec.OpText, *b)
	putBuf(b)
}

// OnMessage handles one server message: setup answers and alerts.
func (n *fanoutNode) OnMessage(c *Conn, op codec.OpCode, payload []byte) {
	now := time.Now().UnixNano()
	s, _ := c.Data().(*fanoutSub)
	if s == nil {
		return
	}
	r := n.r
	var env fanoutEnvelope
	if op != codec.OpText || json.Unmarshal(payload, &env) != nil {
		r.unexpected(c, s, fmt.Errorf("%w: not a JSON envelope: %.80q", ErrHotel, payload))
		return
	}
	switch env.Event {
	case evAuthenticated:
		if s.phase == phaseAuth {
			s.phase = phaseSubscribe
			s.tries = 1
			_ = c.Send(codec.OpText, fanoutSubscribe)
		}
	case evSubscribed:
		if s.phase == phaseSubscribe {
			r.setupEnded(s, phaseReady)
		}
	case evSystemAlert:
		if s.phase == phaseReady {
			r.receive(s, []byte(env.Payload.Message), now)
		}
	case evError:
		if env.Payload.Code == "OVERLOADED" && s.phase == phaseSubscribe && s.tries < fanoutTries && r.resubscribe(c, s) {
			return
		}
		r.errEvents.Add(1)
		r.unexpected(c, s, fmt.Errorf("%w: ERROR %s: %s", ErrHotel, env.Payload.Code, env.Payload.Message))
	default:
		r.foreign.Add(1)
	}
}

// OnClose ends a subscriber's part in the run.
func (n *fanoutNode) OnClose(c *Conn, err error) {
	s, _ := c.Data().(*fanoutSub)
	switch {
	case s == nil:
	case s.phase < phaseReady:
		n.r.setupEnded(s, phaseFailed)
	case err != nil:
		n.r.dropped.Add(1)
	}
}

// resubscribe has s send SUBSCRIBE again after a backoff that doubles
// with each try, jittered so the subscribers refused together do not come
// back together. It returns false when the retry cannot be scheduled.
// Loop only.
func (r *fanoutRun) resubscribe(c *Conn, s *fanoutSub) bool {
	d := min(fanoutBackoff<<(s.tries-1), fanoutMaxBackoff)
	d = d/2 + rand.N(d/2+1)
	ok := r.delay.after(d, func() {
		_ = c.AsyncDo(func(c *Conn) {
			if s.phase == phaseSubscribe {
				_ = c.Send(codec.OpText, fanoutSubscribe)
			}
		})
	})
	if ok {
		s.tries++
		r.retries.Add(1)
	}
	return ok
}

// unexpected counts err; a connection still in setup cannot take part and
// is closed. Loop only.
func (r *fanoutRun) unexpected(c *Conn, s *fanoutSub, err error) {
	r.stats.AddError(KindMismatch, err)
	if s.phase < phaseReady {
		r.setupEnded(s, phaseFailed)
		c.Close()
	}
}

// setupEnded records that a subscriber is ready or failed. Loop only.
func (r *fanoutRun) setupEnded(s *fanoutSub, phase uint8) {
	if s.phase >= phaseReady {
		return
	}
	s.phase = phase
	r.settled.Add(1)
	if phase != phaseReady {
		return
	}
	s.seen = make([]atomic.Uint64, (r.messages+63)/64)
	r.nodes[s.node].ready.Add(1)
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
}

// receive records one alert delivered to s at now; an alert that is not
// one this run sent is counted apart. Loop only.
func (r *fanoutRun) receive(s *fanoutSub, msg []byte, now int64) {
	seq, sent, err := ParseBroadcastPayload(msg)
	if err != nil || seq >= r.messages || len(msg) != r.size || sent < r.start.Load() || sent > now {
		r.foreign.Add(1)
		return
	}
	lat := time.Duration(now - sent)
	r.stats.Ops.Add(1)
	r.lastRecv.Store(now)
	r.latency.Record(lat)
	t := &r.nodes[s.node]
	t.deliveries.Add(1)
	t.latency.Record(lat)
	w, bit := &s.seen[seq/64], uint64(1)<<(seq%64)
	v := w.Load()
	if v&bit != 0 {
		r.dups.Add(1)
		return
	}
	w.Store(v | bit) // this loop is the only writer
	s.unique.Add(1)
	r.unique.Add(1)
	r.got[seq].Add(1)
}

// connect opens each node's share of the subscribers, round-robin (node i
// gets connection numbers i, i+n, ...), reports the connect metrics and
// waits until every subscriber is subscribed or failed.
func (r *fanoutRun) connect(ctx context.Context, env *Env, clients []*Client, res *Result) error {
	cfg := env.Config
	env.Stats.SetPhase("connecting")
	start, load0 := time.Now(), SelfCPUTime()
	opened := 0
	var connLat Histogram
	for i, cl := range clients {
		n := cfg.Conns / len(clients)
		if i < cfg.Conns%len(clients) {
			n++
		}
		if n > 0 {
			opened += len(cl.Connect(ctx, n, ConnectOptions{Concurrency: cfg.Concurrency, Rate: cfg.Rate}))
		}
		connLat.Merge(cl.ConnectLatency())
	}
	elapsed, load := time.Since(start), SelfCPUTime()-load0
	m := &res.Metrics
	m.Add("conns", float64(opened), UnitCount)
	m.Add("connect_seconds", elapsed.Seconds(), UnitSeconds)
	m.Add("handshakes_per_sec", rate(int64(opened), elapsed), UnitPerSec)
	m.addLatency("connect", &connLat)
	m.Add("load_cpu_us_per_handshake", perOp(load, int64(opened)), UnitMicros)
	if opened == 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: no connection upgraded (first error: %s)", ErrHandshake, env.Stats.FirstError())
	}
	env.Stats.SetPhase("subscribing")
	setup := time.Now()
	for deadline := setup.Add(fanoutSetup); r.settled.Load() < int64(opened) && time.Now().Before(deadline); {
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
	}
	m.Add("setup_seconds", time.Since(setup).Seconds(), UnitSeconds)
	if r.ready() == 0 {
		return fmt.Errorf("%w: none of %d connections authenticated and subscribed (first error: %s; is the URL the hotel endpoint and the JWT secret the server's?)",
			ErrHotel, opened, env.Stats.FirstError())
	}
	return nil
}

// ready returns how many subscribers are subscribed.
func (r *fanoutRun) ready() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.subs))
}

// fanoutMeter reads the CPU time of the processes a fanout run loads:
// the server of the Env, the nodes, Redis.
type fanoutMeter struct {
	server *Process
	nodes  []int
	redis  int
}

// fanoutReading is one reading of a fanoutMeter.
type fanoutReading struct {
	at     time.Time
	server Sample
	nodes  []time.Duration
	redis  time.Duration
	load   time.Duration // this process
}

// read takes a reading; a process that is gone is an error.
func (m *fanoutMeter) read() (fanoutReading, error) {
	out := fanoutReading{at: time.Now()}
	var err error
	if m.server != nil {
		if out.server, err = m.server.Sample(); err != nil {
			return out, fmt.Errorf("cannot read server resources: %w", err)
		}
	}
	for _, pid := range m.nodes {
		cpu, err := ReadCPUTime(pid)
		if err != nil {
			return out, fmt.Errorf("node: %w", err)
		}
		out.nodes = append(out.nodes, cpu)
	}
	if m.redis > 0 {
		if out.redis, err = ReadTaskCPUTime(m.redis); err != nil {
			return out, fmt.Errorf("redis: %w", err)
		}
	}
	out.load = SelfCPUTime()
	return out, nil
}

// redisIdle returns Redis's CPU time per second while nothing is
// published (the nodes' heartbeats, its own cron), read over fanoutIdle,
// or 0 without a Redis PID.
func (m *fanoutMeter) redisIdle(ctx context.Context) (time.Duration, error) {
	if m.redis <= 0 {
		return 0, nil
	}
	a, err := ReadTaskCPUTime(m.redis)
	if err != nil {
		return 0, fmt.Errorf("redis: %w", err)
	}
	start := time.Now()
	if !sleepCtx(ctx, fanoutIdle) {
		return 0, ctx.Err()
	}
	b, err := ReadTaskCPUTime(m.redis)
	if err != nil {
		return 0, fmt.Errorf("redis: %w", err)
	}
	return time.Duration(float64(b-a) / time.Since(start).Seconds()), nil
}

// measure publishes every message, waits for the deliveries and reports.
func (r *fanoutRun) measure(ctx context.Context, env *Env, res *Result, api *hotelAPI, meter *fanoutMeter) error {
	subs := r.ready()
	env.Stats.SetPhase("idle")
	idle, err := meter.redisIdle(ctx)
	if err != nil {
		return err
	}
	env.Stats.SetPhase("measuring")
	before, err := meter.read()
	if err != nil {
		return err
	}
	start := time.Now()
	r.start.Store(start.UnixNano())
	r.publish(ctx, api)
	pubTime := time.Since(start)
	r.wait(ctx, subs)
	after, err := meter.read()
	if err != nil {
		return err
	}
	r.addMetrics(res, subs, start, pubTime)
	r.addCPUMetrics(res, meter, before, after, idle)
	return ctx.Err()
}

// publish sends the messages through the API: a generator (this
// goroutine) hands sequence numbers, at r.rate per second from the start
// or all at once, to r.workers goroutines it owns, each with one call in
// flight, and returns when they are done. A paced message whose workers
// are all busy waits for one: none is skipped.
func (r *fanoutRun) publish(ctx context.Context, api *hotelAPI) {
	seqs := make(chan int64) // unbuffered: a number is taken only by a free worker
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			var body []byte // this worker's
			for seq := range seqs {
				body = r.publishOne(ctx, api, seq, body[:0])
			}
		})
	}
	start := time.Now()
gen:
	for seq := range r.messages {
		if r.rate > 0 && !sleepCtx(ctx, time.Until(start.Add(time.Duration(float64(seq)/r.rate*float64(time.Second))))) {
			break
		}
		select {
		case seqs <- seq:
		case <-ctx.Done():
			break gen
		}
	}
	close(seqs)
	wg.Wait()
}

// publishOne stamps message seq with the time now and posts it. It
// returns body for reuse.
func (r *fanoutRun) publishOne(ctx context.Context, api *hotelAPI, seq int64, body []byte) []byte {
	now := time.Now()
	body = appendFanoutAlert(body, r.property, seq, now.UnixNano(), r.size)
	_, err := api.publish(ctx, body)
	r.apiCall.Record(time.Since(now))
	if err != nil {
		r.outcome[seq].Store(pubFailed)
		if ctx.Err() == nil {
			r.apiErrors.Add(1)
			r.stats.AddError(KindMismatch, err)
		}
		return body
	}
	r.outcome[seq].Store(pubOK)
	r.published.Add(1)
	return body
}

// wait returns when every subscriber has every message the API took,
// when nothing arrived for fanoutDrain since the publishing ended,
// fanoutMaxDrain after it ended, or when ctx ends.
func (r *fanoutRun) wait(ctx context.Context, subs int64) {
	end := time.Now()
	for !r.complete(subs) {
		now := time.Now()
		quiet := now.Sub(time.Unix(0, max(r.lastRecv.Load(), end.UnixNano())))
		if quiet > fanoutDrain || now.Sub(end) > fanoutMaxDrain || !sleepCtx(ctx, 5*time.Millisecond) {
			return
		}
	}
}

// complete reports whether each of subs subscribers has every message the
// API took. Run's goroutine, after the publishing.
func (r *fanoutRun) complete(subs int64) bool {
	if r.unique.Load() < subs*r.published.Load() {
		return false
	}
	for seq := range r.outcome {
		if r.outcome[seq].Load() == pubOK && r.got[seq].Load() < subs {
			return false
		}
	}
	return true
}

// lost counts the deliveries of messages the API took that never came
// (every subscriber should have each), and the subscribers that missed
// any. Run's goroutine, after the wait.
func (r *fanoutRun) lost() (lost, lossy int64) {
	r.mu.Lock()
	subs := r.subs
	r.mu.Unlock()
	for _, s := range subs {
		missed := int64(0)
		for seq := range r.messages {
			if r.outcome[seq].Load() == pubOK && s.seen[seq/64].Load()&(1<<(seq%64)) == 0 {
				missed++
			}
		}
		lost += missed
		if missed > 0 {
			lossy++
		}
	}
	return lost, lossy
}

// addMetrics reports the subscribers per node, the publishing, the
// deliveries with their rate (from the first publish to the last
// delivery) and latency overall and per node, and what was lost or
// duplicated.
func (r *fanoutRun) addMetrics(res *Result, subs int64, start time.Time, pubTime time.Duration) {
	m := &res.Metrics
	deliveries := r.stats.Ops.Load()
	lost, lossy := r.lost()
	m.Add("subscribers", float64(subs), UnitCount)
	for i := range r.nodes {
		m.Add("subscribers_node"+strconv.Itoa(i), float64(r.nodes[i].ready.Load()), UnitCount)
	}
	m.Add("messages_sent", float64(r.published.Load()), UnitCount)
	m.Add("api_errors", float64(r.apiErrors.Load()), UnitCount)
	m.Add("publish_seconds", pubTime.Seconds(), UnitSeconds)
	m.Add("publishes_per_sec", rate(r.published.Load(), pubTime), UnitPerSec)
	m.addLatency("api", &r.apiCall)
	m.Add("deliveries", float64(deliveries), UnitCount)
	m.addDeliveryRate(deliveries, r.lastRecv.Load(), start)
	m.addLatency("latency", &r.latency)
	for i := range r.nodes {
		name := "node" + strconv.Itoa(i)
		m.Add("deliveries_"+name, float64(r.nodes[i].deliveries.Load()), UnitCount)
		m.addLatency("latency_"+name, &r.nodes[i].latency)
	}
	m.Add("unique", float64(r.unique.Load()), UnitCount)
	m.Add("lost", float64(lost), UnitCount)
	m.Add("subscribers_with_loss", float64(lossy), UnitCount)
	m.Add("duplicated", float64(r.dups.Load()), UnitCount)
	m.Add("dropped", float64(r.dropped.Load()), UnitCount)
	m.Add("foreign", float64(r.foreign.Load()), UnitCount)
	m.Add("error_events", float64(r.errEvents.Load()), UnitCount)
	m.Add("subscribe_retries", float64(r.retries.Load()), UnitCount)
}

// addCPUMetrics reports the CPU time per delivery of the server, of each
// node and of the nodes together, Redis's per publish (as measured, and
// less what it spends idle per second, idle) and this process's per
// delivery.
func (r *fanoutRun) addCPUMetrics(res *Result, meter *fanoutMeter, before, after fanoutReading, idle time.Duration) {
	m := &res.Metrics
	n := r.stats.Ops.Load()
	if meter.server != nil {
		m.Add("server_cpu_us_per_delivery", perOp(after.server.CPU-before.server.CPU, n), UnitMicros)
		if pinned(res) {
			m.Add("server_core_us_per_delivery", perOp(after.server.Cores-before.server.Cores, n), UnitMicros)
		}
	}
	if len(after.nodes) > 0 {
		var total time.Duration
		for i := range after.nodes {
			d := after.nodes[i] - before.nodes[i]
			total += d
			name := "node" + strconv.Itoa(i)
			m.Add(name+"_cpu_seconds", d.Seconds(), UnitSeconds)
			m.Add(name+"_cpu_us_per_delivery", perOp(d, r.nodes[i].deliveries.Load()), UnitMicros)
		}
		m.Add("nodes_cpu_seconds", total.Seconds(), UnitSeconds)
		m.Add("nodes_cpu_us_per_delivery", perOp(total, n), UnitMicros)
	}
	if meter.redis > 0 {
		d := after.redis - before.redis
		net := d - time.Duration(float64(idle)*after.at.Sub(before.at).Seconds())
		m.Add("redis_cpu_seconds", d.Seconds(), UnitSeconds)
		m.Add("redis_idle_cpu_us_per_sec", micros(idle), UnitMicros)
		m.Add("redis_cpu_us_per_publish", perOp(d, r.published.Load()), UnitMicros)
		m.Add("redis_net_cpu_us_per_publish", perOp(max(net, 0), r.published.Load()), UnitMicros)
	}
	m.Add("load_cpu_us_per_delivery", perOp(after.load-before.load, n), UnitMicros)
}
