package engine

import (
	"net"
	"net/netip"
	"strings"

	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
)

// CloseTooFast closes a connection that sent messages or pings faster than
// its limits allow (like HTTP 429). Its IP is charged with a violation.
const CloseTooFast codec.StatusCode = 4029

// Guard admits connections and messages per client IP (engine/guard
// implements it). Its methods run on the event loops and must not block.
type Guard interface {
	// Admit decides on a connection from ip: 0 admits it, else the HTTP
	// status it is refused with (403 blacklisted, 429 over a limit).
	Admit(ip netip.Addr) int
	// Release is told when an admitted connection closed.
	Release(ip netip.Addr)
	// Message takes one inbound message from ip's budget; false: none left.
	Message(ip netip.Addr) bool
	// Violation charges ip with abuse (a protocol error, a flood, a refused token).
	Violation(ip netip.Addr)
	// Allowed reports whether ip is trusted: no limit applies to it.
	Allowed(ip netip.Addr) bool
}

// peerIP returns the TCP peer's address.
func peerIP(gc gnet.Conn) netip.Addr {
	if a, ok := gc.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// trusted reports whether ip is one of the proxies whose X-Forwarded-For
// is believed.
func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP returns the client behind trusted proxies: the right-most
// address of X-Forwarded-For that is not itself a trusted proxy (the
// left-most ones are whatever the client wrote). peer when there is none.
func (s *Server) clientIP(peer netip.Addr, xff string) netip.Addr {
	ip := peer
	for xff != "" {
		i := strings.LastIndexByte(xff, ',')
		hop := strings.TrimSpace(xff[i+1:])
		xff = xff[:max(i, 0)]
		a, err := netip.ParseAddr(hop)
		if err != nil {
			return ip // a garbled hop: stop at the last one we trust
		}
		ip = a.Unmap()
		if !s.trusted(ip) {
			return ip
		}
		if i < 0 {
			break
		}
	}
	return ip
}

// admitOpen runs the guard on a new TCP connection. Behind a trusted
// proxy the decision waits for the request head (admitHead). It returns
// the bytes to answer a refusal with and whether to refuse.
func (s *Server) admitOpen(c *Conn) (refusal []byte, refused bool) {
	if s.cfg.ProxyProtocol && c.ip.IsValid() && s.trusted(c.ip) {
		c.proxyWait = true // the header names the client; judged then (readProxy)
		return nil, false
	}
	if s.cfg.Guard == nil || !c.ip.IsValid() {
		return nil, false
	}
	if s.trusted(c.ip) {
		c.viaProxy = true
		return nil, false
	}
	status := s.judge(c)
	if status == 0 {
		return nil, false
	}
	if s.tlsConfig() != nil {
		return nil, true // no TLS for a refused client: the cheapest answer is none
	}
	return handshake.AppendResponse(nil, status, refusalReason(status)), true
}

// judge runs the guard on c's client (c.ip): 0 admits it (marking it
// admitted, or unlimited when allow-listed), else the refusal's status,
// counted.
func (s *Server) judge(c *Conn) int {
	g := s.cfg.Guard
	if g.Allowed(c.ip) {
		c.unlimited = true
		return 0
	}
	status := g.Admit(c.ip)
	if status == 0 {
		c.admitted = true
		return 0
	}
	s.metrics.refused(status)
	return status
}

func refusalReason(status int) string {
	if status == 403 {
		return "blocked"
	}
	return "too many connections"
}

// admitHead is the guard's check of a proxied connection, run on its
// request head before the 101 answer: the client is named by X-Forwarded-For.
func (s *Server) admitHead(c *Conn) func(r *handshake.Request) *handshake.Error {
	if !c.viaProxy {
		return nil
	}
	return func(r *handshake.Request) *handshake.Error {
		c.ip = s.clientIP(c.ip, r.ForwardedFor)
		if status := s.judge(c); status != 0 {
			return &handshake.Error{Status: status, Reason: refusalReason(status)}
		}
		return nil
	}
}

// allowMessage applies the connection's and its IP's message budgets.
// Loop only.
func (l *loop) allowMessage(c *Conn) bool {
	if c.unlimited {
		return true
	}
	cfg := &l.srv.cfg
	if cfg.MessageRate > 0 {
		now := l.srv.now()
		if c.msgLast == 0 {
			c.msgTok, c.msgLast = float32(cfg.MessageBurst), now
		}
		c.msgTok = min(float32(cfg.MessageBurst), c.msgTok+float32(float64(now-c.msgLast)/1e9*cfg.MessageRate))
		c.msgLast = now
		if c.msgTok < 1 {
			return false
		}
		c.msgTok--
	}
	return cfg.Guard == nil || !c.ip.IsValid() || cfg.Guard.Message(c.ip)
}

// allowPing counts a ping against PingRate per second. Loop only.
func (l *loop) allowPing(c *Conn) bool {
	rate := l.srv.cfg.PingRate
	if rate <= 0 || c.unlimited {
		return true
	}
	sec := l.srv.now() / 1e9
	if sec != c.pingSec {
		c.pingSec, c.pings = sec, 0
	}
	c.pings++
	return int(c.pings) <= rate
}

// tooFast closes c for a flood and charges its IP. Loop only.
func (l *loop) tooFast(c *Conn, what string) {
	l.srv.metrics.rateLimited.Inc()
	l.violation(c)
	l.closeConn(c, CloseTooFast, what+" rate limit exceeded", reasonRateLimit, true)
}

// violation charges c's IP with abuse. Loop only.
func (l *loop) violation(c *Conn) {
	if g := l.srv.cfg.Guard; g != nil && c.ip.IsValid() && !c.unlimited {
		g.Violation(c.ip)
	}
}

// readProxy reads the PROXY protocol header a trusted balancer sends first,
// takes the client it names, and runs the guard on that client. It reports
// whether the connection goes on (false: wait for more bytes, or closed).
// Loop only.
func (l *loop) readProxy(c *Conn) bool {
	buf, _ := c.gc.Peek(-1)
	src, n, err := parseProxyHeader(buf)
	if err != nil {
		l.srv.metrics.handshakeRejected(400)
		c.reason, c.state = reasonHandshakeFailed, stateClosing
		_ = c.gc.Close()
		return false
	}
	if n == 0 {
		return false // the header is not all here yet; HandshakeTimeout bounds the wait
	}
	_, _ = c.gc.Discard(n)
	c.proxyWait = false
	if src.IsValid() {
		c.ip = src.Unmap()
	}
	if l.srv.cfg.Guard == nil {
		return true
	}
	status := l.srv.judge(c)
	if status == 0 {
		return true
	}
	c.reason, c.state = reasonHandshakeFailed, stateClosing
	if c.tc == nil {
		l.stats.writes++
		_, _ = c.gc.Write(handshake.AppendResponse(nil, status, refusalReason(status)))
	}
	_ = c.gc.Close()
	return false
}
