// Package engine is bellhop's WebSocket server on gnet event loops.
//
// It accepts TCP (and TLS, on the loops), runs the HTTP upgrade, parses
// frames straight from gnet's buffers, answers control frames inline, and
// delivers whole messages to the Handler registered for the request path. It
// knows nothing of hotels: dispatch is one Handler, the echo endpoint another.
//
// # Ownership
//
// Each gnet event loop owns its connections (Conn), its scratch buffers, its
// inflater and its topic table; none of these has a mutex. Other goroutines
// reach a loop only through its mailbox (Server.Publish, Conn.AsyncSend,
// Conn.AsyncClose, Conn.AsyncDo), which the loop drains in one gnet task per
// burst. The Server's exported methods are safe for concurrent use.
//
// # Writes
//
// Frames queued during one loop turn are written per connection in one
// writev. A broadcast is encoded once (Server.NewMessage) and handed to each
// loop that has subscribers once; every loop writes the same bytes. Each
// connection may have at most MaxOutbound bytes waiting in gnet's outbound
// buffer; past that it is closed with CloseSlowConsumer (4008).
//
// # Timers
//
// gnet's ticker goroutine advances a coarse clock and posts a sweep to every
// loop each TickInterval; the loop checks handshake, idle and close timeouts
// and sends pings. No timer or goroutine exists per connection.
//
//	srv, _ := engine.New(engine.Config{Addr: ":3001", Routes: map[string]engine.Handler{"/echo": engine.NewEcho("/echo")}})
//	_ = srv.Start()
//	defer srv.Shutdown(ctx)
package engine
