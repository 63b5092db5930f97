package engine_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// Tests of a server's construction and start: configuration checks and a
// listen failure.

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	echo := map[string]engine.Handler{"/echo": engine.NewEcho("/echo")}
	cases := []struct {
		name string
		cfg  engine.Config
		want string // substring of the error
	}{
		{"no_routes", engine.Config{}, "no routes"},
		{"relative_route", engine.Config{Routes: map[string]engine.Handler{"echo": engine.NewEcho("echo")}}, `"echo" must start with /`},
		{"nil_handler", engine.Config{Routes: map[string]engine.Handler{"/x": nil}}, `"/x" has no handler`},
		{"negative_loops", engine.Config{Routes: echo, Loops: -1}, "Loops=-1"},
		{"too_many_loops", engine.Config{Routes: echo, Loops: 65}, "Loops=65"},
		{"negative_max_connections", engine.Config{Routes: echo, MaxConnections: -1}, "MaxConnections=-1"},
		{"message_below_frame", engine.Config{Routes: echo, MaxFrameSize: 2048, MaxMessageSize: 1024}, "MaxMessageSize=1024 must be at least MaxFrameSize=2048"},
		{"small_head", engine.Config{Routes: echo, MaxHeadSize: 100}, "MaxHeadSize=100"},
		{"small_outbound", engine.Config{Routes: echo, MaxOutbound: 1024}, "MaxOutbound=1024"},
		{"ping_not_below_idle", engine.Config{Routes: echo, IdleTimeout: time.Second, PingInterval: time.Second}, "PingInterval=1s must be shorter than IdleTimeout=1s"},
		{"small_read_buffer", engine.Config{Routes: echo, ReadBufferCap: 100}, "ReadBufferCap=100"},
		{"bad_origin", engine.Config{Routes: echo, AllowedOrigins: []string{"not an origin"}}, "handshake config"},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			if _, err := engine.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseLoadBalancing(t *testing.T) {
	t.Parallel()
	cases := map[string]engine.LoadBalancing{
		"": engine.RoundRobin, "round-robin": engine.RoundRobin, "RR": engine.RoundRobin,
		"least-connections": engine.LeastConnections, "lc": engine.LeastConnections,
		"source-addr-hash": engine.SourceAddrHash, "Hash": engine.SourceAddrHash,
	}
	for in, want := range cases {
		if got, err := engine.ParseLoadBalancing(in); err != nil || got != want {
			t.Errorf("ParseLoadBalancing(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	if _, err := engine.ParseLoadBalancing("random"); err == nil || !strings.Contains(err.Error(), `"random"`) {
		t.Errorf("ParseLoadBalancing(random): %v, want an error naming it", err)
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	srv, err := engine.New(engine.Config{Addr: busy.Addr().String(), Routes: map[string]engine.Handler{"/echo": engine.NewEcho("/echo")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Fatalf("Start on a busy port: %v, want a listen error", err)
	}
}

func TestServerAddrAndPort(t *testing.T) {
	t.Parallel()
	srv := startServer(t, engine.Config{Loops: 1})
	addr, ok := srv.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) || addr.Port == 0 || srv.Port() == "0" || !strings.HasSuffix(addr.String(), ":"+srv.Port()) {
		t.Fatalf("Addr %v, Port %q", srv.Addr(), srv.Port())
	}
	if loops := metric(t, srv, "bellhop_event_loops"); loops != 0 {
		t.Fatalf("%v loops before any connection, want 0 (made on first use)", loops)
	}
	connect(t, srv, false).echoes(codec.OpText, []byte("x"))
	if loops := metric(t, srv, "bellhop_event_loops"); loops != 1 {
		t.Fatalf("%v loops after one connection, want 1", loops)
	}
}
