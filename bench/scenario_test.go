package bench

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
)

func TestLookup(t *testing.T) {
	for _, name := range []string{"connect", "hold", "echo"} {
		sc, err := Lookup(name)
		if err != nil || sc.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, sc, err)
		}
	}
	if _, err := Lookup("fanout"); !errors.Is(err, ErrBadConfig) {
		t.Errorf("Lookup(unknown) err = %v, want ErrBadConfig", err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	good := Target{Addr: "127.0.0.1:1", Host: "127.0.0.1:1", Path: "/"}
	cases := []struct {
		name string
		cfg  Config
		err  error
	}{
		{"remote target", Config{Target: Target{Addr: "8.8.8.8:53"}}, ErrNotLoopback},
		{"too many conns", Config{Target: good, Conns: 1<<20 + 1}, ErrBadConfig},
		{"negative rate", Config{Target: good, Rate: -1}, ErrBadConfig},
		{"negative duration", Config{Target: good, Duration: -time.Second}, ErrBadConfig},
		{"negative messages", Config{Target: good, Messages: -1}, ErrBadConfig},
		{"huge size", Config{Target: good, Size: DefaultMaxFrame + 1}, ErrBadConfig},
		{"huge pipeline", Config{Target: good, Pipeline: 5000}, ErrBadConfig},
		{"huge concurrency", Config{Target: good, Concurrency: 20000}, ErrBadConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Run(context.Background(), Echo{}, &Env{Config: c.cfg}); !errors.Is(err, c.err) {
				t.Fatalf("Run err = %v, want %v", err, c.err)
			}
		})
	}
}

func TestRunChecksOpenFiles(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 500000 {
		t.Skipf("open-files limit %d too high to exceed here", lim.Cur)
	}
	cfg := Config{Target: Target{Addr: "127.0.0.1:1"}, Conns: int(lim.Cur)}
	_, err := Run(context.Background(), Connect{}, &Env{Config: cfg})
	if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), "open-files limit") {
		t.Fatalf("err = %v, want the open-files limit refused", err)
	}
}

func echoRoutes() map[string]func(*fakeConn) {
	return map[string]func(*fakeConn){
		"/echo": func(c *fakeConn) { c.accept101(""); c.echo() },
		"/corrupt": func(c *fakeConn) {
			c.accept101("")
			if f, err := c.next(); err == nil {
				f.Payload[0] ^= 1
				c.send(f.OpCode, f.Payload)
			}
			c.echo()
		},
		"/chatty": func(c *fakeConn) {
			c.accept101("")
			c.send(codec.OpText, []byte("unsolicited"))
			c.echo()
		},
	}
}

func TestScenariosOnFakeServer(t *testing.T) {
	srv := startFake(t, nil, echoRoutes())
	self, err := AttachProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := self.Pin(allCPUs(t)); err != nil { // no change, but samples now read the CPUs' busy time
		t.Fatal(err)
	}
	fastSettle := SettleConfig{Interval: 5 * time.Millisecond, Window: 2, Tolerance: 1 << 30, MaxWait: time.Second}
	cases := []struct {
		sc     Scenario
		cfg    Config
		server *Process
		want   []string
	}{
		{Connect{}, Config{Conns: 20, Concurrency: 4}, self,
			[]string{"conns", "handshakes_per_sec", "connect_p99_us", "server_cpu_us_per_handshake", "server_core_us_per_handshake", "load_cpu_us_per_handshake"}},
		{Hold{}, Config{Conns: 20, Settle: fastSettle, Duration: 20 * time.Millisecond}, self,
			[]string{"conns", "rss_before_bytes", "rss_after_bytes", "rss_per_conn_bytes", "rss_settled", "conns_held", "conns_lost"}},
		{Echo{}, Config{Conns: 10, Messages: 2000, Pipeline: 4, Size: 300, Binary: true}, self,
			[]string{"conns", "round_trips", "round_trips_per_sec", "rtt_p50_us", "rtt_max_us", "server_cpu_us_per_round_trip",
				"server_core_us_per_round_trip", "server_core_percent", "load_cpu_us_per_round_trip"}},
		{Echo{}, Config{Conns: 5, Duration: 100 * time.Millisecond}, nil,
			[]string{"conns", "round_trips", "rtt_p99_us"}},
	}
	for _, c := range cases {
		t.Run("scenario="+c.sc.Name(), func(t *testing.T) {
			c.cfg.Target = srv.target("/echo")
			c.cfg.Label = "fake"
			res, err := Run(context.Background(), c.sc, &Env{Config: c.cfg, Server: c.server})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 {
				t.Fatalf("errors %v: %s", res.Errors, res.FirstError)
			}
			for _, name := range c.want {
				if _, ok := res.Metrics.Get(name); !ok {
					t.Errorf("metric %s missing from %v", name, res.Metrics)
				}
			}
			if n, _ := res.Metrics.Get("conns"); int(n) != c.cfg.Conns {
				t.Errorf("conns = %v, want %d", n, c.cfg.Conns)
			}
			if res.Scenario != c.sc.Name() || res.Label != "fake" || res.Seconds <= 0 || res.Params["conns"] != c.cfg.Conns {
				t.Errorf("result header %#v", res)
			}
			if c.cfg.Messages > 0 {
				if n, _ := res.Metrics.Get("round_trips"); int64(n) < c.cfg.Messages {
					t.Errorf("round_trips = %v, want at least %d", n, c.cfg.Messages)
				}
			}
			if c.server == nil {
				if _, ok := res.Metrics.Get("server_cpu_us_per_round_trip"); ok {
					t.Error("server metrics reported without a server")
				}
			}
		})
	}
}

func TestEchoDetectsBadEchoes(t *testing.T) {
	srv := startFake(t, nil, echoRoutes())
	for _, path := range []string{"/corrupt", "/chatty"} {
		t.Run("path="+path, func(t *testing.T) {
			cfg := Config{Target: srv.target(path), Conns: 3, Duration: 200 * time.Millisecond}
			res, err := Run(context.Background(), Echo{}, &Env{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors["mismatch"] != 3 {
				t.Fatalf("errors %v, want mismatch=3", res.Errors)
			}
		})
	}
}

func TestEchoWithoutConnections(t *testing.T) {
	addr := freeAddr(t) // nothing listens there
	cfg := Config{Target: Target{Addr: addr, Host: addr, Path: "/"}, Conns: 2, Duration: time.Second}
	res, err := Run(context.Background(), Echo{}, &Env{Config: cfg})
	if !errors.Is(err, ErrHandshake) || res == nil || res.Errors["dial"] != 2 {
		t.Fatalf("Run = %v, %v; want ErrHandshake and 2 dial errors", res, err)
	}
}

func TestScenarioCancelled(t *testing.T) {
	srv := startFake(t, nil, echoRoutes())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, sc := range Scenarios() {
		cfg := Config{Target: srv.target("/echo"), Conns: 2, Duration: time.Minute}
		if _, err := Run(ctx, sc, &Env{Config: cfg}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", sc.Name(), err)
		}
	}
}

func TestScenarioServerGone(t *testing.T) {
	srv := startFake(t, nil, echoRoutes())
	p, err := helperProcess(t, "listen:", "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	for _, sc := range Scenarios() {
		cfg := Config{Target: srv.target("/echo"), Conns: 2, Duration: 10 * time.Millisecond}
		if _, err := Run(context.Background(), sc, &Env{Config: cfg, Server: p}); !errors.Is(err, ErrNoProcess) {
			t.Errorf("%s with a dead server: err = %v, want ErrNoProcess", sc.Name(), err)
		}
	}
}
