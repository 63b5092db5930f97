package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/bench"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// configCase is one command line for loadConfig: either check accepts the
// options it gives, or its error contains err.
type configCase struct {
	name  string
	args  []string
	check func(*options) bool
	err   string
}

func runConfigCases(t *testing.T, cases []configCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := loadConfig(c.args, io.Discard)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(o) {
				t.Fatalf("options %+v hotel %+v", o.cfg, o.cfg.Hotel)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []configCase{
		{"echo defaults", []string{"echo"}, func(o *options) bool {
			return o.scenario.Name() == "echo" && o.cfg.Duration == bench.DefaultDuration && o.cfg.Conns == bench.DefaultConns &&
				o.cfg.Target.Addr == "127.0.0.1:3001" && len(o.cfg.Sources) == 249
		}, ""},
		{"hold holds nothing by default", []string{"hold"}, func(o *options) bool { return o.cfg.Duration == 0 }, ""},
		{"hold with -duration", []string{"hold", "-duration", "5s"}, func(o *options) bool { return o.cfg.Duration == 5*time.Second }, ""},
		{"echo knobs", []string{"echo", "-conns", "10", "-size", "64", "-pipeline", "4", "-messages", "99", "-binary", "-load-cpu", "1",
			"-server-cmd", "bin/bellhop -port 3001", "-server-cpu", "0", "-json", "r.jsonl", "-label", "x"}, func(o *options) bool {
			return o.cfg.Conns == 10 && o.cfg.Size == 64 && o.cfg.Pipeline == 4 && o.cfg.Messages == 99 && o.cfg.Binary &&
				len(o.loadCPUs) == 1 && strings.Join(o.serverCmd, "|") == "bin/bellhop|-port|3001" && o.serverCPU == "0" &&
				o.jsonPath == "r.jsonl" && o.cfg.Label == "x"
		}, ""},
		{"wss without CA skips verification", []string{"connect", "-url", "wss://localhost:8443/echo"}, func(o *options) bool {
			return o.cfg.Target.Secure && o.cfg.TLS != nil && o.cfg.TLS.InsecureSkipVerify
		}, ""},
		{"broadcast defaults", []string{"broadcast"}, func(o *options) bool {
			return o.cfg.PublishRate == 2 && o.cfg.Rate == 0 && o.cfg.Size == 256 && o.cfg.Messages == 0
		}, ""},
		{"broadcast rate paces messages", []string{"broadcast", "-rate", "0", "-size", "100", "-messages", "7"}, func(o *options) bool {
			return o.cfg.PublishRate == 0 && o.cfg.Rate == 0 && o.cfg.Size == 100 && o.cfg.Messages == 7
		}, ""},
		{"echo rate paces connections", []string{"echo", "-rate", "50"}, func(o *options) bool {
			return o.cfg.Rate == 50 && o.cfg.PublishRate == 0 && o.cfg.Size == bench.DefaultSize
		}, ""},
		{"no scenario", nil, nil, "name a scenario"},
		{"flag first", []string{"-conns", "5"}, nil, "name a scenario"},
		{"unknown scenario", []string{"fanin"}, nil, "unknown scenario"},
		{"remote target", []string{"echo", "-url", "ws://10.0.0.1:3001/echo"}, nil, "not on loopback"},
		{"bad source", []string{"echo", "-src", "10.0.0.1"}, nil, "-src"},
		{"pid and cmd", []string{"echo", "-server-pid", "1", "-server-cmd", "x"}, nil, "exclude each other"},
		{"server cpu alone", []string{"echo", "-server-cpu", "0"}, nil, "needs -server-cmd"},
		{"bad server cpu", []string{"echo", "-server-cpu", "x", "-server-pid", "1"}, nil, "-server-cpu"},
		{"bad load cpu", []string{"echo", "-load-cpu", "1-0"}, nil, "-load-cpu"},
		{"missing CA", []string{"echo", "-url", "wss://127.0.0.1:1/", "-ca", "/nonexistent.pem"}, nil, "-ca"},
		{"CA without certificate", []string{"echo", "-url", "wss://127.0.0.1:1/", "-ca", ca}, nil, "no PEM"},
		{"stray argument", []string{"echo", "extra"}, nil, "unexpected arguments"},
		{"unknown flag", []string{"echo", "-nope"}, nil, "not defined"},
	}
	runConfigCases(t, cases)
}

func TestHelpAndUsage(t *testing.T) {
	var out bytes.Buffer
	if _, err := loadConfig([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), "Scenarios:") || !strings.Contains(out.String(), "-server-cmd") {
		t.Errorf("usage lacks scenarios or flags:\n%s", out.String())
	}
	if code := run([]string{"-h"}, io.Discard, io.Discard); code != exitOK {
		t.Errorf("run -h = %d, want %d", code, exitOK)
	}
	var stderr bytes.Buffer
	if code := run([]string{"nope"}, io.Discard, &stderr); code != exitFailed || !strings.Contains(stderr.String(), "unknown scenario") {
		t.Errorf("run nope = %d, stderr %q", code, stderr.String())
	}
}

func TestRunAgainstNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	var stdout, stderr bytes.Buffer
	code := run([]string{"connect", "-url", "ws://" + addr + "/echo", "-conns", "3", "-quiet"}, &stdout, &stderr)
	if code != exitErrors {
		t.Fatalf("exit %d, want %d (stderr %s)", code, exitErrors, stderr.String())
	}
	var res bench.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Errors["dial"] != 3 {
		t.Fatalf("JSON %q: %v, want 3 dial errors", stdout.String(), err)
	}
	if !strings.Contains(stderr.String(), "errors: dial=3") {
		t.Errorf("summary on stderr missing: %s", stderr.String())
	}
	if code := run([]string{"connect", "-url", "ws://" + addr + "/", "-server-pid", "1073741824"}, &stdout, &stderr); code != exitFailed {
		t.Errorf("missing server pid: exit %d, want %d", code, exitFailed)
	}
}

