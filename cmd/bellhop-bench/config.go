package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"

	"github.com/bellhop/bellhop/bench"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// options is everything the command line says.
type options struct {
	scenario     bench.Scenario
	cfg          bench.Config
	serverPID    int
	serverCmd    []string
	serverCPU    string
	loadCPUs     []int
	serverLog    string
	readyTimeout time.Duration
	jsonPath     string
	resultsDir   string
	caseName     string
	gcTrace      bool
	quiet        bool
}

const usageHead = `usage: bellhop-bench <scenario> [flags]

Scenarios:
  connect  open -conns connections, -concurrency at a time: handshakes/s, connect latency, server CPU per handshake
  hold     open -conns idle connections: server RSS per connection once settled, server CPU per handshake
  echo     -conns connections in a closed loop of -size byte echoes (-pipeline in flight each) for -duration
           or -messages round trips: round trips/s, latency, server CPU per round trip
  broadcast  -conns subscribers and one publisher sending -messages (default 100) messages of -size
           (default 256) bytes, -rate per second (default 2; 0 sends them back to back), which the
           server broadcasts: deliveries/s, delivery latency, lost and duplicated deliveries,
           server CPU per delivery (connections are opened unpaced)
  hotel    a hotel's mixed workload against the hotel endpoint (-url default ws://127.0.0.1:3001/ws):
           -rooms rooms seeded through the backend API (-api-url, -api-key), -front-desk, -staff
           (housekeeping, maintenance, concierge) and -guests connections with tokens minted from
           -jwt-secret for -property; then for -duration, per second: -room-rate room status updates,
           -request-rate guest service requests (staff accept after -accept-delay and complete after
           -work-time), -alert-rate alerts, -checkin-rate check-ins and check-outs through the API and
           -low-rate LOW-priority alerts: latency per event type and per priority, lost deliveries,
           ERROR events, server CPU per delivery (-conns is ignored)
  fanout   -conns subscribers of namespace "system" (-role, default guest; one token each), dealt round-robin
           over the nodes of -urls (default -url, ws://127.0.0.1:3001/ws), and -messages (default 200) SYSTEM_ALERTs of
           -size bytes published through the backend API of one node (-api-url, -api-key), -rate per
           second (default 20; 0 sends them back to back, -api-workers in flight): deliveries/s,
           latency overall and per node, lost and duplicated deliveries, subscribers per node, CPU
           per delivery of -server-pid and of -node-pids, Redis CPU per publish with -redis-pid

The target must be on loopback (127.0.0.0/8). With -server-cmd the harness starts the server
(under taskset -c with -server-cpu), waits for its port, measures and stops it; with -server-pid it
only reads /proc of a running server. The summary goes to stderr when the JSON line goes to stdout.
Exit status: 0 ok, 1 the run failed, 2 connections or messages failed (see the errors line).

Flags:
`

// loadConfig parses the command line (without the program name).
func loadConfig(args []string, usage io.Writer) (*options, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(usage, usageHead)
		newFlags(&options{}, &flagValues{}, usage).PrintDefaults()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return nil, flag.ErrHelp
		}
		return nil, errors.New("name a scenario: connect, hold, echo, broadcast, hotel or fanout")
	}
	sc, err := lookupScenario(args[0])
	if err != nil {
		return nil, err
	}
	o := &options{scenario: sc}
	var v flagValues
	fs := newFlags(o, &v, usage)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if !isSet(fs, "duration") && sc.Name() == "hold" {
		o.cfg.Duration = 0 // hold: just settle unless told to hold longer
	}
	if sc.Name() == "broadcast" {
		broadcastFlags(fs, &o.cfg)
	}
	if (sc.Name() == "hotel" || sc.Name() == "fanout") && !isSet(fs, "url") {
		v.url = defaultHotelURL
	}
	if err := v.apply(o); err != nil {
		return nil, err
	}
	if sc.Name() == "fanout" {
		return o, fanoutOptions(fs, o, &v)
	}
	return o, nil
}

// lookupScenario returns the scenario called name: a built-in one, or
// fanout, which takes its configuration from the flags.
func lookupScenario(name string) (bench.Scenario, error) {
	if name == (bench.Fanout{}).Name() {
		return bench.Fanout{}, nil
	}
	return bench.Lookup(name)
}

