package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/engine"
	"github.com/bellhop/bellhop/engine/guard"
)

// options is everything the binary can be told, from flags or environment
// variables. Flags win over the environment; both win over the defaults.
type options struct {
	host, path, echoPath string
	port, metricsPort    int
	metricsHost          string
	enableMetrics, pprof bool
	sslEnabled           bool
	sslCert, sslKey      string
	tlsMin               string
	shutdownTimeout      time.Duration
	logLevel             slog.Level
	origins, protocols   []string
	engine               engine.Config
	lb                   string

	jwtSecret, jwtKeysPath string
	apiKey                 string
	dispatch               dispatch.Config
	retention              time.Duration
	historySize            int

	redisHost, redisPassword string
	redisPort                int
	redisTLS                 bool
	breakerReset             time.Duration
	encKeysPath, encKey      string
	encAllowPlain            bool
	devLogin                 bool
	devProperty              string
	guard                    guard.Config
	allowIPs, trustedProxies []netip.Prefix
	outboxSize, outboxBytes  int
}

// setting binds one option to its flag and environment variable.
type setting struct {
	flag, env, def, usage string
	set                   func(string) error
}

func (o *options) settings() []setting {
	e := &o.engine
	return []setting{
		{"host", "WS_HOST", "0.0.0.0", "address to listen on", str(&o.host)},
		{"port", "WS_PORT", "3001", "WebSocket port", intIn(&o.port, 0, 65535)},
		{"path", "WS_PATH", "/ws", "path of the hotel WebSocket endpoint", pathOf(&o.path)},
		{"echo-path", "ECHO_PATH", "", "path of the echo endpoint for conformance tests and benchmarks; empty disables", optPath(&o.echoPath)},
		{"ssl", "SSL_ENABLED", "false", "serve wss (TLS on the event loops)", boolean(&o.sslEnabled)},
		{"ssl-cert", "SSL_CERT_PATH", "", "PEM certificate chain for wss", str(&o.sslCert)},
		{"ssl-key", "SSL_KEY_PATH", "", "PEM private key for wss", str(&o.sslKey)},
		{"tls-min", "TLS_MIN_VERSION", "1.3", "lowest TLS version accepted: 1.2 or 1.3", oneOf(&o.tlsMin, "1.2", "1.3")},
		{"max-connections", "MAX_CONNECTIONS", "10000", "open connections per node; more get HTTP 503", intIn(&e.MaxConnections, 1, 1<<24)},
		{"max-message-size", "MAX_MESSAGE_SIZE", "1048576", "largest inbound message in bytes (also after inflating); more closes with 1009", int64In(&e.MaxMessageSize, 125, 1<<30)},
		{"max-frame-size", "MAX_FRAME_SIZE", "1048576", "largest inbound frame payload in bytes; more closes with 1009", int64In(&e.MaxFrameSize, 125, 1<<30)},
		{"max-fragments", "MAX_FRAGMENTS", "1024", "most frames in one fragmented message", intIn(&e.MaxFragments, 1, 1<<20)},
		{"max-head-size", "MAX_HEAD_SIZE", "8192", "largest HTTP request head in bytes; more gets HTTP 431", intIn(&e.MaxHeadSize, 512, 1<<20)},
		{"max-outbound", "MAX_OUTBOUND_BYTES", "4194304", "bytes queued to one connection before it is closed as a slow consumer (4008)", intIn(&e.MaxOutbound, 4096, 1<<30)},
		{"idle-timeout", "IDLE_TIMEOUT", "60s", "close a connection silent this long (pongs count)", duration(&e.IdleTimeout)},
		{"handshake-timeout", "HANDSHAKE_TIMEOUT", "10s", "time to complete TLS and the upgrade", duration(&e.HandshakeTimeout)},
		{"ping-interval", "PING_INTERVAL", "20s", "ping a connection silent this long; 0 disables", durationOrOff(&e.PingInterval)},
		{"close-timeout", "CLOSE_TIMEOUT", "5s", "wait for the peer's close frame", duration(&e.CloseTimeout)},
		{"deflate", "ENABLE_COMPRESSION", "true", "accept permessage-deflate", boolean(&e.Deflate)},
		{"compress-threshold", "COMPRESS_THRESHOLD", "512", "compress outbound messages of at least this many bytes", intIn(&e.CompressThreshold, 1, 1<<30)},
		{"rate-limit-per-ip", "RATE_LIMIT_PER_IP", "100", "messages per second from one client IP (a burst of twice that); -1 turns it off", floatOrOff(&o.guard.MessageRate)},
		{"max-connections-per-ip", "MAX_CONNECTIONS_PER_IP", "256", "open connections from one client IP; more get HTTP 429; -1 turns it off", intIn(&o.guard.MaxConnsPerIP, -1, 1<<24)},
		{"connect-rate-per-ip", "CONNECT_RATE_PER_IP", "20", "new connections per second from one client IP (a burst of twice that); -1 turns it off", floatOrOff(&o.guard.ConnectRate)},
		{"message-rate", "MESSAGE_RATE", "20", "messages per second on one connection (a burst of twice that); more closes with 4029; -1 turns it off", floatOrOff(&e.MessageRate)},
		{"ping-rate", "PING_RATE", "5", "pings per second a connection may send; more closes with 4029; -1 turns it off", intIn(&e.PingRate, -1, 1<<20)},
		{"blacklist-after", "BLACKLIST_AFTER", "20", "violations (refusals, floods, protocol errors, forged tokens) within a minute that blacklist an IP", intIn(&o.guard.BanAfter, 1, 1<<20)},
		{"blacklist-duration", "BLACKLIST_DURATION", "10m", "how long a blacklisted IP is refused (HTTP 403)", duration(&o.guard.BanFor)},
		{"allow-ips", "ALLOW_IPS", "127.0.0.0/8,::1/128", "comma-separated IPs and CIDRs no limit applies to (ERP backend, load balancers, a guest-Wi-Fi NAT); \"none\" for none", prefixes(&o.allowIPs)},
		{"proxy-protocol", "PROXY_PROTOCOL", "false", "TRUSTED_PROXIES open each connection with a PROXY protocol header (v1 or v2, before TLS) naming the client", boolean(&e.ProxyProtocol)},
		{"trusted-proxies", "TRUSTED_PROXIES", "", "comma-separated IPs and CIDRs of proxies whose X-Forwarded-For names the client", prefixes(&o.trustedProxies)},
		{"origins", "ALLOWED_ORIGINS", "", "comma-separated Origin allow-list (https://*.hotel.example allowed); empty allows any", list(&o.origins)},
		{"protocols", "WS_PROTOCOLS", "bellhop.v1", "comma-separated subprotocols, in preference order", list(&o.protocols)},
		{"loops", "EVENT_LOOPS", "0", "event loops; 0 means one per CPU", intIn(&e.Loops, 0, 64)},
		{"multicore", "MULTICORE", "true", "use one event loop per CPU (when -loops is 0)", boolean(&e.Multicore)},
		{"lb", "LOAD_BALANCING", "round-robin", "spread connections over loops: round-robin, least-connections, source-addr-hash", lbOf(&o.lb, &e.LB)},
		{"reuseport", "REUSE_PORT", "false", "one SO_REUSEPORT listener per loop", boolean(&e.ReusePort)},
		{"read-buffer", "READ_BUFFER_CAP", "65536", "bytes read per read(2); the per-loop read buffer", intIn(&e.ReadBufferCap, 1024, 1<<24)},
		{"write-buffer", "WRITE_BUFFER_CAP", "65536", "per-connection outbound ring size before spilling", intIn(&e.WriteBufferCap, 1024, 1<<24)},
		{"metrics", "ENABLE_METRICS", "true", "serve /metrics on the admin port", boolean(&o.enableMetrics)},
		{"metrics-port", "METRICS_PORT", "9090", "admin HTTP port (/metrics, /healthz, /readyz)", intIn(&o.metricsPort, 0, 65535)},
		{"metrics-host", "METRICS_HOST", "0.0.0.0", "admin HTTP address", str(&o.metricsHost)},
		{"pprof", "ENABLE_PPROF", "false", "serve /debug/pprof on the admin port", boolean(&o.pprof)},
		{"shutdown-timeout", "SHUTDOWN_TIMEOUT", "15s", "time clients get to close on SIGTERM", duration(&o.shutdownTimeout)},
		{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error", level(&o.logLevel)},
		{"jwt-secret", "JWT_SECRET", "", "HS256 secret (at least 32 bytes) for development tokens, key id \"dev\"", str(&o.jwtSecret)},
		{"jwt-keys", "JWT_KEYS_PATH", "", "key set file or folder of public keys (ES256, RS256) and secrets; reloaded on SIGHUP", str(&o.jwtKeysPath)},
		{"api-key", "API_KEY", "", "key the backend API requires in X-API-Key; empty disables the API", str(&o.apiKey)},
		{"auth-timeout", "AUTH_TIMEOUT", "10s", "time a client has to authenticate before close 4001", duration(&o.dispatch.AuthTimeout)},
		{"accept-timeout", "ACCEPT_TIMEOUT", "90s", "time an assignee has to accept a service request", duration(&o.dispatch.AcceptTimeout)},
		{"retention", "MESSAGE_RETENTION_HOURS", "24", "hours messages stay in history for recovery", hours(&o.retention)},
		{"history-size", "HISTORY_SIZE", "10000", "most messages kept per channel for recovery", intIn(&o.historySize, 1, 1<<24)},
		{"encryption-keys", "ENCRYPTION_KEYS_PATH", "", "file of AES-256 keys (\"<id> <base64>\" per line, the first seals) that encrypt history and stored records at rest; reloaded on SIGHUP", str(&o.encKeysPath)},
		{"encryption-key", "ENCRYPTION_KEY", "", "one key inline, \"<id> <base64>\", when there is no key file; never logged", str(&o.encKey)},
		{"encryption-allow-plaintext", "ENCRYPTION_ALLOW_PLAINTEXT", "false", "read records stored before encryption was turned on (migration)", boolean(&o.encAllowPlain)},
		{"max-bad-messages", "MAX_BAD_MESSAGES", "20", "bad messages in a row before a client is closed with 4029", intIn(&o.dispatch.MaxBadMessages, 1, 1<<20)},
		{"max-json-depth", "MAX_JSON_DEPTH", "32", "most nesting in a client message; deeper answers BAD_MESSAGE", intIn(&o.dispatch.MaxJSONDepth, 1, 10000)},
		{"max-json-string", "MAX_JSON_STRING", "16384", "longest string in a client message, in bytes", intIn(&o.dispatch.MaxJSONString, 16, 1<<30)},
		{"max-connections-per-user", "MAX_CONNECTIONS_PER_USER", "10", "connections one token subject may hold on a node; more close with 4029", intIn(&o.dispatch.MaxConnsPerUser, 1, 1<<20)},
		{"dev-login", "DEV_LOGIN", "false", "let the operations board mint tokens for any role (/board/dev-token; needs JWT_SECRET): development only", boolean(&o.devLogin)},
		{"dev-property", "DEV_PROPERTY", "grand", "property of development-login tokens", str(&o.devProperty)},
		{"node-id", "NODE_ID", "", "this node's name in the cluster's presence and leases; empty means host name and a random suffix", str(&o.dispatch.NodeID)},
		{"presence-ttl", "PRESENCE_TTL", "30s", "a node's staff drop out of routing this long after the node stops heartbeating", duration(&o.dispatch.PresenceTTL)},
		{"presence-grace", "PRESENCE_GRACE", "10s", "a staff member stays on shift this long after their last connection closed (roaming)", duration(&o.dispatch.PresenceGrace)},
		{"workers", "WORKERS", "0", "event handler workers; 0 means one per CPU, or eight per CPU with Redis (handlers wait on the network)", intIn(&o.dispatch.Workers, 0, 1024)},
		{"redis-host", "REDIS_HOST", "", "Redis that joins the nodes of a cluster; empty runs alone with the in-memory broker", str(&o.redisHost)},
		{"redis-port", "REDIS_PORT", "6379", "Redis port", intIn(&o.redisPort, 1, 65535)},
		{"redis-password", "REDIS_PASSWORD", "", "Redis password (AUTH); never logged", str(&o.redisPassword)},
		{"redis-tls", "REDIS_TLS_ENABLED", "false", "connect to Redis over TLS", boolean(&o.redisTLS)},
		{"redis-breaker-reset", "REDIS_BREAKER_RESET", "30s", "how long the Redis circuit breaker stays open before a probe", duration(&o.breakerReset)},
		{"outbox-size", "OUTBOX_SIZE", "10000", "publications held while Redis is unreachable (delivered locally, replayed in order); 0 fails them at once", intIn(&o.outboxSize, 0, 1<<24)},
		{"outbox-bytes", "OUTBOX_BYTES", "67108864", "bytes held in the outbox at most", intIn(&o.outboxBytes, 1024, 1<<34)},
	}
}

// loadConfig reads the environment through getenv, then the flags in args.
// An invalid value stops start-up with an error naming the variable or flag.
func loadConfig(args []string, getenv func(string) string, usage io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bellhop", flag.ContinueOnError)
	fs.SetOutput(usage)
	for _, s := range o.settings() {
		val := s.def
		if v := getenv(s.env); v != "" {
			val = v
		}
		if err := s.set(val); err != nil {
			src := "environment variable " + s.env
			if val == s.def {
				src = "default of -" + s.flag
			}
			return nil, fmt.Errorf("invalid %s=%q: %w", src, val, err)
		}
		usage := fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def)
		if s.def == "true" || s.def == "false" {
			fs.BoolFunc(s.flag, usage, s.set) // -ssl alone means -ssl=true
		} else {
			fs.Func(s.flag, usage, s.set)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, o.check()
}

// check validates combinations of options.
func (o *options) check() error {
	if o.sslEnabled && (o.sslCert == "" || o.sslKey == "") {
		return errors.New("SSL_ENABLED=true needs SSL_CERT_PATH and SSL_KEY_PATH")
	}
	if o.echoPath != "" && o.echoPath == o.path {
		return fmt.Errorf("ECHO_PATH=%q must differ from WS_PATH", o.echoPath)
	}
	if o.engine.MaxMessageSize < o.engine.MaxFrameSize {
		return fmt.Errorf("MAX_MESSAGE_SIZE=%d must be at least MAX_FRAME_SIZE=%d", o.engine.MaxMessageSize, o.engine.MaxFrameSize)
	}
	if o.engine.PingInterval >= o.engine.IdleTimeout {
		return fmt.Errorf("PING_INTERVAL=%s must be shorter than IDLE_TIMEOUT=%s", o.engine.PingInterval, o.engine.IdleTimeout)
	}
	if o.enableMetrics && o.metricsPort == o.port && o.port != 0 {
		return fmt.Errorf("METRICS_PORT=%d must differ from WS_PORT", o.metricsPort)
	}
	return nil
}

func hours(p *time.Duration) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24*365 {
			return errors.New("want whole hours from 1 to 8760")
		}
		*p = time.Duration(n) * time.Hour
		return nil
	}
}