func TestSplitCores(t *testing.T) {
	tests := []struct {
		ncpu             int
		server, load     string
		wantServer, want string
		err              bool
	}{
		{ncpu: 2, wantServer: "0", want: "1"},
		{ncpu: 8, wantServer: "0", want: "1-7"},
		{ncpu: 4, server: "2", load: "3", wantServer: "2", want: "3"},
		{ncpu: 1, err: true},
	}
	for _, tt := range tests {
		o := &options{serverCPU: tt.server}
		v := &flagValues{loadCPU: tt.load}
		err := v.splitCores(o, tt.ncpu)
		if (err != nil) != tt.err {
			t.Errorf("ncpu %d: err %v", tt.ncpu, err)
			continue
		}
		if !tt.err && (o.serverCPU != tt.wantServer || v.loadCPU != tt.want) {
			t.Errorf("ncpu %d: server %q load %q, want %q %q", tt.ncpu, o.serverCPU, v.loadCPU, tt.wantServer, tt.want)
		}
	}
	// Through the flags: -cpu alone needs a server to pin.
	if _, err := loadConfig([]string{"echo", "-cpu"}, io.Discard); err == nil || !strings.Contains(err.Error(), "needs -server-cmd") {
		t.Errorf("-cpu without a server: %v", err)
	}
	o, err := loadConfig([]string{"echo", "-cpu", "-server-cmd", "x"}, io.Discard)
	if err != nil || o.serverCPU != "0" || len(o.loadCPUs) == 0 || o.loadCPUs[0] != 1 {
		t.Errorf("-cpu: %+v, %v", o, err)
	}
}

func TestReportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	empty := filepath.Join(dir, "empty.jsonl")
	_ = os.WriteFile(bad, []byte("nope\n"), 0o644)
	_ = os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report"}, exitFailed, "name at least one result file"},
		{[]string{"report", bad}, exitFailed, "line 1"},
		{[]string{"report", empty}, exitFailed, "no results"},
		{[]string{"report", filepath.Join(dir, "missing")}, exitFailed, "no such file"},
		{[]string{"report", "-nope"}, exitFailed, "flag provided but not defined"},
		{[]string{"report", "-h"}, exitOK, "usage: bellhop-bench report"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
}

