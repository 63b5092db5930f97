package handshake

import (
	"bytes"

	"github.com/gobwas/ws"
)

// Error is a rejected handshake. Status is the HTTP status the client was (or
// must be) answered with; Reason is a short text, safe to send as the body.
// Compare with the sentinels below using errors.Is or ==.
type Error struct {
	Status int    // HTTP status code of the error response
	Reason string // short reason, sent as the response body
}

// Error implements error.
func (e *Error) Error() string { return "handshake: " + e.Reason }

// AppendResponse appends the HTTP response that answers e to dst: its
// status, its reason as the body and, for 426, "Sec-WebSocket-Version: 13".
// The engine uses it to answer errors of FindHead the way Upgrade does.
func (e *Error) AppendResponse(dst []byte) []byte {
	return AppendResponse(dst, e.Status, e.Reason, e.headers()...)
}

// headers returns the extra header lines the error response must carry: RFC
// 6455 section 4.4 wants a 426 to name the versions the server speaks.
func (e *Error) headers() []string {
	if e.Status == statusUpgradeRequired {
		return versionHeader
	}
	return nil
}

const statusUpgradeRequired = 426

var versionHeader = []string{"Sec-WebSocket-Version: 13"}

func newError(status int, reason string) *Error { return &Error{Status: status, Reason: reason} }

// Errors returned by FindHead and Upgrader.Upgrade. Each one is answered with
// its Status; the connection should be closed after the response is written.
var (
	// ErrHeadTooLarge: no end of head within the configured maximum (431).
	ErrHeadTooLarge = newError(431, "request head too large")
	// ErrMalformed: the request is not well-formed HTTP/1.x (400).
	ErrMalformed = newError(400, "malformed request")
	// ErrMethod: the method is not GET (400; RFC 6455 section 4.1).
	ErrMethod = newError(400, "method must be GET")
	// ErrHTTPVersion: HTTP/1.0 (400): WebSocket needs HTTP/1.1 or later.
	ErrHTTPVersion = newError(400, "HTTP/1.1 or later required")
	// ErrHTTPMajor: an HTTP major version other than 1, which this server does
	// not parse (505, RFC 9110 section 15.6.6).
	ErrHTTPMajor = newError(505, "HTTP version not supported")
	// ErrTarget: the request target is not an origin-form or absolute-form URI (400).
	ErrTarget = newError(400, "invalid request target")
	// ErrHost: no Host header, or more than one (400, RFC 9112 section 3.2).
	ErrHost = newError(400, "missing or duplicate Host header")
	// ErrUpgrade: Upgrade header missing or not "websocket" (400).
	ErrUpgrade = newError(400, "missing or invalid Upgrade header")
	// ErrConnection: Connection header missing or without the "upgrade" token (400).
	ErrConnection = newError(400, "missing or invalid Connection header")
	// ErrKey: Sec-WebSocket-Key missing or not 24 bytes long (400).
	ErrKey = newError(400, "missing or invalid Sec-WebSocket-Key header")
	// ErrVersionMissing: no Sec-WebSocket-Version header (400).
	ErrVersionMissing = newError(400, "missing Sec-WebSocket-Version header")
	// ErrVersion: a Sec-WebSocket-Version other than 13 (426, answered with
	// "Sec-WebSocket-Version: 13").
	ErrVersion = newError(statusUpgradeRequired, "unsupported Sec-WebSocket-Version, want 13")
	// ErrSubprotocol: Sec-WebSocket-Protocol is not a comma-separated list of tokens (400).
	ErrSubprotocol = newError(400, "invalid Sec-WebSocket-Protocol header")
	// ErrHeaderValue: a header the server keeps holds a control character (400).
	ErrHeaderValue = newError(400, "invalid character in header value")
	// ErrDuplicateOrigin: more than one Origin header (400).
	ErrDuplicateOrigin = newError(400, "duplicate Origin header")
	// ErrPath: the path is not one of Config.Paths (404).
	ErrPath = newError(404, "not found")
	// ErrOrigin: Origin is not in Config.AllowedOrigins (403).
	ErrOrigin = newError(403, "origin not allowed")
)

// fromGobwas maps an error returned by ws.Upgrader to ours. gobwas answers a
// wrong method with 405; we answer 400 like every other malformed handshake.
// head is the request head, used to tell HTTP/1.0 (400) from HTTP/2+ (505).
func fromGobwas(err error, head []byte) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	switch err {
	case ws.ErrHandshakeBadProtocol:
		if requestMajor1(head) {
			return ErrHTTPVersion
		}
		return ErrHTTPMajor
	case ws.ErrHandshakeBadMethod:
		return ErrMethod
	case ws.ErrHandshakeBadHost:
		return ErrHost
	case ws.ErrHandshakeBadUpgrade:
		return ErrUpgrade
	case ws.ErrHandshakeBadConnection:
		return ErrConnection
	case ws.ErrHandshakeBadSecKey:
		return ErrKey
	case ws.ErrHandshakeBadSecVersion:
		return ErrVersionMissing
	case ws.ErrHandshakeUpgradeRequired:
		return ErrVersion
	}
	// ws.ErrMalformedRequest, io.EOF (no blank line), anything else.
	return ErrMalformed
}

// requestMajor reports whether the request line at the start of head names
// HTTP major version 1 ("HTTP/1.0", "HTTP/01.0"); gobwas has already checked
// that the version parses.
func requestMajor1(head []byte) bool {
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	line = line[bytes.LastIndexByte(line, ' ')+1:]
	v, ok := bytes.CutPrefix(line, []byte("HTTP/"))
	if !ok {
		return false
	}
	major, _, _ := bytes.Cut(v, []byte("."))
	return string(bytes.TrimLeft(major, "0")) == "1"
}
