package engine

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
)

// maxLoops is the most event loops a server runs: topic routes keep one bit
// per loop in a uint64.
const maxLoops = 64

// Server is a WebSocket server on gnet event loops. Its exported methods are
// safe for concurrent use.
type Server struct {
	cfg     Config
	tls     atomic.Pointer[tls.Config]
	metrics *serverMetrics
	routes  *routes

	eng       gnet.Engine
	addr      net.Addr
	booted    chan struct{} // closed by OnBoot, after eng is set
	started   chan error    // receives gnet.Run's early failure
	done      chan error    // receives gnet.Run's result
	clock     atomic.Int64
	active    atomic.Int64 // connections open, handshaking included
	nextID    atomic.Uint64
	draining  atomic.Bool
	lastSweep int64 // OnTick's goroutine only
	stopOnce  sync.Once
	stopErr   error

	loopsMu sync.Mutex              // guards changes to loops
	loops   atomic.Pointer[[]*loop] // copy-on-write list of loops, by id
}

// New validates cfg and returns a server ready to Start.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if _, err := handshake.NewUpgrader(upgraderConfig(cfg)); err != nil {
		return nil, fmt.Errorf("engine: invalid handshake config: %w", err)
	}
	if cfg.Loops > maxLoops {
		return nil, fmt.Errorf("engine: Loops=%d exceeds the maximum of %d", cfg.Loops, maxLoops)
	}
	s := &Server{
		cfg:     cfg,
		routes:  newRoutes(),
		metrics: newServerMetrics(),
		booted:  make(chan struct{}),
		started: make(chan error, 1),
		done:    make(chan error, 1),
	}
	s.metrics.gauge("bellhop_connections_active", func() float64 { return float64(s.active.Load()) })
	s.tls.Store(cfg.TLS)
	s.clock.Store(time.Now().UnixNano())
	empty := []*loop{}
	s.loops.Store(&empty)
	for _, h := range cfg.Routes {
		if e, ok := h.(*Echo); ok {
			e.Bind(s)
		}
	}
	return s, nil
}

// Metrics returns the server's metric set, to be registered for /metrics.
func (s *Server) Metrics() *metrics.Set { return s.metrics.set }

// Start listens and serves on the event loops in the background. It returns
// once the server accepts connections, or with the error that stopped it.
func (s *Server) Start() error {
	opts := []gnet.Option{
		gnet.WithMulticore(s.cfg.Multicore),
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithLoadBalancing(s.cfg.LB),
		gnet.WithReusePort(s.cfg.ReusePort),
		gnet.WithReuseAddr(true),
		gnet.WithReadBufferCap(s.cfg.ReadBufferCap),
		gnet.WithWriteBufferCap(s.cfg.WriteBufferCap),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{s.cfg.Logger}),
	}
	go func() {
		err := gnet.Run(s, "tcp://"+s.cfg.Addr, opts...)
		select {
		case s.started <- err:
		default:
		}
		s.done <- err
	}()
	if err := s.waitBoot(); err != nil {
		return err
	}
	return nil
}

// waitBoot waits until the engine is listening and learns its address.
func (s *Server) waitBoot() error {
	select {
	case err := <-s.started:
		if err == nil {
			err = errors.New("engine: stopped during start")
		}
		return fmt.Errorf("engine: cannot listen on %s: %w", s.cfg.Addr, err)
	case <-s.booted:
		return s.learnAddr()
	case <-time.After(10 * time.Second):
		return errors.New("engine: start timed out")
	}
}

