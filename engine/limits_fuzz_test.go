package engine

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientIP: whatever X-Forwarded-For a client sends, the client IP is
// the peer or an address written in the header, and never a trusted proxy
// unless every hop is one.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{"", "203.0.113.1", "203.0.113.1, 10.0.0.2", "x, 10.0.0.2", ",,,", "2001:db8::1,10.0.0.9", "::ffff:10.0.0.1"} {
		f.Add(s)
	}
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	peer := netip.MustParseAddr("10.1.1.1")
	f.Fuzz(func(t *testing.T, xff string) {
		ip := s.clientIP(peer, xff)
		if !ip.IsValid() {
			t.Fatalf("invalid client IP from %q", xff)
		}
		if ip != peer && lastField(xff, ip) == "" {
			t.Fatalf("client IP %s not in %q", ip, xff)
		}
	})
}

// lastField returns the hop of xff that parses to ip, or "".
func lastField(xff string, ip netip.Addr) string {
	for _, h := range strings.Split(xff, ",") {
		if a, err := netip.ParseAddr(strings.TrimSpace(h)); err == nil && a.Unmap() == ip {
			return h
		}
	}
	return ""
}

// TestClientIP: the right-most untrusted hop wins.
func TestClientIP(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	peer := netip.MustParseAddr("10.1.1.1")
	cases := []struct{ xff, want string }{
		{"", "10.1.1.1"},
		{"203.0.113.1", "203.0.113.1"},
		{"198.51.100.1, 203.0.113.1", "203.0.113.1"},
		{"203.0.113.1, 10.0.0.2", "203.0.113.1"},
		{"10.0.0.3, 10.0.0.2", "10.0.0.3"},
		{"garbage, 10.0.0.2", "10.0.0.2"},
		{"::ffff:203.0.113.5", "203.0.113.5"},
	}
	for _, tc := range cases {
		if got := s.clientIP(peer, tc.xff); got.String() != tc.want {
			t.Errorf("clientIP(%q) = %s, want %s", tc.xff, got, tc.want)
		}
	}
}
