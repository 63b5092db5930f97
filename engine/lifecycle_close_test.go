package engine_test

import (
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// TestHandlerOnCloseCode checks the code Handler.OnClose reports for each way
// a connection ends: "the close code sent or received, or 1006 when the
// transport just dropped" (Handler docs).
func TestHandlerOnCloseCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		cfg   engine.Config
		drive func(t *testing.T, srv *engine.Server, c *client, conn *engine.Conn)
		want  codec.StatusCode
	}{{
		name: "peer_close",
		drive: func(t *testing.T, _ *engine.Server, c *client, _ *engine.Conn) {
			answerClose(c, 4001)
			c.expectClose(4001)
		},
		want: 4001,
	}, {
		name: "server_close",
		drive: func(t *testing.T, _ *engine.Server, c *client, conn *engine.Conn) {
			if err := conn.AsyncClose(codec.ClosePolicyViolation, "go away"); err != nil {
				t.Fatal(err)
			}
			awaitClose(t, c)
			answerClose(c, codec.ClosePolicyViolation)
			c.expectEOF()
		},
		want: codec.ClosePolicyViolation,
	}, {
		name: "protocol_error",
		drive: func(t *testing.T, _ *engine.Server, c *client, _ *engine.Conn) {
			c.write(codec.AppendFrame(nil, codec.OpText, []byte("unmasked"), false))
			c.expectClose(codec.CloseProtocolError)
		},
		want: codec.CloseProtocolError,
	}, {
		name: "idle_timeout",
		cfg:  engine.Config{IdleTimeout: 300 * time.Millisecond, PingInterval: -1, TickInterval: fastTick},
		drive: func(t *testing.T, _ *engine.Server, c *client, _ *engine.Conn) {
			c.expectClose(codec.CloseGoingAway)
		},
		want: codec.CloseGoingAway,
	}, {
		name: "shutdown",
		drive: func(t *testing.T, srv *engine.Server, c *client, _ *engine.Conn) {
			done := shutdownAsync(srv, 10*time.Second)
			awaitClose(t, c)
			answerClose(c, codec.CloseGoingAway)
			c.expectEOF()
			if err := awaitShutdown(t, done, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		},
		want: codec.CloseGoingAway,
	}, {
		name: "transport_dropped",
		drive: func(t *testing.T, _ *engine.Server, c *client, _ *engine.Conn) {
			_ = c.conn.Close()
		},
		want: codec.CloseAbnormal,
	}, {
		name: "slow_consumer",
		cfg:  engine.Config{MaxOutbound: 64 << 10},
		drive: func(t *testing.T, srv *engine.Server, _ *client, _ *engine.Conn) {
			payload := broadcastPayload(0)
			for metric(t, srv, "bellhop_slow_consumers_total") == 0 {
				for range 32 {
					publishText(t, srv, "t", string(payload), nil)
				}
				time.Sleep(time.Millisecond)
			}
		},
		want: engine.CloseSlowConsumer,
	}}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := startRecorder(t, tc.cfg)
			c, conn := connectRecorded(t, srv, rec, "t")
			tc.drive(t, srv, c, conn)
			if got := rec.awaitCode(t); got != tc.want {
				t.Fatalf("OnClose code %d, want %d", got, tc.want)
			}
		})
	}
}
