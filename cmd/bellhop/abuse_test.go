package main

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// rawDial connects to addr from the loopback source address src and sends
// an upgrade request for path with extra header lines. It returns the
// connection (positioned after the response head) and the status, or a
// status of 0 when the server closed or answered nothing.
func rawDial(t *testing.T, src, addr, path string, extra ...string) (*wsConn, int) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return upgrade(t, conn, path, extra...)
}

// closeCodeOf reads frames until a close frame and returns its code (0 on
// EOF or an error).
func closeCodeOf(c *wsConn) int {
	for {
		op, p, err := c.frame()
		if err != nil {
			return 0
		}
		if op == codec.OpClose && len(p) >= 2 {
			return int(p[0])<<8 | int(p[1])
		}
	}
}

// frameBytes is one masked client frame (fin, rsv1 for compressed).
func frameBytes(fin, rsv1 bool, op codec.OpCode, payload []byte) []byte {
	h := codec.Header{Fin: fin, OpCode: op, Mask: [4]byte{1, 2, 3, 4}}
	if rsv1 {
		h.Rsv = 4
	}
	return codec.AppendClientFrame(nil, h, payload)
}

// calmDesk is the client every attack must leave alone: a front desk on
// its own source address, subscribed to rooms, receiving a room change
// each time the test publishes one.
type calmDesk struct {
	c     *wsConn
	mu    sync.Mutex
	worst time.Duration
	n     int
}

// roundTrip publishes a room change through the API and waits for it at
// the calm desk, recording the delivery latency. It reports failures as
// an error: it runs beside an attack, off the test's goroutine.
func (d *calmDesk) roundTrip(a *testApp, i int) error {
	room := "9" + strconv.Itoa(i%90+10)
	start := time.Now()
	req, _ := http.NewRequest("POST", "http://"+a.admin+"/api/v1/publish", strings.NewReader(roomUpdate(room, "DIRTY")))
	req.Header.Set("X-API-Key", "k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("publish: %d", resp.StatusCode)
	}
	_ = d.c.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := d.c.frame()
		if err != nil {
			return fmt.Errorf("calm desk: %w", err)
		}
		if strings.Contains(string(msg), `"roomNumber":"`+room+`"`) {
			break
		}
	}
	lat := time.Since(start)
	d.mu.Lock()
	d.worst, d.n = max(d.worst, lat), d.n+1
	d.mu.Unlock()
	return nil
}

