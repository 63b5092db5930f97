package bench

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// buildServer builds cmd/bellhop into dir, or skips the test when it does
// not build (it is developed alongside the harness).
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bellhop")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/bellhop/bellhop/cmd/bellhop").CombinedOutput()
	if err != nil {
		t.Skipf("integration test skipped: cmd/bellhop does not build: %v\n%s", err, out)
	}
	return bin
}

// startServer starts bin on a free loopback port and returns the echo
// target and the process, stopped at the end of the test.
func startServer(t *testing.T, bin, certFile, keyFile string) (Target, *Process) {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	args := []string{bin, "-host", "127.0.0.1", "-port", port, "-echo-path", "/echo", "-metrics=false",
		"-loops", "1", "-max-connections", "2000", "-ping-interval", "0", "-idle-timeout", "10m"}
	scheme := "ws"
	if certFile != "" {
		args = append(args, "-ssl", "-ssl-cert", certFile, "-ssl-key", keyFile)
		scheme = "wss"
	}
	p, err := StartProcess(context.Background(), ProcessConfig{Args: args, ReadyAddr: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	})
	target, err := ParseTarget(scheme + "://" + addr + "/echo")
	if err != nil {
		t.Fatal(err)
	}
	return target, p
}

func TestIntegrationBellhop(t *testing.T) {
	dir := t.TempDir()
	bin := buildServer(t, dir)
	certFile, keyFile := writeCert(t, dir)
	settle := SettleConfig{Interval: 100 * time.Millisecond, MaxWait: 5 * time.Second}
	type check struct {
		metric string
		min    float64 // the metric must be present and at least this
	}
	cases := []struct {
		name   string
		sc     Scenario
		cfg    Config
		checks []check
	}{
		{"connect", Connect{}, Config{Conns: 50, Concurrency: 10},
			[]check{{"conns", 50}, {"handshakes_per_sec", 1}, {"connect_p99_us", 1}, {"server_cpu_us_per_handshake", 0}}},
		{"hold", Hold{}, Config{Conns: 200, Settle: settle, Duration: 200 * time.Millisecond},
			[]check{{"conns", 200}, {"rss_per_conn_bytes", 1}, {"conns_held", 200}, {"server_cpu_us_per_handshake", 0}}},
		{"echo", Echo{}, Config{Conns: 50, Duration: time.Second, Size: 128},
			[]check{{"conns", 50}, {"round_trips", 100}, {"round_trips_per_sec", 100}, {"rtt_p50_us", 1}, {"server_cpu_us_per_round_trip", 0}}},
		{"echo-pipeline", Echo{}, Config{Conns: 20, Messages: 5000, Pipeline: 8, Size: 2000, Binary: true},
			[]check{{"conns", 20}, {"round_trips", 5000}, {"server_cpu_us_per_round_trip", 0}}},
		{"broadcast", Broadcast{}, Config{Conns: 50, Messages: 20, PublishRate: 50, Size: 256},
			[]check{{"subscribers", 50}, {"deliveries", 50 * 20}, {"latency_p99_us", 1}, {"server_cpu_us_per_delivery", 0}}},
		{"broadcast-saturated", Broadcast{}, Config{Conns: 30, Messages: 200, Size: 100},
			[]check{{"subscribers", 30}, {"deliveries", 30 * 200}, {"deliveries_per_sec", 1}}},
	}
	for _, secure := range []bool{false, true} {
		for _, c := range cases {
			name := "tls=" + strconv.FormatBool(secure) + "/scenario=" + c.name
			t.Run(name, func(t *testing.T) {
				cf, kf := "", ""
				if secure {
					cf, kf = certFile, keyFile
				}
				target, proc := startServer(t, bin, cf, kf)
				cfg := c.cfg
				cfg.Target = target
				res, err := Run(context.Background(), c.sc, &Env{Config: cfg, Server: proc})
				if err != nil {
					t.Fatalf("%v (server output: %s)", err, proc.Output())
				}
				if len(res.Errors) != 0 {
					t.Fatalf("errors %v: %s", res.Errors, res.FirstError)
				}
				for _, ch := range c.checks {
					v, ok := res.Metrics.Get(ch.metric)
					if !ok || v < ch.min {
						t.Errorf("%s = %v (present %v), want at least %v", ch.metric, v, ok, ch.min)
					}
				}
				for _, name := range []string{"conns_lost", "lost", "duplicated"} {
					if v, ok := res.Metrics.Get(name); ok && v != 0 {
						t.Errorf("%s = %v, want 0", name, v)
					}
				}
				checkDeliveries(t, res)
			})
		}
	}
}

// checkDeliveries asserts that a broadcast run delivered every message to
// every subscriber exactly once.
func checkDeliveries(t *testing.T, res *Result) {
	t.Helper()
	if res.Scenario != "broadcast" {
		return
	}
	subs, _ := res.Metrics.Get("subscribers")
	sent, _ := res.Metrics.Get("messages_sent")
	got, _ := res.Metrics.Get("deliveries")
	lost, okLost := res.Metrics.Get("lost")
	dup, okDup := res.Metrics.Get("duplicated")
	if want := subs * sent; got != want || !okLost || lost != 0 || !okDup || dup != 0 {
		t.Errorf("deliveries %v (want %v), lost %v (present %v), duplicated %v (present %v)", got, want, lost, okLost, dup, okDup)
	}
	if sent != float64(res.Params["messages"].(int64)) {
		t.Errorf("messages_sent = %v, want %v", sent, res.Params["messages"])
	}
}
