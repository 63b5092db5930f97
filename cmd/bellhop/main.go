// Command bellhop is the hotel operations WebSocket server.
//
// It reads its configuration from environment variables and flags (flags
// win), serves WebSocket (or wss) connections on gnet event loops and an
// admin HTTP server with /metrics, /healthz and /readyz, reloads its TLS
// certificate on SIGHUP and shuts down gracefully on SIGTERM or SIGINT.
package main

import (
	"cmp"
	"context"
	stdtls "crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/lesismal/llib/std/crypto/tls"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/seal"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
	"github.com/bellhop/bellhop/engine/guard"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bellhop:", err)
		os.Exit(1)
	}
}

// run builds the server from the configuration, serves until a signal asks
// it to stop, then shuts down gracefully.
func run(args []string, getenv func(string) string, stderr *os.File) error {
	opts, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, opts.logLevel)
	app, err := newApp(opts, log)
	if err != nil {
		return err
	}
	if err := app.start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)
	for s := range sig {
		if s == syscall.SIGHUP {
			app.reload()
			continue
		}
		log.Info("shutting down", "signal", s.String(), "connections", app.srv.Connections())
		break
	}
	return app.shutdown()
}

// app is the running binary: the WebSocket server, the hotel service and
// its broker, and the admin server.
type app struct {
	opts   *options
	log    *slog.Logger
	srv    *engine.Server
	certs  *engine.Certificates
	admin  *adminServer
	keys   *auth.KeySet      // nil when the hotel endpoint is off
	svc    *dispatch.Service // nil when the hotel endpoint is off
	broker cluster.Broker    // the broker as made (memory or Redis)
	// svcBroker is what the service publishes through: broker, or broker
	// sealing what it keeps when ENCRYPTION_KEY(S_PATH) is set.
	svcBroker cluster.Broker
	sealKeys  *seal.Keyring       // nil without encryption at rest
	guard     *guard.Guard        // per-IP limits and blacklist
	bans      *banSync            // shares the blacklist through Redis
	coord     cluster.Coordinator // the cluster's, nil without Redis
	// clusterMetrics has the Redis broker's gauges; nil with the in-memory broker.
	clusterMetrics *metrics.Set
}

func newApp(opts *options, log *slog.Logger) (*app, error) {
	a := &app{opts: opts, log: log}
	cfg := opts.engine
	cfg.Addr = net.JoinHostPort(opts.host, strconv.Itoa(opts.port))
	cfg.AllowedOrigins = opts.origins
	cfg.Protocols = opts.protocols
	cfg.Logger = log
	cfg.Routes = map[string]engine.Handler{}
	a.bans = newBanSync(log, time.Second)
	gcfg := opts.guard
	gcfg.Allow, gcfg.OnBan = opts.allowIPs, a.bans.onBan
	a.guard = guard.New(gcfg)
	built := false
	defer func() {
		if !built {
			a.guard.Close() // its sweeper must not outlive a failed start
		}
	}()
	cfg.Guard, cfg.TrustedProxies = a.guard, opts.trustedProxies
	if opts.echoPath != "" {
		cfg.Routes[opts.echoPath] = engine.NewEcho(opts.echoPath)
	}
	if err := a.newService(); err != nil {
		return nil, err
	}
	if a.svc != nil {
		cfg.Routes[opts.path] = a.svc
	} else {
		log.Warn("hotel endpoint off: set JWT_SECRET or JWT_KEYS_PATH to serve " + opts.path)
	}
	if len(cfg.Routes) == 0 {
		return nil, errors.New("nothing to serve: set JWT_SECRET or JWT_KEYS_PATH (hotel endpoint), or ECHO_PATH")
	}
	if opts.sslEnabled {
		certs, err := engine.LoadCertificates(opts.sslCert, opts.sslKey)
		if err != nil {
			return nil, fmt.Errorf("SSL_CERT_PATH/SSL_KEY_PATH: %w", err)
		}
		a.certs = certs
		min := uint16(tls.VersionTLS13)
		if opts.tlsMin == "1.2" {
			min = tls.VersionTLS12
		}
		cfg.TLS = certs.TLSConfig(min)
	}
	srv, err := engine.New(cfg)
	if err != nil {
		return nil, err
	}
	a.srv = srv
	built = true
	node := ""
	if a.svc != nil {
		node = a.svc.NodeID()
	}
	a.bans.start(a.guard, a.coord, node)
	if a.svc != nil {
		a.svc.Start(srv, a.svcBroker)
	}
	return a, nil
}

