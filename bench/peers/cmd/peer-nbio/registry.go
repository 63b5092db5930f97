package main

import (
	"sync"

	"github.com/lesismal/nbio/nbhttp/websocket"
)

// registry is the set of open connections. mu guards conns. broadcast
// copies the set under mu and writes outside it: a failed write closes its
// connection, and nbio hands OnClose (which takes mu) to an executor this
// code does not control, so holding mu across writes could deadlock. It
// also keeps OnOpen and OnClose from waiting behind a broadcast.
type registry struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
	snaps sync.Pool // *[]*websocket.Conn, reused broadcast snapshots
}

func newRegistry() *registry {
	return &registry{conns: make(map[*websocket.Conn]struct{})}
}

func (r *registry) add(c *websocket.Conn) {
	r.mu.Lock()
	r.conns[c] = struct{}{}
	r.mu.Unlock()
}

func (r *registry) remove(c *websocket.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
}

// broadcast writes data as a text message to every connection but from.
func (r *registry) broadcast(from *websocket.Conn, data []byte) {
	snap := r.snapshot()
	for _, c := range *snap {
		if c != from {
			_ = c.WriteMessage(websocket.TextMessage, data)
		}
	}
	clear(*snap) // drop the references before the slice goes back to the pool
	*snap = (*snap)[:0]
	r.snaps.Put(snap)
}

func (r *registry) snapshot() *[]*websocket.Conn {
	snap, _ := r.snaps.Get().(*[]*websocket.Conn)
	if snap == nil {
		snap = new([]*websocket.Conn)
	}
	r.mu.Lock()
	for c := range r.conns {
		*snap = append(*snap, c)
	}
	r.mu.Unlock()
	return snap
}
