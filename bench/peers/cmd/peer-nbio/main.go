// Command peer-nbio is the lesismal/nbio reference server for bellhop's
// side-by-side benchmarks. It speaks the protocol of bellhop's echo
// endpoint: every message goes back to its sender unchanged, except that a
// text message whose first byte is 'B' goes, unchanged, to every other
// connection instead.
//
// It runs nbhttp in non-blocking mode, as nbio's examples do: epoll
// pollers read every connection, and a per-connection serial executor runs
// the websocket.Upgrader's OnMessage. WriteMessage never blocks (nbio
// buffers what the socket will not take), so a broadcast simply calls it
// for every other connection: nbio has no prepared-message type, so each
// receiver's frame is built separately. The upgrader's keepalive read
// deadline is turned off and the engine's pushed out of reach (see
// httpKeepalive), so idle connections stay up for as long as a benchmark
// holds them.
//
// Usage:
//
//	peer-nbio [-addr 127.0.0.1:3001] [-path /echo] [-loops N]
//
// -loops sets nbio's poller count (Config.NPoller); 0 keeps nbio's default
// of a quarter of the CPUs, at least one.
package main

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/bellhop/bellhop/bench/peers/internal/peer"
)

// httpKeepalive is the engine's read deadline for a connection waiting for
// its HTTP request (nbio's default is 120 s). nbio arms it from the accept
// goroutine after it has handed the connection to a poller, so when the
// upgrade wins that race the deadline is set again on a WebSocket
// connection, which is then dropped when it passes. A deadline no hold
// reaches keeps idle connections up; the upgrade still clears it in the
// common case.
const httpKeepalive = 100 * 365 * 24 * time.Hour

func main() { peer.Main("peer-nbio", true, serve) }

func serve(ctx context.Context, o peer.Options) error {
	// nbio logs its start-up at info level to stdout; keep only errors,
	// on stderr, like the other peers.
	logging.Output = os.Stderr
	logging.SetLevel(logging.LevelError)

	reg := newRegistry()
	up := newUpgrader(reg)
	upgrade := func(w http.ResponseWriter, r *http.Request) {
		// Upgrade answers failures itself and hands the connection to the
		// engine's pollers on success.
		_, _ = up.Upgrade(w, r, nil)
	}
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{o.Addr},
		IOMod:                   nbhttp.IOModNonBlocking,
		NPoller:                 o.Loops,
		Handler:                 peer.Mux(o.Path, upgrade),
		KeepaliveTime:           httpKeepalive,
		ReleaseWebsocketPayload: true, // OnMessage is done with the payload when it returns
	})
	if err := engine.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), peer.ShutdownGrace)
	defer cancel()
	_ = engine.Shutdown(sctx) // closes every connection; a timeout is no error here
	return nil
}

// newUpgrader returns the websocket upgrader that echoes and broadcasts,
// registering each connection in reg while it is open.
func newUpgrader(reg *registry) *websocket.Upgrader {
	up := websocket.NewUpgrader()
	up.KeepaliveTime = 0 // no read deadline: idle connections are never dropped
	// Benchmark clients come from anywhere on loopback; there is no
	// browser session to protect.
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.OnOpen(reg.add)
	up.OnClose(func(c *websocket.Conn, _ error) { reg.remove(c) })
	up.OnMessage(func(c *websocket.Conn, kind websocket.MessageType, data []byte) {
		if kind == websocket.TextMessage && len(data) > 0 && data[0] == 'B' {
			reg.broadcast(c, data)
			return
		}
		_ = c.WriteMessage(kind, data)
	})
	return up
}