// TestRunBellhop builds the server and runs each scenario through the
// command line, the way the benchmarks are run.
func TestRunBellhop(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bellhop")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/bellhop/bellhop/cmd/bellhop").CombinedOutput(); err != nil {
		t.Skipf("cmd/bellhop does not build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	server := bin + " -host 127.0.0.1 -port " + port + " -echo-path /echo -metrics=false -loops 1 -ping-interval 0 -idle-timeout 10m"
	jsonPath := filepath.Join(dir, "results.jsonl")
	for _, args := range [][]string{
		{"connect", "-conns", "30"},
		{"hold", "-conns", "100", "-settle-interval", "100ms"},
		{"echo", "-conns", "20", "-duration", "500ms", "-server-cpu", "0", "-load-cpu", "0-1"},
		{"broadcast", "-conns", "20", "-messages", "5", "-rate", "0", "-gc", "-case", "bc-small", "-label", "bellhop",
			"-results", filepath.Join(dir, "results")},
	} {
		args = append(args, "-url", "ws://"+addr+"/echo", "-server-cmd", server, "-server-log", filepath.Join(dir, "server.log"), "-json", jsonPath, "-quiet")
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d\nstdout %s\nstderr %s", args[0], code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "errors: none") {
			t.Errorf("%s summary: %s", args[0], stdout.String())
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d JSON lines, want 4", len(lines))
	}
	// -results keeps its own copy of the line and a report of the folder.
	report, err := os.ReadFile(filepath.Join(dir, "results", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## bc-small", "| metric | bellhop | bellhop / best peer |", "| lost | 0 |"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "bc-small-latency.svg")); err != nil {
		t.Errorf("no latency plot: %v", err)
	}
	// The report subcommand reads all four lines into one report.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", "-out", filepath.Join(dir, "all"), "-title", "all runs", jsonPath}, &stdout, &stderr); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr.String())
	}
	all, err := os.ReadFile(filepath.Join(dir, "all", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# all runs", "## connect", "## hold", "## echo", "## bc-small"} {
		if !strings.Contains(string(all), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for i, want := range []string{"server_cpu_us_per_handshake", "rss_per_conn_bytes", "server_cpu_us_per_round_trip", "server_cpu_us_per_delivery"} {
		var res bench.Result
		if err := json.Unmarshal([]byte(lines[i]), &res); err != nil {
			t.Fatal(err)
		}
		if _, ok := res.Metrics.Get(want); !ok {
			t.Errorf("line %d lacks %s: %s", i, want, lines[i])
		}
	}
}

func TestLoadConfigHotel(t *testing.T) {
	cases := []configCase{
		{"hotel defaults", []string{"hotel"}, func(o *options) bool {
			h := o.cfg.Hotel
			return o.scenario.Name() == "hotel" && o.cfg.Target.Path == "/ws" && o.cfg.Target.Addr == "127.0.0.1:3001" &&
				o.cfg.Duration == bench.DefaultDuration && *h.Mix == bench.DefaultHotelMix() &&
				h.Rooms == 300 && h.Staff == 150 && h.Guests == 2000 && h.FrontDesk == 4 &&
				h.JWTSecret == "bellhop-development-secret-do-not-use-in-prod" && h.APIKey == "bellhop-dev-api-key" &&
				h.APIURL == "http://127.0.0.1:9090/api" && h.Property == "hotel-1" && h.Seed == 1
		}, ""},
		{"hotel knobs", []string{"hotel", "-url", "ws://127.0.0.1:3601/ws", "-rooms", "20", "-staff", "6", "-guests", "30",
			"-front-desk", "2", "-room-rate", "1", "-request-rate", "2", "-alert-rate", "3", "-checkin-rate", "4", "-low-rate", "0",
			"-accept-delay", "1ms", "-work-time", "2ms", "-jwt-secret", "s", "-property", "p", "-api-url", "http://127.0.0.1:9691/api",
			"-api-key", "k", "-api-workers", "3", "-seed", "9", "-duration", "2s"}, func(o *options) bool {
			h := o.cfg.Hotel
			return o.cfg.Target.Addr == "127.0.0.1:3601" && h.Rooms == 20 && h.Staff == 6 && h.Guests == 30 && h.FrontDesk == 2 &&
				*h.Mix == bench.HotelMix{RoomUpdates: 1, Requests: 2, Alerts: 3, CheckIns: 4} &&
				h.AcceptDelay == time.Millisecond && h.WorkTime == 2*time.Millisecond && h.JWTSecret == "s" && h.Property == "p" &&
				h.APIURL == "http://127.0.0.1:9691/api" && h.APIKey == "k" && h.APIWorkers == 3 && h.Seed == 9 &&
				o.cfg.Duration == 2*time.Second
		}, ""},
		{"echo keeps its URL", []string{"echo"}, func(o *options) bool { return o.cfg.Target.Path == "/echo" }, ""},
		{"hotel remote", []string{"hotel", "-url", "ws://10.0.0.1:3001/ws"}, nil, "not on loopback"},
	}
	runConfigCases(t, cases)
	var out bytes.Buffer
	_, _ = loadConfig([]string{"-h"}, &out)
	for _, want := range []string{"  hotel ", "-low-rate", "-api-url", "-jwt-secret"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// hotelServerCmd builds the server into a temporary folder and returns the
// folder, two free loopback addresses (hotel endpoint, admin) and the
// command line that serves them with the test's secret and API key.
func hotelServerCmd(t *testing.T) (dir string, addrs [2]string, server string) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(dir, "bellhop")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/bellhop/bellhop/cmd/bellhop").CombinedOutput(); err != nil {
		t.Skipf("cmd/bellhop does not build: %v\n%s", err, out)
	}
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		_ = ln.Close()
	}
	_, port, _ := net.SplitHostPort(addrs[0])
	_, admin, _ := net.SplitHostPort(addrs[1])
	server = bin + " -host 127.0.0.1 -port " + port + " -metrics-host 127.0.0.1 -metrics-port " + admin +
		" -jwt-secret bellhop-test-secret-of-32-bytes-or-more -api-key test-key -loops 1 -log-level warn"
	return dir, addrs, server
}

// TestRunHotel builds the server and runs the hotel scenario through the
// command line against it, the server started by the harness with its
// token secret, API key and admin port.
func TestRunHotel(t *testing.T) {
	dir, addrs, server := hotelServerCmd(t)
	args := []string{"hotel", "-url", "ws://" + addrs[0] + "/ws", "-api-url", "http://" + addrs[1] + "/api",
		"-jwt-secret", "bellhop-test-secret-of-32-bytes-or-more", "-api-key", "test-key",
		"-rooms", "20", "-staff", "6", "-guests", "20", "-front-desk", "1", "-duration", "1s",
		"-room-rate", "10", "-request-rate", "5", "-alert-rate", "5", "-checkin-rate", "4", "-low-rate", "20",
		"-accept-delay", "5ms", "-work-time", "5ms", "-server-cmd", server, "-server-log", filepath.Join(dir, "server.log"), "-quiet"}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "errors: none") {
		t.Errorf("summary: %s", stderr.String())
	}
	var res bench.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deliveries_room_update", "deliveries_checkin", "deliveries_service_request",
		"deliveries_request_update", "deliveries_low_alert", "server_cpu_us_per_delivery"} {
		if v, ok := res.Metrics.Get(name); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v)", name, v, ok)
		}
	}
	if v, ok := res.Metrics.Get("lost"); !ok || v != 0 {
		t.Errorf("lost = %v (present %v)", v, ok)
	}
}

