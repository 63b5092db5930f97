package engine

import (
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
)

// gnet calls these methods: OnBoot on the goroutine that called gnet.Run,
// OnOpen, OnTraffic and OnClose on the connection's event loop, OnTick on a
// ticker goroutine of its own, OnShutdown when the engine stops.

// OnBoot records the engine and reports the server ready.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

// OnShutdown is called when the engine stops.
func (s *Server) OnShutdown(gnet.Engine) {}

// OnOpen sets up a new connection on its loop. Over MaxConnections it is
// answered with HTTP 503 once its request head arrives.
func (s *Server) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	l := s.loopFor(gc.EventLoop())
	now := s.now()
	ip := peerIP(gc)
	c := &Conn{
		gc:       gc,
		loop:     l,
		lastRead: now,
		timer:    now,
		pendHead: -1,
		pendTail: -1,
		id:       s.nextID.Add(1),
		ip:       ip,
	}
	if out, refused := s.admitOpen(c); refused {
		return out, gnet.Close // not registered: OnClose finds no Conn
	}
	if s.active.Add(1) > int64(s.cfg.MaxConnections) || s.draining.Load() {
		c.full = true
	}
	if tlsCfg := s.tlsConfig(); tlsCfg != nil {
		c.tc = tls.NewConn(&tlsWire{Conn: gc, c: c}, tlsCfg, false, true)
	}
	gc.SetContext(c)
	l.register(c)
	s.metrics.accepted.Inc()
	return nil, gnet.None
}

// OnTraffic reads what arrived: TLS records, the request head, frames.
func (s *Server) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok || c.state == stateClosed {
		_, _ = gc.Discard(-1)
		return gnet.None
	}
	l := c.loop
	if c.proxyWait && !l.readProxy(c) {
		l.flush()
		return gnet.None
	}
	if c.tc != nil {
		l.readTLS(c)
	} else {
		l.readPlain(c)
	}
	l.flush()
	return gnet.None
}

// readPlain parses straight from gnet's buffer. A partial frame stays in
// gnet's inbound ring until enough bytes arrived.
func (l *loop) readPlain(c *Conn) {
	if c.need > 0 && c.gc.InboundBuffered() < c.need {
		c.lastRead = l.srv.now()
		return
	}
	buf, _ := c.gc.Peek(-1)
	l.stats.bytesIn += len(buf)
	c.need = 0
	n := l.consume(c, buf)
	if n > 0 && c.state != stateClosed { // Discard(0) would drop everything
		_, _ = c.gc.Discard(n)
	}
}

// OnClose releases the connection's state.
func (s *Server) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok || c.state == stateClosed {
		return gnet.None
	}
	wasOpen := c.handler != nil
	c.state = stateClosed
	if c.admitted {
		s.cfg.Guard.Release(c.ip)
	}
	l := c.loop
	l.unregister(c)
	l.dropBacklog(c)
	l.releaseFrag(c)
	if c.tlsIn != nil {
		putBuf(c.tlsIn)
		c.tlsIn = nil
	}
	if c.tc != nil {
		_ = c.tc.Close()
	}
	s.active.Add(-1)
	if c.closeCode == 0 {
		c.closeCode = codec.CloseAbnormal // the transport dropped without a close frame
	}
	s.metrics.closed(c.reason, c.closeCode)
	if wasOpen {
		c.handler.OnClose(c, c.closeCode)
	}
	gc.SetContext(nil)
	return gnet.None
}

// drainTick is how often loops with slow sockets retry their backlogs.
const drainTick = 20 * time.Millisecond

// OnTick advances the coarse clock, asks loops with backlogs to retry them
// and, every TickInterval, asks every loop to check its timers.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	now := time.Now().UnixNano()
	s.clock.Store(now)
	sweep := now-s.lastSweep >= int64(s.cfg.TickInterval)
	if sweep {
		s.lastSweep = now
	}
	for _, l := range s.loopList() {
		switch {
		case sweep:
			_ = l.post(task{kind: taskSweep})
		case l.hasBacklog.Load():
			_ = l.post(task{kind: taskDrain})
		}
	}
	return min(drainTick, s.cfg.TickInterval), gnet.None
}
