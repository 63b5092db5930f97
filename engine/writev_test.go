package engine_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// TestLongWritevBatch: a flush of more frames than one writev(2) takes
// (IOV_MAX, 1024) reaches the client whole and in order, and the
// connection stays open (writev with more buffers fails with EINVAL).
func TestLongWritevBatch(t *testing.T) {
	g := &connGrabber{conns: make(chan *engine.Conn, 1)}
	srv := startServer(t, engine.Config{Routes: map[string]engine.Handler{"/echo": g}, MaxOutbound: 64 << 20})
	c := connect(t, srv, false)
	sc := <-g.conns
	const n = 3000
	frames := make([][]byte, n)
	for i := range frames {
		p := append([]byte(strconv.Itoa(i)+":"), bytes.Repeat([]byte("x"), 200)...)
		frames[i] = codec.AppendFrame(nil, codec.OpText, p, false)
	}
	if err := engine.WriteFrames(sc, frames); err != nil {
		t.Fatal(err)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range n {
		f := c.mustRead()
		if want := strconv.Itoa(i) + ":"; !bytes.HasPrefix(f.Payload, []byte(want)) {
			t.Fatalf("frame %d: %.12q, want prefix %q", i, f.Payload, want)
		}
	}
	c.send(true, 0, codec.OpPing, []byte("still open?"))
	if f := c.mustRead(); f.OpCode != codec.OpPong || string(f.Payload) != "still open?" {
		t.Fatalf("after the batch: %v %q, want the pong", f.OpCode, f.Payload)
	}
}
