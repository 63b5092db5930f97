package engine

import (
	"github.com/bellhop/bellhop/codec"
)

// Frames queued during a callback wait in the loop's batch, chained per
// connection, and go out in one write per connection when the callback ends
// (flush). So a connection that receives several frames in one loop turn
// (a burst of broadcasts, an echo plus a pong) costs one syscall.

// queue appends frame b to c's chain in the batch. b must stay valid until
// flush: it points into the arena or into a retained Message.
func (l *loop) queue(c *Conn, b []byte) {
	i := int32(len(l.batch))
	l.batch = append(l.batch, pending{b: b, next: -1})
	if c.pendHead < 0 {
		c.pendHead = i
		l.dirty = append(l.dirty, c)
	} else {
		l.batch[c.pendTail].next = i
	}
	c.pendTail = i
}

// queueMessage queues a shared message to c, keeping it alive until flush.
func (l *loop) queueMessage(c *Conn, m *Message) {
	m.retain(1)
	l.refs = append(l.refs, m)
	l.queue(c, m.Frame(c.deflate))
}

func (l *loop) encodeDeflated(dst []byte, op codec.OpCode, payload []byte) []byte {
	return appendDeflatedFrame(dst, l.compress, op, payload)
}

// flush writes every connection's queued frames, enforces the outbound
// budget and closes connections that asked for it.
func (l *loop) flush() {
	for i := 0; i < len(l.dirty); i++ { // writes may close connections and append more
		c := l.dirty[i]
		head := c.pendHead
		c.pendHead, c.pendTail = -1, -1
		if c.state == stateClosed {
			continue
		}
		l.write(c, head)
		if c.state == stateClosed {
			continue
		}
		if c.gc.OutboundBuffered() > l.srv.cfg.MaxOutbound && c.reason != reasonSlowConsumer {
			l.srv.metrics.slowConsumers.Inc()
			c.reason = reasonSlowConsumer
			c.state = stateClosing
			c.closeAfter = true
			l.writeNow(c, codec.AppendCloseFrame(l.arena[len(l.arena):], CloseSlowConsumer, "slow consumer: reconnect and resync"))
		}
		if c.closeAfter && c.state != stateClosed {
			_ = c.gc.Close()
		}
	}
	for i := range l.dirty {
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
	for i := range l.batch {
		l.batch[i].b = nil
	}
	l.batch = l.batch[:0]
	for i, m := range l.refs {
		m.release()
		l.refs[i] = nil
	}
	l.refs = l.refs[:0]
	l.srv.metrics.add(&l.stats)
	if cap(l.arena) > 1<<20 {
		l.arena = nil // a burst grew it; do not keep the memory
	}
	l.arena = l.arena[:0]
}

// write sends the chain of frames starting at head to c in one write.
func (l *loop) write(c *Conn, head int32) {
	if head < 0 {
		return
	}
	first := l.batch[head]
	if first.next < 0 {
		l.writeNow(c, first.b)
		return
	}
	if c.tc != nil {
		buf := l.tlsOut[:0]
		for i := head; i >= 0; i = l.batch[i].next {
			buf = append(buf, l.batch[i].b...)
		}
		l.tlsOut = buf
		l.writeNow(c, buf)
		return
	}
	iov := l.iov[:0]
	n := 0
	for i := head; i >= 0; i = l.batch[i].next {
		iov = append(iov, l.batch[i].b)
		n += len(l.batch[i].b)
	}
	l.stats.framesOut += len(iov)
	l.stats.bytesOut += n
	_, _ = c.gc.Writev(iov)
	for i := range iov {
		iov[i] = nil
	}
	l.iov = iov[:0]
}

// writeNow writes b to c at once, through TLS when wss.
func (l *loop) writeNow(c *Conn, b []byte) {
	if c.state == stateClosed || len(b) == 0 {
		return
	}
	l.stats.framesOut++
	l.stats.bytesOut += len(b)
	if c.tc != nil {
		if _, err := c.tc.Write(b); err != nil && c.state != stateClosed {
			_ = c.gc.Close()
		}
		return
	}
	_, _ = c.gc.Write(b)
}

// closeConn starts closing c with a close frame. With fail set (a protocol
// error, or the peer already sent its close frame) the transport closes as
// soon as the frame is written; otherwise the peer has CloseTimeout to
// answer.
func (l *loop) closeConn(c *Conn, code codec.StatusCode, reason string, why closeReason, fail bool) {
	switch c.state {
	case stateClosed:
		return
	case stateHandshake:
		c.reason = why
		c.state = stateClosing
		_ = c.gc.Close()
		return
	case stateClosing:
		if fail {
			c.closeAfter = true
			l.markDirty(c)
		}
		return
	}
	c.state = stateClosing
	c.reason = why
	c.closeCode = code
	c.closeAfter = fail
	c.timer = l.srv.now()
	start := len(l.arena)
	l.arena = codec.AppendCloseFrame(l.arena, code, reason)
	l.queue(c, l.arena[start:len(l.arena):len(l.arena)])
}

// markDirty makes sure flush visits c even with nothing queued.
func (l *loop) markDirty(c *Conn) {
	if c.pendHead < 0 {
		l.queue(c, nil)
	}
}
