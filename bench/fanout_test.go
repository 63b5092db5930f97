package bench

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/dispatch/pqueue"
)

// fanoutConfig is a run small enough for a test against s.
func fanoutConfig(s *hotelServer, conns int, messages int64, rate float64) Config {
	return Config{
		Target: s.target, Conns: conns, Messages: messages, PublishRate: rate, Size: 64,
		Hotel: HotelConfig{APIURL: s.apiURL, APIKey: testHotelAPIKey, APIWorkers: 4},
	}
}

func TestFanoutAgainstBellhop(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{})
	self := os.Getpid()
	proc, err := AttachProcess(self)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		urls     int // the server's endpoint this many times: one "node" per URL
		conns    int
		messages int64
		rate     float64
		role     auth.Role
		split    []float64 // subscribers per node
	}{
		{"one node back to back", 1, 6, 30, 0, auth.Guest, []float64{6}},
		{"two nodes paced", 2, 7, 10, 100, auth.Guest, []float64{4, 3}},
		{"front desk", 2, 14, 5, 0, auth.FrontDesk, []float64{7, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Fanout{FanoutConfig{RedisPID: self, Role: tt.role}}
			for range tt.urls {
				f.URLs = append(f.URLs, s.target)
				f.NodePIDs = append(f.NodePIDs, self)
			}
			start := time.Now()
			res, err := Run(context.Background(), f, &Env{Config: fanoutConfig(s, tt.conns, tt.messages, tt.rate), Server: proc})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 {
				t.Fatalf("errors %v: %s", res.Errors, res.FirstError)
			}
			// The run stops by itself as soon as everything arrived.
			if took := time.Since(start); took > fanoutDrain {
				t.Errorf("run took %v", took)
			}
			want := map[string]float64{
				"conns": float64(tt.conns), "subscribers": float64(tt.conns), "messages_sent": float64(tt.messages),
				"deliveries": float64(tt.conns) * float64(tt.messages), "unique": float64(tt.conns) * float64(tt.messages),
				"lost": 0, "duplicated": 0, "api_errors": 0, "foreign": 0, "error_events": 0,
			}
			for i, n := range tt.split {
				want["subscribers_node"+string(rune('0'+i))] = n
				want["deliveries_node"+string(rune('0'+i))] = n * float64(tt.messages)
			}
			for name, v := range want {
				if got, ok := res.Metrics.Get(name); !ok || got != v {
					t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
				}
			}
			for _, name := range []string{"deliveries_per_sec", "latency_p50_us", "latency_p99_us", "latency_node0_p99_us", "api_p50_us",
				"server_cpu_us_per_delivery", "nodes_cpu_us_per_delivery", "redis_cpu_us_per_publish", "publishes_per_sec"} {
				if v, ok := res.Metrics.Get(name); !ok || v < 0 {
					t.Errorf("%s = %v (present %v)", name, v, ok)
				}
			}
			var b strings.Builder
			_ = WriteSummary(&b, res)
			t.Logf("%s", b.String())
			if res.Params["role"] != tt.role.String() {
				t.Errorf("role %v, want %v", res.Params["role"], tt.role)
			}
		})
	}
}

