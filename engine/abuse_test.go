package engine_test

import (
	"bufio"
	cryptotls "crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
	"github.com/bellhop/bellhop/engine/guard"
)

var _ engine.Guard = (*guard.Guard)(nil)

func newGuard(t *testing.T, cfg guard.Config) *guard.Guard {
	t.Helper()
	g := guard.New(cfg)
	t.Cleanup(g.Close)
	return g
}

// refusedStatus dials srv and returns the HTTP status it answers before
// any request (the guard refuses at accept), or 0 when it waits for one.
func refusedStatus(t *testing.T, srv *engine.Server) int {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	return resp.StatusCode
}

// TestGuardRefusesAtAccept: over the per-IP connection limit a client is
// answered 429 at accept, before any handshake; once banned, 403; the
// refusals show in the metrics; open connections keep working.
func TestGuardRefusesAtAccept(t *testing.T) {
	g := newGuard(t, guard.Config{MaxConnsPerIP: 2, ConnectRate: -1, BanAfter: 3, BanFor: time.Minute})
	srv := startServer(t, engine.Config{Guard: g})
	a, b := connect(t, srv, false), connect(t, srv, false)
	for i, want := range []int{429, 429, 429, 403} { // the third violation earns the ban
		if got := refusedStatus(t, srv); got != want {
			t.Fatalf("refusal %d: status %d, want %d", i, got, want)
		}
	}
	a.echoes(codec.OpText, []byte("still served"))
	b.echoes(codec.OpText, []byte("still served"))
	var body strings.Builder
	srv.Metrics().WritePrometheus(&body)
	for _, want := range []string{`bellhop_connections_refused_total{status="429"} 3`, `bellhop_connections_refused_total{status="403"} 1`} {
		if !strings.Contains(body.String(), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
}

// TestGuardTLSRefusal: a refused wss client gets no TLS at all: the
// connection is closed at accept.
func TestGuardTLSRefusal(t *testing.T) {
	g := newGuard(t, guard.Config{MaxConnsPerIP: 1, ConnectRate: -1})
	srv := startServer(t, engine.Config{Guard: g, TLS: serverTLS(t)})
	connect(t, srv, true)
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("a refused wss connection got bytes")
	}
}

// TestMessageAndPingFloods: a connection sending faster than its limits
// is closed with 4029, and another client is unaffected.
func TestMessageAndPingFloods(t *testing.T) {
	cases := []struct {
		name string
		cfg  engine.Config
		op   codec.OpCode
	}{
		{"messages_per_connection", engine.Config{MessageRate: 5, MessageBurst: 5}, codec.OpText},
		{"messages_per_ip", engine.Config{Guard: nil}, codec.OpText}, // guard set below
		{"pings", engine.Config{PingRate: 3}, codec.OpPing},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.name == "messages_per_ip" {
				cfg.Guard = newGuard(t, guard.Config{MessageRate: 5, MessageBurst: 5, BanAfter: 1000})
			}
			srv := startServer(t, cfg)
			calm := connect(t, srv, false)
			flood := connect(t, srv, false)
			var burst [][]byte
			for range 30 {
				burst = append(burst, whole(tc.op, []byte("x")))
			}
			flood.write(joinBytes(burst...)) // one write: the server closes mid-way
			flood.expectClose(engine.CloseTooFast)
			if tc.name != "messages_per_ip" { // per IP, the calm client shares the flooder's address
				calm.echoes(codec.OpText, []byte("unaffected"))
			}
		})
	}
}

