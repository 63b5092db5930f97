package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// testConfig is the configuration most handshake tests run against.
var testConfig = Config{
	Paths:          []string{"/ws", "/v1/ws"},
	AllowedOrigins: []string{"https://hotel.example", "https://*.hotel.example", "http://localhost:3000"},
	Protocols:      []string{"bellhop.v2", "bellhop.v1"},
	Deflate:        true,
}

// rfcKey and rfcAccept are the example of RFC 6455 section 1.3.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// head joins header lines into a request head ending in CRLF CRLF.
func head(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

// Real request heads, as sent by the clients named.
var (
	chromeHead = head(
		"GET /ws?token=abc.def HTTP/1.1",
		"Host: hotel.example",
		"Connection: Upgrade",
		"Pragma: no-cache",
		"Cache-Control: no-cache",
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Upgrade: websocket",
		"Origin: https://app.hotel.example",
		"Sec-WebSocket-Version: 13",
		"Accept-Encoding: gzip, deflate, br, zstd",
		"Accept-Language: en-US,en;q=0.9",
		"Cookie: session=abc123; theme=dark",
		"Sec-WebSocket-Key: "+rfcKey,
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
	)
	firefoxHead = head(
		"GET /ws HTTP/1.1",
		"Host: hotel.example",
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Accept: */*",
		"Accept-Language: en-US,en;q=0.5",
		"Accept-Encoding: gzip, deflate, br",
		"Sec-WebSocket-Version: 13",
		"Origin: https://hotel.example",
		"Sec-WebSocket-Extensions: permessage-deflate",
		"Sec-WebSocket-Key: "+rfcKey,
		"Connection: keep-alive, Upgrade",
		"Sec-Fetch-Dest: empty",
		"Sec-Fetch-Mode: websocket",
		"Sec-Fetch-Site: same-origin",
		"Pragma: no-cache",
		"Cache-Control: no-cache",
		"Upgrade: websocket",
	)
	nodeHead = head(
		"GET /v1/ws HTTP/1.1",
		"Sec-WebSocket-Version: 13",
		"Sec-WebSocket-Key: "+rfcKey,
		"Connection: Upgrade",
		"Upgrade: websocket",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
		"Host: 127.0.0.1:8080",
	)
)

// minimal returns a minimal valid head for path with extra header lines.
func minimal(path string, extra ...string) string {
	lines := []string{
		"GET " + path + " HTTP/1.1",
		"Host: hotel.example",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + rfcKey,
		"Sec-WebSocket-Version: 13",
	}
	return head(append(lines, extra...)...)
}

// without returns the minimal head for /ws without the header named name,
// with extra lines added.
func without(name string, extra ...string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(minimal("/ws"), "\r\n\r\n"), "\r\n") {
		if !strings.HasPrefix(l, name+":") {
			lines = append(lines, l)
		}
	}
	return head(append(lines, extra...)...)
}

const (
	extDefault = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	extWindow  = extDefault + "; server_max_window_bits=15"
)

// response is a parsed HTTP response.
type response struct {
	status int
	header http.Header
	body   string
}

// parseResponse parses b as exactly one HTTP/1.1 response and checks the
// framing every response of ours must have.
func parseResponse(t testing.TB, b []byte) response {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		t.Fatalf("response %q does not start with HTTP/1.1", b)
	}
	br := bufio.NewReader(bytes.NewReader(b))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("cannot parse response %q: %v", b, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("cannot read body of %q: %v", b, err)
	}
	if br.Buffered() != 0 {
		t.Fatalf("response %q has %d trailing bytes", b, br.Buffered())
	}
	if resp.StatusCode != 101 {
		if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want {
			t.Fatalf("Content-Length %s, body %d bytes in %q", got, len(body), b)
		}
		if !resp.Close { // ReadResponse turns Connection: close into Close
			t.Fatalf("error response %q lacks Connection: close", b)
		}
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

// writeCounter records the Writes it gets.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// upgrade runs one handshake and checks that exactly one Write happened.
func upgrade(t testing.TB, u *Upgrader, h string) (Request, response, error) {
	t.Helper()
	var w writeCounter
	req, err := u.Upgrade([]byte(h), &w)
	if w.writes != 1 {
		t.Fatalf("Upgrade made %d writes, want 1", w.writes)
	}
	return req, parseResponse(t, w.Bytes()), err
}

func mustUpgrader(t testing.TB, cfg Config) *Upgrader {
	t.Helper()
	u, err := NewUpgrader(cfg)
	if err != nil {
		t.Fatalf("NewUpgrader: %v", err)
	}
	return u
}

func TestUpgradeAccepted(t *testing.T) {
	cases := []struct {
		name   string
		head   string
		proto  string // Sec-WebSocket-Protocol in the 101, "" = absent
		ext    string // Sec-WebSocket-Extensions in the 101, "" = absent
		want   Request
		config *Config // nil = testConfig
	}{
		{name: "client=chrome", head: chromeHead, ext: extDefault, want: Request{
			Path: "/ws", Query: "token=abc.def", Host: "hotel.example", Origin: "https://app.hotel.example",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			Cookie:    "session=abc123; theme=dark", Deflate: true,
		}},
		{name: "client=firefox", head: firefoxHead, ext: extDefault, want: Request{
			Path: "/ws", Host: "hotel.example", Origin: "https://hotel.example",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", Deflate: true,
		}},
		{name: "client=node-ws", head: nodeHead, ext: extDefault, want: Request{
			Path: "/v1/ws", Host: "127.0.0.1:8080", Deflate: true,
		}},
		{name: "deflate=disabled", head: chromeHead, config: &Config{Paths: []string{"/ws"}}, want: Request{
			Path: "/ws", Query: "token=abc.def", Host: "hotel.example", Origin: "https://app.hotel.example",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			Cookie:    "session=abc123; theme=dark",
		}},
		{name: "names=lower", head: head(
			"GET /ws HTTP/1.1", "host: h", "upgrade: websocket", "connection: upgrade",
			"sec-websocket-key: "+rfcKey, "sec-websocket-version: 13", "origin: https://hotel.example",
			"sec-websocket-protocol: bellhop.v1", "sec-websocket-extensions: permessage-deflate",
			"user-agent: ua", "cookie: c=1", "x-forwarded-for: 10.0.0.1",
		), proto: "bellhop.v1", ext: extDefault, want: Request{
			Path: "/ws", Host: "h", Origin: "https://hotel.example", UserAgent: "ua", Cookie: "c=1",
			ForwardedFor: "10.0.0.1", Protocol: "bellhop.v1", Offered: []string{"bellhop.v1"}, Deflate: true,
		}},
		{name: "names=upper", head: head(
			"GET /ws HTTP/1.1", "HOST: h", "UPGRADE: WebSocket", "CONNECTION: UPGRADE",
			"SEC-WEBSOCKET-KEY: "+rfcKey, "SEC-WEBSOCKET-VERSION: 13", "ORIGIN: HTTPS://API.HOTEL.EXAMPLE",
		), want: Request{Path: "/ws", Host: "h", Origin: "HTTPS://API.HOTEL.EXAMPLE"}},
		{name: "connection=keep-alive-upgrade", head: without("Connection", "Connection: keep-alive, Upgrade"), want: Request{Path: "/ws", Host: "hotel.example"}},
		{name: "protocol=server-preference", head: minimal("/ws",
			"Sec-WebSocket-Protocol: bellhop.v1, bearer.eyJhbGciOiJIUzI1NiJ9.e30.sig",
			"Sec-WebSocket-Protocol: bellhop.v2",
		), proto: "bellhop.v2", want: Request{
			Path: "/ws", Host: "hotel.example", Protocol: "bellhop.v2",
			Offered: []string{"bellhop.v1", "bearer.eyJhbGciOiJIUzI1NiJ9.e30.sig", "bellhop.v2"},
		}},
		{name: "protocol=none-matching", head: minimal("/ws", "Sec-WebSocket-Protocol: chat,  , superchat"), want: Request{
			Path: "/ws", Host: "hotel.example", Offered: []string{"chat", "superchat"},
		}},
		{name: "deflate=server-window-10-declined", head: minimal("/ws",
			"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10"),
			want: Request{Path: "/ws", Host: "hotel.example"}},
		{name: "deflate=server-window-15", head: minimal("/ws",
			"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=15; client_max_window_bits"),
			ext: extWindow, want: Request{Path: "/ws", Host: "hotel.example", Deflate: true}},
		{name: "deflate=first-acceptable-offer", head: minimal("/ws",
			"Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=9, permessage-deflate; client_max_window_bits=10, permessage-deflate; server_max_window_bits=15"),
			ext: extDefault, want: Request{Path: "/ws", Host: "hotel.example", Deflate: true}},
		{name: "deflate=invalid-params-declined", head: minimal("/ws",
			"Sec-WebSocket-Extensions: permessage-deflate; foo, permessage-deflate; client_max_window_bits=99",
			"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
			want: Request{Path: "/ws", Host: "hotel.example"}},
		{name: "deflate=second-header", head: minimal("/ws",
			"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8",
			"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover"),
			ext: extDefault, want: Request{Path: "/ws", Host: "hotel.example", Deflate: true}},
		{name: "headers=repeated", head: minimal("/ws?a=1&token=x%20y",
			"Cookie: a=1", "X-Forwarded-For: 203.0.113.7", "User-Agent: first", "Cookie: b=2",
			"X-Forwarded-For: 10.0.0.2, 10.0.0.3", "User-Agent: second", "Cookie: c=3"),
			want: Request{Path: "/ws", Query: "a=1&token=x%20y", Host: "hotel.example", UserAgent: "first",
				Cookie: "a=1; b=2; c=3", ForwardedFor: "203.0.113.7, 10.0.0.2, 10.0.0.3"}},
		{name: "target=absolute-form", head: minimal("http://hotel.example/ws?x=1"),
			want: Request{Path: "/ws", Query: "x=1", Host: "hotel.example"}},
		{name: "target=absolute-form-root", head: minimal("wss://hotel.example?x=1"), config: &Config{},
			want: Request{Path: "/", Query: "x=1", Host: "hotel.example"}},
		{name: "query=empty", head: minimal("/ws?"), want: Request{Path: "/ws", Host: "hotel.example"}},
		{name: "paths=any", head: minimal("/anything/else"), config: &Config{},
			want: Request{Path: "/anything/else", Host: "hotel.example"}},
		{name: "origin=star", head: minimal("/ws", "Origin: https://evil.example"),
			config: &Config{AllowedOrigins: []string{"*"}},
			want:   Request{Path: "/ws", Host: "hotel.example", Origin: "https://evil.example"}},
		{name: "origin=exact-port", head: minimal("/ws", "Origin: http://localhost:3000"),
			want: Request{Path: "/ws", Host: "hotel.example", Origin: "http://localhost:3000"}},
		{name: "host=empty", head: without("Host", "Host:"), want: Request{Path: "/ws"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig
			if tc.config != nil {
				cfg = *tc.config
			}
			u := mustUpgrader(t, cfg)
			req, resp, err := upgrade(t, u, tc.head)
			if err != nil {
				t.Fatalf("Upgrade error %v, response %d %q", err, resp.status, resp.body)
			}
			if resp.status != 101 {
				t.Fatalf("status %d, want 101", resp.status)
			}
			wantHeader := map[string]string{
				"Upgrade":                  "websocket",
				"Connection":               "Upgrade",
				"Sec-Websocket-Accept":     rfcAccept,
				"Sec-Websocket-Protocol":   tc.proto,
				"Sec-Websocket-Extensions": tc.ext,
			}
			for k, want := range wantHeader {
				if got := strings.Join(resp.header[k], ","); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if len(resp.header) != 3+btoi(tc.proto != "")+btoi(tc.ext != "") {
				t.Errorf("unexpected headers: %v", resp.header)
			}
			if !reflect.DeepEqual(req, tc.want) {
				t.Errorf("request\n got %#v\nwant %#v", req, tc.want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestUpgradeRejected(t *testing.T) {
	cases := []struct {
		name   string
		head   string
		want   *Error
		config *Config
	}{
		{"method=POST", strings.Replace(minimal("/ws"), "GET", "POST", 1), ErrMethod, nil},
		{"method=lowercase", strings.Replace(minimal("/ws"), "GET", "get", 1), ErrMethod, nil},
		{"version=HTTP/1.0", strings.Replace(minimal("/ws"), "HTTP/1.1", "HTTP/1.0", 1), ErrHTTPVersion, nil},
		{"version=HTTP/01.0", strings.Replace(minimal("/ws"), "HTTP/1.1", "HTTP/01.0", 1), ErrHTTPVersion, nil},
		{"version=HTTP/2.0", strings.Replace(minimal("/ws"), "HTTP/1.1", "HTTP/2.0", 1), ErrHTTPMajor, nil},
		{"version=HTTP/0.9", strings.Replace(minimal("/ws"), "HTTP/1.1", "HTTP/0.9", 1), ErrHTTPMajor, nil},
		{"version=garbage", strings.Replace(minimal("/ws"), "HTTP/1.1", "HTTQ/1.1", 1), ErrMalformed, nil},
		{"request-line=short", head("GET /ws", "Host: h"), ErrMalformed, nil},
		{"upgrade=missing", without("Upgrade"), ErrUpgrade, nil},
		{"upgrade=h2c", without("Upgrade", "Upgrade: h2c"), ErrUpgrade, nil},
		{"connection=missing", without("Connection"), ErrConnection, nil},
		{"connection=keep-alive", without("Connection", "Connection: keep-alive"), ErrConnection, nil},
		{"key=missing", without("Sec-WebSocket-Key"), ErrKey, nil},
		{"key=short", without("Sec-WebSocket-Key", "Sec-WebSocket-Key: c2hvcnQ="), ErrKey, nil},
		{"version=missing", without("Sec-WebSocket-Version"), ErrVersionMissing, nil},
		{"version=8", without("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), ErrVersion, nil},
		{"version=13-and-8", minimal("/ws", "Sec-WebSocket-Version: 8"), ErrVersion, nil},
		{"host=missing", without("Host"), ErrHost, nil},
		{"host=duplicate", minimal("/ws", "Host: other.example"), ErrHost, nil},
		{"path=unknown", minimal("/chat"), ErrPath, nil},
		{"path=prefix", minimal("/ws/x?token=1"), ErrPath, nil},
		{"path=trailing-slash", minimal("/ws/"), ErrPath, nil},
		{"target=asterisk", minimal("*"), ErrTarget, nil},
		{"target=fragment", minimal("/ws#x"), ErrTarget, nil},
		{"target=non-ascii", minimal("/ws\xff"), ErrTarget, nil},
		{"target=bad-scheme", minimal("ftp://h/ws"), ErrTarget, nil},
		{"target=no-authority", minimal("http:///ws"), ErrTarget, nil},
		{"origin=other", minimal("/ws", "Origin: https://evil.example"), ErrOrigin, nil},
		{"origin=other-port", minimal("/ws", "Origin: https://hotel.example:8443"), ErrOrigin, nil},
		{"origin=apex-of-wildcard", minimal("/ws", "Origin: https://hotel.example"), ErrOrigin,
			&Config{AllowedOrigins: []string{"https://*.hotel.example"}}},
		{"origin=suffix-trick", minimal("/ws", "Origin: https://evilhotel.example"), ErrOrigin, nil},
		{"origin=path-trick", minimal("/ws", "Origin: https://evil.example/.hotel.example"), ErrOrigin, nil},
		{"origin=scheme", minimal("/ws", "Origin: http://a.hotel.example"), ErrOrigin, nil},
		{"origin=null", minimal("/ws", "Origin: null"), ErrOrigin, nil},
		{"origin=empty", minimal("/ws", "Origin:"), ErrOrigin, nil},
		{"origin=duplicate", minimal("/ws", "Origin: https://hotel.example", "Origin: https://hotel.example"), ErrDuplicateOrigin, nil},
		{"origin=control-char", minimal("/ws", "Origin: https://hotel.example\x00"), ErrHeaderValue, nil},
		{"host=control-char", without("Host", "Host: a\x7fb"), ErrHeaderValue, nil},
		{"cookie=bare-cr", minimal("/ws", "Cookie: a=1\rb=2"), ErrHeaderValue, nil},
		{"protocol=not-token", minimal("/ws", "Sec-WebSocket-Protocol: a=b"), ErrSubprotocol, nil},
		{"protocol=space", minimal("/ws", "Sec-WebSocket-Protocol: bellhop v1"), ErrSubprotocol, nil},
		{"protocol=empty", minimal("/ws", "Sec-WebSocket-Protocol:  , "), ErrSubprotocol, nil},
		{"header=no-colon", minimal("/ws", "Bogus"), ErrMalformed, nil},
		{"extensions=malformed", minimal("/ws", "Sec-WebSocket-Extensions: permessage-deflate; =x"), ErrMalformed, nil},
		{"head=no-blank-line", strings.TrimSuffix(minimal("/ws"), "\r\n"), ErrMalformed, nil},
		{"head=empty", "", ErrMalformed, nil},
		{"origin=error-before-path", minimal("/nope", "Origin: https://evil.example"), ErrPath, nil},
		{"version=checked-before-origin", without("Sec-WebSocket-Version", "Origin: https://evil.example", "Sec-WebSocket-Version: 7"), ErrVersion, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig
			if tc.config != nil {
				cfg = *tc.config
			}
			u := mustUpgrader(t, cfg)
			req, resp, err := upgrade(t, u, tc.head)
			if err != tc.want {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var he *Error
			if !errors.As(err, &he) || !strings.HasPrefix(err.Error(), "handshake: ") {
				t.Fatalf("error %#v is not a *Error with the package prefix", err)
			}
			if resp.status != tc.want.Status || resp.body != tc.want.Reason+"\n" {
				t.Fatalf("response %d %q, want %d %q", resp.status, resp.body, tc.want.Status, tc.want.Reason+"\n")
			}
			wantVersion := ""
			if tc.want.Status == 426 {
				wantVersion = "13"
			}
			if got := resp.header.Get("Sec-WebSocket-Version"); got != wantVersion {
				t.Fatalf("Sec-WebSocket-Version %q, want %q", got, wantVersion)
			}
			if !reflect.DeepEqual(req, Request{}) {
				t.Fatalf("rejected handshake returned request %#v", req)
			}
		})
	}
}

// TestUpgradeExactBytes pins the bytes of a 101 and of a 426.
func TestUpgradeExactBytes(t *testing.T) {
	u := mustUpgrader(t, testConfig)
	cases := []struct {
		name, head, want string
	}{
		{"status=101", head(
			"GET /ws HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: "+rfcKey, "Sec-WebSocket-Version: 13",
			"Sec-WebSocket-Protocol: bellhop.v1", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
		), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + rfcAccept + "\r\n" +
			"Sec-WebSocket-Protocol: bellhop.v1\r\n" +
			"Sec-WebSocket-Extensions: " + extDefault + "\r\n\r\n"},
		{"status=426", without("Sec-WebSocket-Version", "Sec-WebSocket-Version: 12"),
			"HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 43\r\n" +
				"Connection: close\r\nSec-WebSocket-Version: 13\r\n\r\nunsupported Sec-WebSocket-Version, want 13\n"},
		{"status=400-method", strings.Replace(minimal("/ws"), "GET", "PUT", 1),
			"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n" +
				"Connection: close\r\n\r\nmethod must be GET\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			_, _ = u.Upgrade([]byte(tc.head), &w)
			if got := w.String(); got != tc.want {
				t.Fatalf("response\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestUpgradeReuse checks that no state leaks from one request to the next,
// whatever the order of accepted and rejected requests.
func TestUpgradeReuse(t *testing.T) {
	u := mustUpgrader(t, testConfig)
	heads := []string{chromeHead, minimal("/nope"), firefoxHead, minimal("/ws", "Origin: https://x.example"),
		minimal("/ws", "Sec-WebSocket-Protocol: bellhop.v1"), nodeHead, minimal("/ws")}
	var want []Request
	var wantErr []error
	for _, h := range heads {
		req, _, err := upgrade(t, mustUpgrader(t, testConfig), h)
		want, wantErr = append(want, req), append(wantErr, err)
	}
	for round := range 3 {
		for i, h := range heads {
			req, _, err := upgrade(t, u, h)
			if err != wantErr[i] || !reflect.DeepEqual(req, want[i]) {
				t.Fatalf("round %d head %d: got %#v, %v; want %#v, %v", round, i, req, err, want[i], wantErr[i])
			}
		}
	}
}

// TestUpgradeKeepsNoReference checks that the Request does not alias the
// head, which the engine reuses.
func TestUpgradeKeepsNoReference(t *testing.T) {
	u := mustUpgrader(t, testConfig)
	b := []byte(minimal("/ws?token=t", "Origin: https://hotel.example", "Sec-WebSocket-Protocol: bellhop.v1, tok",
		"Cookie: c=1", "User-Agent: ua", "X-Forwarded-For: 1.2.3.4"))
	req, err := u.Upgrade(b, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	before := req
	before.Offered = append([]string(nil), req.Offered...)
	for i := range b {
		b[i] = 'X'
	}
	if _, err := u.Upgrade([]byte(chromeHead), io.Discard); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req, before) {
		t.Fatalf("request changed after head reuse:\n got %#v\nwant %#v", req, before)
	}
}

type failWriter struct{}

var errWrite = errors.New("write failed")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestUpgradeWriteError(t *testing.T) {
	u := mustUpgrader(t, testConfig)
	if _, err := u.Upgrade([]byte(chromeHead), failWriter{}); !errors.Is(err, errWrite) ||
		!strings.HasPrefix(err.Error(), "handshake: ") {
		t.Fatalf("error %v, want wrapped %v", err, errWrite)
	}
	if _, err := u.Upgrade([]byte(minimal("/nope")), failWriter{}); err != ErrPath {
		t.Fatalf("error %v, want %v", err, ErrPath)
	}
}

// TestUpgradeLargeHead runs a head larger than gobwas's smallest buffer
// class, with a cookie line longer than its default read buffer.
func TestUpgradeLargeHead(t *testing.T) {
	u := mustUpgrader(t, testConfig)
	cookie := "big=" + strings.Repeat("x", 6000)
	req, resp, err := upgrade(t, u, minimal("/ws", "Cookie: "+cookie))
	if err != nil || resp.status != 101 || req.Cookie != cookie {
		t.Fatalf("got %d %v, cookie of %d bytes", resp.status, err, len(req.Cookie))
	}
	if req, _, err = upgrade(t, u, minimal("/ws")); err != nil || req.Cookie != "" {
		t.Fatalf("after large head: %v, cookie %q", err, req.Cookie)
	}
}
