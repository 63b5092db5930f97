package engine

import (
	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
)

// Handler is the application behind a path. Its methods run on the
// connection's event loop and must not block: hand slow work to other
// goroutines and answer later with Conn.AsyncSend.
type Handler interface {
	// OnOpen runs once the upgrade succeeded. req is valid only during the
	// call; keep what is needed with Conn.SetData.
	OnOpen(c *Conn, req *handshake.Request)
	// OnMessage runs for each whole message (fragments joined, inflated,
	// UTF-8 checked for text). data is valid only during the call.
	OnMessage(c *Conn, op codec.OpCode, data []byte)
	// OnClose runs once when an upgraded connection is gone. code is the
	// close code sent or received, or 1006 when the transport just dropped.
	OnClose(c *Conn, code codec.StatusCode)
}
