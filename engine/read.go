package engine

import (
	"errors"
	"sync"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
)

// bufPool recycles reassembly and TLS plaintext buffers, so an idle
// connection holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// consume processes the inbound bytes in b (plaintext) and returns how many
// it used. Unused bytes are a partial head or frame; the caller keeps them.
func (l *loop) consume(c *Conn, b []byte) int {
	c.lastRead = l.srv.now()
	n := 0
	if c.state == stateHandshake {
		n = l.readHead(c, b)
		if c.state != stateOpen {
			return n
		}
	}
	for c.state == stateOpen || c.state == stateClosing {
		f, m, err := c.parser.Next(b[n:], &l.limits)
		if err == codec.ErrNeedMore {
			c.need = m // whole frame length once its header is in, else 0
			break
		}
		if err != nil {
			l.fail(c, err)
			return len(b)
		}
		n += m
		l.frame(c, &f)
	}
	if c.state == stateClosed {
		return len(b)
	}
	return n
}

// readHead waits for a complete request head and runs the upgrade.
func (l *loop) readHead(c *Conn, b []byte) int {
	n, err := handshake.FindHead(b, l.srv.cfg.MaxHeadSize)
	if err != nil {
		status, reason := 400, "malformed request"
		var he *handshake.Error
		if errors.As(err, &he) {
			status, reason = he.Status, he.Reason
		}
		l.reject(c, status, reason)
		return len(b)
	}
	if n == 0 {
		return 0
	}
	if c.full {
		l.reject(c, 503, "too many connections")
		return len(b)
	}
	req, err := l.upgrader.UpgradeWith(b[:n], l.transport(c), l.srv.admitHead(c))
	if err != nil {
		l.srv.metrics.handshakeFailed(err)
		c.reason = reasonHandshakeFailed
		c.state = stateClosing
		l.closeTransport(c)
		return len(b)
	}
	l.srv.metrics.handshakes.Inc()
	c.state = stateOpen
	c.deflate = req.Deflate
	c.parser.Deflate = req.Deflate
	c.handler = l.srv.cfg.Routes[req.Path]
	c.timer = l.srv.now()
	c.handler.OnOpen(c, &req)
	return n
}

// reject answers the request with an HTTP error and closes.
func (l *loop) reject(c *Conn, status int, reason string) {
	l.srv.metrics.handshakeRejected(status)
	c.reason = reasonHandshakeFailed
	if status == 503 {
		c.reason = reasonFull
	}
	resp := handshake.AppendResponse(l.arena[len(l.arena):], status, reason)
	_, _ = l.transport(c).Write(resp)
	c.state = stateClosing
	l.closeTransport(c)
}

// frame handles one parsed frame.
func (l *loop) frame(c *Conn, f *codec.Frame) {
	l.stats.framesIn++
	switch f.OpCode {
	case codec.OpPing:
		if c.state == stateOpen {
			if !l.allowPing(c) {
				l.tooFast(c, "ping")
				return
			}
			start := len(l.arena)
			l.arena = codec.AppendFrame(l.arena, codec.OpPong, f.Payload, false)
			l.queueFrame(c, l.arena[start:len(l.arena):len(l.arena)], PriorityHigh)
		}
	case codec.OpPong:
		// Any inbound bytes already refreshed lastRead.
	case codec.OpClose:
		l.peerClosed(c, f.Payload)
	default:
		if c.state == stateOpen {
			l.data(c, f)
		}
	}
}

// peerClosed answers the peer's close frame (echoing its code) and closes.
func (l *loop) peerClosed(c *Conn, payload []byte) {
	code, _, _ := codec.ParseClose(payload) // validated by the parser
	if c.state == stateClosing {
		c.closeAfter = true
		l.markDirty(c)
		return
	}
	if code == codec.CloseNoStatus {
		code = codec.CloseNormal
	}
	c.closeCode = code
	l.closeConn(c, code, "", reasonPeer, true)
}

// data collects a data frame into its message and delivers whole messages.
func (l *loop) data(c *Conn, f *codec.Frame) {
	payload := f.Payload
	if !f.Fin || f.OpCode == codec.OpContinuation {
		if c.frag == nil {
			c.frag = getBuf()
		}
		*c.frag = append(*c.frag, f.Payload...)
		if !f.Fin {
			return
		}
		payload = *c.frag
	}
	if f.Compressed {
		out, err := l.inflate.Append(l.msgBuf[:0], payload, l.limits.MaxMessageSize)
		l.msgBuf = out[:0]
		if err != nil {
			l.releaseFrag(c)
			l.fail(c, err)
			return
		}
		if f.Message == codec.OpText && !codec.ValidUTF8(out) {
			l.releaseFrag(c)
			l.fail(c, codec.ErrInvalidUTF8)
			return
		}
		payload = out
	}
	l.stats.messagesIn++
	if !l.allowMessage(c) {
		l.releaseFrag(c)
		l.tooFast(c, "message")
		return
	}
	c.handler.OnMessage(c, f.Message, payload)
	l.releaseFrag(c)
}

func (l *loop) releaseFrag(c *Conn) {
	if c.frag != nil {
		putBuf(c.frag)
		c.frag = nil
	}
}

// fail closes c after a protocol violation with the error's close code.
func (l *loop) fail(c *Conn, err error) {
	code := codec.CloseCode(err)
	reason := "protocol error"
	var pe *codec.ProtocolError
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	why := reasonProtocol
	if code == codec.CloseMessageTooBig {
		why = reasonTooBig
	}
	l.violation(c)
	if c.state == stateClosing {
		c.closeAfter = true
		l.markDirty(c)
		return
	}
	l.closeConn(c, code, reason, why, true)
}
