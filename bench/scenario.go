package bench

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
)

// Scenario defaults.
const (
	DefaultConns    = 1000
	DefaultSize     = 128
	DefaultDuration = 10 * time.Second
	drainWait       = 3 * time.Second // how long echo waits for messages in flight at the end
)

// Config is what a scenario run is told. Zero values take the defaults
// noted per field.
type Config struct {
	Target           Target        // endpoint under test (required)
	Sources          []netip.Addr  // source addresses; nil means DefaultSources
	Loops            int           // client event loops; 0 means 1
	TLS              *tls.Config   // wss client config; nil skips verification (loopback only)
	Protocol         string        // subprotocol to offer; empty offers none
	Conns            int           // connections to open; 0 means DefaultConns
	Concurrency      int           // handshakes in flight; 0 means DefaultConcurrency
	Rate             float64       // new connections per second; 0 means unpaced
	HandshakeTimeout time.Duration // per connection; 0 means DefaultHandshakeTimeout
	Duration         time.Duration // echo: measured time (0 means DefaultDuration unless Messages is set); hold: time held after settling
	Messages         int64         // echo: stop after this many round trips, 0 means no limit; broadcast: messages to publish, 0 means DefaultBroadcastMessages
	PublishRate      float64       // broadcast: messages per second; 0 means back to back
	Size             int           // echo, broadcast: payload bytes; 0 means DefaultSize
	Pipeline         int           // echo: messages in flight per connection; 0 means 1
	Binary           bool          // echo: binary messages instead of text
	Settle           SettleConfig  // hold: when the server's RSS counts as settled
	Label            string        // copied to the Result

	// Hotel scenario.
	Hotel HotelConfig // hotel: sizes, load mix and credentials of the hotel workload
}

func (c Config) withDefaults() Config {
	c.Conns = cmp0(c.Conns, DefaultConns)
	c.Concurrency = cmp0(c.Concurrency, DefaultConcurrency)
	c.Size = cmp0(c.Size, DefaultSize)
	c.Pipeline = cmp0(c.Pipeline, 1)
	c.HandshakeTimeout = cmp0(c.HandshakeTimeout, DefaultHandshakeTimeout)
	return c
}

func (c Config) validate() error {
	if err := CheckLoopbackAddr(c.Target.Addr); err != nil {
		return err
	}
	checks := []struct {
		bad  bool
		what string
	}{
		{c.Conns < 1 || c.Conns > 1<<20, "Conns must be 1 to 1048576"},
		{c.Concurrency < 1 || c.Concurrency > 10000, "Concurrency must be 1 to 10000"},
		{c.Rate < 0, "Rate must not be negative"},
		{c.Duration < 0, "Duration must not be negative"},
		{c.Messages < 0, "Messages must not be negative"},
		{c.Size < 1 || c.Size > DefaultMaxFrame, "Size must be 1 to 16 MiB"},
		{c.Pipeline < 1 || c.Pipeline > 4096, "Pipeline must be 1 to 4096"},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("%w: %s", ErrBadConfig, ch.what)
		}
	}
	return checkOpenFiles(c.Conns, c.Concurrency)
}

// checkOpenFiles refuses a run this process cannot hold: one descriptor per
// connection, one more per dial in flight (EnrollContext dups the socket
// before closing the original) and a margin for the runtime and the files
// the harness opens.
func checkOpenFiles(conns, concurrency int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // cannot tell; let the dials report it
	}
	need := uint64(conns + concurrency + 64)
	if lim.Cur < need {
		return fmt.Errorf("%w: open-files limit %d is too low for %d connections (need about %d): raise ulimit -n or lower Conns",
			ErrBadConfig, lim.Cur, conns, need)
	}
	return nil
}

// clientConfig derives the client's configuration.
func (c Config) clientConfig(h Handler, stats *Stats) ClientConfig {
	return ClientConfig{
		Target: c.Target, Sources: c.Sources, Loops: c.Loops, TLS: c.TLS, Protocol: c.Protocol,
		HandshakeTimeout: c.HandshakeTimeout, Handler: h, Stats: stats,
	}
}

// Env is what a scenario runs against.
type Env struct {
	Config   Config
	Server   *Process  // the server, for RSS and CPU readings; nil leaves those metrics out
	Progress io.Writer // where progress lines go each second; nil prints none
	Stats    *Stats    // live counters; Run sets a fresh one
}

// Scenario is one kind of load. Run drives it against env, adds its
// parameters and metrics to res and returns when it is done (each scenario
// is bounded in connections and time) or ctx is cancelled. It returns an
// error only when the run as a whole could not be measured; failures of
// single connections are counted in env.Stats.
type Scenario interface {
	Name() string
	Run(ctx context.Context, env *Env, res *Result) error
}

