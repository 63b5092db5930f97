package engine

import (
	"hash/maphash"
	"sync"
)

// topicSet is one loop's subscribers to one topic. It is owned by the loop.
type topicSet struct {
	name  string
	conns []*Conn         // iterated on every publish
	after []uint64        // per subscriber: skip messages with Seq at or below
	index map[*Conn]int32 // position in conns, for O(1) removal
}

func (l *loop) subscribe(c *Conn, topic string, after uint64) {
	ts := l.topics[topic]
	if ts == nil {
		ts = &topicSet{name: topic, index: make(map[*Conn]int32)}
		l.topics[topic] = ts
		l.srv.routes.add(topic, l.id)
	}
	if i, ok := ts.index[c]; ok {
		ts.after[i] = after
		return
	}
	ts.index[c] = int32(len(ts.conns))
	ts.conns = append(ts.conns, c)
	ts.after = append(ts.after, after)
	c.subs = append(c.subs, ts)
}

func (l *loop) unsubscribe(c *Conn, topic string) {
	ts := l.topics[topic]
	if ts == nil {
		return
	}
	if _, ok := ts.index[c]; ok {
		l.leave(c, ts)
	}
}

// leave removes c from ts and ts from c.subs, and drops an empty topic.
func (l *loop) leave(c *Conn, ts *topicSet) {
	i := ts.index[c]
	last := int32(len(ts.conns) - 1)
	moved := ts.conns[last]
	ts.conns[i] = moved
	ts.after[i] = ts.after[last]
	ts.index[moved] = i
	ts.conns[last] = nil
	ts.conns = ts.conns[:last]
	ts.after = ts.after[:last]
	delete(ts.index, c)
	for j, s := range c.subs {
		if s == ts {
			c.subs[j] = c.subs[len(c.subs)-1]
			c.subs[len(c.subs)-1] = nil
			c.subs = c.subs[:len(c.subs)-1]
			break
		}
	}
	if len(ts.conns) == 0 {
		delete(l.topics, ts.name)
		l.srv.routes.remove(ts.name, l.id)
	}
}

// fanOut queues m to every subscriber of topic on this loop but exclude. The
// caller keeps m alive until flush.
func (l *loop) fanOut(topic string, m *Message, exclude *Conn) {
	ts := l.topics[topic]
	if ts == nil {
		return
	}
	for i, c := range ts.conns {
		if c != exclude && c.state == stateOpen && (m.Seq == 0 || m.Seq > ts.after[i]) {
			l.queueShared(c, m)
		}
	}
}

// routeShards is the number of locks the topic routes are split over.
const routeShards = 64

// routes maps each topic to the set of loops that have subscribers for it,
// so a publish wakes only those loops. Safe for concurrent use; changed only
// when a loop's first subscriber arrives or its last one leaves.
type routes struct {
	seed   maphash.Seed
	shards [routeShards]routeShard
}

type routeShard struct {
	mu    sync.RWMutex
	loops map[string]uint64 // bit i set: loop i has subscribers
}

func newRoutes() *routes {
	r := &routes{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].loops = make(map[string]uint64)
	}
	return r
}

func (r *routes) shard(topic string) *routeShard {
	return &r.shards[maphash.String(r.seed, topic)%routeShards]
}

func (r *routes) add(topic string, loopID int) {
	s := r.shard(topic)
	s.mu.Lock()
	s.loops[topic] |= 1 << loopID
	s.mu.Unlock()
}

func (r *routes) remove(topic string, loopID int) {
	s := r.shard(topic)
	s.mu.Lock()
	if m := s.loops[topic] &^ (1 << loopID); m != 0 {
		s.loops[topic] = m
	} else {
		delete(s.loops, topic)
	}
	s.mu.Unlock()
}

// lookup returns the loops subscribed to topic as a bit set.
func (r *routes) lookup(topic string) uint64 {
	s := r.shard(topic)
	s.mu.RLock()
	m := s.loops[topic]
	s.mu.RUnlock()
	return m
}
