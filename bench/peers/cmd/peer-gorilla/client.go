package main

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// writeWait bounds one write, as in gorilla's chat example, so a
	// client that stops reading ties up only its own write pump.
	writeWait = 10 * time.Second

	// sendQueue is how many messages may wait for one client's write
	// pump: the chat example's 256.
	sendQueue = 256
)

// outbound is one queued message: an echo (kind and data) or a broadcast
// (prepared, framed once for every receiver).
type outbound struct {
	kind     int
	data     []byte
	prepared *websocket.PreparedMessage
}

// client is one connection. The read pump owns reading; the write pump is
// the only writer of data frames (gorilla allows one concurrent writer;
// the close and pong replies its handlers send use WriteControl, which may
// run alongside). done, closed once by stop, tells both pumps to end.
type client struct {
	conn *websocket.Conn
	send chan outbound
	done chan struct{}
	once sync.Once
}

func newClient(conn *websocket.Conn) *client {
	return &client{conn: conn, send: make(chan outbound, sendQueue), done: make(chan struct{})}
}

// stop ends both pumps; safe to call more than once and from any goroutine.
func (c *client) stop() { c.once.Do(func() { close(c.done) }) }

// readPump reads messages until the connection fails or closes, echoing
// each to the sender or, for text starting with 'B', broadcasting it. An
// echo waits for room in the sender's own queue: that is backpressure on
// the sender alone.
func (c *client) readPump(h *hub) {
	defer func() {
		h.remove(c)
		c.stop()
	}()
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if kind == websocket.TextMessage && len(data) > 0 && data[0] == 'B' {
			pm, err := websocket.NewPreparedMessage(kind, data)
			if err != nil {
				return
			}
			h.broadcast(c, pm)
			continue
		}
		select {
		case c.send <- outbound{kind: kind, data: data}:
		case <-c.done:
			return
		}
	}
}

// writePump writes queued messages until stop, then sends a close frame
// and closes the connection, which also ends the read pump.
func (c *client) writePump() {
	defer c.conn.Close()
	for {
		select {
		case m := <-c.send:
			if err := c.write(m); err != nil {
				c.stop()
				return
			}
		case <-c.done:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			_ = c.conn.WriteMessage(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
			return
		}
	}
}

func (c *client) write(m outbound) error {
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	if m.prepared != nil {
		return c.conn.WritePreparedMessage(m.prepared)
	}
	return c.conn.WriteMessage(m.kind, m.data)
}
