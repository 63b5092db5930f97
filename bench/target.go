package bench

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// DefaultSources is the range of source addresses connections rotate over:
// 249 addresses times ~28k ephemeral ports each.
const DefaultSources = "127.0.0.2-127.0.0.250"

// maxSources bounds how many source addresses a range may expand to.
const maxSources = 1 << 16

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// Target is the endpoint under test.
type Target struct {
	Secure bool   // wss
	Addr   string // IP:port to dial, always in 127.0.0.0/8
	Host   string // Host header, as written in the URL
	Path   string // request target: path and query
}

// String returns the target as a URL.
func (t Target) String() string {
	scheme := "ws"
	if t.Secure {
		scheme = "wss"
	}
	return scheme + "://" + t.Host + t.Path
}

// ParseTarget parses a ws:// or wss:// URL whose host is an IPv4 address in
// 127.0.0.0/8 or "localhost" and which names a port. Anything else is refused
// with ErrNotLoopback or ErrBadURL.
func ParseTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("%w: %q: %v", ErrBadURL, raw, err)
	}
	t := Target{Host: u.Host, Path: u.RequestURI()}
	switch u.Scheme {
	case "ws":
	case "wss":
		t.Secure = true
	default:
		return Target{}, fmt.Errorf("%w: %q: scheme must be ws or wss", ErrBadURL, raw)
	}
	if u.Port() == "" || u.User != nil || u.Fragment != "" {
		return Target{}, fmt.Errorf("%w: %q: want ws[s]://host:port/path with no user or fragment", ErrBadURL, raw)
	}
	ip, err := loopbackIP(u.Hostname())
	if err != nil {
		return Target{}, fmt.Errorf("target %q: %w", raw, err)
	}
	t.Addr = net.JoinHostPort(ip.String(), u.Port())
	return t, nil
}

// CheckLoopbackAddr returns an error unless addr is IP:port (or
// localhost:port) on 127.0.0.0/8.
func CheckLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrBadURL, addr, err)
	}
	_, err = loopbackIP(host)
	return err
}

func loopbackIP(host string) (netip.Addr, error) {
	if strings.EqualFold(host, "localhost") {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !loopback.Contains(ip.Unmap()) {
		return netip.Addr{}, fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	return ip.Unmap(), nil
}

// ParseSources parses source addresses: a comma-separated list of IPv4
// addresses or first-last ranges, all in 127.0.0.0/8, e.g. DefaultSources.
func ParseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, isRange := strings.Cut(part, "-")
		if !isRange {
			last = first
		}
		lo, err := loopbackIP(strings.TrimSpace(first))
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", part, err)
		}
		hi, err := loopbackIP(strings.TrimSpace(last))
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", part, err)
		}
		if hi.Less(lo) {
			return nil, fmt.Errorf("%w: source range %q runs backwards", ErrBadConfig, part)
		}
		for a := lo; ; a = a.Next() {
			if len(out) == maxSources {
				return nil, fmt.Errorf("%w: more than %d source addresses", ErrBadConfig, maxSources)
			}
			out = append(out, a)
			if a == hi {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no source address in %q", ErrBadConfig, s)
	}
	return out, nil
}
