package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster/redistest"
	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// redisNodes starts a Redis and n nodes joined through it (API key k1),
// with env added.
func redisNodes(t *testing.T, n int, env ...string) (*redistest.Server, []*testApp) {
	t.Helper()
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	nodes := make([]*testApp, n)
	for i := range nodes {
		nodes[i] = startApp(t, testEnv(append([]string{"JWT_SECRET=" + testSecret, "API_KEY=k1", "REDIS_HOST=" + host, "REDIS_PORT=" + port}, env...)...))
	}
	return srv, nodes
}

// subscribeRooms connects a front desk to node and subscribes it to the
// rooms namespace (since: a messageId to resume after, or empty), reading
// up to the subscription's answer, which it returns: from then on the node
// is subscribed in Redis.
func subscribeRooms(t *testing.T, node *testApp, since string) (*wsConn, string) {
	t.Helper()
	c := wsDial(t, node.srv.Addr().String(), "/ws?token="+frontDeskToken(t), nil)
	payload := ""
	if since != "" {
		payload = `,"payload":{"since":"` + since + `"}`
	}
	c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms","correlationId":"sub"`+payload+`}`))
	c.readUntil(t, `"event":"AUTHENTICATED"`)
	return c, c.readUntil(t, `"sub"`)
}

// publishRoom sets a room's status through node's backend API.
func publishRoom(t *testing.T, node *testApp, room, status string) {
	t.Helper()
	if code, body := apiCall(t, node.admin, "k1", "POST", "/api/v1/publish", roomUpdate(room, status)); code != http.StatusOK {
		t.Fatalf("publish %s %s: %d %s", room, status, code, body)
	}
}

// TestTwoNodesThroughRedis starts two nodes joined by a real Redis
// (REDIS_HOST, REDIS_PORT): a room change published through node A's
// backend API reaches a front desk connected to node B.
func TestTwoNodesThroughRedis(t *testing.T) {
	_, nodes := redisNodes(t, 2)
	if recs := nodes[1].logs.records("hotel endpoint on"); len(recs) != 1 || recs[0]["broker"] != "redis" {
		t.Fatalf("node B is not on the Redis broker: %v", recs)
	}
	c, _ := subscribeRooms(t, nodes[1], "")
	publishRoom(t, nodes[0], "101", "DIRTY")
	if msg := c.readUntil(t, `"roomNumber":"101"`); !strings.Contains(msg, `"DIRTY"`) {
		t.Fatalf("room update without its status: %s", msg)
	}
}

