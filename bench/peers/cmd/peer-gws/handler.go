package main

import (
	"time"

	"github.com/lxzan/gws"

	"github.com/bellhop/bellhop/bench/peers/internal/peer"
)

// handler implements gws.Event. conns is the registry of open connections,
// gws's own sharded map; OnOpen and OnClose run on each connection's
// ReadLoop goroutine and are its only writers.
type handler struct {
	gws.BuiltinEventHandler
	conns *gws.ConcurrentMap[*gws.Conn, struct{}]
}

func newHandler() *handler {
	return &handler{conns: gws.NewConcurrentMap[*gws.Conn, struct{}]()}
}

func (h *handler) OnOpen(c *gws.Conn) { h.conns.Store(c, struct{}{}) }

func (h *handler) OnClose(c *gws.Conn, _ error) { h.conns.Delete(c) }

// OnPing answers with the ping's payload, as RFC 6455 asks and the gws echo
// example does (the built-in handler sends an empty pong).
func (h *handler) OnPing(c *gws.Conn, payload []byte) { _ = c.WritePong(payload) }

// OnMessage echoes m to its sender or broadcasts it. m's buffer goes back
// to gws's pool on return: WriteMessage has copied it by then, and a
// Broadcaster frames its payload on the first Broadcast call, before that.
func (h *handler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	data := m.Bytes()
	if m.Opcode == gws.OpcodeText && len(data) > 0 && data[0] == 'B' {
		h.broadcast(c, data)
		return
	}
	_ = c.WriteMessage(m.Opcode, data)
}

// broadcast queues data, framed once, to every connection but from.
// Broadcast only queues, so the registry's shard locks are held briefly.
func (h *handler) broadcast(from *gws.Conn, data []byte) {
	b := gws.NewBroadcaster(gws.OpcodeText, data)
	defer b.Close()
	h.conns.Range(func(c *gws.Conn, _ struct{}) bool {
		if c != from {
			_ = b.Broadcast(c)
		}
		return true
	})
}

// closeAll sends every connection a going-away close frame; each ReadLoop
// then ends and removes its connection. The write deadline keeps a client
// that stopped reading from holding up the rest.
func (h *handler) closeAll() {
	deadline := time.Now().Add(peer.ShutdownGrace)
	h.conns.Range(func(c *gws.Conn, _ struct{}) bool {
		_ = c.SetWriteDeadline(deadline)
		_ = c.WriteClose(1001, nil)
		return true
	})
}