func str(p *string) func(string) error { return func(v string) error { *p = v; return nil } }

func boolean(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*p = b
		return nil
	}
}

func intIn(p *int, lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		*p = n
		return nil
	}
}

func int64In(p *int64, lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		*p = n
		return nil
	}
}

func duration(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("want a positive duration such as 30s")
		}
		*p = d
		return nil
	}
}

// durationOrOff maps 0 to a negative duration, which the engine reads as off.
func durationOrOff(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("want a duration such as 20s, or 0 to disable")
		}
		if d == 0 {
			d = -1
		}
		*p = d
		return nil
	}
}

func pathOf(p *string) func(string) error {
	return func(v string) error {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "?# ") {
			return errors.New("want a path starting with /")
		}
		*p = v
		return nil
	}
}

func optPath(p *string) func(string) error {
	return func(v string) error {
		if v == "" {
			*p = ""
			return nil
		}
		return pathOf(p)(v)
	}
}

func oneOf(p *string, allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				*p = v
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
	}
}

// floatOrOff parses a non-negative rate, or -1 for off.
func floatOrOff(p *float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || (f < 0 && f != -1) || f > 1e9 {
			return errors.New("want a non-negative number, or -1 for off")
		}
		*p = f
		return nil
	}
}

// prefixes parses comma-separated IPs and CIDRs ("none": empty).
func prefixes(p *[]netip.Prefix) func(string) error {
	return func(v string) error {
		*p = nil
		if strings.TrimSpace(v) == "none" {
			return nil
		}
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			pr, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return fmt.Errorf("%q is neither an IP nor a CIDR", s)
				}
				pr = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			*p = append(*p, pr.Masked())
		}
		return nil
	}
}

func list(p *[]string) func(string) error {
	return func(v string) error {
		*p = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*p = append(*p, s)
			}
		}
		return nil
	}
}

func lbOf(name *string, p *engine.LoadBalancing) func(string) error {
	return func(v string) error {
		lb, err := engine.ParseLoadBalancing(v)
		if err != nil {
			return err
		}
		*name, *p = v, lb
		return nil
	}
}

func level(p *slog.Level) func(string) error {
	return func(v string) error { return p.UnmarshalText([]byte(v)) }
}