// TestFanOutThreeNodes: room changes published through node A's API
// reach front desks on nodes B and C once each and in order.
func TestFanOutThreeNodes(t *testing.T) {
	_, nodes := redisNodes(t, 3)
	desks := []*wsConn{}
	for _, n := range nodes[1:] {
		c, _ := subscribeRooms(t, n, "")
		desks = append(desks, c)
	}
	statuses := []string{"DIRTY", "CLEANING", "CLEANED", "INSPECTED", "AVAILABLE", "OCCUPIED"}
	for _, st := range statuses {
		publishRoom(t, nodes[0], "101", st)
	}
	publishRoom(t, nodes[0], "999", "DIRTY") // the end mark
	for i, c := range desks {
		var got []string
		for {
			msg := c.readUntil(t, `"event":"ROOM_STATUS_UPDATE"`)
			if strings.Contains(msg, `"roomNumber":"999"`) {
				break
			}
			_, rest, _ := strings.Cut(msg, `"status":"`)
			st, _, _ := strings.Cut(rest, `"`)
			got = append(got, st)
		}
		if !slices.Equal(got, statuses) {
			t.Fatalf("desk on node %c got %v, want %v", 'B'+i, got, statuses)
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

// TestRedisOutage stops Redis under two nodes for a few seconds. Alerts
// published through node A meanwhile reach node A's front desk at once
// (HTTP 202, "queued"); a publish that could not be queued is an error,
// never a false success; a room change (it needs the shared board) is
// refused; the breaker opens, /readyz says degraded and the metrics show
// it. Redis comes back empty: the outbox replays, node B's front desk gets
// every queued alert once and in order, node A's none twice, and a front
// desk resuming on node A from a provisional messageId misses nothing.
func TestRedisOutage(t *testing.T) {
	srv, nodes := redisNodes(t, 2, "REDIS_BREAKER_RESET=300ms")
	a, b := nodes[0], nodes[1]
	deskA := joinAs(t, a.srv.Addr().String(), "fd-1", auth.FrontDesk, "", "system")
	deskB := joinAs(t, b.srv.Addr().String(), "fd-2", auth.FrontDesk, "", "system")
	alert := func(text string) (int, string) {
		return apiCall(t, a.admin, "k1", "POST", "/api/v1/publish",
			`{"event":"SYSTEM_ALERT","property":"grand","payload":{"message":"`+text+`","severity":"info"}}`)
	}
	if code, body := alert("a0"); code != http.StatusOK {
		t.Fatalf("alert with Redis up: %d %s", code, body)
	}
	deskA.readUntil(t, `"a0"`)
	sinceB := messageIDIn(t, deskB.readUntil(t, `"a0"`))
	if _, body := a.get(t, "/metrics"); !strings.Contains(body, "bellhop_redis_breaker_state 0") {
		t.Fatal("/metrics lacks the closed breaker")
	}

	srv.Stop()
	var queued []string
	var lastID string
	for i := 1; len(queued) < 5 && i < 20; i++ {
		text := "a" + strconv.Itoa(i)
		code, body := alert(text)
		switch code {
		case http.StatusAccepted:
			if !strings.Contains(body, `"queued":true`) {
				t.Fatalf("202 without queued: %s", body)
			}
			queued = append(queued, text)
			msg := deskA.readUntil(t, `"message":"`)
			if !strings.Contains(msg, `"`+text+`"`) {
				t.Fatalf("node A's desk got %s, want %s", msg, text)
			}
			lastID = messageIDIn(t, msg)
		case http.StatusServiceUnavailable: // sent on a dropped connection: maybe applied, so not queued
		default:
			t.Fatalf("alert %s with Redis stopped: %d %s", text, code, body)
		}
	}
	if len(queued) < 5 {
		t.Fatalf("only %v queued", queued)
	}
	if code, _ := apiCall(t, a.admin, "k1", "POST", "/api/v1/publish", roomUpdate("101", "DIRTY")); code != http.StatusServiceUnavailable {
		t.Fatalf("room change with Redis stopped: %d, want 503", code)
	}
	if _, body := a.get(t, "/readyz"); body != "degraded\n" {
		t.Fatalf("/readyz with Redis stopped: %q", body)
	}
	waitFor(t, 15*time.Second, func() bool {
		_, body := a.get(t, "/metrics")
		return strings.Contains(body, "bellhop_redis_breaker_state 2") && !strings.Contains(body, "bellhop_redis_outbox_messages 0")
	})

	srv.Restart()
	waitFor(t, 15*time.Second, func() bool { _, body := a.get(t, "/readyz"); return body == "ready\n" })
	if code, body := alert("after"); code != http.StatusOK {
		t.Fatalf("alert after Redis returned: %d %s", code, body)
	}
	// Node B's desk gets every queued alert and the next one, once, in
	// order; when node B saw that Redis lost its history, it was told to
	// resync and resumed from its last messageId.
	if got, want := alerts(t, deskB, b, sinceB, len(queued)+1), append(queued, "after"); !slices.Equal(got, want) {
		t.Fatalf("node B's desk got %v, want %v", got, want)
	}
	// Node A's desk had the queued ones: it gets "after" only, resuming
	// (if told to resync) from the provisional messageId of the last.
	if got := alerts(t, deskA, a, lastID, 1); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("node A's desk got %v, want [after]", got)
	}
}

// alerts reads the next n alert texts from c; when the node closes c to
// make it resync, it resumes on node with the last messageId it saw
// (since) and reads on.
func alerts(t *testing.T, c *wsConn, node *testApp, since string, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		op, p := c.read(t)
		if op == codec.OpClose {
			c = wsDial(t, node.srv.Addr().String(), "/ws?token="+frontDeskToken(t), nil)
			c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"system","correlationId":"sub","payload":{"since":"`+since+`"}}`))
			continue
		}
		if _, rest, ok := strings.Cut(string(p), `"message":"`); ok {
			text, _, _ := strings.Cut(rest, `"`)
			got = append(got, text)
			since = messageIDIn(t, string(p))
		}
	}
	return got
}

// messageIDIn returns the messageId in a message.
func messageIDIn(t *testing.T, msg string) string {
	t.Helper()
	return stringField(t, msg, "messageId")
}

