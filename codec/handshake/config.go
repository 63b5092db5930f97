package handshake

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Config says which handshakes an Upgrader accepts. It is read once by
// NewUpgrader; later changes to the slices have no effect.
type Config struct {
	// Paths are the request paths served, compared exactly and without the
	// query string ("/ws"). Another path gets 404. Empty means every path.
	Paths []string

	// AllowedOrigins are the Origin values accepted from browsers, compared
	// without regard to case: exact origins ("https://hotel.example",
	// "http://localhost:3000"), origins with a leading wildcard host
	// ("https://*.hotel.example" matches any subdomain at any depth, but not
	// hotel.example itself nor another port), or "*" for any. Empty means any
	// origin. A request without Origin (a non-browser client) is always
	// allowed: Origin protects browsers' users, it authenticates nobody.
	AllowedOrigins []string

	// Protocols are the subprotocols the server speaks, in the server's order
	// of preference. The first of them that the client offers is selected and
	// echoed in Sec-WebSocket-Protocol; when the client offers none of them
	// (or nothing) the response has no such header. Each must be an HTTP token.
	Protocols []string

	// Deflate accepts permessage-deflate offers (RFC 7692), always with
	// server_no_context_takeover and client_no_context_takeover so that no
	// compressor state outlives a message.
	Deflate bool
}

// errConfig is the base of every configuration error.
var errConfig = errors.New("handshake: invalid config")

// compiled is the validated, matching-ready form of a Config.
type compiled struct {
	paths     []string
	anyOrigin bool
	origins   []originPattern
	protocols []string
	deflate   bool
}

// compile validates cfg and prepares it for matching.
func compile(cfg Config) (*compiled, error) {
	c := &compiled{deflate: cfg.Deflate, anyOrigin: len(cfg.AllowedOrigins) == 0}
	for _, p := range cfg.Paths {
		if !validPath(p) {
			return nil, fmt.Errorf("%w: path %q must start with \"/\" and hold no query, fragment, space or control character", errConfig, p)
		}
		c.paths = append(c.paths, p)
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			c.anyOrigin = true
			continue
		}
		pat, err := parseOriginPattern(o)
		if err != nil {
			return nil, err
		}
		c.origins = append(c.origins, pat)
	}
	for i, p := range cfg.Protocols {
		if !isToken(p) {
			return nil, fmt.Errorf("%w: subprotocol %q is not an HTTP token", errConfig, p)
		}
		if slices.Contains(cfg.Protocols[:i], p) {
			return nil, fmt.Errorf("%w: subprotocol %q listed twice", errConfig, p)
		}
		c.protocols = append(c.protocols, p)
	}
	return c, nil
}

// servesPath reports whether path is one of the configured paths.
func (c *compiled) servesPath(path []byte) bool {
	if len(c.paths) == 0 {
		return true
	}
	for _, p := range c.paths {
		if p == string(path) {
			return true
		}
	}
	return false
}

// allowsOrigin reports whether a request with this Origin value may upgrade.
func (c *compiled) allowsOrigin(origin []byte) bool {
	if c.anyOrigin {
		return true
	}
	for i := range c.origins {
		if c.origins[i].match(origin) {
			return true
		}
	}
	return false
}

// protocolIndex returns the preference index of the offered subprotocol p,
// or -1 when the server does not speak it.
func (c *compiled) protocolIndex(p []byte) int {
	for i, q := range c.protocols {
		if q == string(p) {
			return i
		}
	}
	return -1
}

func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '?' || c == '#' {
			return false
		}
	}
	return true
}

// originPattern is one compiled AllowedOrigins entry, lower case. For an
// exact origin, suffix is the whole origin; for "scheme://*.host[:port]",
// scheme is "scheme://" and suffix is ".host[:port]".
type originPattern struct {
	wildcard bool
	scheme   string
	suffix   string
}

// parseOriginPattern validates "scheme://host[:port]", where host may start
// with "*.". Paths, user info and trailing slashes are refused: browsers never
// put them in Origin, so such an entry could never match.
func parseOriginPattern(o string) (originPattern, error) {
	lower := strings.ToLower(o)
	scheme, host, ok := strings.Cut(lower, "://")
	if !ok || !validScheme(scheme) || !validHost(host) {
		return originPattern{}, fmt.Errorf("%w: origin %q must be \"*\" or scheme://host[:port]", errConfig, o)
	}
	if !strings.Contains(host, "*") {
		return originPattern{suffix: lower}, nil
	}
	rest, ok := strings.CutPrefix(host, "*.")
	if !ok || rest == "" || strings.Contains(rest, "*") || rest[0] == ':' || rest[0] == '.' {
		return originPattern{}, fmt.Errorf("%w: origin %q: a wildcard must be a leading \"*.\" followed by a domain", errConfig, o)
	}
	return originPattern{wildcard: true, scheme: scheme + "://", suffix: "." + rest}, nil
}

// validHost reports whether host is non-empty printable ASCII without the
// characters that would end an authority.
func validHost(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("/?#@\\", c) >= 0 {
			return false
		}
	}
	return true
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// match reports whether origin matches the pattern. A wildcard matches one or
// more DNS labels (letters, digits, '-', dots between labels) in front of the
// suffix, so "https://*.h.example" never matches "https://evil/x.h.example".
func (p *originPattern) match(origin []byte) bool {
	if !p.wildcard {
		return asciiEqualFold(origin, p.suffix)
	}
	n := len(origin) - len(p.suffix)
	if n <= len(p.scheme) ||
		!asciiEqualFold(origin[:len(p.scheme)], p.scheme) ||
		!asciiEqualFold(origin[n:], p.suffix) {
		return false
	}
	return validLabels(origin[len(p.scheme):n])
}

// validLabels reports whether s is one or more dot-separated DNS labels.
func validLabels(s []byte) bool {
	if len(s) == 0 || s[0] == '.' || s[len(s)-1] == '.' || bytes.Contains(s, []byte("..")) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// asciiEqualFold is strings.EqualFold for ASCII only: origins are ASCII
// (RFC 6454 serializes hosts as A-labels), and Unicode folding would let
// "\u212a" (Kelvin sign) equal "k".
func asciiEqualFold(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isTchar reports whether c may appear in an HTTP token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken reports whether s is an HTTP token; generic so that checking a
// []byte needs no conversion (and no allocation for long values).
func isToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}