// TestAbuseSuite runs each attack from its own loopback address against one
// node with tight limits (and loopback not allow-listed), while a calm
// front desk on another address keeps receiving room changes. Each attack
// gets its refusal; the calm desk misses nothing, and its worst delivery
// latency is reported; no goroutines are left behind.
func TestAbuseSuite(t *testing.T) {
	a := startApp(t, testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "ALLOW_IPS=none",
		"MAX_CONNECTIONS_PER_IP=5", "CONNECT_RATE_PER_IP=50", "BLACKLIST_AFTER=5", "BLACKLIST_DURATION=1m",
		"MESSAGE_RATE=20", "PING_RATE=3", "MAX_MESSAGE_SIZE=4096", "MAX_FRAME_SIZE=4096", "MAX_FRAGMENTS=16",
		"HANDSHAKE_TIMEOUT=1s", "ALLOWED_ORIGINS=https://desk.hotel.example", "ENABLE_COMPRESSION=true"))
	addr := a.srv.Addr().String()
	calmConn, _ := rawDial(t, "127.0.0.2", addr, "/ws?token="+frontDeskToken(t))
	calmConn.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms","correlationId":"sub"}`))
	calmConn.readUntil(t, `"correlationId":"sub"`)
	calm := &calmDesk{c: calmConn}
	if err := calm.roundTrip(a, 0); err != nil {
		t.Fatal(err)
	}
	baseline := calm.worst
	goroutines := runtime.NumGoroutine()
	heapBefore := heapInUse()

	var tokens []string // every token the attacks present: none may reach the log
	token := func(role auth.Role, room string) string {
		tok := tokenFor(t, "x-"+role.String(), role, room)
		tokens = append(tokens, tok, tok[strings.LastIndexByte(tok, '.')+1:])
		return tok
	}
	attacks := []struct {
		name string
		src  string
		run  func(t *testing.T, src string)
	}{
		{"connection_flood_then_blacklist", "127.0.0.10", func(t *testing.T, src string) {
			var statuses []int
			for range 12 {
				_, st := rawDial(t, src, addr, "/echo")
				statuses = append(statuses, st)
			}
			// MAX_CONNECTIONS_PER_IP=5 upgrades, then 429s until the fifth
			// violation (BLACKLIST_AFTER) blacklists the IP: 403 from then on.
			want := []int{101, 101, 101, 101, 101, 429, 429, 429, 429, 429, 403, 403}
			if !slices.Equal(statuses, want) {
				t.Fatalf("statuses %v, want %v", statuses, want)
			}
		}},
		{"message_flood", "127.0.0.11", func(t *testing.T, src string) {
			c, _ := rawDial(t, src, addr, "/ws?token="+token(auth.Housekeeping, ""))
			var burst []byte
			for range 200 {
				burst = append(burst, frameBytes(true, false, codec.OpText, []byte(`{"event":"PING"}`))...)
			}
			_, _ = c.Write(burst)
			if code := closeCodeOf(c); code != 4029 {
				t.Fatalf("close %d, want 4029", code)
			}
		}},
		{"ping_flood", "127.0.0.12", func(t *testing.T, src string) {
			c, _ := rawDial(t, src, addr, "/echo")
			var burst []byte
			for range 50 {
				burst = append(burst, frameBytes(true, false, codec.OpPing, nil)...)
			}
			_, _ = c.Write(burst)
			if code := closeCodeOf(c); code != 4029 {
				t.Fatalf("close %d, want 4029", code)
			}
		}},
		{"slowloris_head", "127.0.0.13", func(t *testing.T, src string) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
			conn, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = conn.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\n"))
			start := time.Now()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadAll(conn)
			if err != nil || time.Since(start) > 4*time.Second {
				t.Fatalf("slow head not cut off: %v after %v", err, time.Since(start))
			}
		}},
		{"oversized_message", "127.0.0.14", func(t *testing.T, src string) {
			c, _ := rawDial(t, src, addr, "/echo")
			_, _ = c.Write(frameBytes(true, false, codec.OpBinary, make([]byte, 5000)))
			if code := closeCodeOf(c); code != 1009 {
				t.Fatalf("close %d, want 1009", code)
			}
		}},
		{"zip_bomb", "127.0.0.15", func(t *testing.T, src string) {
			c, st := rawDial(t, src, addr, "/echo", "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover")
			if st != 101 {
				t.Fatalf("deflate upgrade: %d", st)
			}
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, flate.BestCompression)
			_, _ = w.Write(make([]byte, 10<<20)) // 10 MiB of zeros in about 10 KB
			_ = w.Flush()
			p := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
			_, _ = c.Write(frameBytes(true, true, codec.OpBinary, p[:min(len(p), 4000)]))
			if code := closeCodeOf(c); code != 1009 {
				t.Fatalf("close %d, want 1009", code)
			}
		}},
		{"fragment_flood", "127.0.0.16", func(t *testing.T, src string) {
			c, _ := rawDial(t, src, addr, "/echo")
			burst := frameBytes(false, false, codec.OpText, []byte("a"))
			for range 40 {
				burst = append(burst, frameBytes(false, false, codec.OpContinuation, []byte("a"))...)
			}
			_, _ = c.Write(burst)
			if code := closeCodeOf(c); code != 1008 {
				t.Fatalf("close %d, want 1008", code)
			}
		}},
		{"deep_json", "127.0.0.17", func(t *testing.T, src string) {
			c, _ := rawDial(t, src, addr, "/ws?token="+token(auth.FrontDesk, ""))
			c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","payload":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`))
			if got := c.readUntil(t, `"event":"ERROR"`); !strings.Contains(got, "BAD_MESSAGE") {
				t.Fatalf("deep JSON: %s", got)
			}
		}},
		{"other_room", "127.0.0.18", func(t *testing.T, src string) {
			c, _ := rawDial(t, src, addr, "/ws?token="+token(auth.Guest, "101"))
			c.send(t, codec.OpText, []byte(`{"event":"SERVICE_REQUEST","correlationId":"r","payload":{"type":"towels","roomNumber":"102"}}`))
			if got := c.readUntil(t, `"correlationId":"r"`); !strings.Contains(got, "FORBIDDEN") {
				t.Fatalf("request for another room: %s", got)
			}
		}},
		{"other_property", "127.0.0.21", func(t *testing.T, src string) {
			signer, _ := auth.NewSigner("dev", []byte(testSecret))
			tok, _ := signer.Sign(auth.Claims{Subject: "fd-annex", Role: auth.FrontDesk, Property: "annex", Expires: time.Now().Add(time.Hour)})
			tokens = append(tokens, tok)
			c, _ := rawDial(t, src, addr, "/ws?token="+tok)
			c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms","correlationId":"s"}`))
			if got := c.readUntil(t, `"correlationId":"s"`); !strings.Contains(got, `"channel":"annex:rooms"`) {
				t.Fatalf("annex desk subscribed to %s", got)
			}
			publishRoom(t, a, "555", "DIRTY") // grand's
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := c.r.Peek(1); err == nil {
				t.Fatal("a desk of another property received grand's room change")
			}
		}},
		{"forged_tokens_then_blacklist", "127.0.0.19", func(t *testing.T, src string) {
			forged := token(auth.Admin, "")
			forged = forged[:len(forged)-4] + "AAAA"
			var codes []int
			for range 5 {
				c, st := rawDial(t, src, addr, "/ws?token="+forged)
				if st != 101 {
					codes = append(codes, st)
					continue
				}
				codes = append(codes, closeCodeOf(c))
			}
			if codes[0] != 4001 {
				t.Fatalf("forged token: %v, want 4001", codes)
			}
			waitFor(t, 2*time.Second, func() bool { _, st := rawDial(t, src, addr, "/echo"); return st == 403 })
		}},
		{"cross_origin", "127.0.0.20", func(t *testing.T, src string) {
			if _, st := rawDial(t, src, addr, "/ws", "Origin: https://evil.example"); st != 403 {
				t.Fatalf("cross-origin handshake: %d, want 403", st)
			}
			if _, st := rawDial(t, src, addr, "/ws", "Origin: https://desk.hotel.example"); st != 101 {
				t.Fatalf("allowed origin: %d, want 101", st)
			}
		}},
	}
	for i, at := range attacks {
		t.Run("attack="+at.name, func(t *testing.T) {
			calmErr := make(chan error, 1)
			go func() { calmErr <- calm.roundTrip(a, i+1) }() // during the attack
			at.run(t, at.src)
			if err := <-calmErr; err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Logf("calm desk: %d deliveries, none lost; worst latency %v (before the attacks %v)", calm.n, calm.worst, baseline)
	if calm.worst > 2*time.Second {
		t.Fatalf("calm desk's worst delivery latency %v", calm.worst)
	}
	if _, body := a.get(t, "/metrics"); !strings.Contains(body, `bellhop_connections_refused_total{status="403"}`) ||
		!strings.Contains(body, "bellhop_rate_limited_total") {
		t.Fatal("metrics lack the refusals")
	}
	if recs := a.logs.records("client IP blacklisted"); len(recs) < 2 {
		t.Fatalf("blacklistings logged: %v", recs)
	}
	waitFor(t, 5*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines+5 })
	if grown := heapInUse() - heapBefore; grown > 16<<20 {
		t.Fatalf("heap grew by %d bytes over the attacks", grown)
	}
	logs := a.logs.buf.String()
	for _, tok := range tokens {
		if strings.Contains(logs, tok) {
			t.Fatal("a token reached the log")
		}
	}
}

// heapInUse returns the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// TestLimitsAcrossNodes: with Redis, per-IP limits and the blacklist hold
// across nodes: connections on node A count against the limit on node B,
// and an IP blacklisted on node A is refused by node B.
func TestLimitsAcrossNodes(t *testing.T) {
	_, nodes := redisNodes(t, 2, "ALLOW_IPS=none", "MAX_CONNECTIONS_PER_IP=4", "CONNECT_RATE_PER_IP=100",
		"BLACKLIST_AFTER=3", "BLACKLIST_DURATION=1m")
	a, b := nodes[0].srv.Addr().String(), nodes[1].srv.Addr().String()
	for range 3 {
		if _, st := rawDial(t, "127.0.0.40", a, "/echo"); st != 101 {
			t.Fatalf("node A: %d", st)
		}
	}
	time.Sleep(3 * time.Second) // two load exchanges (one a second)
	if _, st := rawDial(t, "127.0.0.40", b, "/echo"); st != 101 {
		t.Fatalf("node B, the fourth connection: %d", st)
	}
	if _, st := rawDial(t, "127.0.0.40", b, "/echo"); st != 429 {
		t.Fatalf("node B, the fifth connection of the IP: %d, want 429", st)
	}

	for range 3 { // protocol errors on node A: violations, the third earns the ban
		c, _ := rawDial(t, "127.0.0.41", a, "/echo")
		_, _ = c.Write([]byte{0x81, 0x01, 'x'}) // an unmasked client frame
		if code := closeCodeOf(c); code != 1002 {
			t.Fatalf("close %d, want 1002", code)
		}
	}
	if _, st := rawDial(t, "127.0.0.41", a, "/echo"); st != 403 {
		t.Fatalf("node A after the ban: %d", st)
	}
	// Node B has seen nothing from the IP; each probe closes at once, so
	// node B earns no violation of its own.
	waitFor(t, 5*time.Second, func() bool {
		c, st := rawDial(t, "127.0.0.41", b, "/echo")
		_ = c.Close()
		return st == 403
	})
}