// defaultFanoutRate is fanout's -rate: alerts per second.
const defaultFanoutRate = 20

// fanoutOptions reinterprets -rate for fanout (the alerts' pace, not the
// connections') and builds the scenario from -urls, -node-pids and
// -redis-pid. With -urls the first URL is the target.
func fanoutOptions(fs *flag.FlagSet, o *options, v *flagValues) error {
	c := &o.cfg
	c.PublishRate = defaultFanoutRate
	if isSet(fs, "rate") {
		c.PublishRate = c.Rate
	}
	c.Rate = 0
	var f bench.FanoutConfig
	for u := range strings.SplitSeq(v.urls, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		t, err := bench.ParseTarget(u)
		if err != nil {
			return fmt.Errorf("-urls: %w", err)
		}
		f.URLs = append(f.URLs, t)
	}
	if len(f.URLs) > 0 {
		c.Target = f.URLs[0]
	}
	for p := range strings.SplitSeq(v.nodePIDs, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return fmt.Errorf("-node-pids: %q is not a PID", p)
		}
		f.NodePIDs = append(f.NodePIDs, pid)
	}
	if n := max(len(f.URLs), 1); f.NodePIDs != nil && len(f.NodePIDs) != n {
		return fmt.Errorf("-node-pids: %d PIDs for %d URLs; give one per URL, in order", len(f.NodePIDs), n)
	}
	if v.redisPID < 0 {
		return errors.New("-redis-pid: must not be negative")
	}
	f.RedisPID = v.redisPID
	role, err := auth.ParseRole(v.role)
	if err != nil {
		return fmt.Errorf("-role: %w", err)
	}
	f.Role = role
	o.scenario = bench.Fanout{FanoutConfig: f}
	return nil
}

// Broadcast defaults where they differ from the other scenarios'.
const (
	defaultBroadcastRate = 2   // messages per second
	defaultBroadcastSize = 256 // bytes
)

// broadcastFlags reinterprets the shared flags for broadcast: -rate paces
// the publisher's messages instead of new connections, and -size has its
// own default.
func broadcastFlags(fs *flag.FlagSet, c *bench.Config) {
	c.PublishRate = defaultBroadcastRate
	if isSet(fs, "rate") {
		c.PublishRate = c.Rate
	}
	c.Rate = 0
	if !isSet(fs, "size") {
		c.Size = defaultBroadcastSize
	}
}

// flagValues holds flags that need parsing after flag.Parse.
type flagValues struct {
	url, src, ca, serverCmd, loadCPU, serverName string
	splitCPUs                                    bool
	urls, nodePIDs, role                         string // fanout
	redisPID                                     int    // fanout
	settleMax, settleInterval                    time.Duration
}