// Scenarios lists the built-in scenarios.
func Scenarios() []Scenario { return []Scenario{Connect{}, Hold{}, Echo{}, Broadcast{}, Hotel{}} }

// Lookup returns the built-in scenario called name.
func Lookup(name string) (Scenario, error) {
	i := slices.IndexFunc(Scenarios(), func(s Scenario) bool { return s.Name() == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: unknown scenario %q", ErrBadConfig, name)
	}
	return Scenarios()[i], nil
}

// Run validates env.Config, runs sc with a progress printer and returns its
// Result with the error counts filled in. A partial Result comes back with
// the error when the scenario failed midway.
func Run(ctx context.Context, sc Scenario, env *Env) (*Result, error) {
	env.Config = env.Config.withDefaults()
	if err := env.Config.validate(); err != nil {
		return nil, err
	}
	env.Stats = new(Stats)
	res := &Result{
		Scenario: sc.Name(), Label: env.Config.Label, Target: env.Config.Target.String(),
		Start: time.Now(), Params: map[string]any{},
	}
	prog := NewProgress(env.Progress, sc.Name(), env.Stats, time.Second)
	prog.Start()
	env.takeGC() // start the run's GC window
	err := sc.Run(ctx, env, res)
	prog.Stop()
	if gc, ok := env.takeGC(); ok {
		res.Metrics.addGC(gc)
	}
	res.Seconds = time.Since(res.Start).Seconds()
	res.Errors = env.Stats.ErrorCounts()
	res.FirstError = env.Stats.FirstError()
	return res, err
}

// sample reads the server's resources, or returns ok=false when there is
// no server to read.
func (e *Env) sample() (s Sample, ok bool, err error) {
	if e.Server == nil {
		return s, false, nil
	}
	s, err = e.Server.Sample()
	if err != nil {
		return s, false, fmt.Errorf("cannot read server resources: %w", err)
	}
	return s, true, nil
}

// connectPhase is the measurement of opening a batch of connections.
type connectPhase struct {
	conns   []*Conn
	elapsed time.Duration
	load    time.Duration // harness CPU spent
	server  time.Duration // server CPU spent; valid when measured
	cores   time.Duration // busy time of the server's CPUs; valid when measured and pinned
	before  Sample        // server before connecting; valid when measured
	after   Sample        // server after connecting; valid when measured
	measure bool
}

// connectAll opens cfg.Conns connections with cl and measures it.
func connectAll(ctx context.Context, env *Env, cl *Client) (connectPhase, error) {
	var p connectPhase
	var err error
	env.Stats.SetPhase("connecting")
	if p.before, p.measure, err = env.sample(); err != nil {
		return p, err
	}
	start, load0 := time.Now(), SelfCPUTime()
	p.conns = cl.Connect(ctx, env.Config.Conns, ConnectOptions{Concurrency: env.Config.Concurrency, Rate: env.Config.Rate})
	p.elapsed, p.load = time.Since(start), SelfCPUTime()-load0
	if p.measure {
		if p.after, _, err = env.sample(); err != nil {
			return p, err
		}
		p.server = p.after.CPU - p.before.CPU
		p.cores = p.after.Cores - p.before.Cores
	}
	return p, nil
}

// addMetrics reports the phase: connections upgraded, handshakes per
// second, latency and CPU per handshake.
func (p *connectPhase) addMetrics(res *Result, cl *Client) {
	n := int64(len(p.conns))
	m := &res.Metrics
	m.Add("conns", float64(n), UnitCount)
	m.Add("connect_seconds", p.elapsed.Seconds(), UnitSeconds)
	m.Add("handshakes_per_sec", rate(n, p.elapsed), UnitPerSec)
	m.addLatency("connect", cl.ConnectLatency())
	if p.measure {
		m.Add("server_cpu_us_per_handshake", perOp(p.server, n), UnitMicros)
		m.Add("server_handshakes_per_sec", rate(n, p.server), UnitPerSec) // per second of server CPU: per core
	}
	if p.measure && pinned(res) {
		m.Add("server_core_us_per_handshake", perOp(p.cores, n), UnitMicros)
	}
	m.Add("load_cpu_us_per_handshake", perOp(p.load, n), UnitMicros)
}

// pinned reports whether the run reads the busy time of the server's CPUs.
func pinned(res *Result) bool { _, ok := res.Params["server_cpus"]; return ok }

// commonParams records the knobs every scenario shares.
func commonParams(res *Result, c Config, server *Process) {
	if server != nil && len(server.CPUs) > 0 {
		res.Params["server_cpus"] = fmt.Sprint(server.CPUs)
	}
	res.Params["conns"] = c.Conns
	res.Params["concurrency"] = c.Concurrency
	res.Params["loops"] = cmp0(c.Loops, 1)
	if c.Rate > 0 {
		res.Params["rate"] = c.Rate
	}
}
