package handshake

import (
	"net/url"
	"strings"
)

// Request is what an accepted handshake told about the client. Its strings
// are copies (the head's bytes are reused after Upgrade returns) and all
// share one allocation: a field kept for the connection's lifetime keeps the
// others alive too, so clone (strings.Clone) a field you keep when memory
// matters more than one allocation.
type Request struct {
	Path         string   // request path without query, e.g. "/ws"
	Query        string   // raw query string without '?', e.g. "token=abc"; "" if none
	Host         string   // raw Host header value
	Origin       string   // raw Origin header value, "" if absent
	UserAgent    string   // raw User-Agent header value, "" if absent
	Cookie       string   // raw Cookie header value; repeated headers joined with "; "
	ForwardedFor string   // raw X-Forwarded-For value; repeated headers joined with ", "; "" if absent
	Protocol     string   // selected subprotocol, "" if none
	Offered      []string // every subprotocol the client offered, in order (may carry a bearer token)
	Deflate      bool     // permessage-deflate negotiated, with both no_context_takeover
}

// QueryValue returns the first value of key in Query, URL-unescaped, or ""
// when key is absent. It agrees with url.ParseQuery(r.Query).Get(key): pairs
// with a ';' or a bad %-escape are skipped. It allocates only when the value
// holds escapes ('%' or '+'); otherwise the result is a substring of Query.
func (r *Request) QueryValue(key string) string {
	q := r.Query
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if !unescapedEqual(k, key) {
			continue
		}
		if strings.IndexByte(v, '%') < 0 && strings.IndexByte(v, '+') < 0 {
			return v
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
	}
	return ""
}

// unescapedEqual reports whether the query component s, unescaped, equals
// key; it is false when s holds a bad %-escape. It does not allocate.
func unescapedEqual(s, key string) bool {
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		if j >= len(key) || key[j] != c {
			return false
		}
		j++
	}
	return j == len(key)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
