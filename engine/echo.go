package engine

import (
	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
)

// Echo is the conformance and benchmark endpoint: every message goes back to
// its sender as it came (text or binary), except that a text message whose
// first byte is 'B' is broadcast, unchanged, to every other connection on the
// same path, through the same fan-out path as every other publish.
type Echo struct {
	srv   *Server
	topic string
}

// NewEcho returns an echo handler for path. Bind it with Echo.Bind once the
// server exists, since broadcasts go through it.
func NewEcho(path string) *Echo { return &Echo{topic: "echo:" + path} }

// Bind attaches the echo handler to its server.
func (e *Echo) Bind(s *Server) { e.srv = s }

// OnOpen subscribes the connection to the path's broadcast topic.
func (e *Echo) OnOpen(c *Conn, _ *handshake.Request) { c.Subscribe(e.topic) }

// OnMessage echoes or broadcasts.
func (e *Echo) OnMessage(c *Conn, op codec.OpCode, data []byte) {
	if op == codec.OpText && len(data) > 0 && data[0] == 'B' {
		_ = e.srv.Publish(e.topic, e.srv.NewMessage(op, data), c)
		return
	}
	c.Send(op, data)
}

// OnClose does nothing: the engine drops subscriptions itself.
func (e *Echo) OnClose(*Conn, codec.StatusCode) {}
