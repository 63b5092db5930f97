package handshake

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds are request heads every fuzz target starts from: valid ones from
// real clients and one per rejection.
func fuzzSeeds() []string {
	return []string{
		chromeHead, firefoxHead, nodeHead,
		minimal("/ws?token=a%20b", "Sec-WebSocket-Protocol: bellhop.v1, x", "Origin: https://a.hotel.example"),
		minimal("http://h/v1/ws", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=15"),
		minimal("/ws", "Cookie: a=1", "Cookie: b=2", "X-Forwarded-For: 1.1.1.1"),
		strings.Replace(minimal("/ws"), "GET", "POST", 1),
		strings.Replace(minimal("/ws"), "HTTP/1.1", "HTTP/1.0", 1),
		without("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
		without("Upgrade"), without("Connection"), without("Sec-WebSocket-Key"), without("Host"),
		minimal("/nope"), minimal("/ws", "Origin: https://evil.example"),
		"\x16\x03\x01\x00", "GET / HTTP/1.1\r\n\r\n",
	}
}

func FuzzFindHead(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s), uint16(DefaultMaxHeadSize), uint16(len(s)/2))
		f.Add([]byte(s), uint16(len(s)-1), uint16(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, limit16, split16 uint16) {
		limit := int(limit16)
		n, err := FindHead(b, limit)
		if limit <= 0 {
			limit = DefaultMaxHeadSize
		}
		end := bytes.Index(b, headEnd) + len(headEnd) // 3 when absent
		switch {
		case len(b) > 0 && (b[0] < 'A' || b[0] > 'Z'):
			if n != 0 || err != ErrMalformed {
				t.Fatalf("non-letter start: got %d, %v", n, err)
			}
			return
		case end >= len(headEnd) && end <= limit:
			if n != end || err != nil {
				t.Fatalf("head of %d bytes within %d: got %d, %v", end, limit, n, err)
			}
		case len(b) >= limit:
			if n != 0 || err != ErrHeadTooLarge {
				t.Fatalf("no head within %d of %d bytes: got %d, %v", limit, len(b), n, err)
			}
		default:
			if n != 0 || err != nil {
				t.Fatalf("incomplete head: got %d, %v", n, err)
			}
		}
		// Resuming after a first call on a prefix gives the same answer.
		split := min(int(split16), len(b))
		if n1, err1 := FindHead(b[:split], int(limit16)); n1 == 0 && err1 == nil {
			if n2, err2 := FindHeadFrom(b, int(limit16), split); n2 != n || err2 != err {
				t.Fatalf("FindHeadFrom(split %d) = %d, %v; FindHead = %d, %v", split, n2, err2, n, err)
			}
		}
	})
}

func FuzzUpgrade(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	u := mustUpgrader(f, testConfig)
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := FindHead(b, DefaultMaxHeadSize); err == nil && n > 0 {
			b = b[:n]
		}
		var w writeCounter
		req, err := u.Upgrade(b, &w)
		if w.writes != 1 {
			t.Fatalf("%d writes", w.writes)
		}
		resp := parseResponse(t, w.Bytes())
		if err != nil {
			e, ok := err.(*Error)
			if !ok || resp.status != e.Status || resp.body != e.Reason+"\n" {
				t.Fatalf("error %v answered with %d %q", err, resp.status, resp.body)
			}
			return
		}
		if resp.status != 101 {
			t.Fatalf("no error but status %d", resp.status)
		}
		checkAccepted(t, string(b), req, resp)
	})
}