// isSet reports whether the flag called name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func newFlags(o *options, v *flagValues, usage io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bellhop-bench", flag.ContinueOnError)
	fs.SetOutput(usage)
	c := &o.cfg
	fs.StringVar(&v.url, "url", "ws://127.0.0.1:3001/echo", "target `URL`, ws:// or wss:// on 127.0.0.0/8")
	fs.IntVar(&c.Conns, "conns", bench.DefaultConns, "connections to open")
	fs.IntVar(&c.Concurrency, "concurrency", bench.DefaultConcurrency, "handshakes in flight at once")
	fs.Float64Var(&c.Rate, "rate", 0, "new connections per second, 0 means as fast as -concurrency allows; broadcast: messages per second, 0 means back to back (default 2); fanout: alerts per second, 0 means back to back (default 20)")
	fs.DurationVar(&c.Duration, "duration", bench.DefaultDuration, "echo: measured time; hold: time to hold after settling (default 0 for hold); hotel: time the load is sent")
	fs.Int64Var(&c.Messages, "messages", 0, "echo: stop after this many round trips, 0 means -duration only; broadcast: messages to publish (0 means 100); fanout: alerts to publish (0 means 200)")
	fs.IntVar(&c.Size, "size", bench.DefaultSize, "echo, broadcast, fanout: message size in bytes (broadcast default 256)")
	fs.IntVar(&c.Pipeline, "pipeline", 1, "echo: messages in flight per connection")
	fs.BoolVar(&c.Binary, "binary", false, "echo: binary messages instead of text")
	fs.IntVar(&c.Loops, "loops", 1, "client event loops")
	fs.StringVar(&v.src, "src", bench.DefaultSources, "source addresses to rotate over: IPs and first-last ranges in 127.0.0.0/8")
	fs.StringVar(&c.Protocol, "protocol", "", "subprotocol to offer")
	fs.DurationVar(&c.HandshakeTimeout, "handshake-timeout", bench.DefaultHandshakeTimeout, "TCP connect, TLS and upgrade, per connection")
	fs.DurationVar(&v.settleMax, "settle-max", 30*time.Second, "hold: longest wait for the server's RSS to settle")
	fs.DurationVar(&v.settleInterval, "settle-interval", 250*time.Millisecond, "hold: time between RSS readings (4 in a row within 0.5% count as settled)")
	fs.StringVar(&v.ca, "ca", "", "wss: PEM `file` of CAs to verify the server with; default is no verification")
	fs.StringVar(&v.serverName, "server-name", "localhost", "wss: name to send in SNI and to verify with -ca")
	fs.IntVar(&o.serverPID, "server-pid", 0, "`PID` of a running server to measure")
	fs.StringVar(&v.serverCmd, "server-cmd", "", "server `command` to start, split on spaces (no shell), e.g. \"bin/bellhop -host 127.0.0.1 -port 3001 -echo-path /echo -metrics=false\"")
	fs.StringVar(&o.serverCPU, "server-cpu", "", "CPU `list` for the server (taskset -c; with -server-pid its threads are re-pinned)")
	fs.StringVar(&v.loadCPU, "load-cpu", "", "CPU `list` to pin the harness to")
	fs.BoolVar(&v.splitCPUs, "cpu", false, "pin the server to CPU 0 and the harness to the others (taskset), unless -server-cpu or -load-cpu say otherwise")
	fs.StringVar(&o.serverLog, "server-log", "", "append the started server's output to this `file`")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", bench.DefaultReadyTimeout, "wait this long for a started server to listen")
	fs.StringVar(&o.jsonPath, "json", "", "append the JSON result line to this `file` instead of stdout")
	fs.StringVar(&c.Label, "label", "", "label for the result, e.g. the server's name")
	fs.StringVar(&o.resultsDir, "results", "", "results `folder`: append the JSON line to results.jsonl there and rewrite its report.md and latency plots from every run in it")
	fs.StringVar(&o.caseName, "case", "", "case `name` grouping runs in a report, e.g. echo-128 (default: the scenario)")
	fs.BoolVar(&o.gcTrace, "gc", false, "with -server-cmd: run the server with GODEBUG=gctrace=1 and report a Go server's GC cycles and pauses")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	hotelFlags(fs, &c.Hotel)
	fs.StringVar(&v.urls, "urls", "", "fanout: hotel endpoint `URLs` of the nodes, comma-separated; subscribers go round-robin over them (default -url)")
	fs.StringVar(&v.nodePIDs, "node-pids", "", "fanout: `PIDs` of the nodes behind -urls, comma-separated in the same order, to report their CPU per delivery")
	fs.IntVar(&v.redisPID, "redis-pid", 0, "fanout: `PID` of the redis-server joining the nodes, to report its CPU per publish")
	fs.StringVar(&v.role, "role", "guest", "fanout: the subscribers' `role`; staff roles add a presence entry per subscriber to every heartbeat")
	return fs
}

// apply parses the string flags into o and checks combinations.
func (v *flagValues) apply(o *options) error {
	var err error
	if o.cfg.Target, err = bench.ParseTarget(v.url); err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if o.cfg.Sources, err = bench.ParseSources(v.src); err != nil {
		return fmt.Errorf("-src: %w", err)
	}
	o.cfg.Settle = bench.SettleConfig{MaxWait: v.settleMax, Interval: v.settleInterval}
	o.serverCmd = strings.Fields(v.serverCmd)
	if o.serverPID != 0 && len(o.serverCmd) > 0 {
		return errors.New("-server-pid and -server-cmd exclude each other")
	}
	if v.splitCPUs {
		if err := v.splitCores(o, runtime.NumCPU()); err != nil {
			return err
		}
	}
	if o.serverCPU != "" {
		if _, err := bench.ParseCPUList(o.serverCPU); err != nil {
			return fmt.Errorf("-server-cpu: %w", err)
		}
		if o.serverPID == 0 && len(o.serverCmd) == 0 {
			return errors.New("-server-cpu needs -server-cmd or -server-pid")
		}
	}
	if v.loadCPU != "" {
		if o.loadCPUs, err = bench.ParseCPUList(v.loadCPU); err != nil {
			return fmt.Errorf("-load-cpu: %w", err)
		}
	}
	if o.cfg.Target.Secure {
		if o.cfg.TLS, err = tlsConfig(v.ca, v.serverName); err != nil {
			return fmt.Errorf("-ca: %w", err)
		}
	}
	return nil
}

