package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
)

// Client defaults.
const (
	DefaultConcurrency      = 64
	DefaultHandshakeTimeout = 10 * time.Second
	closeWait               = 3 * time.Second // Close waits this long for the server to close
)

// Handler receives a connection's events. Its methods run on the
// connection's event loop: they must not block, and they may call the
// loop-only methods of Conn.
type Handler interface {
	// OnUpgrade runs once the server accepted the upgrade, before Connect
	// hands the connection out.
	OnUpgrade(c *Conn)
	// OnMessage runs for each whole message; payload is valid only during
	// the call.
	OnMessage(c *Conn, op codec.OpCode, payload []byte)
	// OnClose runs once for an upgraded connection when it is gone. err is
	// nil when the client closed it, else why it ended.
	OnClose(c *Conn, err error)
}

// NopHandler ignores every event. Embed it to implement only some methods.
type NopHandler struct{}

// OnUpgrade does nothing.
func (NopHandler) OnUpgrade(*Conn) {}

// OnMessage does nothing.
func (NopHandler) OnMessage(*Conn, codec.OpCode, []byte) {}

// OnClose does nothing.
func (NopHandler) OnClose(*Conn, error) {}

// ClientConfig configures a Client. Only Target is required.
type ClientConfig struct {
	Target           Target        // endpoint; its Secure field selects wss
	Sources          []netip.Addr  // source addresses to rotate over; nil means DefaultSources
	Loops            int           // gnet event loops; 0 means 1
	TLS              *tls.Config   // wss client config; nil means TLS 1.2+ without verification (loopback only)
	Protocol         string        // subprotocol to offer; empty offers none
	MaxFrame         int64         // largest server frame payload accepted; 0 means DefaultMaxFrame
	HandshakeTimeout time.Duration // TCP connect, TLS and upgrade together; 0 means DefaultHandshakeTimeout
	Handler          Handler       // connection events; nil means NopHandler
	Stats            *Stats        // counters to update; nil means the Client's own
}

func (c ClientConfig) withDefaults() (ClientConfig, error) {
	if c.Sources == nil {
		src, err := ParseSources(DefaultSources)
		if err != nil {
			return c, err
		}
		c.Sources = src
	}
	c.Loops = cmp0(c.Loops, 1)
	c.MaxFrame = cmp0(c.MaxFrame, DefaultMaxFrame)
	c.HandshakeTimeout = cmp0(c.HandshakeTimeout, DefaultHandshakeTimeout)
	if c.Handler == nil {
		c.Handler = NopHandler{}
	}
	if c.Stats == nil {
		c.Stats = new(Stats)
	}
	if c.TLS == nil {
		c.TLS = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	}
	return c, nil
}

func (c ClientConfig) validate() error {
	if err := CheckLoopbackAddr(c.Target.Addr); err != nil {
		return err
	}
	for _, a := range c.Sources {
		if !loopback.Contains(a) {
			return fmt.Errorf("source %s: %w", a, ErrNotLoopback)
		}
	}
	switch {
	case c.Loops < 0 || c.Loops > 64:
		return fmt.Errorf("%w: Loops=%d, want 0 to 64", ErrBadConfig, c.Loops)
	case c.MaxFrame < 0 || c.HandshakeTimeout < 0:
		return fmt.Errorf("%w: negative MaxFrame or HandshakeTimeout", ErrBadConfig)
	}
	return nil
}

// cmp0 returns v, or def when v is zero.
func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Client opens WebSocket connections to one target and runs them on gnet
// event loops. Its methods are safe for concurrent use. Connect starts a
// bounded pool of dial workers for the duration of the call; Close stops
// them, closes every connection and stops the loops.
type Client struct {
	cfg     ClientConfig
	stats   *Stats
	gc      *gnet.Client
	ev      *events
	dialers []net.Dialer  // one per source address, read-only
	src     atomic.Uint64 // next source address
	open    atomic.Int64  // connections of this client upgraded and not closed
	latency Histogram     // TCP connect to 101 received, per upgraded connection

	quit    chan struct{}  // closed by Close: workers stop
	workers sync.WaitGroup // dial workers running
	mu      sync.Mutex     // guards closing (against workers starting) and conns
	closing atomic.Bool
	conns   []*Conn // every upgraded connection, for Close
}

