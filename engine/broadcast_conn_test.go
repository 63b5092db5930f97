package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/deflate"
	"github.com/bellhop/bellhop/engine"
)

// Tests of the goroutine-safe Conn methods (AsyncSend, AsyncDo, AsyncClose)
// and of Message reuse across many publishes.

func TestConnAsyncSendOrderPerGoroutine(t *testing.T) {
	t.Parallel()
	const senders, each = 8, 100
	srv, rec := startRecorder(t, engine.Config{Loops: 2})
	c, conn := connectRecorded(t, srv, rec, "")
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if err := conn.AsyncSend(srv.NewMessage(codec.OpBinary, fmt.Appendf(nil, "%d:%d", g, i))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	next := make([]int, senders)
	for n := range senders * each {
		f := c.mustRead()
		var g, i int
		if _, err := fmt.Sscanf(string(f.Payload), "%d:%d", &g, &i); err != nil || f.OpCode != codec.OpBinary || g >= senders || next[g] != i {
			t.Fatalf("message %d: op %d %q", n, f.OpCode, f.Payload)
		}
		next[g]++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AsyncSend: %v", err)
	}
}

func TestConnAsyncDo(t *testing.T) {
	t.Parallel()
	srv, rec := startRecorder(t, engine.Config{})
	c, conn := connectRecorded(t, srv, rec, "")
	type view struct {
		open        bool
		remote      string
		topics      int
		data        any
		id          uint64
		compression bool
	}
	seen := make(chan view, 1)
	err := conn.AsyncDo(func(cc *engine.Conn) {
		cc.SetData("room 101")
		cc.Subscribe("x")
		cc.Subscribe("x") // twice is once
		cc.Send(codec.OpText, []byte("from AsyncDo"))
		seen <- view{cc.Open(), cc.RemoteAddr().String(), cc.Topics(), cc.Data(), cc.ID(), cc.Deflate()}
	})
	if err != nil {
		t.Fatalf("AsyncDo: %v", err)
	}
	got := <-seen
	want := view{true, c.conn.LocalAddr().String(), 1, "room 101", conn.ID(), false}
	if got != want || got.id == 0 {
		t.Fatalf("on the loop: %+v, want %+v", got, want)
	}
	expectText(t, c, "from AsyncDo")
	publishText(t, srv, "x", "via x", nil)
	expectText(t, c, "via x")
}

func TestConnAsyncClose(t *testing.T) {
	t.Parallel()
	// No sweeps: a task posted by the ticker just before Close leaves the
	// loop's drain flag set, and a post then queues silently instead of
	// failing with ErrClosed.
	srv, rec := startRecorder(t, engine.Config{Loops: 1, TickInterval: time.Hour})
	c, conn := connectRecorded(t, srv, rec, "")
	if err := conn.AsyncClose(4000, "bye"); err != nil {
		t.Fatalf("AsyncClose: %v", err)
	}
	if code, reason := awaitClose(t, c); code != 4000 || reason != "bye" {
		t.Fatalf("close %d %q, want 4000 \"bye\"", code, reason)
	}
	answerClose(c, 4000)
	c.expectEOF()
	if code := rec.awaitCode(t); code != 4000 {
		t.Fatalf("OnClose code %d, want 4000", code)
	}

	// On a closed connection the calls succeed and do nothing.
	var ran atomic.Bool
	if err := errors.Join(
		conn.AsyncSend(srv.NewMessage(codec.OpText, []byte("dropped"))),
		conn.AsyncDo(func(*engine.Conn) { ran.Store(true) }),
		conn.AsyncClose(1000, ""),
	); err != nil {
		t.Fatalf("async calls on a closed connection: %v", err)
	}
	other, otherConn := connectRecorded(t, srv, rec, "")
	done := make(chan struct{})
	if err := otherConn.AsyncDo(func(*engine.Conn) { close(done) }); err != nil { // same loop, queued after
		t.Fatal(err)
	}
	<-done
	if ran.Load() {
		t.Fatal("AsyncDo ran its function on a closed connection")
	}
	other.echoes(codec.OpText, []byte("other unaffected"))

	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := otherConn.AsyncSend(srv.NewMessage(codec.OpText, []byte("late"))); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("AsyncSend after Close: %v, want ErrClosed", err)
	}
	if err := srv.Publish("x", srv.NewMessage(codec.OpText, []byte("late")), nil); err != nil {
		t.Fatalf("Publish without subscribers after Close: %v", err)
	}
}