// splitCores fills in -server-cpu and -load-cpu for -cpu: the server on
// CPU 0, the harness on CPUs 1 to ncpu-1.
func (v *flagValues) splitCores(o *options, ncpu int) error {
	if ncpu < 2 {
		return errors.New("-cpu needs at least 2 CPUs")
	}
	if o.serverCPU == "" {
		o.serverCPU = "0"
	}
	if v.loadCPU == "" {
		v.loadCPU = "1"
		if ncpu > 2 {
			v.loadCPU = fmt.Sprintf("1-%d", ncpu-1)
		}
	}
	return nil
}

// tlsConfig builds the wss client configuration: verification against the
// CAs in caFile when given, none otherwise (the target is loopback).
func tlsConfig(caFile, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile == "" {
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// defaultHotelURL is the hotel endpoint of a server on its defaults.
const defaultHotelURL = "ws://127.0.0.1:3001/ws"

// hotelFlags adds the hotel scenario's flags; the other scenarios ignore
// them.
func hotelFlags(fs *flag.FlagSet, h *bench.HotelConfig) {
	mix := bench.DefaultHotelMix()
	h.Mix = &mix
	fs.IntVar(&h.Rooms, "rooms", bench.DefaultHotelRooms, "hotel: rooms on the board (20 a floor)")
	fs.IntVar(&h.Staff, "staff", bench.DefaultHotelStaff, "hotel: staff connections: 65% housekeeping, 20% maintenance, 15% concierge")
	fs.IntVar(&h.Guests, "guests", bench.DefaultHotelGuests, "hotel: guest devices, spread over the rooms")
	fs.IntVar(&h.FrontDesk, "front-desk", bench.DefaultHotelFrontDesk, "hotel: front-desk connections")
	fs.Float64Var(&mix.RoomUpdates, "room-rate", mix.RoomUpdates, "hotel: room status updates per second, over WebSocket")
	fs.Float64Var(&mix.Requests, "request-rate", mix.Requests, "hotel: guest service requests per second")
	fs.Float64Var(&mix.Alerts, "alert-rate", mix.Alerts, "hotel: housekeeping and maintenance alerts per second")
	fs.Float64Var(&mix.CheckIns, "checkin-rate", mix.CheckIns, "hotel: check-ins and check-outs per second, through the backend API")
	fs.Float64Var(&mix.Low, "low-rate", mix.Low, "hotel: LOW-priority alerts per second (the flood)")
	fs.DurationVar(&h.AcceptDelay, "accept-delay", bench.DefaultHotelAcceptDelay, "hotel: time staff take to accept an assignment")
	fs.DurationVar(&h.WorkTime, "work-time", bench.DefaultHotelWorkTime, "hotel: time staff take from accepting to completing a request")
	fs.StringVar(&h.JWTSecret, "jwt-secret", bench.DefaultHotelJWTSecret, "hotel, fanout: the server's JWT_SECRET, to mint tokens")
	fs.StringVar(&h.Property, "property", bench.DefaultHotelProperty, "hotel, fanout: property the tokens and events are for")
	fs.StringVar(&h.APIURL, "api-url", bench.DefaultHotelAPIURL, "hotel, fanout: backend API `URL` (the admin address with /api), on loopback")
	fs.StringVar(&h.APIKey, "api-key", bench.DefaultHotelAPIKey, "hotel, fanout: the server's API_KEY")
	fs.IntVar(&h.APIWorkers, "api-workers", bench.DefaultHotelAPIWorkers, "hotel, fanout: backend API calls in flight at once")
	fs.Uint64Var(&h.Seed, "seed", 1, "hotel: seed of the cast and of the workload's choices")
}
