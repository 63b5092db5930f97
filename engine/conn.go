package engine

import (
	"net"
	"net/netip"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateHandshake connState = iota // reading the HTTP request head (after TLS when wss)
	stateOpen                       // upgraded: frames flow both ways
	stateClosing                    // close frame sent; waiting for the peer's or the timeout
	stateClosed                     // gone; only stale references remain
)

// Conn is one WebSocket connection.
//
// A Conn is owned by its event loop: every field is read and written only on
// that loop, without a mutex. Methods documented "loop only" may be called
// only from a Handler callback or a function run by Server.Execute; methods
// named Async... are safe from any goroutine.
type Conn struct {
	gc      gnet.Conn // transport; invalid once state is stateClosed
	loop    *loop     // owning loop; fixed for the connection's life
	tc      *tls.Conn // TLS session when wss, else nil
	handler Handler   // chosen by the request path at upgrade
	data    any       // application state, see SetData

	parser   codec.Parser // frame parser and message state
	frag     *[]byte      // reassembly buffer of a fragmented message, pooled; nil when none
	tlsIn    *[]byte      // decrypted bytes not yet parsed (wss only), pooled; nil when none
	need     int          // inbound bytes needed before parsing is worth trying again
	lastRead int64        // coarse clock at the last inbound bytes
	timer    int64        // handshake start, last ping sent, or close sent, by state
	pendHead int32        // first queued frame in the loop's batch, -1 when none
	pendTail int32        // last queued frame in the loop's batch
	idx      int32        // index in loop.conns
	subs     []*topicSet  // topics this connection is subscribed to
	backlog  *backlog     // frames waiting for a slow socket; nil while it keeps up
	id       uint64       // unique per server, for logs
	ip       netip.Addr   // the client: the TCP peer, or X-Forwarded-For's behind a trusted proxy
	msgLast  int64        // coarse clock of the last message-budget fill; 0 before the first message
	pingSec  int64        // the second pings are being counted in
	msgTok   float32      // message budget (tokens)
	pings    uint16       // pings in pingSec

	state      connState
	deflate    bool        // permessage-deflate negotiated
	closeAfter bool        // close the transport once queued frames are written
	full       bool        // over MaxConnections: answer 503 to the request head
	tlsReady   bool        // wss: the TLS handshake completed
	admitted   bool        // the guard admitted it: release its IP at close
	viaProxy   bool        // the peer is a trusted proxy: judge X-Forwarded-For's client
	proxyWait  bool        // a PROXY protocol header must come first
	unlimited  bool        // an allow-listed client: no rate limit applies
	reason     closeReason // why the connection is closing
	closeCode  codec.StatusCode
}

// ClientIP returns the client's address: the TCP peer, or behind a
// trusted proxy the client X-Forwarded-For names (once the head arrived).
func (c *Conn) ClientIP() netip.Addr { return c.ip }

// Violation charges the connection's IP with abuse (a refused token, a
// flood of bad messages): enough of them put it on the blacklist. Loop only.
func (c *Conn) Violation() { c.loop.violation(c) }

// ID returns the connection's unique id on this server.
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr returns the peer's address. Loop only.
func (c *Conn) RemoteAddr() net.Addr {
	if c.state == stateClosed {
		return nil
	}
	return c.gc.RemoteAddr()
}

// Data returns what SetData stored. Loop only.
func (c *Conn) Data() any { return c.data }

// SetData stores application state with the connection. Loop only.
func (c *Conn) SetData(v any) { c.data = v }

// Deflate reports whether permessage-deflate was negotiated.
func (c *Conn) Deflate() bool { return c.deflate }

// Open reports whether the connection can still send and receive messages.
// Loop only.
func (c *Conn) Open() bool { return c.state == stateOpen }

// Send queues a message to the connection; it is written when the current
// callback returns, together with anything else queued. payload is copied.
// Loop only. It does nothing once the connection is closing.
func (c *Conn) Send(op codec.OpCode, payload []byte) {
	if c.state != stateOpen {
		return
	}
	l := c.loop
	start := len(l.arena)
	if c.deflate && l.srv.worthCompressing(len(payload)) {
		l.arena = l.encodeDeflated(l.arena, op, payload)
	} else {
		l.arena = codec.AppendFrame(l.arena, op, payload, false)
	}
	l.queueFrame(c, l.arena[start:len(l.arena):len(l.arena)], PriorityMedium)
}

// SendMessage queues a prepared message. Loop only.
func (c *Conn) SendMessage(m *Message) {
	if c.state != stateOpen {
		return
	}
	c.loop.queueMessage(c, m)
}

// Close starts the closing handshake with code and reason: the close frame
// goes out after what is already queued, and the transport closes when the
// peer answers or after CloseTimeout. Loop only.
func (c *Conn) Close(code codec.StatusCode, reason string) {
	c.loop.closeConn(c, code, reason, reasonServer, false)
}

// Subscribe adds the connection to topic on its loop, so Server.Publish to
// topic reaches it. Subscribing twice is a no-op. Loop only.
func (c *Conn) Subscribe(topic string) {
	if c.state != stateOpen {
		return
	}
	c.loop.subscribe(c, topic, 0)
}

// SubscribeAfter is Subscribe for a client that already has the topic's
// messages up to Seq after (from history): later deliveries with Seq at or
// below it are skipped, so a recovery never duplicates. Loop only.
func (c *Conn) SubscribeAfter(topic string, after uint64) {
	if c.state != stateOpen {
		return
	}
	c.loop.subscribe(c, topic, after)
}

// Subscribed reports whether the connection is subscribed to topic. Loop only.
func (c *Conn) Subscribed(topic string) bool {
	ts := c.loop.topics[topic]
	if ts == nil {
		return false
	}
	_, ok := ts.index[c]
	return ok
}

// Unsubscribe removes the connection from topic. Loop only.
func (c *Conn) Unsubscribe(topic string) {
	c.loop.unsubscribe(c, topic)
}

// Topics returns the number of topics the connection is subscribed to. Loop only.
func (c *Conn) Topics() int { return len(c.subs) }

// AsyncSend sends a prepared message from any goroutine. It returns
// ErrOverloaded when the loop's queue is full and ErrClosed after shutdown;
// a connection that closed meanwhile silently drops it.
func (c *Conn) AsyncSend(m *Message) error {
	return c.loop.post(task{kind: taskSend, c: c, msg: m})
}

// AsyncClose starts the closing handshake from any goroutine.
func (c *Conn) AsyncClose(code codec.StatusCode, reason string) error {
	return c.loop.post(task{kind: taskClose, c: c, code: code, topic: reason})
}

// AsyncDo runs fn on the connection's loop if the connection is still open
// then; fn may use every loop-only method. Safe from any goroutine.
func (c *Conn) AsyncDo(fn func(*Conn)) error {
	return c.loop.post(task{kind: taskFunc, c: c, fn: fn})
}
