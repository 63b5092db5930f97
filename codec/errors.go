package codec

import (
	"errors"

	"github.com/gobwas/ws"
)

// ErrNeedMore reports that the buffer ends inside a frame. Nothing was
// consumed; call again with the same bytes plus what arrives next.
var ErrNeedMore = errors.New("codec: need more bytes")

// ProtocolError is a violation of RFC 6455 or RFC 7692 by the peer. Code is
// the close code the connection must be failed with.
type ProtocolError struct {
	Code   StatusCode // close code to send: 1002, 1007 or 1009
	Reason string     // short, safe to send to the peer as the close reason
}

// Error implements error.
func (e *ProtocolError) Error() string { return "codec: " + e.Reason }

func protocolError(code StatusCode, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason}
}

// Protocol errors returned by the parser. They are values so callers can
// compare them with errors.Is; use CloseCode to get the close code.
var (
	ErrUnmasked            = protocolError(ws.StatusProtocolError, "client frame not masked")
	ErrReservedBits        = protocolError(ws.StatusProtocolError, "reserved bits set without extension")
	ErrReservedOpCode      = protocolError(ws.StatusProtocolError, "reserved opcode")
	ErrControlTooLong      = protocolError(ws.StatusProtocolError, "control frame payload over 125 bytes")
	ErrControlFragmented   = protocolError(ws.StatusProtocolError, "fragmented control frame")
	ErrCompressedControl   = protocolError(ws.StatusProtocolError, "compressed control frame")
	ErrCompressedContinue  = protocolError(ws.StatusProtocolError, "compressed bit on continuation frame")
	ErrContinuationNoStart = protocolError(ws.StatusProtocolError, "continuation frame without a message")
	ErrDataInFragmented    = protocolError(ws.StatusProtocolError, "new data frame inside a fragmented message")
	ErrLengthEncoding      = protocolError(ws.StatusProtocolError, "invalid payload length encoding")
	ErrCloseLength         = protocolError(ws.StatusProtocolError, "close payload of one byte")
	ErrCloseCode           = protocolError(ws.StatusProtocolError, "invalid close code")
	ErrInvalidUTF8         = protocolError(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in text")
	ErrCloseReasonUTF8     = protocolError(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in close reason")
	ErrFrameTooBig         = protocolError(ws.StatusMessageTooBig, "frame too big")
	ErrMessageTooBig       = protocolError(ws.StatusMessageTooBig, "message too big")
	ErrTooManyFragments    = protocolError(ws.StatusPolicyViolation, "too many fragments in one message")
)

// CloseCode returns the close code for err: the code of a *ProtocolError in
// its chain, else 1011 (internal error).
func CloseCode(err error) StatusCode {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ws.StatusInternalServerError
}