// learnAddr reads the bound address, which differs from the configured one
// when the port was 0.
func (s *Server) learnAddr() error {
	fd, err := s.eng.Dup()
	if err != nil {
		return fmt.Errorf("engine: cannot read listener address: %w", err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		s.addr = &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		s.addr = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// Addr returns the address the server listens on, once started.
func (s *Server) Addr() net.Addr { return s.addr }

// Port returns the listening port, once started.
func (s *Server) Port() string {
	if a, ok := s.addr.(*net.TCPAddr); ok {
		return strconv.Itoa(a.Port)
	}
	return ""
}

// Connections returns the number of open connections, handshaking included.
func (s *Server) Connections() int { return int(s.active.Load()) }

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// SetTLS replaces the TLS configuration for new connections.
func (s *Server) SetTLS(cfg *tls.Config) { s.tls.Store(cfg) }

func (s *Server) tlsConfig() *tls.Config { return s.tls.Load() }

// Publish sends m to every connection subscribed to topic, on every loop,
// except exclude (nil for none). It consumes the caller's reference to m.
// When a loop's queue is full (ErrOverloaded), that loop's subscribers of
// topic are closed with CloseSlowConsumer as soon as it catches up, so no
// one misses a message without knowing.
// Each loop with subscribers receives m once and writes the same bytes to
// all of them. Safe from any goroutine.
func (s *Server) Publish(topic string, m *Message, exclude *Conn) error {
	mask := s.routes.lookup(topic)
	loops := s.loopList()
	var err error
	for ; mask != 0; mask &= mask - 1 { // each loop with subscribers; no closure, no allocation
		i := bits.TrailingZeros64(mask)
		if i >= len(loops) {
			continue
		}
		m.retain(1)
		if e := loops[i].post(task{kind: taskPublish, topic: topic, msg: m, exclude: exclude}); e != nil {
			m.release()
			err = e
			if e == ErrOverloaded {
				loops[i].markLost(topic) // its subscribers resync rather than miss it unseen
			}
		}
	}
	s.metrics.published.Inc()
	m.release()
	return err
}

// Resync closes every subscriber of topic with CloseSlowConsumer, as a full
// loop queue does: for when the node learns that messages of topic were
// lost before they reached it (a broker gap the history could not fill),
// so the clients reconnect and recover, or get a fresh snapshot, instead of
// going on with a silent gap. Safe from any goroutine.
func (s *Server) Resync(topic string) {
	mask := s.routes.lookup(topic)
	loops := s.loopList()
	for ; mask != 0; mask &= mask - 1 {
		i := bits.TrailingZeros64(mask)
		if i >= len(loops) {
			continue
		}
		loops[i].markLost(topic)
		_ = loops[i].post(task{kind: taskDrain}) // run the loop's mailbox, which resyncs
	}
}

// Shutdown stops taking connections, sends close 1001 to every client,
// waits for them to close until ctx ends, then stops the engine.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.isBooted() {
		return ErrNotStarted
	}
	s.draining.Store(true)
	for _, l := range s.loopList() {
		_ = l.post(task{kind: taskShutdown})
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.active.Load() > 0 {
		select {
		case <-ctx.Done():
			cut := s.active.Load()
			if err := s.stop(); err != nil {
				return err
			}
			return fmt.Errorf("engine: shutdown deadline passed, %d connections cut: %w", cut, ctx.Err())
		case <-tick.C:
		}
	}
	return s.stop()
}

// stop ends the engine at once, closing what is left. It runs once; later
// callers wait for it and get ErrClosed.
func (s *Server) stop() error {
	first := false
	s.stopOnce.Do(func() {
		first = true
		// gnet's Stop polls for completion every 500 ms; gnet.Run returns as
		// soon as the loops are done, so wait for that instead.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.eng.Stop(ctx)
		}()
		select {
		case err := <-s.done:
			if err != nil {
				s.stopErr = fmt.Errorf("engine: %w", err)
			}
		case <-time.After(15 * time.Second):
			s.stopErr = errors.New("engine: stop timed out")
		}
	})
	if !first {
		return ErrClosed
	}
	return s.stopErr
}

// Close stops the server at once, without the closing handshake.
func (s *Server) Close() error {
	if !s.isBooted() {
		return ErrNotStarted
	}
	s.draining.Store(true)
	return s.stop()
}

func (s *Server) isBooted() bool {
	select {
	case <-s.booted:
		return true
	default:
		return false
	}
}

// now returns the coarse clock in Unix nanoseconds, advanced every tick.
func (s *Server) now() int64 { return s.clock.Load() }

func (s *Server) worthCompressing(n int) bool {
	return s.cfg.CompressThreshold >= 0 && n >= s.cfg.CompressThreshold
}

func upgraderConfig(cfg Config) handshake.Config {
	paths := make([]string, 0, len(cfg.Routes))
	for p := range cfg.Routes {
		paths = append(paths, p)
	}
	return handshake.Config{
		Paths:          paths,
		AllowedOrigins: cfg.AllowedOrigins,
		Protocols:      cfg.Protocols,
		Deflate:        cfg.Deflate,
	}
}

func (s *Server) upgraderConfig() handshake.Config { return upgraderConfig(s.cfg) }

// loopList returns the loops known so far, indexed by id.
func (s *Server) loopList() []*loop { return *s.loops.Load() }

// loopFor returns bellhop's state for a gnet loop, creating it on the
// loop's first connection. It runs on that loop.
func (s *Server) loopFor(el gnet.EventLoop) *loop {
	for _, l := range s.loopList() {
		if l.el == el {
			return l
		}
	}
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	old := s.loopList()
	l := newLoop(s, el)
	l.id = len(old)
	list := append(append(make([]*loop, 0, len(old)+1), old...), l)
	s.loops.Store(&list)
	s.metrics.loops.Store(uint64(len(list)))
	return l
}

// sweep checks the loop's connections for timeouts and pings. Loop only.
func (l *loop) sweep() {
	cfg := &l.srv.cfg
	now := l.srv.now()
	for i := 0; i < len(l.conns); i++ {
		c := l.conns[i]
		switch c.state {
		case stateHandshake:
			if now-c.timer >= int64(cfg.HandshakeTimeout) {
				c.reason = reasonHandshakeTimeout
				c.state = stateClosing
				l.closeTransport(c)
			}
		case stateOpen:
			idle := now - c.lastRead
			switch {
			case idle >= int64(cfg.IdleTimeout):
				l.closeConn(c, codec.CloseGoingAway, "idle timeout", reasonIdle, true)
			case cfg.PingInterval > 0 && idle >= int64(cfg.PingInterval) && now-c.timer >= int64(cfg.PingInterval):
				c.timer = now
				l.queueFrame(c, pingFrame, PriorityHigh)
				l.srv.metrics.pings.Inc()
			}
		case stateClosing:
			if now-c.timer >= int64(cfg.CloseTimeout) ||
				(c.reason == reasonSlowConsumer && c.gc.OutboundBuffered() == 0) {
				l.closeTransport(c)
			}
		}
	}
}

// pingFrame is an empty server ping.
var pingFrame = []byte{0x89, 0x00}