// FuzzUpgradeHeader adds one fuzzed header line to a valid head, which
// reaches the header hooks (Origin, subprotocols, extensions, joined headers)
// far more often than mutating whole heads does.
func FuzzUpgradeHeader(f *testing.F) {
	for _, kv := range [][2]string{
		{"Origin", "https://a.hotel.example"}, {"Origin", "https://x.hotel.example.evil"},
		{"Sec-WebSocket-Protocol", "bellhop.v1, bearer.abc"}, {"Sec-WebSocket-Protocol", " , "},
		{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=15"},
		{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=9, permessage-deflate"},
		{"Cookie", "a=1"}, {"X-Forwarded-For", "1.2.3.4"}, {"Connection", "keep-alive, Upgrade"},
		{"Sec-WebSocket-Version", "13"}, {"Host", "x"}, {"Upgrade", "WebSocket"},
	} {
		f.Add(kv[0], kv[1], uint8(0))
	}
	u := mustUpgrader(f, testConfig)
	bases := []string{chromeHead, firefoxHead, nodeHead}
	f.Fuzz(func(t *testing.T, name, value string, which uint8) {
		base := bases[int(which)%len(bases)]
		h := strings.TrimSuffix(base, "\r\n") + name + ": " + value + "\r\n\r\n"
		var w writeCounter
		req, err := u.Upgrade([]byte(h), &w)
		if w.writes != 1 {
			t.Fatalf("%d writes", w.writes)
		}
		resp := parseResponse(t, w.Bytes())
		if err != nil {
			if e, ok := err.(*Error); !ok || resp.status != e.Status {
				t.Fatalf("error %v answered with %d", err, resp.status)
			}
			return
		}
		checkAccepted(t, h, req, resp)
	})
}

// checkAccepted is an independent judge of a head that was upgraded: every
// rule of RFC 6455 section 4.2.1 and of testConfig must hold.
func checkAccepted(t *testing.T, h string, req Request, resp response) {
	t.Helper()
	var lines []string // gobwas's view: lines end in LF or CRLF, the head at the first empty one
	for _, l := range strings.Split(h, "\n") {
		if l = strings.TrimSuffix(l, "\r"); l == "" {
			break
		}
		lines = append(lines, l)
	}
	method, rest, _ := strings.Cut(lines[0], " ")
	target, version, _ := strings.Cut(rest, " ")
	major, minor, _ := strings.Cut(strings.TrimPrefix(version, "HTTP/"), ".")
	if method != "GET" || !strings.HasPrefix(version, "HTTP/") || strings.TrimLeft(major, "0") != "1" ||
		strings.Trim(minor, "0123456789") != "" || strings.Trim(minor, "0") == "" {
		t.Fatalf("upgraded request line %q", lines[0])
	}
	if !slices.Contains(testConfig.Paths, req.Path) || !strings.Contains(target, req.Path) {
		t.Fatalf("upgraded target %q as path %q", target, req.Path)
	}
	hdr := map[string][]string{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("upgraded a head with header line %q", l)
		}
		k = strings.ToLower(strings.Trim(k, " \t"))
		hdr[k] = append(hdr[k], strings.Trim(v, " \t"))
	}
	check := func(name string, ok func(string) bool) {
		if len(hdr[name]) == 0 {
			t.Fatalf("upgraded without %s", name)
		}
		for _, v := range hdr[name] {
			if !ok(v) {
				t.Fatalf("upgraded with %s: %q", name, v)
			}
		}
	}
	check("upgrade", func(v string) bool { return strings.EqualFold(v, "websocket") })
	check("connection", connectionUpgradeRe.MatchString)
	check("sec-websocket-key", func(v string) bool { return len(v) == 24 })
	check("sec-websocket-version", func(v string) bool { return v == "13" })
	if len(hdr["host"]) != 1 {
		t.Fatalf("upgraded with %d Host headers", len(hdr["host"]))
	}
	if o := hdr["origin"]; len(o) > 1 || len(o) == 1 && !testOriginAllowed(o[0]) {
		t.Fatalf("upgraded with Origin %q", o)
	}
	keys := hdr["sec-websocket-key"]
	sum := sha1.Sum([]byte(keys[len(keys)-1] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got := resp.header.Get("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("Sec-WebSocket-Accept %q for key %q", got, keys[len(keys)-1])
	}
	if p := resp.header.Get("Sec-WebSocket-Protocol"); p != req.Protocol ||
		p != "" && (!slices.Contains(testConfig.Protocols, p) || !slices.Contains(req.Offered, p)) {
		t.Fatalf("Sec-WebSocket-Protocol %q, offered %q", p, req.Offered)
	}
	if x := resp.header.Get("Sec-WebSocket-Extensions"); (x != "") != req.Deflate ||
		x != "" && !strings.Contains(strings.ToLower(strings.Join(hdr["sec-websocket-extensions"], ",")), "permessage-deflate") {
		t.Fatalf("Sec-WebSocket-Extensions %q for offers %q", x, hdr["sec-websocket-extensions"])
	}
}

// connectionUpgradeRe is what any Connection header that lists the "upgrade"
// token must match: the token, not inside a longer token. gobwas accepts
// more separators than commas ("Upgrade foo"), which RFC 6455 tolerates.
var connectionUpgradeRe = regexp.MustCompile("(?i)(^|[^a-z0-9!#$%&'*+.^_`|~-])upgrade($|[^a-z0-9!#$%&'*+.^_`|~-])")

// testOriginRe is testConfig.AllowedOrigins written as a regular expression.
var testOriginRe = regexp.MustCompile(`^(?i:https://hotel\.example|http://localhost:3000|https://[a-z0-9-]+(\.[a-z0-9-]+)*\.hotel\.example)$`)

func testOriginAllowed(o string) bool { return testOriginRe.MatchString(o) }

func FuzzQueryValue(f *testing.F) {
	for _, q := range []string{"token=abc", "a=1&token=x%20y+z", "to%6Ben=v;x", "t=%zz&t=ok", "&&=&x"} {
		f.Add(q, "token")
	}
	f.Fuzz(func(t *testing.T, q, key string) {
		r := Request{Query: q}
		got := r.QueryValue(key)
		if strings.Count(q, "&") >= 1000 {
			return // url.ParseQuery caps the number of pairs
		}
		vals, _ := url.ParseQuery(q)
		if want := vals.Get(key); got != want {
			t.Fatalf("QueryValue(%q) in %q = %q, url.ParseQuery says %q", key, q, got, want)
		}
	})
}
