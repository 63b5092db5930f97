package bench

import (
	"context"
)

// Connect opens Config.Conns connections, Config.Concurrency at a time
// (paced at Config.Rate when set), and reports handshakes per second,
// connect latency (TCP connect, TLS and upgrade) and the server's CPU time
// per handshake. It closes the connections at the end.
type Connect struct{}

// Name returns "connect".
func (Connect) Name() string { return "connect" }

// Run implements Scenario.
func (Connect) Run(ctx context.Context, env *Env, res *Result) error {
	commonParams(res, env.Config, env.Server)
	cl, err := NewClient(env.Config.clientConfig(nil, env.Stats))
	if err != nil {
		return err
	}
	defer closeClient(cl, env.Stats)
	p, err := connectAll(ctx, env, cl)
	if err != nil {
		return err
	}
	p.addMetrics(res, cl)
	return ctx.Err()
}

// closeClient closes every connection of cl; the server's work for that is
// outside any measurement.
func closeClient(cl *Client, stats *Stats) {
	stats.SetPhase("closing")
	_ = cl.Close()
}