func TestLoadConfigFanout(t *testing.T) {
	fanout := func(o *options) bench.FanoutConfig { f, _ := o.scenario.(bench.Fanout); return f.FanoutConfig }
	cases := []configCase{
		{"fanout defaults", []string{"fanout"}, func(o *options) bool {
			f := fanout(o)
			return o.scenario.Name() == "fanout" && o.cfg.Target.Path == "/ws" && o.cfg.Target.Addr == "127.0.0.1:3001" &&
				o.cfg.PublishRate == 20 && o.cfg.Rate == 0 && o.cfg.Messages == 0 && o.cfg.Size == bench.DefaultSize &&
				f.URLs == nil && f.NodePIDs == nil && f.RedisPID == 0 && f.Role == auth.Guest && o.cfg.Hotel.APIURL == bench.DefaultHotelAPIURL
		}, ""},
		{"fanout over two nodes", []string{"fanout", "-urls", "ws://127.0.0.1:3601/ws, ws://127.0.0.2:3602/ws?x=1",
			"-node-pids", "11,12", "-redis-pid", "13", "-rate", "0", "-messages", "50", "-size", "40", "-role", "front_desk",
			"-api-url", "http://127.0.0.1:9601/api", "-api-key", "k", "-api-workers", "16", "-property", "grand", "-conns", "100"}, func(o *options) bool {
			f := fanout(o)
			return len(f.URLs) == 2 && f.URLs[0].Addr == "127.0.0.1:3601" && f.URLs[1].Path == "/ws?x=1" &&
				o.cfg.Target == f.URLs[0] && len(f.NodePIDs) == 2 && f.NodePIDs[0] == 11 && f.NodePIDs[1] == 12 && f.RedisPID == 13 &&
				f.Role == auth.FrontDesk &&
				o.cfg.PublishRate == 0 && o.cfg.Rate == 0 && o.cfg.Messages == 50 && o.cfg.Size == 40 && o.cfg.Conns == 100 &&
				o.cfg.Hotel.APIURL == "http://127.0.0.1:9601/api" && o.cfg.Hotel.APIKey == "k" && o.cfg.Hotel.APIWorkers == 16 &&
				o.cfg.Hotel.Property == "grand"
		}, ""},
		{"fanout one node by -url", []string{"fanout", "-url", "ws://127.0.0.1:3601/ws", "-node-pids", "7", "-rate", "5"}, func(o *options) bool {
			f := fanout(o)
			return o.cfg.Target.Addr == "127.0.0.1:3601" && f.URLs == nil && len(f.NodePIDs) == 1 && o.cfg.PublishRate == 5
		}, ""},
		{"fanout remote node", []string{"fanout", "-urls", "ws://127.0.0.1:1/ws,ws://10.0.0.1:1/ws"}, nil, "-urls"},
		{"fanout bad URL", []string{"fanout", "-urls", "http://127.0.0.1:1/ws"}, nil, "-urls"},
		{"fanout PIDs do not match", []string{"fanout", "-urls", "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws", "-node-pids", "5"}, nil, "2 URLs"},
		{"fanout bad PID", []string{"fanout", "-node-pids", "x"}, nil, "-node-pids"},
		{"fanout negative Redis PID", []string{"fanout", "-redis-pid", "-1"}, nil, "-redis-pid"},
		{"fanout unknown role", []string{"fanout", "-role", "bellboy"}, nil, "-role"},
	}
	runConfigCases(t, cases)
	var out bytes.Buffer
	_, _ = loadConfig([]string{"-h"}, &out)
	for _, want := range []string{"  fanout ", "-urls", "-node-pids", "-redis-pid", "-role"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestRunFanout builds the server and runs fanout through the command line
// against it, its hotel endpoint named twice in -urls as two nodes would
// be.
func TestRunFanout(t *testing.T) {
	dir, addrs, server := hotelServerCmd(t)
	url := "ws://" + addrs[0] + "/ws"
	args := []string{"fanout", "-urls", url + "," + url, "-api-url", "http://" + addrs[1] + "/api",
		"-jwt-secret", "bellhop-test-secret-of-32-bytes-or-more", "-api-key", "test-key", "-property", "grand",
		"-conns", "9", "-messages", "20", "-rate", "0", "-redis-pid", strconv.Itoa(os.Getpid()),
		"-server-cmd", server, "-server-log", filepath.Join(dir, "server.log"), "-quiet"}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
	var res bench.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"subscribers_node0": 5, "subscribers_node1": 4, "deliveries": 180, "lost": 0, "duplicated": 0}
	for name, v := range want {
		if got, ok := res.Metrics.Get(name); !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
		}
	}
	for _, name := range []string{"server_cpu_us_per_delivery", "redis_cpu_us_per_publish", "latency_p99_us"} {
		if _, ok := res.Metrics.Get(name); !ok {
			t.Errorf("no %s", name)
		}
	}
}