// TestTrustedProxy: behind a trusted proxy the guard judges the client
// X-Forwarded-For names, on the request head: a banned client is answered
// 403 instead of 101, another client is upgraded; a spoofed left-most hop
// does not help.
func TestTrustedProxy(t *testing.T) {
	g := newGuard(t, guard.Config{})
	banned := netip.MustParseAddr("198.51.100.7")
	g.Ban(banned, time.Now().Add(time.Hour))
	srv := startServer(t, engine.Config{Guard: g, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	cases := []struct {
		name, xff string
		want      int
	}{
		{"banned_client", "198.51.100.7", http.StatusForbidden},
		{"spoofed_left_hop", "203.0.113.1, 198.51.100.7", http.StatusForbidden},
		{"through_two_proxies", "198.51.100.7, 127.0.0.2", http.StatusForbidden},
		{"clean_client", "203.0.113.9", http.StatusSwitchingProtocols},
		{"no_header", "", http.StatusSwitchingProtocols},
		{"garbage", "not-an-ip", http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			c := dial(t, srv, false)
			var extra []string
			if tc.xff != "" {
				extra = append(extra, "X-Forwarded-For: "+tc.xff)
			}
			if resp := c.handshake(upgradeRequest("/echo", extra...)); resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestProtocolErrorsEarnABan: connections closed for protocol errors
// charge their IP; enough of them and the IP is refused at accept.
func TestProtocolErrorsEarnABan(t *testing.T) {
	g := newGuard(t, guard.Config{BanAfter: 3, BanFor: time.Minute, ConnectRate: -1})
	srv := startServer(t, engine.Config{Guard: g})
	for range 3 {
		c := connect(t, srv, false)
		c.write([]byte{0x81, 0x01, 'x'}) // unmasked client frame: 1002
		c.expectClose(codec.CloseProtocolError)
	}
	waitFor(t, 2*time.Second, func() bool { return refusedStatus(t, srv) == http.StatusForbidden })
}

// TestProxyProtocol: behind a TCP balancer speaking the PROXY protocol, the
// client the header names is the one the guard judges and the handler sees;
// a banned client is refused before its handshake; a trusted peer that
// sends no header is cut off; others need no header.
func TestProxyProtocol(t *testing.T) {
	g := newGuard(t, guard.Config{})
	g.Ban(netip.MustParseAddr("198.51.100.7"), time.Now().Add(time.Hour))
	grab := &connGrabber{conns: make(chan *engine.Conn, 4)}
	srv := startServer(t, engine.Config{Guard: g, ProxyProtocol: true,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Routes:         map[string]engine.Handler{"/echo": grab}})
	v2 := func(ip [4]byte) string {
		b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
		b = append(b, ip[:]...)
		return string(append(b, 10, 0, 0, 1, 0x15, 0xb3, 0x01, 0xbb))
	}
	cases := []struct {
		name, header string
		want         int    // HTTP status, 0: closed without an answer
		client       string // the handler's ClientIP
	}{
		{"v1_client", "PROXY TCP4 203.0.113.9 10.0.0.1 5555 443\r\n", 101, "203.0.113.9"},
		{"v2_client", v2([4]byte{203, 0, 113, 10}), 101, "203.0.113.10"},
		{"v1_banned", "PROXY TCP4 198.51.100.7 10.0.0.1 5555 443\r\n", 403, ""},
		{"unknown_is_the_peer", "PROXY UNKNOWN\r\n", 101, "127.0.0.1"},
		{"no_header", "", 0, ""},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			c := dial(t, srv, false)
			c.write([]byte(tc.header + upgradeRequest("/echo")))
			resp, err := http.ReadResponse(c.r, nil)
			status := 0
			if err == nil {
				status = resp.StatusCode
			}
			if status != tc.want {
				t.Fatalf("status %d (%v), want %d", status, err, tc.want)
			}
			if tc.client != "" {
				if got := (<-grab.conns).ClientIP().String(); got != tc.client {
					t.Fatalf("ClientIP %s, want %s", got, tc.client)
				}
			}
		})
	}
	// Not a trusted peer (127.0.0.2): no header expected; the upgrade works.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	conn, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte(upgradeRequest("/echo")))
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("untrusted peer without a header: %v %v", resp, err)
	}
}

// TestProxyProtocolTLS: the header comes before TLS.
func TestProxyProtocolTLS(t *testing.T) {
	grab := &connGrabber{conns: make(chan *engine.Conn, 1)}
	srv := startServer(t, engine.Config{ProxyProtocol: true, TLS: serverTLS(t),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Routes:         map[string]engine.Handler{"/echo": grab}})
	raw, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Write([]byte("PROXY TCP6 2001:db8::9 2001:db8::1 5555 443\r\n")); err != nil {
		t.Fatal(err)
	}
	tc := cryptotls.Client(raw, clientTLS(t))
	if _, err := tc.Write([]byte(upgradeRequest("/echo"))); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(tc), nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("wss behind the PROXY protocol: %v %v", resp, err)
	}
	if got := (<-grab.conns).ClientIP().String(); got != "2001:db8::9" {
		t.Fatalf("ClientIP %s", got)
	}
}