// stringField returns the first string value of field name in a JSON message.
func stringField(t *testing.T, msg, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(msg, `"`+name+`":"`)
	if !ok {
		t.Fatalf("no %s in %s", name, msg)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// TestResumeOnAnotherNode: a front desk on node A sees a room change, node
// A shuts down and tells the client to reconnect (1001), two more changes
// are published through node B while the client is away, and the client
// resumes on node B with the last messageId it saw: it gets exactly the two
// it missed, in order.
func TestResumeOnAnotherNode(t *testing.T) {
	_, nodes := redisNodes(t, 2)
	nodeA, nodeB := nodes[0], nodes[1]
	c, _ := subscribeRooms(t, nodeA, "")
	publishRoom(t, nodeB, "101", "DIRTY")
	msg := c.readUntil(t, `"DIRTY"`)
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
	publishRoom(t, nodeB, "101", "CLEANING")
	publishRoom(t, nodeB, "101", "CLEANED")

	c2, sub := subscribeRooms(t, nodeB, last)
	if !strings.Contains(sub, `"recovered":true`) || !strings.Contains(sub, `"missed":2`) {
		t.Fatalf("resume on node B: %s", sub)
	}
	for _, want := range []string{`"CLEANING"`, `"CLEANED"`} {
		if got := c2.readUntil(t, `"roomNumber":"101"`); !strings.Contains(got, want) {
			t.Fatalf("missed message: %s, want %s", got, want)
		}
	}
}

// TestRoomBoardSharedAcrossNodes: a room seeded through node A's API is on
// node B's board: the room state lives in Redis.
func TestRoomBoardSharedAcrossNodes(t *testing.T) {
	_, nodes := redisNodes(t, 2)
	publishRoom(t, nodes[0], "204", "DIRTY")
	code, body := apiCall(t, nodes[1].admin, "k1", "GET", "/api/v1/rooms?property=grand", "")
	if code != http.StatusOK || !strings.Contains(body, `"204"`) || !strings.Contains(body, `"DIRTY"`) {
		t.Fatalf("node B's board: %d %s", code, body)
	}
}

// joinAs connects sub (role, room for a guest) to the node at addr and
// subscribes it to namespace, reading up to the subscription's answer.
func joinAs(t *testing.T, addr, sub string, role auth.Role, room, namespace string) *wsConn {
	t.Helper()
	c := wsDial(t, addr, "/ws?token="+tokenFor(t, sub, role, room), nil)
	c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"`+namespace+`","correlationId":"sub"}`))
	c.readUntil(t, `"event":"AUTHENTICATED"`)
	c.readUntil(t, `"sub"`)
	return c
}

// requestIDIn returns the requestId in a message.
func requestIDIn(t *testing.T, msg string) string {
	t.Helper()
	return stringField(t, msg, "requestId")
}

// TestRequestRoutedAcrossNodes: three nodes on one Redis; a guest's
// request arriving at node A goes to the only housekeeper, connected to
// node C; her accept on C reaches the guest on A and the front desk on B.
// The staff list on any node shows her with the node she is on.
func TestRequestRoutedAcrossNodes(t *testing.T) {
	_, nodes := redisNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	hk := joinAs(t, c.srv.Addr().String(), "hk-anna", auth.Housekeeping, "", "me")
	desk := joinAs(t, b.srv.Addr().String(), "fd-1", auth.FrontDesk, "", "service")
	guest := joinAs(t, a.srv.Addr().String(), "g-101", auth.Guest, "101", "me")

	code, body := apiCall(t, a.admin, "k1", "GET", "/api/v1/staff?property=grand", "")
	if code != http.StatusOK || !strings.Contains(body, `"sub":"hk-anna"`) || !strings.Contains(body, `"nodes":["`+c.svc.NodeID()+`"]`) {
		t.Fatalf("node A's staff list: %d %s", code, body)
	}
	guest.send(t, codec.OpText, []byte(`{"event":"SERVICE_REQUEST","correlationId":"r1","payload":{"type":"towels"}}`))
	ack := guest.readUntil(t, `"r1"`)
	if !strings.Contains(ack, `"assignee":"hk-anna"`) {
		t.Fatalf("request not assigned to the housekeeper on node C: %s", ack)
	}
	id := requestIDIn(t, ack)
	if got := hk.readUntil(t, `"event":"SERVICE_REQUEST"`); requestIDIn(t, got) != id {
		t.Fatalf("housekeeper got %s, want request %s", got, id)
	}
	hk.send(t, codec.OpText, []byte(`{"event":"SERVICE_REQUEST_UPDATE","correlationId":"a1","payload":{"requestId":"`+id+`","action":"accept"}}`))
	if got := hk.readUntil(t, `"a1"`); !strings.Contains(got, `"status":"ACCEPTED"`) {
		t.Fatalf("accept on node C: %s", got)
	}
	guest.readUntil(t, `"action":"accepted"`)
	desk.readUntil(t, `"action":"accepted"`)
}

// nodeProcess is a node running the built binary as its own process.
type nodeProcess struct {
	cmd       *exec.Cmd
	ws, admin string // host:port
	exited    chan error
}

// startNodeProcess runs bin with env added and waits until it is ready.
func startNodeProcess(t *testing.T, bin string, env ...string) *nodeProcess {
	t.Helper()
	wsPort, adminPort := freePort(t), freePort(t)
	n := &nodeProcess{ws: "127.0.0.1:" + wsPort, admin: "127.0.0.1:" + adminPort, exited: make(chan error, 1)}
	n.cmd = exec.Command(bin)
	n.cmd.Env = append(os.Environ(), append([]string{"WS_HOST=127.0.0.1", "WS_PORT=" + wsPort,
		"METRICS_HOST=127.0.0.1", "METRICS_PORT=" + adminPort, "EVENT_LOOPS=1"}, env...)...)
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.exited <- n.cmd.Wait() }()
	t.Cleanup(func() {
		if n.cmd.ProcessState == nil {
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	})
	waitFor(t, 15*time.Second, func() bool {
		c := &http.Client{Timeout: time.Second}
		resp, err := c.Get("http://" + n.admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return n
}

// TestNodeKilled: node A runs as its own process and is killed with
// SIGKILL while it holds a front desk's subscription and a request's
// accept deadline. The front desk resumes on node B with the last
// messageId it saw and gets exactly what it missed, once; the deadline
// still fires, from node B (which takes the sweep lease over), and the
// request is escalated.
func TestNodeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	redisEnv := []string{"JWT_SECRET=" + testSecret, "API_KEY=k1", "REDIS_HOST=" + host, "REDIS_PORT=" + port}
	nodeA := startNodeProcess(t, bin, append(redisEnv, "ACCEPT_TIMEOUT=2s", "LOG_LEVEL=warn")...)
	nodeB := startApp(t, testEnv(redisEnv...))
	addrB := nodeB.srv.Addr().String()

	hk := joinAs(t, addrB, "hk-anna", auth.Housekeeping, "", "me")
	service := joinAs(t, addrB, "fd-2", auth.FrontDesk, "", "service")
	desk := joinAs(t, nodeA.ws, "fd-1", auth.FrontDesk, "", "rooms")
	guest := joinAs(t, nodeA.ws, "g-101", auth.Guest, "101", "me")

	publishRoom(t, nodeB, "101", "DIRTY")
	msg := desk.readUntil(t, `"DIRTY"`)
	_, rest, _ := strings.Cut(msg, `"messageId":"`)
	last, _, _ := strings.Cut(rest, `"`)
	guest.send(t, codec.OpText, []byte(`{"event":"SERVICE_REQUEST","correlationId":"r1","payload":{"type":"towels"}}`))
	ack := guest.readUntil(t, `"r1"`)
	if !strings.Contains(ack, `"assignee":"hk-anna"`) {
		t.Fatalf("request not assigned across nodes: %s", ack)
	}
	id := requestIDIn(t, ack)
	hk.readUntil(t, `"event":"SERVICE_REQUEST"`)

	if err := nodeA.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-nodeA.exited
	publishRoom(t, nodeB, "101", "CLEANING")
	publishRoom(t, nodeB, "101", "CLEANED")

	back, sub := subscribeRooms(t, nodeB, last)
	if !strings.Contains(sub, `"recovered":true`) || !strings.Contains(sub, `"missed":2`) {
		t.Fatalf("resume on node B: %s", sub)
	}
	publishRoom(t, nodeB, "101", "INSPECTED")
	for _, want := range []string{`"CLEANING"`, `"CLEANED"`, `"INSPECTED"`} { // in order, none twice
		if got := back.readUntil(t, `"roomNumber":"101"`); !strings.Contains(got, want) {
			t.Fatalf("after the resume: %s, want %s", got, want)
		}
	}

	// The 2 s deadline set on node A fires from node B within the sweep
	// lease's TTL (3 s) and a sweep interval.
	for _, c := range []*wsConn{hk, service} {
		_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	}
	if got := hk.readUntil(t, `"action":"timed_out"`); requestIDIn(t, got) != id {
		t.Fatalf("timed_out for another request: %s", got)
	}
	if got := service.readUntil(t, `"action":"escalated"`); requestIDIn(t, got) != id || !strings.Contains(got, `"status":"ESCALATED"`) {
		t.Fatalf("escalation: %s", got)
	}
}

// TestSnapshotSeesOtherNodesChange: node B reads the board (its cache now
// holds it), node A changes a room, and node B's next snapshot read (a new
// subscription) shows the change: Redis invalidated node B's cached copy.
func TestSnapshotSeesOtherNodesChange(t *testing.T) {
	_, nodes := redisNodes(t, 2)
	publishRoom(t, nodes[0], "204", "DIRTY")
	for i, want := range []string{"DIRTY", "CLEANED", "INSPECTED"} {
		if i > 0 {
			publishRoom(t, nodes[0], "204", want)
		}
		_, sub := subscribeRooms(t, nodes[1], "")
		if !strings.Contains(sub, `"roomNumber":"204","status":"`+want+`"`) {
			t.Fatalf("node B's snapshot after %s on node A: %s", want, sub)
		}
	}
}

// TestRedisRestartedEmpty: Redis loses everything under a node. A front
// desk resuming from a messageId of the lost history gets recovered:false,
// a snapshot of the board as it now stands, and what the new history
// holds; never a silent gap.
func TestRedisRestartedEmpty(t *testing.T) {
	srv, nodes := redisNodes(t, 1)
	a := nodes[0]
	c, _ := subscribeRooms(t, a, "")
	publishRoom(t, a, "101", "DIRTY")
	last := messageIDIn(t, c.readUntil(t, `"DIRTY"`))
	srv.Kill()
	srv.Restart()
	waitFor(t, 15*time.Second, func() bool {
		code, _ := apiCall(t, a.admin, "k1", "POST", "/api/v1/publish", roomUpdate("102", "CLEANED"))
		return code == http.StatusOK
	})
	// The node noticed the lost history and told its subscriber to resync.
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if code := closeCodeOf(c); code != 4008 {
		t.Fatalf("the subscriber of the lost history: close %d, want 4008", code)
	}
	back, sub := subscribeRooms(t, a, last)
	if !strings.Contains(sub, `"recovered":false`) || !strings.Contains(sub, `"snapshot":{`) ||
		!strings.Contains(sub, `"roomNumber":"102","status":"CLEANED"`) {
		t.Fatalf("resume from the lost history: %s", sub)
	}
	if got := back.readUntil(t, `"event":"ROOM_STATUS_UPDATE"`); !strings.Contains(got, `"CLEANED"`) {
		t.Fatalf("the new history's change: %s", got)
	}
}

// TestRedisPassword: REDIS_PASSWORD is used (a Redis that requires one
// serves the node), a missing one is a clear start-up error, and the
// password never reaches the log.
func TestRedisPassword(t *testing.T) {
	const pass = "s3cret-redis-pass"
	srv := redistest.Start(t, "--requirepass", pass)
	host, port, _ := net.SplitHostPort(srv.Addr)
	env := []string{"JWT_SECRET=" + testSecret, "API_KEY=k1", "REDIS_HOST=" + host, "REDIS_PORT=" + port}
	opts, err := loadConfig(nil, envOf(testEnv(env...)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newApp(opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "REDIS_HOST") {
		t.Fatalf("without the password: %v", err)
	}
	a := startApp(t, testEnv(append(env, "REDIS_PASSWORD="+pass)...))
	publishRoom(t, a, "101", "DIRTY")
	if strings.Contains(a.logs.buf.String(), pass) {
		t.Fatal("the Redis password reached the log")
	}
}

// TestNodesOnRedisCluster: the nodes work on a Redis Cluster of three
// masters (REDIS_HOST names one of them): a room change on node A reaches
// node B's front desk, and a request at node A goes to the housekeeper on
// node B (presence and deadlines live in the cluster's slots too).
func TestNodesOnRedisCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	host, port, _ := net.SplitHostPort(rc.Addrs()[0])
	env := testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "REDIS_HOST="+host, "REDIS_PORT="+port)
	a, b := startApp(t, env), startApp(t, env)
	desk, _ := subscribeRooms(t, b, "")
	publishRoom(t, a, "101", "DIRTY")
	desk.readUntil(t, `"DIRTY"`)
	hk := joinAs(t, b.srv.Addr().String(), "hk-anna", auth.Housekeeping, "", "me")
	guest := joinAs(t, a.srv.Addr().String(), "g-101", auth.Guest, "101", "me")
	guest.send(t, codec.OpText, []byte(`{"event":"SERVICE_REQUEST","correlationId":"r1","payload":{"type":"towels"}}`))
	if ack := guest.readUntil(t, `"r1"`); !strings.Contains(ack, `"assignee":"hk-anna"`) {
		t.Fatalf("request on a Redis Cluster: %s", ack)
	}
	hk.readUntil(t, `"event":"SERVICE_REQUEST"`)
}
