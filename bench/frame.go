package bench

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/bellhop/bellhop/codec"
)

// DefaultMaxFrame bounds the payload of one server frame the client buffers.
const DefaultMaxFrame = 16 << 20

// maxResponseHead bounds the HTTP response head to an upgrade request.
const maxResponseHead = 8 << 10

// wsGUID is the RFC 6455 key suffix for Sec-WebSocket-Accept.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// readFrame parses the server frame at the start of b. It returns the
// header, the payload (aliasing b) and the frame's total length. When b holds
// only part of the frame it returns codec.ErrNeedMore and consumes nothing,
// so the caller keeps the bytes and calls again when more arrive. Server
// frames must be unmasked, control frames short and whole, and payloads at
// most maxPayload bytes; otherwise it returns an error wrapping ErrProtocol.
func readFrame(b []byte, maxPayload int64) (h codec.Header, payload []byte, n int, err error) {
	h, hn, err := codec.ParseHeader(b)
	if err == codec.ErrNeedMore {
		return h, nil, 0, err
	}
	if err != nil {
		return h, nil, 0, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if err := checkServerHeader(h, maxPayload); err != nil {
		return h, nil, 0, err
	}
	total := int64(hn) + h.Length
	if int64(len(b)) < total {
		return h, nil, 0, codec.ErrNeedMore
	}
	return h, b[hn:total:total], int(total), nil
}

func checkServerHeader(h codec.Header, maxPayload int64) error {
	switch {
	case h.Masked:
		return fmt.Errorf("%w: masked server frame", ErrProtocol)
	case h.Rsv != 0:
		return fmt.Errorf("%w: reserved bits %#x without an extension", ErrProtocol, h.Rsv)
	case h.OpCode > codec.OpBinary && h.OpCode < codec.OpClose, h.OpCode > codec.OpPong:
		return fmt.Errorf("%w: reserved opcode %#x", ErrProtocol, byte(h.OpCode))
	case h.OpCode.IsControl() && (h.Length > codec.MaxControlPayload || !h.Fin):
		return fmt.Errorf("%w: control frame fragmented or over 125 bytes", ErrProtocol)
	case h.Length > maxPayload:
		return fmt.Errorf("%w: frame of %d bytes, limit %d", ErrProtocol, h.Length, maxPayload)
	}
	return nil
}

// appendUpgradeRequest appends the HTTP upgrade request for t with the
// base64 key of nonce and, when protocol is set, that subprotocol.
func appendUpgradeRequest(dst []byte, t Target, nonce *[16]byte, protocol string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, t.Path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, t.Host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	dst = base64.StdEncoding.AppendEncode(dst, nonce[:])
	if protocol != "" {
		dst = append(dst, "\r\nSec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
	}
	return append(dst, "\r\n\r\n"...)
}

// acceptKey returns the Sec-WebSocket-Accept the server must send for nonce.
func acceptKey(nonce *[16]byte) [28]byte {
	var key [24]byte
	base64.StdEncoding.Encode(key[:], nonce[:])
	s := sha1.New()
	s.Write(key[:])
	s.Write([]byte(wsGUID))
	var sum [sha1.Size]byte
	var out [28]byte
	base64.StdEncoding.Encode(out[:], s.Sum(sum[:0]))
	return out
}

// readUpgradeResponse looks for a whole response head at the start of b. It
// returns 0 while the head is incomplete, else the head's length once it
// checked a valid 101 answer for nonce (and protocol, when one was offered).
// A refusal, a bad accept key or an oversized head is an error wrapping
// ErrHandshake.
func readUpgradeResponse(b []byte, nonce *[16]byte, protocol string) (int, error) {
	end := bytes.Index(b[:min(len(b), maxResponseHead)], []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) >= maxResponseHead {
			return 0, fmt.Errorf("%w: response head over %d bytes", ErrHandshake, maxResponseHead)
		}
		return 0, nil
	}
	head := b[:end]
	status, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101 ")) && !bytes.Equal(status, []byte("HTTP/1.1 101")) {
		return 0, fmt.Errorf("%w: %s", ErrHandshake, strconv.Quote(string(status)))
	}
	if err := checkUpgradeHeaders(rest, nonce, protocol); err != nil {
		return 0, err
	}
	return end + 4, nil
}

// checkUpgradeHeaders checks the header lines of a 101 response.
func checkUpgradeHeaders(lines []byte, nonce *[16]byte, protocol string) error {
	var upgrade, connection, accepted bool
	gotProtocol := ""
	want := acceptKey(nonce)
	for line := range bytes.SplitSeq(lines, []byte("\r\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("%w: header line %s", ErrHandshake, strconv.Quote(string(line)))
		}
		value = bytes.TrimSpace(value)
		switch name = bytes.TrimSpace(name); {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = bytes.EqualFold(value, []byte("websocket"))
		case bytes.EqualFold(name, []byte("Connection")):
			connection = hasToken(value, "upgrade")
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			accepted = bytes.Equal(value, want[:])
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			gotProtocol = string(value)
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Extensions")):
			return fmt.Errorf("%w: server chose extensions %q that were not offered", ErrHandshake, value)
		}
	}
	switch {
	case !upgrade || !connection:
		return fmt.Errorf("%w: 101 without Upgrade: websocket and Connection: Upgrade", ErrHandshake)
	case !accepted:
		return fmt.Errorf("%w: wrong or missing Sec-WebSocket-Accept", ErrHandshake)
	case gotProtocol != "" && gotProtocol != protocol:
		return fmt.Errorf("%w: server chose subprotocol %q, offered %q", ErrHandshake, gotProtocol, protocol)
	}
	return nil
}

// hasToken reports whether the comma-separated list v holds token, ignoring
// case.
func hasToken(v []byte, token string) bool {
	for t := range bytes.SplitSeq(v, []byte(",")) {
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}
