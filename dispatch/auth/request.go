package auth

import (
	"net/url"
	"strings"
)

// Where TokenFromRequest looks for a token.
const (
	// QueryParam is the query parameter that carries a token: /ws?token=...
	QueryParam = "token"

	// CookieName is the cookie that carries a token.
	CookieName = "bellhop_token"

	// BearerProtocolPrefix and AccessTokenProtocolPrefix mark a token offered
	// as a WebSocket subprotocol, such as "bearer.<token>", next to the real
	// subprotocol, which the server selects: browsers cannot set headers on a
	// WebSocket, but they can offer subprotocols. A JWT is base64url and dots,
	// which are all HTTP token characters, so such a value is a valid
	// Sec-WebSocket-Protocol entry.
	BearerProtocolPrefix      = "bearer."
	AccessTokenProtocolPrefix = "access_token."
)

// TokenFromRequest returns the token a WebSocket upgrade request carries, or
// "" when it carries none (the client then has to send an AUTH event).
// query is the raw query string, cookie the raw Cookie header and offered the
// subprotocols offered in Sec-WebSocket-Protocol.
//
// Precedence, highest first: a subprotocol starting with BearerProtocolPrefix
// or AccessTokenProtocolPrefix (the first such), the QueryParam parameter,
// then the CookieName cookie. Explicit beats ambient: the subprotocol and the
// query are set by the application for this connection, while the browser
// attaches a cookie by itself, maybe a stale one. The subprotocol comes first
// because, unlike the query, it does not end up in access logs. Empty values
// count as absent. The token is not checked here; Verify does that.
func TokenFromRequest(query, cookie string, offered []string) string {
	if t := tokenFromProtocols(offered); t != "" {
		return t
	}
	if t := tokenFromQuery(query); t != "" {
		return t
	}
	return tokenFromCookie(cookie)
}

// tokenFromProtocols returns the token of the first subprotocol with a token
// prefix.
func tokenFromProtocols(offered []string) string {
	for _, p := range offered {
		for _, prefix := range [...]string{BearerProtocolPrefix, AccessTokenProtocolPrefix} {
			if t, ok := strings.CutPrefix(p, prefix); ok && t != "" {
				return t
			}
		}
	}
	return ""
}

// tokenFromQuery returns the first non-empty QueryParam value, unescaped.
// Pairs with a bad %-escape are skipped, as url.ParseQuery skips them.
func tokenFromQuery(query string) string {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != QueryParam || v == "" {
			continue
		}
		if !strings.ContainsAny(v, "%+") {
			return v
		}
		if u, err := url.QueryUnescape(v); err == nil && u != "" {
			return u
		}
	}
	return ""
}

// tokenFromCookie returns the first non-empty CookieName value in a Cookie
// header ("a=1; bellhop_token=...; b=2"), without optional double quotes.
func tokenFromCookie(cookie string) string {
	for cookie != "" {
		var pair string
		pair, cookie, _ = strings.Cut(cookie, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if k != CookieName {
			continue
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if v != "" {
			return v
		}
	}
	return ""
}
