package engine_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// writes reads bellhop_socket_writes_total once the loops have added their
// counts (they do at the end of each callback).
func writes(t *testing.T, srv *engine.Server) int {
	t.Helper()
	n, err := strconv.Atoi(metricValue(srv, "bellhop_socket_writes_total"))
	if err != nil {
		t.Fatalf("bellhop_socket_writes_total: %v", err)
	}
	return n
}

// waitWrites waits up to a second for the counter to reach n, then a
// little longer for any write beyond it.
func waitWrites(t *testing.T, srv *engine.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for writes(t, srv) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
}

// TestTLSRecordsShareWrites checks that the records a TLS session writes
// in one go leave in one socket write: the server's handshake flight is
// one write, the session ticket and the 101 answer another, and a message
// sealed into several records one more.
func TestTLSRecordsShareWrites(t *testing.T) {
	tests := []struct {
		name    string
		tls     bool
		perConn int // writes per connection up to the 101
	}{
		{"wss", true, 2},
		{"ws", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := engine.Config{Loops: 1}
			if tt.tls {
				cfg.TLS = serverTLS(t)
			}
			srv := startServer(t, cfg)
			const conns = 5
			clients := make([]*client, conns)
			for i := range clients {
				clients[i] = connect(t, srv, tt.tls)
			}
			// The loop adds its counts after the callback that wrote.
			waitWrites(t, srv, conns*tt.perConn)
			if got := writes(t, srv); got != conns*tt.perConn {
				t.Errorf("%d writes for %d handshakes, want %d each", got, conns, tt.perConn)
			}
			before := writes(t, srv)
			big := bytes.Repeat([]byte("x"), 40<<10) // three TLS records
			clients[0].send(true, 0, codec.OpBinary, big)
			f := clients[0].mustRead()
			if !bytes.Equal(f.Payload, big) {
				t.Fatalf("echo of %d bytes came back as %d", len(big), len(f.Payload))
			}
			waitWrites(t, srv, before+1)
			if got := writes(t, srv) - before; got != 1 {
				t.Errorf("a 40 KiB echo took %d writes, want 1", got)
			}
		})
	}
}