// newService builds the hotel service with the in-memory broker and store
// when a token key is configured.
func (a *app) newService() error {
	o := a.opts
	if o.jwtSecret == "" && o.jwtKeysPath == "" {
		return nil
	}
	keys, err := auth.LoadKeySet(o.jwtSecret, o.jwtKeysPath)
	if err != nil {
		return fmt.Errorf("JWT_SECRET/JWT_KEYS_PATH: %w", err)
	}
	verifier, err := auth.NewVerifier(keys, auth.Config{})
	if err != nil {
		return err
	}
	dcfg := o.dispatch
	dcfg.Verifier = verifier
	dcfg.Logger = a.log
	// The broker delivers to the service, and with Redis the service keeps
	// its state in the broker's store: the broker comes first and reaches
	// the service through svc, set before anything is subscribed.
	var svc *dispatch.Service
	deliver := func(p cluster.Publication) { svc.Deliver(p) }
	if o.encKeysPath != "" || o.encKey != "" {
		k, err := seal.Load(o.encKeysPath, o.encKey)
		if err != nil {
			return fmt.Errorf("ENCRYPTION_KEYS_PATH/ENCRYPTION_KEY: %w", err)
		}
		k.AllowPlain = o.encAllowPlain
		a.sealKeys = k
		plain := deliver
		deliver = seal.Handler(k, plain, func(p cluster.Publication, err error) {
			a.log.Error("delivery does not open with the key ring; dropped", "channel", p.Channel, "messageId", p.Position.String(), "err", err)
		})
	}
	if o.redisHost == "" {
		dcfg.Store = cluster.NewMemoryStore()
		a.broker = cluster.NewMemoryBroker(cluster.MemoryConfig{Retention: o.retention, MaxHistory: o.historySize}, deliver)
	} else {
		broker, err := a.newRedisBroker(deliver)
		if err != nil {
			return err
		}
		dcfg.Store, dcfg.Coordinator = broker.Store(), broker.Coordinator()
		if dcfg.Workers == 0 {
			// A subscription or a store write waits a Redis round trip:
			// more workers than CPUs keep many of them in flight.
			dcfg.Workers = 8 * runtime.GOMAXPROCS(0)
		}
		a.coord = dcfg.Coordinator
		a.broker = broker
	}
	a.svcBroker = a.broker
	if a.sealKeys != nil {
		a.svcBroker = &seal.Broker{Broker: a.broker, Keys: a.sealKeys}
		dcfg.Store = &seal.Store{Store: dcfg.Store, Keys: a.sealKeys}
		a.log.Info("encryption at rest", "active_key", a.sealKeys.Active(), "keys", a.sealKeys.KeyIDs())
	}
	if svc, err = dispatch.New(dcfg); err != nil {
		_ = a.broker.Close()
		return err
	}
	a.keys, a.svc = keys, svc
	a.log.Info("hotel endpoint on", "path", o.path, "node", svc.NodeID(), "keys", keys.KeyIDs(), "broker", brokerName(a.broker))
	return nil
}

func brokerName(b cluster.Broker) string {
	if _, ok := b.(*cluster.RedisBroker); ok {
		return "redis"
	}
	return "memory"
}

