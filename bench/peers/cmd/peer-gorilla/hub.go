package main

import (
	"sync"

	"github.com/gorilla/websocket"

	"github.com/bellhop/bellhop/bench/peers/internal/peer"
)

// hub is the set of open clients. mu guards clients; broadcast holds it
// while it queues to every client, and only queues (never writes), so the
// lock is held for a bounded, non-blocking loop.
type hub struct {
	mu      sync.Mutex
	clients map[*client]struct{}
	pumps   sync.WaitGroup // running read and write pumps, for shutdown
}

func newHub() *hub { return &hub{clients: make(map[*client]struct{})} }

// start registers a new connection and starts its pumps. Both run in new
// goroutines so the HTTP handler returns and its request can be collected.
func (h *hub) start(conn *websocket.Conn) {
	c := newClient(conn)
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.pumps.Go(c.writePump)
	h.pumps.Go(func() { c.readPump(h) })
}

// remove drops c from the hub; it is a no-op when c is already gone.
func (h *hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// broadcast queues pm to every client but from. A client whose send queue
// is full is a slow consumer: it is dropped from the hub and closed, as the
// chat example's hub does, so one stalled socket never delays the rest.
func (h *hub) broadcast(from *client, pm *websocket.PreparedMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if c == from {
			continue
		}
		select {
		case c.send <- outbound{prepared: pm}:
		default:
			delete(h.clients, c)
			c.stop()
		}
	}
}

// closeAll stops every client and waits, at most peer.ShutdownGrace, for
// their pumps to exit.
func (h *hub) closeAll() {
	h.mu.Lock()
	for c := range h.clients {
		c.stop()
	}
	h.mu.Unlock()
	peer.Wait(&h.pumps)
}
