package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"
)

// Defaults for Config fields left at their zero value. They are the values of
// the spec's environment variables where it names one.
const (
	DefaultAddr              = "0.0.0.0:3001"
	DefaultMaxConnections    = 10000
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultPingInterval      = 20 * time.Second
	DefaultCloseTimeout      = 5 * time.Second
	DefaultMaxHeadSize       = 8 << 10
	DefaultMaxFrameSize      = 1 << 20
	DefaultMaxMessageSize    = 1 << 20
	DefaultMaxFragments      = 1024
	DefaultMaxOutbound       = 4 << 20
	DefaultCompressThreshold = 512
	DefaultReadBufferCap     = 64 << 10
	DefaultWriteBufferCap    = 64 << 10
	DefaultTickInterval      = 500 * time.Millisecond
)

// LoadBalancing picks the event loop for a new connection.
type LoadBalancing = gnet.LoadBalancing

// Load-balancing algorithms, as gnet names them.
const (
	RoundRobin       = gnet.RoundRobin
	LeastConnections = gnet.LeastConnections
	SourceAddrHash   = gnet.SourceAddrHash
)

// ParseLoadBalancing maps "round-robin", "least-connections" and
// "source-addr-hash" to their algorithm.
func ParseLoadBalancing(s string) (LoadBalancing, error) {
	switch strings.ToLower(s) {
	case "round-robin", "roundrobin", "rr", "":
		return RoundRobin, nil
	case "least-connections", "leastconnections", "lc":
		return LeastConnections, nil
	case "source-addr-hash", "sourceaddrhash", "hash":
		return SourceAddrHash, nil
	}
	return 0, fmt.Errorf("engine: unknown load balancing %q (want round-robin, least-connections or source-addr-hash)", s)
}

// Config configures a Server. Durations and sizes at zero take the Default
// constants; fields documented otherwise say what zero means.
type Config struct {
	Addr      string        // listen address host:port; "127.0.0.1:0" picks a free port
	Loops     int           // event loops; 0 means one per CPU when Multicore, else 1
	Multicore bool          // one event loop per CPU (Loops overrides the count)
	LB        LoadBalancing // how new connections are spread over loops
	ReusePort bool          // one SO_REUSEPORT listener per loop; the kernel spreads connections

	ReadBufferCap  int // bytes read per read(2); also the per-loop read buffer
	WriteBufferCap int // bytes of a connection's outbound ring before gnet spills to a list

	MaxConnections   int           // open connections on this server; more get HTTP 503
	HandshakeTimeout time.Duration // from accept (or TLS start) to a complete upgrade
	IdleTimeout      time.Duration // without any inbound frame, pongs included, before closing
	PingInterval     time.Duration // server pings a connection silent this long; negative disables
	CloseTimeout     time.Duration // wait for the peer's close frame after ours

	MaxHeadSize    int   // request head bytes before answering 431
	MaxFrameSize   int64 // largest frame payload; larger frames close with 1009
	MaxMessageSize int64 // largest message, also after inflating; larger close with 1009
	MaxFragments   int   // most frames in one message; more close with 1008
	MaxOutbound    int   // bytes queued to a connection before it is closed as a slow consumer

	Deflate           bool // accept permessage-deflate offers
	CompressThreshold int  // compress outgoing messages of at least this many bytes; negative never

	AllowedOrigins []string // Origin allow-list; empty allows any (see codec/handshake)
	Protocols      []string // subprotocols offered, in preference order

	TLS *tls.Config // non-nil serves wss; TLS runs on the event loops

	// Per-connection limits; zero or negative turns a limit off. A
	// connection over one is closed with CloseTooFast (4029).
	MessageRate  float64 // inbound data messages per second
	MessageBurst int     // messages at once (0 means 2×MessageRate)
	PingRate     int     // pings per second

	// Guard admits connections and messages per client IP; nil admits all.
	Guard Guard
	// TrustedProxies are the peers (load balancers) whose X-Forwarded-For
	// names the client; the guard then judges that client, on its request head.
	TrustedProxies []netip.Prefix
	// ProxyProtocol: TrustedProxies open every connection with a PROXY
	// protocol header (version 1 or 2, before TLS) naming the client, which
	// the guard judges instead; a connection from them without one is closed.
	ProxyProtocol bool

	Routes map[string]Handler // request path to handler; at least one
	Logger *slog.Logger       // nil discards

	TickInterval time.Duration // how often timers (idle, ping, handshake) are checked
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	defInt(&c.MaxConnections, DefaultMaxConnections)
	if c.MessageRate > 0 && c.MessageBurst <= 0 {
		c.MessageBurst = max(1, int(2*c.MessageRate))
	}
	def(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.PingInterval, DefaultPingInterval)
	def(&c.CloseTimeout, DefaultCloseTimeout)
	def(&c.TickInterval, DefaultTickInterval)
	defInt(&c.MaxHeadSize, DefaultMaxHeadSize)
	defInt(&c.MaxFragments, DefaultMaxFragments)
	defInt(&c.MaxOutbound, DefaultMaxOutbound)
	defInt(&c.CompressThreshold, DefaultCompressThreshold)
	defInt(&c.ReadBufferCap, DefaultReadBufferCap)
	defInt(&c.WriteBufferCap, DefaultWriteBufferCap)
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(len(c.Routes) > 0, "engine: no routes configured")
	for path, h := range c.Routes {
		check(strings.HasPrefix(path, "/"), "engine: route %q must start with /", path)
		check(h != nil, "engine: route %q has no handler", path)
	}
	check(c.Loops >= 0, "engine: Loops=%d must not be negative", c.Loops)
	check(c.MaxConnections > 0, "engine: MaxConnections=%d must be positive", c.MaxConnections)
	check(c.MaxFrameSize > 0, "engine: MaxFrameSize=%d must be positive", c.MaxFrameSize)
	check(c.MaxMessageSize >= c.MaxFrameSize,
		"engine: MaxMessageSize=%d must be at least MaxFrameSize=%d", c.MaxMessageSize, c.MaxFrameSize)
	check(c.MaxHeadSize >= 512, "engine: MaxHeadSize=%d must be at least 512", c.MaxHeadSize)
	check(c.MaxOutbound >= 4096, "engine: MaxOutbound=%d must be at least 4096", c.MaxOutbound)
	check(c.MaxFragments > 0, "engine: MaxFragments=%d must be positive", c.MaxFragments)
	check(c.IdleTimeout > 0, "engine: IdleTimeout=%s must be positive", c.IdleTimeout)
	check(c.PingInterval < c.IdleTimeout,
		"engine: PingInterval=%s must be shorter than IdleTimeout=%s", c.PingInterval, c.IdleTimeout)
	check(c.ReadBufferCap >= 1024, "engine: ReadBufferCap=%d must be at least 1024", c.ReadBufferCap)
	check(c.WriteBufferCap >= 1024, "engine: WriteBufferCap=%d must be at least 1024", c.WriteBufferCap)
	return errors.Join(errs...)
}
