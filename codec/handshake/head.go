package handshake

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// DefaultMaxHeadSize is the head size cap FindHead uses when given limit <= 0.
// Browsers send 0.5–2 KiB; cookies make up most of the rest.
const DefaultMaxHeadSize = 8 << 10

var headEnd = []byte("\r\n\r\n")

// FindHead reports the length of the request head at the start of b,
// including the final "\r\n\r\n" (bare "\n\n" does not end a head), or 0 when
// b does not hold a whole head yet.
//
// It returns ErrHeadTooLarge when the head does not end within limit bytes
// (limit <= 0 means DefaultMaxHeadSize), so a peer cannot make the caller
// buffer more than limit bytes. It returns ErrMalformed at once when b does not start
// with an upper-case letter, as every HTTP method does: a TLS ClientHello on a
// plain port, say, is refused without waiting for limit bytes.
func FindHead(b []byte, limit int) (n int, err error) {
	return FindHeadFrom(b, limit, 0)
}

// FindHeadFrom is FindHead for a buffer that grows between calls: from is the
// length b had at the previous call that returned 0, so only the new bytes
// (and the 3 before them) are searched. With from = 0 it is FindHead. Use it
// when a head may arrive in many small reads, to keep the total scan linear.
func FindHeadFrom(b []byte, limit, from int) (n int, err error) {
	if limit <= 0 {
		limit = DefaultMaxHeadSize
	}
	if len(b) > 0 && (b[0] < 'A' || b[0] > 'Z') {
		return 0, ErrMalformed
	}
	window := b[:min(len(b), limit)]
	start := min(max(from-(len(headEnd)-1), 0), len(window))
	if i := bytes.Index(window[start:], headEnd); i >= 0 {
		return start + i + len(headEnd), nil
	}
	if len(b) >= limit {
		return 0, ErrHeadTooLarge
	}
	return 0, nil
}

// AppendResponse appends a complete HTTP/1.1 response for a refused request
// to dst: the status line, Content-Type text/plain, Content-Length,
// Connection: close, the extraHeaders and the body reason + "\n". It is used
// for handshake errors and by the engine for 431, 429, 503 and the like.
//
// Each extra header is one "Name: value" line without the CRLF; a line holding
// CR or LF is dropped, so a header can never split the response. A status
// outside 100–999 is written as 500.
func AppendResponse(dst []byte, status int, reason string, extraHeaders ...string) []byte {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(status)...)
	dst = append(dst, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(reason)+1), 10)
	dst = append(dst, "\r\nConnection: close\r\n"...)
	for _, h := range extraHeaders {
		if h != "" && !strings.ContainsAny(h, "\r\n") {
			dst = append(dst, h...)
			dst = append(dst, "\r\n"...)
		}
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, reason...)
	return append(dst, '\n')
}
