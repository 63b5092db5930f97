package codec

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Close codes of RFC 6455 section 7.4.1 that the engine sends.
const (
	CloseNormal          = ws.StatusNormalClosure
	CloseGoingAway       = ws.StatusGoingAway
	CloseProtocolError   = ws.StatusProtocolError
	CloseUnsupportedData = ws.StatusUnsupportedData
	CloseNoStatus        = ws.StatusNoStatusRcvd
	CloseAbnormal        = ws.StatusAbnormalClosure
	CloseInvalidPayload  = ws.StatusInvalidFramePayloadData
	ClosePolicyViolation = ws.StatusPolicyViolation
	CloseMessageTooBig   = ws.StatusMessageTooBig
	CloseInternalError   = ws.StatusInternalServerError
	CloseTryAgainLater   = StatusCode(1013)
)

// ValidCloseCode reports whether a peer may send code in a close frame:
// the defined codes 1000-1003, 1007-1011 (and 1012-1014, registered with IANA)
// and the application and private ranges 3000-4999.
func ValidCloseCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose validates a close frame payload and returns its code and reason.
// An empty payload yields CloseNoStatus. The reason aliases payload.
func ParseClose(payload []byte) (code StatusCode, reason []byte, err error) {
	switch len(payload) {
	case 0:
		return CloseNoStatus, nil, nil
	case 1:
		return 0, nil, ErrCloseLength
	}
	code = StatusCode(binary.BigEndian.Uint16(payload))
	if !ValidCloseCode(code) {
		return 0, nil, ErrCloseCode
	}
	reason = payload[2:]
	if !utf8.Valid(reason) {
		return 0, nil, ErrCloseReasonUTF8
	}
	return code, reason, nil
}

// AppendClosePayload appends a close payload (code and reason) to dst. The
// reason is cut to fit a control frame, on a rune boundary.
func AppendClosePayload(dst []byte, code StatusCode, reason string) []byte {
	if code == CloseNoStatus || code == 0 {
		return dst
	}
	max := MaxControlPayload - 2
	if len(reason) > max {
		reason = reason[:max]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// AppendCloseFrame appends a whole server close frame to dst.
func AppendCloseFrame(dst []byte, code StatusCode, reason string) []byte {
	var buf [MaxControlPayload]byte
	p := AppendClosePayload(buf[:0], code, reason)
	return AppendFrame(dst, OpClose, p, false)
}
