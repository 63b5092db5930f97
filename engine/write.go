package engine

import (
	"github.com/bellhop/bellhop/codec"
)

// Frames queued during a callback wait in the loop's batch, chained per
// connection, and go out in one write per connection when the callback ends
// (flush). So a connection that receives several frames in one loop turn
// (a burst of broadcasts, an echo plus a pong) costs one syscall.
//
// While a connection keeps up, frames go straight to gnet. Once gnet holds
// more than lowWater bytes for it (the socket is slow), further frames wait
// in the connection's backlog, ordered by priority, and are written HIGH
// first as the socket drains (see backlog.go).

// Priority orders a slow connection's waiting frames: HIGH before MEDIUM
// before LOW. A connection that keeps up gets everything in arrival order.
type Priority uint8

// Priorities, highest first.
const (
	PriorityHigh Priority = iota
	PriorityMedium
	PriorityLow
	numPriorities
)

// pending is one frame queued for a connection during a callback.
type pending struct {
	b    []byte
	m    *Message // set when b is a shared message's frame
	prio Priority
	next int32 // next frame for the same connection, -1 at the end
}

// queue appends frame b to c's chain in the batch. b must stay valid until
// flush: it points into the arena or into a Message kept alive by l.refs.
func (l *loop) queue(c *Conn, b []byte, m *Message, prio Priority) {
	i := int32(len(l.batch))
	l.batch = append(l.batch, pending{b: b, m: m, prio: prio, next: -1})
	if c.pendHead < 0 {
		c.pendHead = i
		l.dirty = append(l.dirty, c)
	} else {
		l.batch[c.pendTail].next = i
	}
	c.pendTail = i
}

// queueFrame queues a frame encoded in the arena.
func (l *loop) queueFrame(c *Conn, b []byte, prio Priority) { l.queue(c, b, nil, prio) }

// queueShared queues a message whose reference the loop holds until flush.
func (l *loop) queueShared(c *Conn, m *Message) {
	l.queue(c, m.Frame(c.deflate), m, m.Priority)
}

// queueMessage queues a shared message to c, keeping it alive until flush.
func (l *loop) queueMessage(c *Conn, m *Message) {
	m.retain(1)
	l.refs = append(l.refs, m)
	l.queueShared(c, m)
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
		if c.closeAfter || (c.backlog == nil && c.gc.OutboundBuffered() <= l.srv.cfg.WriteBufferCap) {
			l.write(c, head) // a closing connection skips its backlog: its close frame goes now
		} else {
			l.toBacklog(c, head)
			l.drainBacklog(c)
		}
		l.afterWrite(c)
	}
	l.drainBacklogs()
	for i := range l.dirty {
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
	clear(l.batch)
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

// afterWrite enforces the outbound budget and closes c when it asked to.
func (l *loop) afterWrite(c *Conn) {
	if c.state == stateClosed {
		return
	}
	if c.backlog != nil && c.backlog.bytes > l.srv.cfg.MaxOutbound && c.reason != reasonSlowConsumer {
		// The close frame goes behind what gnet holds; the transport closes
		// when the client answers or after CloseTimeout, so a client that
		// resumes reading learns why.
		l.srv.metrics.slowConsumers.Inc()
		c.reason = reasonSlowConsumer
		c.closeCode = CloseSlowConsumer
		c.state = stateClosing
		c.timer = l.srv.now()
		l.dropBacklog(c)
		var buf [codec.MaxControlPayload + 4]byte
		l.writeNow(c, codec.AppendCloseFrame(buf[:0], CloseSlowConsumer, "slow consumer: reconnect and resync"))
	}
	if c.closeAfter && c.state != stateClosed {
		l.dropBacklog(c)
		l.sendFlight(c)
		_ = c.gc.Close()
	}
}

// write sends the chain of frames starting at head to c in one write.
func (l *loop) write(c *Conn, head int32) {
	if head < 0 {
		return
	}
	if l.batch[head].next < 0 {
		l.writeNow(c, l.batch[head].b)
		return
	}
	iov := l.iov[:0]
	for i := head; i >= 0; i = l.batch[i].next {
		if len(l.batch[i].b) > 0 {
			iov = append(iov, l.batch[i].b)
		}
	}
	l.writev(c, iov)
	clear(iov)
	l.iov = iov[:0]
}

// writev writes several frames in one syscall (one TLS write when wss).
func (l *loop) writev(c *Conn, iov [][]byte) {
	if c.state == stateClosed || len(iov) == 0 {
		return
	}
	if c.tc != nil {
		buf := l.tlsOut[:0]
		for _, b := range iov {
			buf = append(buf, b...)
		}
		l.tlsOut = buf
		l.writeNow(c, buf)
		return
	}
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	if len(iov) > maxStackIovecs && n <= maxJoin {
		// writev(2) through x/sys allocates past 8 iovecs; copying a few
		// small frames into one buffer is cheaper than the allocation.
		buf := l.tlsOut[:0]
		for _, b := range iov {
			buf = append(buf, b...)
		}
		l.tlsOut = buf
		l.stats.framesOut += len(iov) - 1
		l.writeNow(c, buf)
		return
	}
	l.stats.framesOut += len(iov)
	l.stats.bytesOut += n
	for len(iov) > iovMax { // more buffers in one writev(2) fail with EINVAL, and gnet drops the connection
		l.stats.writes++
		_, _ = c.gc.Writev(iov[:iovMax])
		iov = iov[iovMax:]
	}
	l.stats.writes++
	_, _ = c.gc.Writev(iov)
}

// Joining frames for one write: up to maxStackIovecs go to writev as they
// are; more, totalling at most maxJoin bytes, are copied into one buffer.
const (
	maxStackIovecs = 8
	maxJoin        = 256 << 10
	iovMax         = 1024 // IOV_MAX on Linux: the most buffers one writev(2) takes
)

// writeNow writes b to c at once, through TLS when wss.
func (l *loop) writeNow(c *Conn, b []byte) {
	if c.state == stateClosed || len(b) == 0 {
		return
	}
	l.stats.framesOut++
	l.stats.bytesOut += len(b)
	if c.tc != nil {
		prev := l.startGather(c)
		_, err := c.tc.Write(b)
		l.endGather(c, prev)
		if err != nil && c.state != stateClosed {
			l.sendFlight(c)
			_ = c.gc.Close()
		}
		return
	}
	l.stats.writes++
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
		l.sendFlight(c)
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
	l.queueFrame(c, l.arena[start:len(l.arena):len(l.arena)], PriorityHigh)
}

// markDirty makes sure flush visits c even with nothing queued.
func (l *loop) markDirty(c *Conn) {
	if c.pendHead < 0 {
		l.queueFrame(c, nil, PriorityHigh)
	}
}