// newRedisBroker connects to REDIS_HOST and registers the breaker's gauge.
func (a *app) newRedisBroker(deliver cluster.Handler) (*cluster.RedisBroker, error) {
	o := a.opts
	addr := net.JoinHostPort(o.redisHost, strconv.Itoa(o.redisPort))
	rcfg := cluster.RedisConfig{
		Addrs: []string{addr}, Password: o.redisPassword, Retention: o.retention, MaxHistory: o.historySize,
		Handler: deliver, BreakerReset: o.breakerReset,
		OutboxMessages: cmp.Or(o.outboxSize, -1), OutboxBytes: o.outboxBytes,
		OnDropped: func(n int) {
			a.log.Error("Redis unreachable at shutdown: queued publications were not stored", "count", n)
		},
		// A gap the history cannot fill: the channel's clients resync.
		OnGap: func(ch string) {
			a.log.Warn("messages lost between Redis and this node; subscribers resync", "channel", ch)
			if a.srv != nil {
				a.srv.Resync(ch)
			}
		},
	}
	if o.redisTLS {
		rcfg.TLS = &stdtls.Config{ServerName: o.redisHost, MinVersion: stdtls.VersionTLS12}
	}
	broker, err := cluster.NewRedisBroker(rcfg)
	if err != nil {
		return nil, fmt.Errorf("REDIS_HOST: %w", err)
	}
	a.clusterMetrics = metrics.NewSet()
	// 0: breaker closed, 1: half-open (probing), 2: open (Redis unavailable).
	a.clusterMetrics.NewGauge("bellhop_redis_breaker_state", func() float64 { return float64(broker.Health()) })
	a.clusterMetrics.NewGauge("bellhop_redis_outbox_messages", func() float64 { return float64(broker.Outboxed()) })
	a.log.Info("redis", "addr", addr, "tls", o.redisTLS)
	return broker, nil
}

func (a *app) start() error {
	if err := a.srv.Start(); err != nil {
		return err
	}
	scheme := "ws"
	if a.certs != nil {
		scheme = "wss"
	}
	a.log.Info("listening", "addr", a.srv.Addr().String(), "scheme", scheme,
		"path", a.opts.path, "echo_path", a.opts.echoPath, "max_connections", a.opts.engine.MaxConnections)
	if a.opts.enableMetrics {
		admin, err := startAdmin(a, net.JoinHostPort(a.opts.metricsHost, strconv.Itoa(a.opts.metricsPort)))
		if err != nil {
			_ = a.srv.Close()
			return err
		}
		a.admin = admin
		if a.svc != nil {
			a.log.Info("operations board", "url", "http://"+admin.addr+"/board/", "dev_login", a.devLoginEnabled())
		}
	}
	return nil
}

// reload re-reads the token keys and the TLS certificate; connections stay up.
func (a *app) reload() {
	if a.keys == nil && a.certs == nil && a.sealKeys == nil {
		a.log.Info("SIGHUP: nothing to reload")
		return
	}
	if a.sealKeys != nil {
		if err := a.sealKeys.Reload(); err != nil {
			a.log.Error("encryption key reload failed; keeping the current keys", "err", err)
		} else {
			a.log.Info("encryption keys reloaded", "active_key", a.sealKeys.Active(), "keys", a.sealKeys.KeyIDs())
		}
	}
	if a.keys != nil {
		if err := a.keys.Reload(); err != nil {
			a.log.Error("token key reload failed; keeping the current keys", "err", err)
		} else {
			a.log.Info("token keys reloaded", "keys", a.keys.KeyIDs())
		}
	}
	if a.certs == nil {
		return
	}
	if err := a.certs.Reload(); err != nil {
		a.log.Error("certificate reload failed; keeping the current one", "err", err)
		return
	}
	a.log.Info("certificate reloaded", "subject", a.certs.Leaf().Subject.String(), "not_after", a.certs.Leaf().NotAfter)
}

func (a *app) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.shutdownTimeout)
	defer cancel()
	err := a.srv.Shutdown(ctx)
	if a.svc != nil {
		if e := a.svc.Close(ctx); e != nil {
			a.log.Warn("dispatch queues not drained", "err", e)
		}
		_ = a.broker.Close()
	}
	if a.admin != nil {
		a.admin.close()
	}
	a.bans.stop()
	a.guard.Close()
	a.log.Info("stopped", "err", err)
	return err
}

// newLogger writes JSON lines in the spec's format: timestamp, level (lower
// case), message, then the record's fields (event, correlationId,
// metadata, ...).
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				a.Key = "timestamp"
				a.Value = slog.StringValue(a.Value.Time().UTC().Format(time.RFC3339Nano))
			case slog.LevelKey:
				a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				a.Key = "message"
			}
			return a
		},
	}))
}