// reusePayload is message i of publisher g in TestMessageReuse: a size that
// varies from 1 B to 3000 B, so pooled buffers are reused at other sizes,
// and content that differs per message.
func reusePayload(g, i int) []byte {
	n := 1 + (i*733+g*131)%3000
	p := fmt.Appendf(make([]byte, 0, n+16), "%d:%d:", g, i)
	for len(p) < n {
		p = append(p, byte('a'+(g+i+len(p))%26))
	}
	return p
}

func TestMessageReuse(t *testing.T) {
	t.Parallel()
	const publishers, each = 4, 300
	srv, rec := startRecorder(t, engine.Config{Loops: 2, Deflate: true})
	const offer = "Sec-WebSocket-Extensions: permessage-deflate"
	results := make(chan error, 4+publishers)
	for i := range 4 {
		withDeflate := i%2 == 0
		var c *client
		if withDeflate {
			c, _ = connectRecorded(t, srv, rec, "t", offer)
		} else {
			c, _ = connectRecorded(t, srv, rec, "t")
		}
		go func() { results <- readReused(c, withDeflate, publishers, each) }()
	}
	for g := range publishers {
		go func() {
			for i := range each {
				if err := srv.Publish("t", srv.NewMessage(codec.OpBinary, reusePayload(g, i)), nil); err != nil {
					results <- err
					return
				}
			}
			results <- nil
		}()
	}
	for range cap(results) {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}

// readReused reads every message of TestMessageReuse, inflating compressed
// ones, and checks each is intact and in order per publisher, and that
// compressed frames come exactly when withDeflate is set.
func readReused(c *client, withDeflate bool, publishers, each int) error {
	inflater := deflate.NewDecompressor()
	next := make([]int, publishers)
	compressed := 0
	for n := range publishers * each {
		f, err := c.read()
		if err != nil {
			return fmt.Errorf("message %d: %w", n, err)
		}
		p := f.Payload
		if f.Rsv == codec.Rsv1 {
			compressed++
			if p, err = inflater.Append(nil, p, 0); err != nil {
				return fmt.Errorf("message %d: inflate: %w", n, err)
			}
		}
		var g, i int
		if _, err := fmt.Sscanf(string(p), "%d:%d:", &g, &i); err != nil || g >= publishers || i != next[g] {
			return fmt.Errorf("message %d: %.20q, want publisher %d's message %d", n, p, g, next[g])
		}
		if !bytes.Equal(p, reusePayload(g, i)) {
			return fmt.Errorf("message %d of publisher %d is corrupt (%d bytes)", i, g, len(p))
		}
		next[g]++
	}
	if withDeflate != (compressed > 0) {
		return fmt.Errorf("deflate client %v got %d compressed messages", withDeflate, compressed)
	}
	return nil
}

func TestConnSendMessageThenClose(t *testing.T) {
	t.Parallel()
	srv, rec := startRecorder(t, engine.Config{Deflate: true})
	c, conn := connectRecorded(t, srv, rec, "", "Sec-WebSocket-Extensions: permessage-deflate")
	payload := compressible(2048)
	topics := make(chan int, 1)
	err := conn.AsyncDo(func(cc *engine.Conn) {
		m := srv.NewMessage(codec.OpText, payload)
		cc.SendMessage(m)
		m.Release()
		cc.Close(4002, "done")
		// Closing: nothing more is sent and no subscription is taken.
		cc.Send(codec.OpText, []byte("after close"))
		late := srv.NewMessage(codec.OpText, []byte("after close"))
		cc.SendMessage(late)
		late.Release()
		cc.Subscribe("late")
		topics <- cc.Topics()
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := <-topics; n != 0 {
		t.Fatalf("a closing connection subscribed: %d topics", n)
	}
	f := c.mustRead()
	got, err := deflate.NewDecompressor().Append(nil, f.Payload, 0)
	if f.OpCode != codec.OpText || f.Rsv != codec.Rsv1 || err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("SendMessage to a deflate client: op %d rsv %#x, inflate err %v", f.OpCode, f.Rsv, err)
	}
	f = c.mustRead() // the close frame comes next: nothing was queued after it
	code, reason, err := codec.ParseClose(f.Payload)
	if f.OpCode != codec.OpClose || err != nil || code != 4002 || string(reason) != "done" {
		t.Fatalf("want close 4002 \"done\", got op %d %q", f.OpCode, f.Payload)
	}
	answerClose(c, 4002)
	c.expectEOF()
	if code := rec.awaitCode(t); code != 4002 {
		t.Fatalf("OnClose code %d, want 4002", code)
	}
}