// TestFanoutSubscribeStorm subscribes many at once to a node whose queues
// hold two items: all get in at the first try, and every alert reaches
// every subscriber.
func TestFanoutSubscribeStorm(t *testing.T) {
	q := pqueue.Config{HighCapacity: 2, MediumCapacity: 2, LowCapacity: 2}
	s := startHotelServer(t, dispatch.Config{Workers: 1, Queue: q})
	cfg := fanoutConfig(s, 60, 5, 0)
	cfg.Hotel.APIWorkers = 1 // the alerts share the small queue too
	res, err := Run(context.Background(), Fanout{}, &Env{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors %v: %s", res.Errors, res.FirstError)
	}
	// The server answers the SUBSCRIBEs of one channel waiting for its
	// worker as one batch: even queues of two never overflow.
	if retries, _ := res.Metrics.Get("subscribe_retries"); retries != 0 {
		t.Errorf("%v SUBSCRIBEs retried: the server's batching did not hold", retries)
	}
	for name, want := range map[string]float64{"subscribers": 60, "deliveries": 300, "lost": 0, "error_events": 0} {
		if got, _ := res.Metrics.Get(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestFanoutRefused(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{})
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"wrong secret", func(c *Config) { c.Hotel.JWTSecret = strings.Repeat("x", 32) }, "none of 3 connections"},
		{"wrong API key", func(c *Config) { c.Hotel.APIKey = "nope" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fanoutConfig(s, 3, 2, 0)
			tt.change(&cfg)
			res, err := Run(context.Background(), Fanout{}, &Env{Config: cfg})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			// A refused publish is counted, and the run still ends.
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := res.Metrics.Get("api_errors"); v != 2 || res.Errors["mismatch"] != 2 {
				t.Errorf("api_errors %v, errors %v", v, res.Errors)
			}
			if v, _ := res.Metrics.Get("lost"); v != 0 {
				t.Errorf("lost %v: refused messages are not lost", v)
			}
		})
	}
}

func TestCheckFanout(t *testing.T) {
	good := Config{Target: Target{Addr: "127.0.0.1:1"}, Conns: 10, Messages: 100, Size: 64}
	h := HotelConfig{}.withDefaults()
	tests := []struct {
		name   string
		cfg    func(*Config)
		hotel  func(*HotelConfig)
		fanout FanoutConfig
		urls   []Target
		want   string
	}{
		{name: "good"},
		{name: "size under the header", cfg: func(c *Config) { c.Size = 10 }, want: "Size"},
		{name: "size over the server's limit", cfg: func(c *Config) { c.Size = 2001 }, want: "Size"},
		{name: "negative rate", cfg: func(c *Config) { c.PublishRate = -1 }, want: "PublishRate"},
		{name: "too many bits", cfg: func(c *Config) { c.Conns, c.Messages = 1<<20, 1<<11 }, want: "Conns*Messages"},
		{name: "PIDs do not match URLs", fanout: FanoutConfig{NodePIDs: []int{1, 2}}, want: "NodePIDs"},
		{name: "negative Redis PID", fanout: FanoutConfig{RedisPID: -1}, want: "RedisPID"},
		{name: "not a role", fanout: FanoutConfig{Role: 99}, want: "Role"},
		{name: "short secret", hotel: func(h *HotelConfig) { h.JWTSecret = "short" }, want: "JWTSecret"},
		{name: "bad property", hotel: func(h *HotelConfig) { h.Property = "a:b" }, want: "Property"},
		{name: "too many workers", hotel: func(h *HotelConfig) { h.APIWorkers = 257 }, want: "APIWorkers"},
		{name: "remote node", urls: []Target{{Addr: "127.0.0.1:1"}, {Addr: "10.0.0.1:1"}}, want: "not on loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, hc := good, h
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			if tt.hotel != nil {
				tt.hotel(&hc)
			}
			urls := tt.urls
			if urls == nil {
				urls = []Target{cfg.Target}
			}
			err := checkFanout(cfg, hc, tt.fanout, urls)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFanoutReceive(t *testing.T) {
	r := newFanoutRun(Config{Messages: 70, Size: 40}, HotelConfig{}, 2, new(Stats))
	defer r.delay.stop()
	r.start.Store(1000)
	s := &fanoutSub{node: 1, phase: phaseSubscribe}
	r.setupEnded(s, phaseReady)
	msg := func(seq, sent int64, size int) []byte { return AppendBroadcastPayload(nil, seq, sent, size) }
	tests := []struct {
		name        string
		msg         []byte
		now         int64
		unique, dup int64
		foreign     int64
	}{
		{"first", msg(65, 2000, 40), 5000, 1, 0, 0},
		{"again", msg(65, 2000, 40), 6000, 1, 1, 0},
		{"another", msg(0, 3000, 40), 6000, 2, 1, 0},
		{"sent before the run", msg(1, 999, 40), 6000, 2, 1, 1},
		{"sent after it arrived", msg(1, 7000, 40), 6000, 2, 1, 2},
		{"beyond the messages", msg(70, 2000, 40), 6000, 2, 1, 3},
		{"wrong size", msg(2, 2000, 41), 6000, 2, 1, 4},
		{"not a broadcast payload", []byte("hello"), 6000, 2, 1, 5},
	}
	for _, tt := range tests {
		r.receive(s, tt.msg, tt.now)
		if r.unique.Load() != tt.unique || r.dups.Load() != tt.dup || r.foreign.Load() != tt.foreign {
			t.Errorf("%s: unique %d dups %d foreign %d, want %d %d %d", tt.name,
				r.unique.Load(), r.dups.Load(), r.foreign.Load(), tt.unique, tt.dup, tt.foreign)
		}
	}
	if got := r.nodes[1].deliveries.Load(); got != 3 {
		t.Errorf("node 1 deliveries %d, want 3", got)
	}
	if got := r.latency.Max(); got != 4000 {
		t.Errorf("max latency %v, want 4µs", got)
	}
	// Only messages the API took count as lost: 0 and 65 arrived, 1 was
	// refused, the rest are pending.
	r.outcome[0].Store(pubOK)
	r.outcome[1].Store(pubFailed)
	r.outcome[64].Store(pubOK)
	r.outcome[65].Store(pubOK)
	if lost, lossy := r.lost(); lost != 1 || lossy != 1 {
		t.Errorf("lost %d lossy %d, want 1 1", lost, lossy)
	}
}

func TestFanoutWire(t *testing.T) {
	body := appendFanoutAlert(nil, `grand"1`, 12, 345, 40)
	var req struct {
		Event    string `json:"event"`
		Property string `json:"property"`
		Payload  struct {
			Message  string `json:"message"`
			Severity string `json:"severity"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	seq, sent, err := ParseBroadcastPayload([]byte(req.Payload.Message))
	if req.Event != "SYSTEM_ALERT" || req.Property != `grand"1` || req.Payload.Severity != "info" ||
		len(req.Payload.Message) != 40 || err != nil || seq != 12 || sent != 345 {
		t.Errorf("body %s: %+v, %d %d %v", body, req, seq, sent, err)
	}
}

func TestFanoutTokens(t *testing.T) {
	keys, err := auth.LoadKeySet(DefaultHotelJWTSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(keys, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := HotelConfig{Property: "grand"}.withDefaults()
	for _, role := range []auth.Role{auth.Guest, auth.FrontDesk} {
		toks, err := fanoutTokens(h, role, 150, time.Now().Add(time.Hour))
		if err != nil || len(toks) != 150 {
			t.Fatalf("%v: %d tokens, %v", role, len(toks), err)
		}
		subjects := map[string]bool{}
		for i, tok := range toks {
			c, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("%v token %d: %v", role, i, err)
			}
			if c.Role != role || c.Property != "grand" || (role == auth.Guest) != (c.Room != "") {
				t.Errorf("%v token %d: %+v", role, i, c)
			}
			subjects[c.Subject] = true
		}
		if len(subjects) != len(toks) {
			t.Errorf("%v: %d subjects for %d tokens; a node holds few connections per subject", role, len(subjects), len(toks))
		}
	}
	if _, err := fanoutTokens(HotelConfig{JWTSecret: "short"}, auth.Guest, 1, time.Now()); !errors.Is(err, ErrBadConfig) {
		t.Errorf("short secret: %v", err)
	}
}
