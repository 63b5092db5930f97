package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster/redistest"
	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// TestTwoNodesThroughRedis starts two nodes joined by a real Redis
// (REDIS_HOST, REDIS_PORT): a room change published through node A's
// backend API reaches a front desk connected to node B.
func TestTwoNodesThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	env := func() map[string]string {
		return testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "REDIS_HOST="+host, "REDIS_PORT="+port)
	}
	nodeA, nodeB := startApp(t, env()), startApp(t, env())
	if recs := nodeB.logs.records("hotel endpoint on"); len(recs) != 1 || recs[0]["broker"] != "redis" {
		t.Fatalf("node B is not on the Redis broker: %v", recs)
	}

	signer, err := auth.NewSigner("dev", []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign(auth.Claims{Subject: "fd-1", Role: auth.FrontDesk, Property: "grand", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := wsDial(t, nodeB.srv.Addr().String(), "/ws?token="+tok, nil)
	c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms","correlationId":"s1"}`))
	// AUTHENTICATED, then the subscription's answer: from then on node B
	// is subscribed in Redis.
	for _, want := range []string{`"event":"AUTHENTICATED"`, `"s1"`} {
		if _, msg := c.read(t); !strings.Contains(string(msg), want) {
			t.Fatalf("got %s, want %s", msg, want)
		}
	}
	req, _ := http.NewRequest("POST", "http://"+nodeA.admin+"/api/v1/publish", strings.NewReader(
		`{"event":"ROOM_STATUS_UPDATE","property":"grand","payload":{"roomNumber":"101","status":"DIRTY"}}`))
	req.Header.Set("X-API-Key", "k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish on node A: %v %v", resp, err)
	}
	resp.Body.Close()
	for {
		_, msg := c.read(t)
		if strings.Contains(string(msg), `"roomNumber":"101"`) {
			if !strings.Contains(string(msg), `"DIRTY"`) {
				t.Fatalf("room update without its status: %s", msg)
			}
			return
		}
	}
}

// TestRedisUnreachableStopsStartup checks that a REDIS_HOST nothing
// listens on is a clear start-up error.
func TestRedisUnreachableStopsStartup(t *testing.T) {
	opts, err := loadConfig(nil, envOf(testEnv("JWT_SECRET="+testSecret, "REDIS_HOST=127.0.0.1", "REDIS_PORT=1")), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newApp(opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "REDIS_HOST") {
		t.Fatalf("newApp: %v, want a REDIS_HOST error", err)
	}
}

// TestRedisOutageShowsDegraded stops Redis under a node: publishes through
// the API fail with an error (never a false success), the breaker opens,
// /readyz says degraded and the metric shows the open breaker.
func TestRedisOutageShowsDegraded(t *testing.T) {
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	a := startApp(t, testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "REDIS_HOST="+host, "REDIS_PORT="+port))
	publish := func() int {
		req, _ := http.NewRequest("POST", "http://"+a.admin+"/api/v1/publish", strings.NewReader(
			`{"event":"SYSTEM_ALERT","property":"grand","payload":{"message":"test","severity":"info"}}`))
		req.Header.Set("X-API-Key", "k1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := publish(); code != http.StatusOK {
		t.Fatalf("publish with Redis up: %d", code)
	}
	if _, body := a.get(t, "/readyz"); body != "ready\n" {
		t.Fatalf("/readyz with Redis up: %q", body)
	}
	if _, body := a.get(t, "/metrics"); !strings.Contains(body, "bellhop_redis_breaker_state 0") {
		t.Fatal("/metrics lacks the closed breaker")
	}
	srv.Stop()
	for range 30 {
		if code := publish(); code == http.StatusOK {
			t.Fatal("a publish reported success with Redis stopped")
		}
	}
	if _, body := a.get(t, "/readyz"); body != "degraded\n" {
		t.Fatalf("/readyz with Redis stopped: %q", body)
	}
	if _, body := a.get(t, "/metrics"); !strings.Contains(body, "bellhop_redis_breaker_state 2") {
		t.Fatal("/metrics lacks the open breaker")
	}
}

// TestResumeOnAnotherNode: a front desk on node A sees a room change, node
// A shuts down and tells the client to reconnect (1001), two more changes
// are published through node B while the client is away, and the client
// resumes on node B with the last messageId it saw: it gets exactly the two
// it missed, in order.
func TestResumeOnAnotherNode(t *testing.T) {
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	env := func() map[string]string {
		return testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "REDIS_HOST="+host, "REDIS_PORT="+port)
	}
	nodeA, nodeB := startApp(t, env()), startApp(t, env())
	signer, err := auth.NewSigner("dev", []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign(auth.Claims{Subject: "fd-1", Role: auth.FrontDesk, Property: "grand", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(status string) {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+nodeB.admin+"/api/v1/publish", strings.NewReader(
			`{"event":"ROOM_STATUS_UPDATE","property":"grand","payload":{"roomNumber":"101","status":"`+status+`"}}`))
		req.Header.Set("X-API-Key", "k1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("publish %s: %v %v", status, resp, err)
		}
		resp.Body.Close()
	}
	// readUntil reads until a message containing want and returns it.
	readUntil := func(c *wsConn, want string) string {
		t.Helper()
		for {
			_, msg := c.read(t)
			if strings.Contains(string(msg), want) {
				return string(msg)
			}
		}
	}
	c := wsDial(t, nodeA.srv.Addr().String(), "/ws?token="+tok, nil)
	c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms","correlationId":"s1"}`))
	readUntil(c, `"s1"`)
	publish("DIRTY")
	msg := readUntil(c, `"DIRTY"`)
	_, rest, ok := strings.Cut(msg, `"messageId":"`)
	if !ok {
		t.Fatalf("no messageId in %s", msg)
	}
	last, _, _ := strings.Cut(rest, `"`)

	// Node A shuts down gracefully: the client gets 1001 ("reconnect to
	// another node and resume"), answers it, and node A stops.
	stopped := make(chan error, 1)
	go func() { stopped <- nodeA.shutdown() }()
	for {
		op, p := c.read(t)
		if op != codec.OpClose {
			continue
		}
		if len(p) < 2 || int(p[0])<<8|int(p[1]) != 1001 {
			t.Fatalf("close payload %q, want code 1001", p)
		}
		c.send(t, codec.OpClose, p[:2])
		break
	}
	if err := <-stopped; err != nil {
		t.Fatalf("node A shutdown: %v", err)
	}
	publish("CLEANING")
	publish("CLEANED")

	c2 := wsDial(t, nodeB.srv.Addr().String(), "/ws?token="+tok, nil)
	c2.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms","correlationId":"s2","payload":{"since":"`+last+`"}}`))
	sub := readUntil(c2, `"s2"`)
	if !strings.Contains(sub, `"recovered":true`) || !strings.Contains(sub, `"missed":2`) {
		t.Fatalf("resume on node B: %s", sub)
	}
	if got := readUntil(c2, `"roomNumber":"101"`); !strings.Contains(got, `"CLEANING"`) {
		t.Fatalf("first missed message: %s", got)
	}
	if got := readUntil(c2, `"roomNumber":"101"`); !strings.Contains(got, `"CLEANED"`) {
		t.Fatalf("second missed message: %s", got)
	}
}

// TestRoomBoardSharedAcrossNodes: a room seeded through node A's API is on
// node B's board: the room state lives in Redis.
func TestRoomBoardSharedAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	env := func() map[string]string {
		return testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "REDIS_HOST="+host, "REDIS_PORT="+port)
	}
	nodeA, nodeB := startApp(t, env()), startApp(t, env())
	req, _ := http.NewRequest("POST", "http://"+nodeA.admin+"/api/v1/publish", strings.NewReader(
		`{"event":"ROOM_STATUS_UPDATE","property":"grand","payload":{"roomNumber":"204","status":"DIRTY"}}`))
	req.Header.Set("X-API-Key", "k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish on node A: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", "http://"+nodeB.admin+"/api/v1/rooms?property=grand", nil)
	req.Header.Set("X-API-Key", "k1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"204"`) || !strings.Contains(string(body), `"DIRTY"`) {
		t.Fatalf("node B's board: %d %s", resp.StatusCode, body)
	}
}