// NewClient validates cfg and starts the client's event loops.
func NewClient(cfg ClientConfig) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cl := &Client{cfg: cfg, stats: cfg.Stats, quit: make(chan struct{})}
	for _, a := range cfg.Sources {
		cl.dialers = append(cl.dialers, net.Dialer{
			LocalAddr: &net.TCPAddr{IP: a.AsSlice()},
			Timeout:   cfg.HandshakeTimeout,
			Control:   bindNoPort,
		})
	}
	cl.ev = &events{cl: cl}
	cl.gc, err = gnet.NewClient(cl.ev,
		gnet.WithNumEventLoop(cfg.Loops),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(nopLogger{}))
	if err != nil {
		return nil, fmt.Errorf("cannot create gnet client: %w", err)
	}
	if err := cl.gc.Start(); err != nil {
		return nil, fmt.Errorf("cannot start gnet client: %w", err)
	}
	return cl, nil
}

// Stats returns the counters the client updates.
func (cl *Client) Stats() *Stats { return cl.stats }

// ConnectLatency returns the histogram of TCP connect (plus TLS) to upgrade
// latencies of every connection the client opened.
func (cl *Client) ConnectLatency() *Histogram { return &cl.latency }

// Open returns how many of the client's connections are upgraded and open.
func (cl *Client) Open() int64 { return cl.open.Load() }

// ConnectOptions tunes one Connect call.
type ConnectOptions struct {
	Concurrency int     // handshakes in flight at once (dial workers); 0 means DefaultConcurrency
	Rate        float64 // new connections per second over all workers; 0 means no pacing
}

// Connect opens n connections and returns the ones that upgraded, in no
// particular order. Failures are counted in Stats by kind; Connect returns
// early, with what it has, when ctx is done or the client closes.
func (cl *Client) Connect(ctx context.Context, n int, opt ConnectOptions) []*Conn {
	workers := min(cmp0(opt.Concurrency, DefaultConcurrency), n)
	results := make([][]*Conn, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		ok := cl.goWorker(func() {
			defer wg.Done()
			d := &dialWorker{cl: cl, done: make(chan error, 1)}
			results[w] = d.run(ctx, &next, int64(n), start, opt.Rate)
		})
		if !ok {
			wg.Done()
			break
		}
	}
	wg.Wait()
	return slices.Concat(results...)
}

// goWorker starts f in a goroutine owned by the client, unless the client
// is closing.
func (cl *Client) goWorker(f func()) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closing.Load() {
		return false
	}
	cl.workers.Add(1)
	go func() {
		defer cl.workers.Done()
		f()
	}()
	return true
}

func (cl *Client) register(c *Conn) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closing.Load() {
		return false
	}
	cl.conns = append(cl.conns, c)
	return true
}

// Close stops the dial workers, sends every open connection a close frame,
// waits up to a few seconds for the server to close them, then stops the
// event loops (which closes whatever is left). It returns ErrClientClosed
// when called twice.
func (cl *Client) Close() error {
	cl.mu.Lock()
	if cl.closing.Load() {
		cl.mu.Unlock()
		return ErrClientClosed
	}
	cl.closing.Store(true)
	conns := cl.conns
	cl.conns = nil
	cl.mu.Unlock()
	close(cl.quit)
	cl.workers.Wait()
	for _, c := range conns {
		_ = c.AsyncClose()
	}
	deadline := time.Now().Add(closeWait)
	for cl.open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return cl.gc.Stop()
}

// nopLogger silences gnet, which would otherwise log to stderr.
type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Fatalf(string, ...any) {}
