package handshake

import (
	"bytes"
	"io"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// Fields of the request head that are kept, as indexes into state.spans.
const (
	fieldPath = iota
	fieldQuery
	fieldHost
	fieldOrigin
	fieldUserAgent
	fieldCookie
	fieldForwardedFor
	numFields
)

// span is a range of state.raw.
type span struct{ start, end int }

// part is the value of a repeated Cookie or X-Forwarded-For header, joined to
// the first one when the request is built.
type part struct {
	field int
	span
}

// Separators for headers that may be repeated (RFC 9110 section 5.3; RFC 6265
// section 5.4 for Cookie).
var joinSep = [numFields]string{fieldCookie: "; ", fieldForwardedFor: ", "}

// Response header lines for an accepted permessage-deflate offer.
const (
	extensionLine   = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
	extensionLine15 = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15\r\n"
)

// deflateParams are the parameters we accept; deflateParams15 also honours an
// offer of server_max_window_bits=15, the window our compressor uses anyway.
// Never set ClientMaxWindowBits: wsflate would then decline Chrome's
// valueless client_max_window_bits.
var (
	deflateParams   = wsflate.DefaultParameters
	deflateParams15 = wsflate.Parameters{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
		ServerMaxWindowBits:     15,
	}
)

// state is the per-request state of one Upgrader. The ws.Upgrader hooks are
// bound to its methods once, in NewUpgrader, so a handshake allocates no
// closures; reset clears it before each request. Values kept from the head
// are copied into raw (gobwas's slices die with its read buffer) and turned
// into strings with one allocation when the request is accepted.
//
// It is owned by the Upgrader's event loop and has no locks.
type state struct {
	cfg *compiled

	raw     []byte            // copies of the kept values, reused across requests
	spans   [numFields]span   // where each kept field is in raw
	seen    [numFields]bool   // which fields were present
	more    []part            // second and later Cookie / X-Forwarded-For values
	offered []span            // every subprotocol offered, in order
	proto   int               // index in cfg.protocols of the selected subprotocol, -1 for none
	ext     wsflate.Extension // permessage-deflate negotiation, stateful
	deflate bool              // permessage-deflate accepted
	window  bool              // accepted with server_max_window_bits=15
	err     *Error            // error set by a hook that must return a bool
}

// reset forgets the previous request, keeping buffers of a sane size.
func (s *state) reset() {
	if cap(s.raw) > maxKeptBuffer {
		s.raw = nil
	}
	s.raw = s.raw[:0]
	s.spans = [numFields]span{}
	s.seen = [numFields]bool{}
	s.more = s.more[:0]
	s.offered = s.offered[:0]
	s.proto = -1
	s.ext.Reset()
	s.deflate, s.window = false, false
	s.err = nil
}

// maxKeptBuffer bounds the buffers an Upgrader keeps between requests, so one
// huge head does not pin memory for the life of the loop.
const maxKeptBuffer = 64 << 10

// copyValue appends v to raw and returns where it is.
func (s *state) copyValue(v []byte) span {
	start := len(s.raw)
	s.raw = append(s.raw, v...)
	return span{start, len(s.raw)}
}

// keep stores v as the value of field f.
func (s *state) keep(f int, v []byte) {
	s.spans[f] = s.copyValue(v)
	s.seen[f] = true
}

// onRequest checks the request target: its form and path. It runs before
// any header is read, so an unknown path costs nothing more.
func (s *state) onRequest(uri []byte) error {
	path, query, ok := splitTarget(uri)
	if !ok {
		return ErrTarget
	}
	if !s.cfg.servesPath(path) {
		return ErrPath
	}
	s.keep(fieldPath, path)
	if query != nil {
		s.keep(fieldQuery, query)
	}
	return nil
}

// onHost keeps the Host header; RFC 9112 section 3.2 wants 400 for two.
func (s *state) onHost(host []byte) error {
	if s.seen[fieldHost] {
		return ErrHost
	}
	if !validValue(host) {
		return ErrHeaderValue
	}
	s.keep(fieldHost, host)
	return nil
}

// onHeader keeps the headers the engine needs; gobwas handles the
// WebSocket ones itself and gives us the rest with canonical keys.
func (s *state) onHeader(key, value []byte) error {
	var f int
	switch string(key) {
	case "Origin":
		f = fieldOrigin
	case "User-Agent":
		f = fieldUserAgent
	case "Cookie":
		f = fieldCookie
	case "X-Forwarded-For":
		f = fieldForwardedFor
	default:
		return nil
	}
	if !validValue(value) {
		return ErrHeaderValue
	}
	switch {
	case !s.seen[f]:
		s.keep(f, value)
	case f == fieldOrigin:
		return ErrDuplicateOrigin
	case joinSep[f] != "":
		s.more = append(s.more, part{f, s.copyValue(value)})
	}
	return nil
}

// selectProtocol records the subprotocols of one Sec-WebSocket-Protocol
// header and keeps the most preferred one we speak. It always returns "" to
// gobwas, which then keeps passing every further Sec-WebSocket-Protocol
// header here; the selected one is written by WriteTo.
func (s *state) selectProtocol(v []byte) (string, bool) {
	n := 0
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte(","))
		item = trimOWS(item)
		if len(item) == 0 {
			continue // RFC 9110 section 5.6.1: empty list elements are ignored
		}
		if !isToken(item) {
			s.err = ErrSubprotocol
			return "", false
		}
		n++
		s.offered = append(s.offered, s.copyValue(item))
		if i := s.cfg.protocolIndex(item); i >= 0 && (s.proto < 0 || i < s.proto) {
			s.proto = i
		}
	}
	if n == 0 {
		s.err = ErrSubprotocol
		return "", false
	}
	return "", true
}

