package bench

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bellhop/bellhop/codec"
)

// Echo opens Config.Conns connections, then each sends a Config.Size byte
// message and waits for its echo before sending the next (closed loop), with
// Config.Pipeline messages in flight per connection, for Config.Duration or
// until Config.Messages round trips. It reports round trips per second,
// round-trip latency and the server's CPU time per round trip.
//
// Messages are text (binary with Config.Binary) of lowercase letters, so the
// echo endpoint never takes them for broadcasts (text starting with 'B').
type Echo struct{}

// Name returns "echo".
func (Echo) Name() string { return "echo" }

// Run implements Scenario.
func (Echo) Run(ctx context.Context, env *Env, res *Result) error {
	cfg := env.Config
	if cfg.Duration == 0 && cfg.Messages == 0 {
		cfg.Duration = DefaultDuration
	}
	echoParams(res, cfg, env.Server)
	r := newEchoRun(cfg, env.Stats)
	cl, err := NewClient(cfg.clientConfig(r, env.Stats))
	if err != nil {
		return err
	}
	defer closeClient(cl, env.Stats)
	p, err := connectAll(ctx, env, cl)
	if err != nil {
		return err
	}
	res.Metrics.Add("conns", float64(len(p.conns)), UnitCount)
	if len(p.conns) == 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: no connection upgraded (first error: %s)", ErrHandshake, env.Stats.FirstError())
	}
	return r.measure(ctx, env, res, p.conns, cfg.Duration)
}

func echoParams(res *Result, cfg Config, server *Process) {
	commonParams(res, cfg, server)
	res.Params["size"] = cfg.Size
	res.Params["pipeline"] = cfg.Pipeline
	res.Params["binary"] = cfg.Binary
	if cfg.Duration > 0 {
		res.Params["duration"] = cfg.Duration.String()
	}
	if cfg.Messages > 0 {
		res.Params["messages"] = cfg.Messages
	}
}

// echoRun is one echo measurement. Its Handler methods run on the event
// loops; everything they share is atomic or read-only after newEchoRun.
type echoRun struct {
	NopHandler
	payload  []byte       // read-only
	op       codec.OpCode // read-only
	pipeline int          // read-only
	limit    int64        // round trips to stop after; 0 means none
	stats    *Stats

	base     time.Time    // round-trip times are nanoseconds since base; set before the first send
	stop     atomic.Bool  // no new sends
	sent     atomic.Int64 // messages sent
	inflight atomic.Int64 // messages sent and not echoed yet
	rtt      Histogram
	done     chan struct{} // closed when limit round trips completed
	doneOnce sync.Once
}

// echoConn is one connection's state, owned by its event loop.
type echoConn struct {
	sent []int64 // ring of send times of the messages in flight
	head int     // oldest
	n    int     // in flight
}

func newEchoRun(cfg Config, stats *Stats) *echoRun {
	r := &echoRun{
		payload: make([]byte, cfg.Size), op: codec.OpText, pipeline: cfg.Pipeline,
		limit: cfg.Messages, stats: stats, done: make(chan struct{}),
	}
	for i := range r.payload {
		r.payload[i] = 'a' + byte(i%26)
	}
	if cfg.Binary {
		r.op = codec.OpBinary
	}
	return r
}

// measure starts the exchange on every connection, lets it run for d (or
// until the round-trip limit), then stops sending and drains.
func (r *echoRun) measure(ctx context.Context, env *Env, res *Result, conns []*Conn, d time.Duration) error {
	env.Stats.SetPhase("measuring")
	before, measured, err := env.sample()
	if err != nil {
		return err
	}
	load0 := SelfCPUTime()
	r.base = time.Now()
	for _, c := range conns {
		if err := c.AsyncDo(r.start); err != nil {
			env.Stats.AddError(KindWrite, err)
		}
	}
	r.wait(ctx, d)
	r.stop.Store(true)
	elapsed, load, ops := time.Since(r.base), SelfCPUTime()-load0, r.stats.Ops.Load()
	after, _, err := env.sample()
	if err != nil {
		return err
	}
	env.Stats.SetPhase("draining")
	r.drain()
	m := &res.Metrics
	m.Add("round_trips", float64(ops), UnitCount)
	m.Add("measure_seconds", elapsed.Seconds(), UnitSeconds)
	m.Add("round_trips_per_sec", rate(ops, elapsed), UnitPerSec)
	m.addLatency("rtt", &r.rtt)
	if measured {
		cpu := after.CPU - before.CPU
		m.Add("server_cpu_us_per_round_trip", perOp(cpu, ops), UnitMicros)
		m.Add("server_cpu_percent", 100*cpu.Seconds()/elapsed.Seconds(), UnitPercent)
	}
	if measured && pinned(res) {
		cores := after.Cores - before.Cores
		m.Add("server_core_us_per_round_trip", perOp(cores, ops), UnitMicros)
		m.Add("server_core_percent", 100*cores.Seconds()/elapsed.Seconds()/float64(len(env.Server.CPUs)), UnitPercent)
	}
	m.Add("load_cpu_us_per_round_trip", perOp(load, ops), UnitMicros)
	return ctx.Err()
}

// wait returns after d (d <= 0: no time limit), when the round-trip limit is
// reached or when ctx ends.
func (r *echoRun) wait(ctx context.Context, d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
	case <-r.done:
	case <-ctx.Done():
	}
}

// drain waits a little for the messages in flight, so closing does not
// count them as lost.
func (r *echoRun) drain() {
	deadline := time.Now().Add(drainWait)
	for r.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs on the connection's loop: it fills the pipeline.
func (r *echoRun) start(c *Conn) {
	st := &echoConn{sent: make([]int64, r.pipeline)}
	c.SetData(st)
	for range r.pipeline {
		r.send(c, st)
	}
}

// send sends one message unless the run is stopping or the limit of
// messages is sent.
func (r *echoRun) send(c *Conn, st *echoConn) {
	if r.stop.Load() || r.limit > 0 && r.sent.Add(1) > r.limit {
		return
	}
	st.sent[(st.head+st.n)%len(st.sent)] = int64(time.Since(r.base))
	st.n++
	r.inflight.Add(1)
	if err := c.Send(r.op, r.payload); err != nil {
		c.Fail(KindWrite, err)
	}
}

// OnMessage takes an echo: it records the round trip, checks the message
// and sends the next.
func (r *echoRun) OnMessage(c *Conn, op codec.OpCode, payload []byte) {
	st, _ := c.Data().(*echoConn)
	if st == nil || st.n == 0 {
		c.Fail(KindMismatch, fmt.Errorf("%w: message of %d bytes with none in flight", ErrEchoMismatch, len(payload)))
		return
	}
	sentAt := st.sent[st.head]
	st.head = (st.head + 1) % len(st.sent)
	st.n--
	r.inflight.Add(-1)
	r.rtt.Record(time.Since(r.base) - time.Duration(sentAt))
	if op != r.op || !bytes.Equal(payload, r.payload) {
		c.Fail(KindMismatch, fmt.Errorf("%w: got opcode %d with %d bytes", ErrEchoMismatch, op, len(payload)))
		return
	}
	if ops := r.stats.Ops.Add(1); r.limit > 0 && ops >= r.limit {
		r.doneOnce.Do(func() { close(r.done) })
	}
	r.send(c, st)
}

// OnClose forgets the messages the connection had in flight.
func (r *echoRun) OnClose(c *Conn, _ error) {
	if st, _ := c.Data().(*echoConn); st != nil {
		r.inflight.Add(int64(-st.n))
		st.n = 0
	}
}
