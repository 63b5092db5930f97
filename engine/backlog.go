package engine

import "sync"

// backlog holds the frames of a connection whose socket is slow: gnet
// already holds more than WriteBufferCap bytes for it. Frames wait in one
// FIFO lane per priority and are written HIGH first as the socket drains. A
// frame with a conflation key replaces an older waiting frame with the same
// key (only the latest room status matters). The backlog is owned by the
// connection's loop, made when the socket first falls behind and recycled
// when it caught up, so a connection that keeps up holds none.
type backlog struct {
	lanes [numPriorities][]*Message // waiting frames, oldest first; nil entries were conflated away
	base  [numPriorities]int        // frames ever taken from each lane's front
	keys  map[uint64]slot           // conflation key to its waiting frame
	bytes int                       // bytes waiting, for the MaxOutbound budget
}

// slot locates a waiting frame: lanes[prio][pos-base[prio]].
type slot struct {
	prio Priority
	pos  int
}

var backlogPool = sync.Pool{New: func() any { return &backlog{keys: make(map[uint64]slot)} }}

// drainBatch bounds the frames written per writev while draining.
const drainBatch = 64

// toBacklog moves the chain of queued frames starting at head into c's
// backlog. Shared messages are retained; loop-local frames (pongs, close
// frames, Conn.Send) are copied, since the arena is reset after flush.
func (l *loop) toBacklog(c *Conn, head int32) {
	if c.backlog == nil {
		c.backlog = backlogPool.Get().(*backlog)
		l.backlogged = append(l.backlogged, c)
		l.srv.metrics.backlogs.Inc()
	}
	bl := c.backlog
	for i := head; i >= 0; i = l.batch[i].next {
		p := &l.batch[i]
		if len(p.b) == 0 {
			continue
		}
		m := p.m
		if m != nil {
			m.retain(1)
		} else {
			m = l.srv.rawMessage(p.b, p.prio)
		}
		bl.push(c, m)
	}
}

// push appends m to its lane, replacing a waiting frame with the same key.
func (bl *backlog) push(c *Conn, m *Message) {
	prio := min(m.Priority, numPriorities-1)
	if m.Conflate != 0 {
		if s, ok := bl.keys[m.Conflate]; ok {
			i := s.pos - bl.base[s.prio]
			old := bl.lanes[s.prio][i]
			bl.lanes[s.prio][i] = nil
			bl.bytes -= len(old.Frame(c.deflate))
			old.release()
		}
		bl.keys[m.Conflate] = slot{prio: prio, pos: bl.base[prio] + len(bl.lanes[prio])}
	}
	bl.lanes[prio] = append(bl.lanes[prio], m)
	bl.bytes += len(m.Frame(c.deflate))
}

// drainBacklog writes waiting frames, HIGH first, while gnet holds no more
// than WriteBufferCap bytes for c; it recycles the backlog once empty.
func (l *loop) drainBacklog(c *Conn) {
	bl := c.backlog
	for bl != nil && c.state != stateClosed && c.gc.OutboundBuffered() <= l.srv.cfg.WriteBufferCap {
		iov := l.iov[:0]
		taken := l.drainTake[:0]
		for p := range bl.lanes {
			for len(bl.lanes[p]) > 0 && len(iov) < drainBatch {
				m := bl.lanes[p][0]
				bl.lanes[p][0] = nil
				bl.lanes[p] = bl.lanes[p][1:]
				bl.base[p]++
				if m == nil {
					continue // conflated away
				}
				if m.Conflate != 0 {
					delete(bl.keys, m.Conflate)
				}
				b := m.Frame(c.deflate)
				bl.bytes -= len(b)
				iov = append(iov, b)
				taken = append(taken, m)
			}
		}
		if len(iov) == 0 {
			l.recycleBacklog(c)
			return
		}
		l.writev(c, iov)
		for i, m := range taken {
			m.release()
			taken[i] = nil
		}
		clear(iov)
		l.iov, l.drainTake = iov[:0], taken[:0]
	}
}

// drainBacklogs retries every backlogged connection of the loop; the socket
// may have drained since the last turn.
func (l *loop) drainBacklogs() {
	for i := 0; i < len(l.backlogged); i++ {
		c := l.backlogged[i]
		l.drainBacklog(c)
		if c.backlog == nil { // recycled: drop from the list
			last := len(l.backlogged) - 1
			l.backlogged[i] = l.backlogged[last]
			l.backlogged[last] = nil
			l.backlogged = l.backlogged[:last]
			i--
		}
	}
	l.hasBacklog.Store(len(l.backlogged) > 0)
}

// dropBacklog discards c's waiting frames (the connection is closing).
func (l *loop) dropBacklog(c *Conn) {
	bl := c.backlog
	if bl == nil {
		return
	}
	for p := range bl.lanes {
		for _, m := range bl.lanes[p] {
			if m != nil {
				m.release()
			}
		}
		clear(bl.lanes[p])
		bl.lanes[p] = bl.lanes[p][:0]
	}
	l.recycleBacklog(c)
}

// recycleBacklog returns an empty backlog to the pool. The connection stays
// in l.backlogged until the next drainBacklogs pass drops it.
func (l *loop) recycleBacklog(c *Conn) {
	bl := c.backlog
	c.backlog = nil
	clear(bl.keys)
	bl.base = [numPriorities]int{}
	bl.bytes = 0
	for p := range bl.lanes {
		if cap(bl.lanes[p]) > 1024 {
			bl.lanes[p] = nil
		} else {
			bl.lanes[p] = bl.lanes[p][:0]
		}
	}
	backlogPool.Put(bl)
}
