package handshake

import (
	"errors"
	"strings"
	"testing"
)

func TestNewUpgraderInvalid(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		msg  string // the error must quote the bad value
	}{
		{"path=relative", Config{Paths: []string{"ws"}}, `"ws"`},
		{"path=empty", Config{Paths: []string{""}}, `""`},
		{"path=query", Config{Paths: []string{"/ws?x=1"}}, `"/ws?x=1"`},
		{"path=fragment", Config{Paths: []string{"/ws#x"}}, `"/ws#x"`},
		{"path=space", Config{Paths: []string{"/w s"}}, `"/w s"`},
		{"origin=no-scheme", Config{AllowedOrigins: []string{"hotel.example"}}, `"hotel.example"`},
		{"origin=path", Config{AllowedOrigins: []string{"https://hotel.example/"}}, `"https://hotel.example/"`},
		{"origin=empty-host", Config{AllowedOrigins: []string{"https://"}}, `"https://"`},
		{"origin=bad-scheme", Config{AllowedOrigins: []string{"1x://h"}}, `"1x://h"`},
		{"origin=scheme-char", Config{AllowedOrigins: []string{"h_t://h"}}, `"h_t://h"`},
		{"origin=userinfo", Config{AllowedOrigins: []string{"https://u@h"}}, `"https://u@h"`},
		{"origin=non-ascii", Config{AllowedOrigins: []string{"https://hötel.example"}}, `"https://hötel.example"`},
		{"origin=inner-wildcard", Config{AllowedOrigins: []string{"https://a.*.example"}}, `"https://a.*.example"`},
		{"origin=bare-wildcard", Config{AllowedOrigins: []string{"https://*"}}, `"https://*"`},
		{"origin=wildcard-port-only", Config{AllowedOrigins: []string{"https://*.:443"}}, `"https://*.:443"`},
		{"origin=wildcard-dot", Config{AllowedOrigins: []string{"https://*..example"}}, `"https://*..example"`},
		{"origin=two-wildcards", Config{AllowedOrigins: []string{"https://*.*.example"}}, `"https://*.*.example"`},
		{"protocol=empty", Config{Protocols: []string{""}}, `""`},
		{"protocol=space", Config{Protocols: []string{"a b"}}, `"a b"`},
		{"protocol=duplicate", Config{Protocols: []string{"v1", "v2", "v1"}}, `"v1" listed twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := NewUpgrader(tc.cfg)
			if u != nil || !errors.Is(err, errConfig) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("NewUpgrader = %v, %v; want an invalid config error naming %s", u, err, tc.msg)
			}
		})
	}
}

func TestOriginMatch(t *testing.T) {
	allowed := []string{"https://hotel.example", "https://*.hotel.example", "http://*.dev.example:8080", "HTTP://LOCALHOST:3000"}
	cases := []struct {
		origin string
		want   bool
	}{
		{"https://hotel.example", true},
		{"HTTPS://Hotel.Example", true},
		{"https://a.hotel.example", true},
		{"https://a-b.c1.hotel.example", true},
		{"http://localhost:3000", true},
		{"http://x.dev.example:8080", true},
		{"http://x.dev.example", false},
		{"http://x.dev.example:80800", false},
		{"https://hotel.example:443", false},
		{"https://hotel.example.evil", false},
		{"https://evilhotel.example", false},
		{"https://.hotel.example", false},
		{"https://a..hotel.example", false},
		{"https://a_b.hotel.example", false},
		{"https://a.hotel.example/", false},
		{"https://x/.hotel.example", false},
		{"https://user@a.hotel.example", false},
		{"http://a.hotel.example", false},
		{"wss://a.hotel.example", false},
		{"https://\u212aotel.example", false}, // Kelvin sign folds to 'k' in Unicode, not in ASCII
		{"https:/", false},
		{"", false},
		{"null", false},
	}
	c, err := compile(Config{AllowedOrigins: allowed})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if got := c.allowsOrigin([]byte(tc.origin)); got != tc.want {
			t.Errorf("allowsOrigin(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
	for _, list := range [][]string{nil, {"*"}, {"https://x.example", "*"}} {
		c, err := compile(Config{AllowedOrigins: list})
		if err != nil || !c.allowsOrigin([]byte("https://whatever.example")) {
			t.Errorf("AllowedOrigins %q does not allow any origin (err %v)", list, err)
		}
	}
}
