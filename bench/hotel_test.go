package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

const testHotelAPIKey = "bench-test-api-key"

// hotelServer is a bellhop hotel endpoint run in the test process, wired as
// cmd/bellhop wires it: the dispatch service on /ws with the in-memory
// broker and store, the backend API under /api.
type hotelServer struct {
	target Target
	apiURL string
	svc    *dispatch.Service
	srv    *engine.Server
}

// startHotelServer starts one for the test and stops it when the test ends.
func startHotelServer(t *testing.T, dcfg dispatch.Config) *hotelServer {
	t.Helper()
	keys, err := auth.LoadKeySet(DefaultHotelJWTSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(keys, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dcfg.Verifier, dcfg.Store = verifier, cluster.NewMemoryStore()
	dcfg.Workers = cmp0(dcfg.Workers, 2)
	svc, err := dispatch.New(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	broker := cluster.NewMemoryBroker(cluster.MemoryConfig{}, svc.Deliver)
	srv, err := engine.New(engine.Config{
		Addr: "127.0.0.1:0", Loops: 1, Protocols: []string{hotelProtocol},
		Routes: map[string]engine.Handler{"/ws": svc, "/echo": engine.NewEcho("/echo")},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(srv, broker)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(svc.API(testHotelAPIKey))
	t.Cleanup(func() {
		api.Close()
		_ = srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
		_ = broker.Close()
	})
	target, err := ParseTarget("ws://" + srv.Addr().String() + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	return &hotelServer{target: target, apiURL: api.URL + "/api", svc: svc, srv: srv}
}

// smallHotel is a run small enough for a test: every kind of event, a
// couple of seconds.
func smallHotel(s *hotelServer) Config {
	return Config{
		Target: s.target, Duration: 2 * time.Second,
		Hotel: HotelConfig{
			Rooms: 20, Staff: 6, Guests: 30, FrontDesk: 2,
			Mix:         &HotelMix{RoomUpdates: 20, Requests: 10, Alerts: 10, CheckIns: 6, Low: 40},
			AcceptDelay: 10 * time.Millisecond, WorkTime: 20 * time.Millisecond,
			APIURL: s.apiURL, APIKey: testHotelAPIKey, Seed: 7,
		},
	}
}

func TestHotelAgainstBellhop(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{})
	self, err := AttachProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallHotel(s)
	start := time.Now()
	res, err := Run(context.Background(), Hotel{}, &Env{Config: cfg, Server: self})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if len(res.Errors) != 0 {
		t.Fatalf("errors %v: %s", res.Errors, res.FirstError)
	}
	// The run stops by itself: setup, 2 s of load, then only the drain of
	// what is in flight, well before the drain's bound.
	if took > cfg.Duration+hotelDrain {
		t.Errorf("run took %v, want it to end soon after its %v", took, cfg.Duration)
	}
	var b strings.Builder
	_ = WriteSummary(&b, res)
	t.Logf("%s", b.String())
	want := map[string]float64{"conns": 38, "ready": 38}
	for name, v := range want {
		if got, _ := res.Metrics.Get(name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	for _, name := range []string{"lost", "unexpected", "error_events", "api_errors", "escalated", "conns_dropped", "rooms_untracked"} {
		if got, ok := res.Metrics.Get(name); !ok || got != 0 {
			t.Errorf("%s = %v (present %v), want 0", name, got, ok)
		}
	}
	for _, k := range hotelKindNames {
		if got, _ := res.Metrics.Get("deliveries_" + k); got < 1 {
			t.Errorf("deliveries_%s = %v, want some", k, got)
		}
		if got, _ := res.Metrics.Get("latency_" + k + "_p99_us"); got <= 0 {
			t.Errorf("latency_%s_p99_us = %v, want a latency", k, got)
		}
	}
	for _, p := range hotelPrioNames {
		if got, _ := res.Metrics.Get("latency_" + p + "_max_us"); got <= 0 {
			t.Errorf("latency_%s_max_us = %v, want a latency", p, got)
		}
	}
	if got, ok := res.Metrics.Get("server_cpu_us_per_delivery"); !ok || got <= 0 {
		t.Errorf("server_cpu_us_per_delivery = %v (present %v)", got, ok)
	}
}

// TestHotelRefused checks that a run that cannot work says why, quickly.
func TestHotelRefused(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{})
	echo := s.target
	echo.Path = "/echo"
	cases := []struct {
		name string
		edit func(*Config)
		err  error
		says string
	}{
		{"wrong JWT secret", func(c *Config) { c.Hotel.JWTSecret = strings.Repeat("x", 32) }, ErrHotel, "0 of 38"},
		{"not the hotel endpoint", func(c *Config) { c.Target = echo }, ErrHotel, "hotel endpoint"},
		{"wrong API key", func(c *Config) { c.Hotel.APIKey = "nope" }, nil, "refused the key"},
		{"remote API", func(c *Config) { c.Hotel.APIURL = "http://192.0.2.1:9090/api" }, ErrNotLoopback, ""},
		{"too few staff", func(c *Config) { c.Hotel.Staff = 2 }, ErrBadConfig, "Staff"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallHotel(s)
			c.edit(&cfg)
			start := time.Now()
			_, err := Run(context.Background(), Hotel{}, &Env{Config: cfg})
			if err == nil || c.err != nil && !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want %v saying %q", err, c.err, c.says)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to fail", d)
			}
		})
	}
}

// TestHotelEscalations runs requests against a server whose staff must
// accept within a millisecond: every request times out from candidate to
// candidate until it is escalated. The run counts that as errors, expects
// no more deliveries of those requests and still ends by itself.
func TestHotelEscalations(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{AcceptTimeout: time.Millisecond})
	cfg := smallHotel(s)
	cfg.Duration = time.Second
	cfg.Hotel.Mix = &HotelMix{Requests: 5, RoomUpdates: 5}
	cfg.Hotel.AcceptDelay = 100 * time.Millisecond
	start := time.Now()
	res, err := Run(context.Background(), Hotel{}, &Env{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > cfg.Duration+hotelDrain {
		t.Errorf("run took %v", d)
	}
	esc, _ := res.Metrics.Get("escalated")
	sent, _ := res.Metrics.Get("sent_service_request")
	lost, _ := res.Metrics.Get("lost")
	rooms, _ := res.Metrics.Get("deliveries_room_update")
	if esc != sent || sent != 5 || res.Errors["mismatch"] < 5 || lost != 0 || rooms == 0 {
		t.Fatalf("escalated %v of %v requests, errors %v, lost %v, room updates %v: want all 5 escalated and counted, none lost",
			esc, sent, res.Errors, lost, rooms)
	}
	if !strings.Contains(res.FirstError, "escalated") && !strings.Contains(res.FirstError, "ERROR") {
		t.Errorf("first error %q", res.FirstError)
	}
}

// TestHotelRefusedCheckIns runs a tiny hotel whose backend API refuses
// every check-in and check-out: the rooms concerned drop out of the
// workload, the refusals are counted, nothing counts as lost, and room
// updates that find no free room are skipped.
func TestHotelRefusedCheckIns(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{})
	real := s.svc.API(testHotelAPIKey)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("GUEST_CHECK")) {
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"ok":false,"error":{"code":"ILLEGAL_TRANSITION","message":"not today"}}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		real.ServeHTTP(w, r)
	}))
	defer api.Close()
	cfg := smallHotel(s)
	cfg.Duration = time.Second
	cfg.Hotel.Rooms, cfg.Hotel.Guests = 2, 4
	cfg.Hotel.APIURL = api.URL + "/api"
	cfg.Hotel.Mix = &HotelMix{RoomUpdates: 40, CheckIns: 10}
	res, err := Run(context.Background(), Hotel{}, &Env{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) float64 { v, _ := res.Metrics.Get(name); return v }
	if get("api_errors") < 1 || get("rooms_untracked") != get("api_errors") || get("skipped") < 1 ||
		get("lost") != 0 || get("error_events") != 0 || res.Errors["mismatch"] != int64(get("api_errors")) {
		t.Fatalf("api_errors %v rooms_untracked %v skipped %v lost %v errors %v: want refusals counted, their rooms out, skips",
			get("api_errors"), get("rooms_untracked"), get("skipped"), get("lost"), res.Errors)
	}
}

// TestHotelServerGoesAway shuts the server down in the middle of a run:
// the harness counts the dropped connections by close code and stops at
// once rather than waiting out the load and the drain.
func TestHotelServerGoesAway(t *testing.T) {
	s := startHotelServer(t, dispatch.Config{})
	cfg := smallHotel(s)
	cfg.Duration = time.Minute
	env := &Env{Config: cfg}
	go func() {
		// Once everyone is connected, give them time to subscribe.
		for s.srv.Connections() < 38 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx) // close 1001 to everyone
	}()
	start := time.Now()
	res, err := Run(context.Background(), Hotel{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run took %v after the server went away", d)
	}
	dropped, _ := res.Metrics.Get("conns_dropped")
	going, _ := res.Metrics.Get("close_code_1001")
	if dropped != 38 || going != 38 || res.Errors["closed"] != 38 {
		t.Errorf("conns_dropped %v, close_code_1001 %v, errors %v: want all 38 dropped with 1001 and counted", dropped, going, res.Errors)
	}
}
