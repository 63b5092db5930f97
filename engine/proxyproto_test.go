package engine

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// v2 builds a version 2 header: command, family, address block.
func v2(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, proxyV2Sig...)
	b = append(b, 0x20|cmd, fam, 0, 0)
	binary.BigEndian.PutUint16(b[14:], uint16(len(body)))
	return append(b, body...)
}

func TestParseProxyHeader(t *testing.T) {
	ip4 := append(append([]byte{203, 0, 113, 7}, 10, 0, 0, 1), 0x15, 0xb3, 0x01, 0xbb)
	ip6 := make([]byte, 36)
	copy(ip6, netip.MustParseAddr("2001:db8::7").AsSlice())
	cases := []struct {
		name string
		in   string
		src  string // "" for none (use the peer)
		n    int    // 0: need more
		bad  bool
	}{
		{"v1_tcp4", "PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\nGET /", "203.0.113.7", 42, false},
		{"v1_tcp6", "PROXY TCP6 2001:db8::7 2001:db8::1 5555 443\r\n", "2001:db8::7", 45, false},
		{"v1_unknown", "PROXY UNKNOWN\r\n", "", 15, false},
		{"v1_partial", "PROXY TCP4 203.0.", "", 0, false},
		{"v1_prefix", "PRO", "", 0, false},
		{"v1_family_mismatch", "PROXY TCP4 2001:db8::7 10.0.0.1 5555 443\r\n", "", 0, true},
		{"v1_bad_port", "PROXY TCP4 203.0.113.7 10.0.0.1 99999 443\r\n", "", 0, true},
		{"v1_leading_zero_port", "PROXY TCP4 203.0.113.7 10.0.0.1 0443 443\r\n", "", 0, true},
		{"v1_fields", "PROXY TCP4 203.0.113.7 10.0.0.1 5555\r\n", "", 0, true},
		{"v1_too_long", "PROXY TCP4 " + string(make([]byte, 120)), "", 0, true},
		{"v2_ipv4", string(v2(1, 0x11, ip4)) + "rest", "203.0.113.7", 28, false},
		{"v2_ipv6", string(v2(1, 0x21, ip6)), "2001:db8::7", 52, false},
		{"v2_local", string(v2(0, 0x00, nil)), "", 16, false},
		{"v2_unspec", string(v2(1, 0x00, []byte{1, 2})), "", 18, false},
		{"v2_tlvs_skipped", string(v2(1, 0x11, append(ip4, 0x04, 0, 1, 'x'))), "203.0.113.7", 32, false},
		{"v2_partial_header", string(v2(1, 0x11, ip4)[:14]), "", 0, false},
		{"v2_partial_body", string(v2(1, 0x11, ip4)[:20]), "", 0, false},
		{"v2_sig_prefix", "\r\n\r\n", "", 0, false},
		{"v2_short_ipv4", string(v2(1, 0x11, ip4[:8])), "", 0, true},
		{"v2_bad_version", string(append(append([]byte{}, proxyV2Sig...), 0x11, 0x11, 0, 0)), "", 0, true},
		{"v2_bad_command", string(v2(2, 0x11, ip4)), "", 0, true},
		{"v2_unix", string(v2(1, 0x31, make([]byte, 216))), "", 0, true},
		{"v2_too_long", string(append(append([]byte{}, proxyV2Sig...), 0x21, 0x11, 0xff, 0xff)), "", 0, true},
		{"http_instead", "GET / HTTP/1.1\r\n", "", 0, true},
	}
	for _, tc := range cases {
		src, n, err := parseProxyHeader([]byte(tc.in))
		if (err != nil) != tc.bad || n != tc.n {
			t.Errorf("%s: n=%d err=%v; want n=%d bad=%v", tc.name, n, err, tc.n, tc.bad)
			continue
		}
		if got := ""; src.IsValid() {
			got = src.String()
			if got != tc.src {
				t.Errorf("%s: src %s, want %s", tc.name, got, tc.src)
			}
		} else if tc.src != "" {
			t.Errorf("%s: no src, want %s", tc.name, tc.src)
		}
	}
}

// FuzzProxyHeader: any bytes give a header length within them, need more,
// or an error; never a panic.
func FuzzProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n"))
	f.Add(v2(1, 0x11, []byte{203, 0, 113, 7, 10, 0, 0, 1, 0, 1, 0, 2}))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, n, err := parseProxyHeader(b)
		if err == nil && n > len(b) {
			t.Fatalf("header of %d bytes in %d", n, len(b))
		}
	})
}
