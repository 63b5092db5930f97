package engine_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
	"github.com/bellhop/bellhop/engine"
)

// connGrabber hands the server side of each connection to the test.
type connGrabber struct{ conns chan *engine.Conn }

func (g *connGrabber) OnOpen(c *engine.Conn, _ *handshake.Request) {
	c.Subscribe("t")
	g.conns <- c
}
func (g *connGrabber) OnMessage(*engine.Conn, codec.OpCode, []byte) {}
func (g *connGrabber) OnClose(*engine.Conn, codec.StatusCode)       {}

func metricValue(srv *engine.Server, name string) string {
	var b bytes.Buffer
	srv.Metrics().WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ")
		}
	}
	return ""
}

// TestBacklogPriorityAndConflation fills a client's socket until the server
// keeps a backlog, then checks that a HIGH message overtakes the waiting LOW
// ones and that of two conflated messages only the latest is delivered.
func TestBacklogPriorityAndConflation(t *testing.T) {
	g := &connGrabber{conns: make(chan *engine.Conn, 1)}
	srv := startServer(t, engine.Config{
		Routes:      map[string]engine.Handler{"/echo": g},
		MaxOutbound: 256 << 20,
	})
	c := connect(t, srv, false)
	<-g.conns
	low := bytes.Repeat([]byte("l"), 1024)
	publish := func(payload []byte, prio engine.Priority, key uint64) {
		m := srv.NewMessage(codec.OpText, payload)
		m.Priority, m.Conflate = prio, key
		if err := srv.Publish("t", m, nil); err != nil {
			t.Fatal(err)
		}
	}
	sent := 0
	deadline := time.Now().Add(20 * time.Second)
	for metricValue(srv, "bellhop_slow_socket_backlogs_total") == "0" {
		if time.Now().After(deadline) {
			var b bytes.Buffer
			srv.Metrics().WritePrometheus(&b)
			t.Fatal("no backlog formed", b.String())
		}
		for range 1000 {
			publish(low, engine.PriorityLow, 0)
			sent++
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 200 { // make sure a good part of the LOW traffic waits in the backlog
		publish(low, engine.PriorityLow, 0)
		sent++
	}
	publish([]byte("A1"), engine.PriorityMedium, 42)
	publish([]byte("A2"), engine.PriorityMedium, 42)
	publish([]byte("HIGH"), engine.PriorityHigh, 0)
	publish([]byte("END"), engine.PriorityLow, 0)

	_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var highAt, a2At, lowAfterHigh, lows int
	highAt, a2At = -1, -1
	for i := 0; ; i++ {
		f := c.mustRead()
		switch string(f.Payload) {
		case "HIGH":
			highAt = i
		case "A1":
			t.Fatal("conflated message A1 was delivered")
		case "A2":
			a2At = i
		case "END":
			if highAt < 0 || a2At < 0 {
				t.Fatalf("END before HIGH (%d) or A2 (%d)", highAt, a2At)
			}
			if lows != sent {
				t.Fatalf("got %d LOW messages, sent %d: LOW must not be dropped", lows, sent)
			}
			if lowAfterHigh == 0 {
				t.Fatal("HIGH did not overtake any waiting LOW message")
			}
			return
		default:
			lows++
			if highAt >= 0 {
				lowAfterHigh++
			}
		}
	}
}
