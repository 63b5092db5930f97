package engine_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// TestConformanceConcurrent runs many clients at once on the server's two
// loops, each with its own stream of messages of varied sizes, compressed
// and not. Each must get exactly its own echoes, in order: the loops share
// their encode arena, inflater and scratch buffers between connections.
func TestConformanceConcurrent(t *testing.T) {
	forEachTransport(t, engine.Config{Deflate: true}, func(t *testing.T, w *wire) {
		const clients, messages = 12, 60
		cs := make([]*client, clients)
		for i := range cs {
			if i%2 == 0 {
				cs[i] = w.connectDeflate(t)
			} else {
				cs[i] = w.connect(t)
			}
		}
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Go(func() { errs <- echoStream(c, i, messages, i%2 == 0) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for _, c := range cs {
			closeClean(c)
		}
	})
}

// echoStream sends n messages on c and checks each echo before the next.
// It runs on its own goroutine and owns c until it returns, so it reports
// failures as errors rather than through c.t.
func echoStream(c *client, id, n int, deflate bool) error {
	for i := range n {
		p := fmt.Appendf(nil, "client %d message %d ", id, i)
		p = append(p, jsonLike((i*397)%3000)...)
		frame := whole(codec.OpText, p)
		if deflate && i%3 != 0 {
			frame = fr(true, rsv1, codec.OpText, deflateMessage(p))
		}
		if _, err := c.conn.Write(frame); err != nil {
			return fmt.Errorf("client %d: write: %w", id, err)
		}
		f, err := c.read()
		if err != nil {
			return fmt.Errorf("client %d: message %d: %w", id, i, err)
		}
		got := f.Payload
		if f.Rsv == rsv1 {
			if got, err = inflateMessage(f.Payload); err != nil {
				return fmt.Errorf("client %d: message %d: inflate: %w", id, i, err)
			}
		}
		if f.OpCode != codec.OpText || !bytes.Equal(got, p) {
			return fmt.Errorf("client %d: message %d: got op=%d %s, want %s", id, i, f.OpCode, abbrev(got), abbrev(p))
		}
	}
	return nil
}
