package bench

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in   string
		want Target
		err  error
	}{
		{"ws://127.0.0.1:3001/echo", Target{Addr: "127.0.0.1:3001", Host: "127.0.0.1:3001", Path: "/echo"}, nil},
		{"wss://localhost:8443/ws?token=x", Target{Secure: true, Addr: "127.0.0.1:8443", Host: "localhost:8443", Path: "/ws?token=x"}, nil},
		{"ws://127.1.2.3:80", Target{Addr: "127.1.2.3:80", Host: "127.1.2.3:80", Path: "/"}, nil},
		{"ws://10.0.0.1:3001/echo", Target{}, ErrNotLoopback},
		{"ws://example.com:3001/", Target{}, ErrNotLoopback},
		{"ws://[::1]:3001/", Target{}, ErrNotLoopback},
		{"ws://[::ffff:10.0.0.1]:3001/", Target{}, ErrNotLoopback},
		{"http://127.0.0.1:3001/", Target{}, ErrBadURL},
		{"ws://127.0.0.1/echo", Target{}, ErrBadURL},
		{"ws://u:p@127.0.0.1:1/", Target{}, ErrBadURL},
		{"ws://127.0.0.1:1/#frag", Target{}, ErrBadURL},
		{"ws://%zz", Target{}, ErrBadURL},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseTarget(c.in)
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("ParseTarget = %#v, %v; want %#v, %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestTargetString(t *testing.T) {
	for _, raw := range []string{"ws://127.0.0.1:3001/echo", "wss://localhost:8443/ws?a=b"} {
		tg, err := ParseTarget(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.String(); got != raw {
			t.Errorf("String() = %q, want %q", got, raw)
		}
	}
}

func TestCheckLoopbackAddr(t *testing.T) {
	cases := map[string]error{
		"127.0.0.1:80":   nil,
		"localhost:80":   nil,
		"127.255.0.1:1":  nil,
		"128.0.0.1:80":   ErrNotLoopback,
		"0.0.0.0:80":     ErrNotLoopback,
		"127.0.0.1":      ErrBadURL,
		"[::1]:80":       ErrNotLoopback,
		"bellhop.io:443": ErrNotLoopback,
	}
	for addr, want := range cases {
		if err := CheckLoopbackAddr(addr); !errors.Is(err, want) {
			t.Errorf("CheckLoopbackAddr(%q) = %v, want %v", addr, err, want)
		}
	}
}

func TestParseSources(t *testing.T) {
	cases := []struct {
		in    string
		n     int
		first string
		last  string
		err   error
	}{
		{DefaultSources, 249, "127.0.0.2", "127.0.0.250", nil},
		{"127.0.0.5", 1, "127.0.0.5", "127.0.0.5", nil},
		{"127.0.0.2, 127.0.0.9-127.0.0.10,", 3, "127.0.0.2", "127.0.0.10", nil},
		{"127.0.0.255-127.0.1.1", 3, "127.0.0.255", "127.0.1.1", nil},
		{"127.0.0.10-127.0.0.2", 0, "", "", ErrBadConfig},
		{"127.0.0.1-10.0.0.1", 0, "", "", ErrNotLoopback},
		{"192.168.0.1", 0, "", "", ErrNotLoopback},
		{"127.0.0.0-127.1.0.0", 0, "", "", ErrBadConfig},
		{" , ", 0, "", "", ErrBadConfig},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseSources(c.in)
			if !errors.Is(err, c.err) || len(got) != c.n {
				t.Fatalf("ParseSources = %d addrs, %v; want %d, %v", len(got), err, c.n, c.err)
			}
			if c.n > 0 && (got[0] != netip.MustParseAddr(c.first) || got[c.n-1] != netip.MustParseAddr(c.last)) {
				t.Fatalf("range %v..%v, want %s..%s", got[0], got[c.n-1], c.first, c.last)
			}
		})
	}
}
