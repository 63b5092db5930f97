package engine_test

import (
	"errors"
	"testing"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// TestOverloadedLoopResyncsSubscribers blocks a loop, fills its queue until
// Publish reports ErrOverloaded, and checks that the subscriber that missed
// the message is closed with 4008 instead of silently going without.
func TestOverloadedLoopResyncsSubscribers(t *testing.T) {
	g := &connGrabber{conns: make(chan *engine.Conn, 1)}
	srv := startServer(t, engine.Config{Loops: 1, Routes: map[string]engine.Handler{"/echo": g}})
	c := connect(t, srv, false)
	conn := <-g.conns
	release := make(chan struct{})
	if err := conn.AsyncDo(func(*engine.Conn) { <-release }); err != nil {
		t.Fatal(err)
	}
	var overloaded bool
	for i := 0; i < 1<<20 && !overloaded; i++ {
		err := srv.Publish("t", srv.NewMessage(codec.OpText, []byte("x")), nil)
		overloaded = errors.Is(err, engine.ErrOverloaded)
	}
	close(release)
	if !overloaded {
		t.Fatal("the loop queue never filled")
	}
	c.expectClose(engine.CloseSlowConsumer)
}

// TestResyncClosesSubscribers checks that Resync closes the subscribers of
// a topic with 4008, on every loop, and leaves other topics alone.
func TestResyncClosesSubscribers(t *testing.T) {
	g := &connGrabber{conns: make(chan *engine.Conn, 2)}
	srv := startServer(t, engine.Config{Loops: 2, Routes: map[string]engine.Handler{"/echo": g}})
	a, b := connect(t, srv, false), connect(t, srv, false)
	<-g.conns
	<-g.conns
	srv.Resync("no-such-topic")
	srv.Resync("t")
	a.expectClose(engine.CloseSlowConsumer)
	b.expectClose(engine.CloseSlowConsumer)
}
