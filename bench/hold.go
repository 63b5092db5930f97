package bench

import (
	"context"
	"time"
)

// Hold opens Config.Conns idle connections and reports the server's memory
// per connection: the change of its RSS from before connecting to when RSS
// has settled (Config.Settle), divided by the connections held. It also
// reports the connect metrics, including server CPU per handshake. It then
// holds the connections for Config.Duration and counts those the server
// dropped.
type Hold struct{}

// Name returns "hold".
func (Hold) Name() string { return "hold" }

// Run implements Scenario.
func (Hold) Run(ctx context.Context, env *Env, res *Result) error {
	cfg := env.Config
	commonParams(res, cfg, env.Server)
	res.Params["hold"] = cfg.Duration.String()
	if err := settleServer(ctx, env, "settling-before"); err != nil {
		return err
	}
	cl, err := NewClient(cfg.clientConfig(nil, env.Stats))
	if err != nil {
		return err
	}
	defer closeClient(cl, env.Stats)
	p, err := connectAll(ctx, env, cl)
	if err != nil {
		return err
	}
	p.addMetrics(res, cl)
	held := cl.Open()
	if p.measure {
		if err := addRSSMetrics(ctx, env, res, p.before.RSS, held); err != nil {
			return err
		}
	}
	env.Stats.SetPhase("holding")
	if !sleepCtx(ctx, cfg.Duration) {
		return ctx.Err()
	}
	res.Metrics.Add("conns_held", float64(cl.Open()), UnitCount)
	res.Metrics.Add("conns_lost", float64(held-cl.Open()), UnitCount)
	return nil
}

// settleServer waits for the server's RSS to settle, when there is a
// server.
func settleServer(ctx context.Context, env *Env, phase string) error {
	if env.Server == nil {
		return nil
	}
	env.Stats.SetPhase(phase)
	_, _, err := WaitRSSSettled(ctx, env.Server.RSS, env.Config.Settle)
	return err
}

// addRSSMetrics waits for the server's RSS to settle with held connections
// and reports it against before.
func addRSSMetrics(ctx context.Context, env *Env, res *Result, before, held int64) error {
	env.Stats.SetPhase("settling")
	start := time.Now()
	after, settled, err := WaitRSSSettled(ctx, env.Server.RSS, env.Config.Settle)
	if err != nil {
		return err
	}
	m := &res.Metrics
	m.Add("rss_before_bytes", float64(before), UnitBytes)
	m.Add("rss_after_bytes", float64(after), UnitBytes)
	if held > 0 {
		m.Add("rss_per_conn_bytes", float64(after-before)/float64(held), UnitBytes)
	}
	m.Add("rss_settled", boolMetric(settled), UnitCount)
	m.Add("settle_seconds", time.Since(start).Seconds(), UnitSeconds)
	return nil
}

func boolMetric(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// sleepCtx sleeps for d unless ctx ends first; it reports whether it slept
// the whole time.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
