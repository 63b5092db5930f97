package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/deflate"
	"github.com/bellhop/bellhop/codec/handshake"
)

// maxLoopQueue bounds the tasks waiting for one loop. Past it, asynchronous
// sends fail with ErrOverloaded instead of growing memory without limit.
const maxLoopQueue = 1 << 18

// loop is bellhop's state for one gnet event loop. Everything except the
// mailbox (mu, inbox, scheduled) is owned by the loop's goroutine and used
// without locks; the mailbox is how other goroutines reach it.
type loop struct {
	srv *Server
	id  int // index in Server.loops, bit in routes
	el  gnet.EventLoop

	upgrader *handshake.Upgrader   // runs handshakes, one at a time
	inflate  *deflate.Decompressor // inflates client messages
	compress *deflate.Compressor   // deflates messages sent with Conn.Send
	conns    []*Conn               // open connections, for timers and shutdown
	topics   map[string]*topicSet  // this loop's subscribers per topic

	arena   []byte       // frames encoded during one callback; reset after flush
	batch   []pending    // frames queued during one callback, chained per connection
	dirty   []*Conn      // connections with queued frames
	iov     [][]byte     // scratch for Writev
	refs    []*Message   // messages referenced by batch, released after flush
	msgBuf  []byte       // scratch: inflated messages and reassembly copies
	readBuf []byte       // scratch: TLS plaintext
	tlsOut  []byte       // scratch: frames joined for one TLS write
	flight  []byte       // TLS records gathered for the connection in gathering
	gather  *Conn        // whose TLS records are being gathered into flight, or nil
	limits  codec.Limits // frame limits, copied from the config
	stats   loopStats    // counted locally, added to the metrics once per flush

	backlogged []*Conn     // connections with a backlog, retried every flush and drain tick
	drainTake  []*Message  // scratch for drainBacklog
	hasBacklog atomic.Bool // backlogged is not empty: the ticker posts drain ticks

	mu        sync.Mutex          // guards inbox and lost
	inbox     []task              // tasks posted by other goroutines
	lost      map[string]struct{} // topics whose publish did not fit in the inbox
	spare     []task              // the other half of the double buffer; loop only
	scheduled atomic.Bool         // a drain is queued on the gnet loop
}

type taskKind uint8

const (
	taskSend taskKind = iota
	taskPublish
	taskClose
	taskFunc
	taskSweep
	taskDrain
	taskShutdown
)

// task is work posted to a loop from another goroutine.
type task struct {
	kind    taskKind
	c       *Conn
	msg     *Message
	topic   string // topic for taskPublish, reason for taskClose
	exclude *Conn
	code    codec.StatusCode
	fn      func(*Conn)
}

func newLoop(s *Server, el gnet.EventLoop) *loop {
	up, err := handshake.NewUpgrader(s.upgraderConfig())
	if err != nil {
		panic("BUG: config validated but upgrader refused it: " + err.Error())
	}
	return &loop{
		srv:      s,
		el:       el,
		upgrader: up,
		inflate:  deflate.NewDecompressor(),
		compress: deflate.NewCompressor(),
		topics:   make(map[string]*topicSet),
		readBuf:  make([]byte, 16<<10),
		limits: codec.Limits{
			MaxFrameSize:   s.cfg.MaxFrameSize,
			MaxMessageSize: s.cfg.MaxMessageSize,
			MaxFragments:   s.cfg.MaxFragments,
		},
	}
}

// post hands a task to the loop from any goroutine. It wakes the loop only
// when no drain is queued yet, so a burst of posts costs one wake-up.
func (l *loop) post(t task) error {
	l.mu.Lock()
	if len(l.inbox) >= maxLoopQueue {
		l.mu.Unlock()
		l.srv.metrics.overloaded.Inc()
		return ErrOverloaded
	}
	l.inbox = append(l.inbox, t)
	l.mu.Unlock()
	if l.scheduled.CompareAndSwap(false, true) {
		if err := l.el.Execute(context.Background(), l); err != nil {
			l.scheduled.Store(false)
			return ErrClosed
		}
	}
	return nil
}

// Run drains the mailbox on the loop. It implements gnet.Runnable.
func (l *loop) Run(context.Context) error {
	l.scheduled.Store(false)
	l.mu.Lock()
	tasks := l.inbox
	l.inbox = l.spare[:0]
	lost := l.lost
	l.lost = nil
	l.mu.Unlock()
	l.resync(lost)
	for i := range tasks {
		l.do(&tasks[i])
		tasks[i] = task{}
	}
	l.spare = tasks[:0]
	l.flush()
	return nil
}

func (l *loop) do(t *task) {
	switch t.kind {
	case taskSend:
		if t.c.state == stateOpen {
			l.queueMessage(t.c, t.msg)
		}
		t.msg.release()
	case taskPublish:
		l.fanOut(t.topic, t.msg, t.exclude)
		l.refs = append(l.refs, t.msg) // the task's reference lives until flush
	case taskClose:
		l.closeConn(t.c, t.code, t.topic, reasonServer, false)
	case taskFunc:
		if t.c.state == stateOpen {
			t.fn(t.c)
		}
	case taskSweep:
		l.sweep()
	case taskDrain:
		// flush, which runs after every task batch, retries the backlogs.
	case taskShutdown:
		for _, c := range l.conns {
			l.closeConn(c, codec.CloseGoingAway, "server shutting down", reasonShutdown, false)
		}
	}
}

// register adds an accepted connection to the loop.
func (l *loop) register(c *Conn) {
	c.idx = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

// unregister removes a closed connection from the loop and its topics.
func (l *loop) unregister(c *Conn) {
	last := len(l.conns) - 1
	moved := l.conns[last]
	l.conns[c.idx] = moved
	moved.idx = c.idx
	l.conns[last] = nil
	l.conns = l.conns[:last]
	for len(c.subs) > 0 {
		l.leave(c, c.subs[len(c.subs)-1])
	}
	c.subs = nil
}

// markLost records that a publish to topic could not be queued: the loop's
// subscribers of topic missed a message. Safe from any goroutine.
func (l *loop) markLost(topic string) {
	l.mu.Lock()
	if l.lost == nil {
		l.lost = make(map[string]struct{})
	}
	l.lost[topic] = struct{}{}
	l.mu.Unlock()
}

// resync closes, with CloseSlowConsumer, the subscribers of topics that
// missed a message, so they reconnect and recover it instead of silently
// going without. Loop only.
func (l *loop) resync(lost map[string]struct{}) {
	for topic := range lost {
		ts := l.topics[topic]
		if ts == nil {
			continue
		}
		for _, c := range append([]*Conn(nil), ts.conns...) {
			l.closeConn(c, CloseSlowConsumer, "messages lost: reconnect and resync", reasonSlowConsumer, false)
		}
	}
}