// negotiate runs wsflate on one permessage-deflate offer. It returns no
// option to gobwas (WriteTo writes the accepted one) and never an error: RFC
// 7692 section 5 says to decline an offer with bad parameters, and the
// handshake goes on without compression. The first acceptable offer wins.
func (s *state) negotiate(opt httphead.Option) (httphead.Option, error) {
	if s.deflate || !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return httphead.Option{}, nil
	}
	s.ext.Parameters = deflateParams
	if v, ok := opt.Parameters.Get("server_max_window_bits"); ok && string(v) == "15" {
		s.ext.Parameters = deflateParams15
	}
	if _, err := s.ext.Negotiate(opt); err != nil {
		return httphead.Option{}, nil
	}
	if p, ok := s.ext.Accepted(); ok {
		s.deflate, s.window = true, p.ServerMaxWindowBits == 15
	}
	return httphead.Option{}, nil
}

// beforeUpgrade runs once the request is known to be a valid handshake: it
// checks Origin, then hands gobwas the extra response headers.
func (s *state) beforeUpgrade() (ws.HandshakeHeader, error) {
	if s.seen[fieldOrigin] && !s.cfg.allowsOrigin(s.value(fieldOrigin)) {
		return nil, ErrOrigin
	}
	if s.proto < 0 && !s.deflate {
		return nil, nil
	}
	return s, nil
}

// WriteTo writes the negotiated Sec-WebSocket-Protocol and
// Sec-WebSocket-Extensions header lines into the 101 response.
func (s *state) WriteTo(w io.Writer) (int64, error) {
	var n int64
	var err error
	if s.proto >= 0 {
		n, err = writeStrings(w, "Sec-WebSocket-Protocol: ", s.cfg.protocols[s.proto], "\r\n")
	}
	if s.deflate && err == nil {
		line := extensionLine
		if s.window {
			line = extensionLine15
		}
		var m int64
		m, err = writeStrings(w, line)
		n += m
	}
	return n, err
}

// writeStrings writes each string to w, stopping at the first error.
func writeStrings(w io.Writer, strs ...string) (int64, error) {
	var total int64
	for _, str := range strs {
		n, err := io.WriteString(w, str)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// value returns the raw bytes of a kept field.
func (s *state) value(f int) []byte { return s.raw[s.spans[f].start:s.spans[f].end] }

// request builds the Request of an accepted handshake: repeated headers are
// joined, then every kept value becomes a substring of one new string.
func (s *state) request() Request {
	for _, f := range [...]int{fieldCookie, fieldForwardedFor} {
		s.join(f)
	}
	all := string(s.raw)
	str := func(f int) string { return all[s.spans[f].start:s.spans[f].end] }
	r := Request{
		Path:         str(fieldPath),
		Query:        str(fieldQuery),
		Host:         str(fieldHost),
		Origin:       str(fieldOrigin),
		UserAgent:    str(fieldUserAgent),
		Cookie:       str(fieldCookie),
		ForwardedFor: str(fieldForwardedFor),
		Deflate:      s.deflate,
	}
	if s.proto >= 0 {
		r.Protocol = s.cfg.protocols[s.proto]
	}
	if len(s.offered) > 0 {
		r.Offered = make([]string, len(s.offered))
		for i, sp := range s.offered {
			r.Offered[i] = all[sp.start:sp.end]
		}
	}
	return r
}

// join appends the first value of field f and its repetitions, separated,
// at the end of raw and points the field there. Each byte is copied once.
func (s *state) join(f int) {
	first := true
	for _, p := range s.more {
		if p.field != f {
			continue
		}
		if first {
			first = false
			sp := s.spans[f]
			s.spans[f].start = len(s.raw)
			s.raw = append(s.raw, s.raw[sp.start:sp.end]...)
		}
		s.raw = append(s.raw, joinSep[f]...)
		s.raw = append(s.raw, s.raw[p.start:p.end]...)
		s.spans[f].end = len(s.raw)
	}
}

var rootPath = []byte("/")

// splitTarget splits a request target into path and query (nil when there
// is no '?'). It accepts origin-form ("/ws?x") and absolute-form
// ("http://host/ws?x", RFC 9112 section 3.2.2); everything must be visible
// ASCII without '#'.
func splitTarget(uri []byte) (path, query []byte, ok bool) {
	for _, c := range uri {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return nil, nil, false
		}
	}
	if len(uri) == 0 {
		return nil, nil, false
	}
	if uri[0] != '/' {
		if uri, ok = stripAuthority(uri); !ok {
			return nil, nil, false
		}
	}
	path, query, _ = bytes.Cut(uri, []byte("?"))
	if len(path) == 0 {
		path = rootPath
	}
	return path, query, true
}

// stripAuthority removes "scheme://authority" from an absolute-form target.
func stripAuthority(uri []byte) ([]byte, bool) {
	i := bytes.Index(uri, []byte("://"))
	if i <= 0 {
		return nil, false
	}
	switch scheme := uri[:i]; {
	case asciiEqualFold(scheme, "http"), asciiEqualFold(scheme, "https"),
		asciiEqualFold(scheme, "ws"), asciiEqualFold(scheme, "wss"):
	default:
		return nil, false
	}
	rest := uri[i+3:]
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	if end == 0 {
		return nil, false // no authority
	}
	return rest[end:], true
}

// validValue reports whether a header value is free of control characters
// other than HTAB (RFC 9110 section 5.5).
func validValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS trims optional whitespace (SP, HTAB) at both ends.
func trimOWS(b []byte) []byte {
	return bytes.Trim(b, " \t")
}
