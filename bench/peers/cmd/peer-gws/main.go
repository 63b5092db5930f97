// Command peer-gws is the lxzan/gws reference server for bellhop's
// side-by-side benchmarks. It speaks the protocol of bellhop's echo
// endpoint: every message goes back to its sender unchanged, except that a
// text message whose first byte is 'B' goes, unchanged, to every other
// connection instead.
//
// It is set up as the gws README's "Best Practice" shows, minus
// compression and heartbeat deadlines: an Upgrader on a net/http handler,
// ReadLoop in its own goroutine, messages handled in that goroutine
// (ParallelEnabled off, the default). Echoes are written synchronously with
// WriteMessage; a broadcast goes through a gws.Broadcaster, which frames
// the message once and queues it on each receiver's own write queue, so
// one slow receiver delays nobody else.
//
// Usage:
//
//	peer-gws [-addr 127.0.0.1:3001] [-path /echo]
package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/lxzan/gws"

	"github.com/bellhop/bellhop/bench/peers/internal/peer"
)

func main() { peer.Main("peer-gws", false, serve) }

func serve(ctx context.Context, o peer.Options) error {
	h := newHandler()
	up := gws.NewUpgrader(h, &gws.ServerOption{
		Recovery: gws.Recovery, // as the README's Best Practice
	})
	var loops sync.WaitGroup // running ReadLoops, for shutdown
	upgrade := func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r)
		if err != nil {
			return // Upgrade has already answered with an HTTP error
		}
		// A goroutine of its own, so the HTTP handler returns and its
		// request can be collected (the README's advice).
		loops.Go(conn.ReadLoop)
	}
	closeAll := func() {
		h.closeAll()
		peer.Wait(&loops)
	}
	return peer.ServeHTTP(ctx, o.Addr, peer.Mux(o.Path, upgrade), closeAll)
}
