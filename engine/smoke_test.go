package engine_test

import (
	"testing"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

func TestEchoSmoke(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		cfg := engine.Config{}
		if useTLS {
			cfg.TLS = serverTLS(t)
		}
		srv := startServer(t, cfg)
		c := connect(t, srv, useTLS)
		c.echoes(codec.OpText, []byte("hello"))
		c.echoes(codec.OpBinary, make([]byte, 100000))
		c.send(true, 0, codec.OpClose, codec.AppendClosePayload(nil, 1000, "bye"))
		c.expectClose(1000)
		want := "0"
		if useTLS {
			want = "1"
		}
		if got := metricValue(srv, "bellhop_tls_handshakes_total"); got != want {
			t.Fatalf("bellhop_tls_handshakes_total = %q, want %s", got, want)
		}
	}
}
