package engine_test

import (
	"bufio"
	"crypto/sha1"
	cryptotls "crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// Handshake wire tests: the HTTP status of every refusal, read from the raw
// response, and the headers of every acceptance, over ws and wss. After each
// refusal the server must have hung up and must still accept others.

// handshakeKey is the Sec-WebSocket-Key of every request here.
const handshakeKey = "dGhlIHNhbXBsZSBub25jZQ=="

// handshakeConfig is the server of the handshake tests: an origin allow-list
// and one subprotocol.
var handshakeConfig = engine.Config{
	AllowedOrigins: []string{"https://app.hotel.example"},
	Protocols:      []string{"bellhop.v1"},
}

// standardHeaders are the headers of a valid upgrade request, by name.
var standardHeaders = []string{
	"Host: localhost",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + handshakeKey,
	"Sec-WebSocket-Version: 13",
}

// rawHead returns a request head: line, the standard headers except those
// whose names are in skip, then extra header lines.
func rawHead(line string, skip []string, extra ...string) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, h := range standardHeaders {
		name, _, _ := strings.Cut(h, ":")
		if !slices.Contains(skip, name) {
			b.WriteString(h + "\r\n")
		}
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

const getEcho = "GET /echo HTTP/1.1"

// handshakeCase is one request head and the status it must get.
type handshakeCase struct {
	name   string
	head   string
	status int
	check  func(t *testing.T, resp *http.Response) // more checks on the response; may be nil
}

// TestConformanceHandshakeStatus checks the answer to valid and invalid
// upgrade requests (RFC 6455 section 4.2): 101 with the right accept key, or
// the status of the first fault found; 400 for what is not HTTP at all, 431
// for a head over MaxHeadSize.
func TestConformanceHandshakeStatus(t *testing.T) {
	forEachTransport(t, handshakeConfig, func(t *testing.T, w *wire) {
		for _, tc := range slices.Concat(handshakeStatusCases(), handshakeMalformedCases(), handshakeSizeCases()) {
			t.Run(tc.name, func(t *testing.T) { w.handshakeCase(t, tc) })
		}
	})
}

func handshakeStatusCases() []handshakeCase {
	version := func(t *testing.T, resp *http.Response) {
		if got := resp.Header.Values("Sec-WebSocket-Version"); len(got) != 1 || got[0] != "13" {
			t.Fatalf("Sec-WebSocket-Version %q, want [13]", got)
		}
	}
	return []handshakeCase{
		{"valid", rawHead(getEcho, nil), 101, checkAccept},
		{"valid/query", rawHead("GET /echo?token=abc&x=1 HTTP/1.1", nil), 101, checkAccept},
		{"valid/absolute-form", rawHead("GET http://localhost/echo HTTP/1.1", nil), 101, checkAccept},
		{"valid/http-1.2", rawHead("GET /echo HTTP/1.2", nil), 101, checkAccept},
		{"valid/connection-list", rawHead(getEcho, []string{"Connection"}, "Connection: keep-alive, Upgrade"), 101, checkAccept},
		{"valid/header-case", rawHead(getEcho, []string{"Upgrade", "Connection"}, "upgrade: WebSocket", "connection: upgrade"), 101, checkAccept},
		{"method=POST", rawHead("POST /echo HTTP/1.1", nil), 400, nil},
		{"method=HEAD", rawHead("HEAD /echo HTTP/1.1", nil), 400, nil},
		{"http=1.0", rawHead("GET /echo HTTP/1.0", nil), 400, nil},
		{"http=2.0", rawHead("GET /echo HTTP/2.0", nil), 505, nil},
		{"no-upgrade", rawHead(getEcho, []string{"Upgrade"}), 400, nil},
		{"upgrade=h2c", rawHead(getEcho, []string{"Upgrade"}, "Upgrade: h2c"), 400, nil},
		{"no-connection", rawHead(getEcho, []string{"Connection"}), 400, nil},
		{"connection=keep-alive", rawHead(getEcho, []string{"Connection"}, "Connection: keep-alive"), 400, nil},
		{"no-key", rawHead(getEcho, []string{"Sec-WebSocket-Key"}), 400, nil},
		{"key=short", rawHead(getEcho, []string{"Sec-WebSocket-Key"}, "Sec-WebSocket-Key: c2hvcnQ="), 400, nil},
		{"no-version", rawHead(getEcho, []string{"Sec-WebSocket-Version"}), 400, nil},
		{"version=8", rawHead(getEcho, []string{"Sec-WebSocket-Version"}, "Sec-WebSocket-Version: 8"), 426, version},
		{"version=14", rawHead(getEcho, []string{"Sec-WebSocket-Version"}, "Sec-WebSocket-Version: 14"), 426, version},
		{"no-host", rawHead(getEcho, []string{"Host"}), 400, nil},
		{"two-hosts", rawHead(getEcho, nil, "Host: other"), 400, nil},
		{"path=unknown", rawHead("GET /nope HTTP/1.1", nil), 404, nil},
		{"path=prefix", rawHead("GET /echo/more HTTP/1.1", nil), 404, nil},
		{"path=root", rawHead("GET / HTTP/1.1", nil), 404, nil},
		{"target=fragment", rawHead("GET /echo#x HTTP/1.1", nil), 400, nil},
		{"header=control-char", rawHead(getEcho, nil, "User-Agent: a\x01b"), 400, nil},
	}
}

// handshakeMalformedCases are requests that are not HTTP or break its
// syntax: they get 400, whether FindHead or Upgrade notices.
func handshakeMalformedCases() []handshakeCase {
	return []handshakeCase{
		{"malformed/method=lower-case", rawHead("get /echo HTTP/1.1", nil), 400, nil},
		{"malformed/not-http", "\x16\x03\x01\x00\x05hello\r\n\r\n", 400, nil},
		{"malformed/header-line", rawHead(getEcho, nil, "no colon here"), 400, nil},
	}
}

// handshakeSizeCases check MaxHeadSize: a head that has not ended within it
// gets 431 without the server waiting for the rest; a head of exactly that
// size is served.
func handshakeSizeCases() []handshakeCase {
	// padded returns a complete head of exactly size bytes.
	padded := func(size int) string {
		head := rawHead(getEcho, nil, "Cookie: ")
		pad := strings.Repeat("c", size-len(head))
		return strings.Replace(head, "Cookie: ", "Cookie: "+pad, 1)
	}
	limit := engine.DefaultMaxHeadSize
	return []handshakeCase{
		{"head=limit", padded(limit), 101, nil},
		{"head=limit+1", padded(limit + 1), 431, nil},
		{"head=unfinished", padded(limit + 4)[:limit], 431, nil},
	}
}

// checkAccept checks Sec-WebSocket-Accept against the key (RFC 6455
// section 4.2.2, step 5.4).
func checkAccept(t *testing.T, resp *http.Response) {
	t.Helper()
	sum := sha1.Sum([]byte(handshakeKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	want := base64.StdEncoding.EncodeToString(sum[:])
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != want {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "" {
		t.Fatalf("Sec-WebSocket-Protocol %q without an offer", got)
	}
}

// handshakeCase sends tc's head and checks the status. An upgraded
// connection must then echo; a refused one must be hung up on, and the
// server must accept the next client.
func (w *wire) handshakeCase(t *testing.T, tc handshakeCase) {
	t.Helper()
	c := dial(t, w.srv, w.useTLS)
	resp := c.handshake(tc.head)
	if resp.StatusCode != tc.status {
		t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
	}
	if tc.check != nil {
		tc.check(t, resp)
	}
	if tc.status == http.StatusSwitchingProtocols {
		c.echoes(codec.OpText, []byte("upgraded"))
		closeClean(c)
		return
	}
	if !resp.Close { // net/http moves "Connection: close" here
		t.Fatal("refusal without Connection: close")
	}
	expectHangUp(c)
	w.alive(t)
}

// expectHangUp checks that the server closes the connection and sends
// nothing more.
func expectHangUp(c *client) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [64]byte
	n, err := c.r.Read(b[:])
	if n > 0 || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
		c.t.Fatalf("want the server to hang up, got %q, %v", b[:n], err)
	}
}

// TestConformanceHandshakeOrigin checks the Origin allow-list: browsers from
// other origins get 403; the allowed origin, in any case, and clients
// without Origin are upgraded.
func TestConformanceHandshakeOrigin(t *testing.T) {
	forEachTransport(t, handshakeConfig, func(t *testing.T, w *wire) {
		for _, tc := range []handshakeCase{
			{"allowed", rawHead(getEcho, nil, "Origin: https://app.hotel.example"), 101, checkAccept},
			{"allowed/upper-case", rawHead(getEcho, nil, "Origin: HTTPS://APP.HOTEL.EXAMPLE"), 101, checkAccept},
			{"no-origin", rawHead(getEcho, nil), 101, checkAccept},
			{"other-host", rawHead(getEcho, nil, "Origin: https://evil.example"), 403, nil},
			{"other-scheme", rawHead(getEcho, nil, "Origin: http://app.hotel.example"), 403, nil},
			{"other-port", rawHead(getEcho, nil, "Origin: https://app.hotel.example:8443"), 403, nil},
			{"suffix", rawHead(getEcho, nil, "Origin: https://app.hotel.example.evil.example"), 403, nil},
			{"null", rawHead(getEcho, nil, "Origin: null"), 403, nil},
			{"two-origins", rawHead(getEcho, nil, "Origin: https://app.hotel.example", "Origin: https://evil.example"), 400, nil},
		} {
			t.Run(tc.name, func(t *testing.T) { w.handshakeCase(t, tc) })
		}
	})
}

// TestConformanceHandshakeSubprotocol checks subprotocol selection: the
// server's protocol is selected when offered among others, and no header is
// sent when the client offers none of the server's.
func TestConformanceHandshakeSubprotocol(t *testing.T) {
	forEachTransport(t, handshakeConfig, func(t *testing.T, w *wire) {
		protocol := func(want string) func(*testing.T, *http.Response) {
			return func(t *testing.T, resp *http.Response) {
				got := resp.Header.Values("Sec-WebSocket-Protocol")
				if want == "" && len(got) > 0 || want != "" && !slices.Equal(got, []string{want}) {
					t.Fatalf("Sec-WebSocket-Protocol %q, want %q", got, want)
				}
			}
		}
		for _, tc := range []handshakeCase{
			{"offer=foo,bellhop.v1", rawHead(getEcho, nil, "Sec-WebSocket-Protocol: foo, bellhop.v1"), 101, protocol("bellhop.v1")},
			{"offer=bellhop.v1", rawHead(getEcho, nil, "Sec-WebSocket-Protocol: bellhop.v1"), 101, protocol("bellhop.v1")},
			{"offer=two-headers", rawHead(getEcho, nil, "Sec-WebSocket-Protocol: foo", "Sec-WebSocket-Protocol: bellhop.v1"),
				101, protocol("bellhop.v1")},
			{"offer=foo", rawHead(getEcho, nil, "Sec-WebSocket-Protocol: foo"), 101, protocol("")},
			{"offer=none", rawHead(getEcho, nil), 101, protocol("")},
			{"offer=case-differs", rawHead(getEcho, nil, "Sec-WebSocket-Protocol: Bellhop.V1"), 101, protocol("")},
			{"offer=not-a-token", rawHead(getEcho, nil, "Sec-WebSocket-Protocol: foo bar"), 400, nil},
		} {
			t.Run(tc.name, func(t *testing.T) { w.handshakeCase(t, tc) })
		}
	})
}

// TestConformanceHandshakeSplit checks that the head may arrive in any
// pieces: one byte per write (one byte per TLS record over wss), split
// inside the final CRLFCRLF, or together with the first frames.
func TestConformanceHandshakeSplit(t *testing.T) {
	forEachTransport(t, handshakeConfig, func(t *testing.T, w *wire) {
		head := rawHead(getEcho, nil, "Origin: https://app.hotel.example", "Sec-WebSocket-Protocol: bellhop.v1")
		end := len(head) - 2
		splits := map[string]func(c *client){
			"bytewise": func(c *client) { writeBytewise(c, []byte(head)) },
			"inside-crlfcrlf": func(c *client) {
				c.write([]byte(head[:end-1]))
				time.Sleep(5 * time.Millisecond) // let the server read the partial head
				c.write([]byte(head[end-1:]))
			},
			"three-pieces": func(c *client) {
				for _, p := range []string{head[:7], head[7 : len(head)/2], head[len(head)/2:]} {
					c.write([]byte(p))
					time.Sleep(2 * time.Millisecond)
				}
			},
		}
		for name, write := range splits {
			t.Run(name, func(t *testing.T) {
				c := dial(t, w.srv, w.useTLS)
				write(c)
				readUpgraded(t, c)
				c.echoes(codec.OpText, []byte("split head"))
				closeClean(c)
			})
		}
		t.Run("with-partial-frame", func(t *testing.T) {
			c := dial(t, w.srv, w.useTLS)
			f := textFrame("straddles the head")
			c.write(joinBytes([]byte(head), f[:5]))
			readUpgraded(t, c)
			c.write(f[5:])
			expectReply(c, textEcho("straddles the head"))
			closeClean(c)
		})
		t.Run("with-frames", func(t *testing.T) {
			c := dial(t, w.srv, w.useTLS)
			c.write(joinBytes([]byte(head), textFrame("first"), whole(codec.OpPing, []byte("p"))))
			readUpgraded(t, c)
			expectReply(c, textEcho("first"))
			expectReply(c, serverFrame{codec.OpPong, []byte("p")})
			closeClean(c)
		})
	})
}

// readUpgraded reads a 101 response selecting bellhop.v1.
func readUpgraded(t *testing.T, c *client) {
	t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatalf("reading handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "bellhop.v1" {
		t.Fatalf("status %d protocol %q, want 101 with bellhop.v1", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
}

// TestConformanceHandshakeTLSErrors checks a wss server facing broken TLS: a
// plain HTTP request on the wss port, and a corrupt TLS record after the
// upgrade, are both hung up on, and the server keeps serving.
func TestConformanceHandshakeTLSErrors(t *testing.T) {
	t.Parallel()
	w := &wire{srv: startServer(t, engine.Config{TLS: serverTLS(t)}), useTLS: true}
	t.Cleanup(func() { w.expectNoConns(t) })
	t.Run("plain-http", func(t *testing.T) {
		conn := dialRaw(t, w.srv)
		if _, err := conn.Write([]byte(upgradeRequest("/echo"))); err != nil {
			t.Fatal(err)
		}
		if got := readUntilEOF(t, conn); strings.Contains(string(got), "HTTP/") {
			t.Fatalf("plain request on the wss port was answered: %q", got)
		}
		w.alive(t)
	})
	t.Run("corrupt-record", func(t *testing.T) {
		conn := dialRaw(t, w.srv)
		tc := cryptotls.Client(conn, clientTLS(t))
		c := &client{t: t, conn: tc, r: bufio.NewReader(tc)}
		readUpgradedPlain(t, c)
		c.echoes(codec.OpText, []byte("before"))
		// An application-data record whose authentication tag cannot match.
		record := append([]byte{23, 3, 3, 0, 32}, make([]byte, 32)...)
		if _, err := conn.Write(record); err != nil {
			t.Fatal(err)
		}
		readUntilEOF(t, conn)
		w.alive(t)
	})
}

// dialRaw opens a TCP connection to srv, closed when the test ends.
func dialRaw(t *testing.T, srv *engine.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}

// readUpgradedPlain upgrades c on /echo and checks for 101.
func readUpgradedPlain(t *testing.T, c *client) {
	t.Helper()
	if resp := c.handshake(upgradeRequest("/echo")); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
}

// readUntilEOF reads conn until the server closes it and returns what came.
func readUntilEOF(t *testing.T, conn net.Conn) []byte {
	t.Helper()
	got, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("want the server to hang up, got %v after %q", err, got)
	}
	return got
}
