// Command peer-gorilla is the gorilla/websocket reference server for
// bellhop's side-by-side benchmarks. It speaks the protocol of bellhop's
// echo endpoint: every message goes back to its sender unchanged, except
// that a text message whose first byte is 'B' goes, unchanged, to every
// other connection instead.
//
// It follows gorilla's chat example: a goroutine per connection reads, a
// second one (the write pump) is the connection's only writer and drains a
// bounded send queue, and a hub holds the open connections. A broadcast is
// framed once, as a websocket.PreparedMessage, and queued to each other
// connection; a connection whose queue is full is closed rather than
// allowed to stall the broadcast. Unlike the chat example it sets no read
// deadline and sends no pings, so idle connections stay up for as long as
// a benchmark holds them.
//
// Usage:
//
//	peer-gorilla [-addr 127.0.0.1:3001] [-path /echo]
package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/bellhop/bellhop/bench/peers/internal/peer"
)

// Buffer sizes from gorilla's chat example. Writes borrow their buffer from
// a pool, as the Upgrader docs advise for many mostly idle connections, so
// an idle connection holds only its read buffer.
const (
	readBufferSize  = 1024
	writeBufferSize = 1024
)

func main() { peer.Main("peer-gorilla", false, serve) }

func serve(ctx context.Context, o peer.Options) error {
	h := newHub()
	up := &websocket.Upgrader{
		ReadBufferSize:  readBufferSize,
		WriteBufferSize: writeBufferSize,
		WriteBufferPool: &sync.Pool{},
		// Benchmark clients come from anywhere on loopback; there is no
		// browser session to protect.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	upgrade := func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has already answered with an HTTP error
		}
		h.start(conn)
	}
	return peer.ServeHTTP(ctx, o.Addr, peer.Mux(o.Path, upgrade), h.closeAll)
}
