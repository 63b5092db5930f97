package engine

import "github.com/bellhop/bellhop/codec"

// Close codes the engine sends besides the RFC 6455 ones (1000, 1001, 1002,
// 1007, 1008, 1009, 1011). The 4000-4099 range belongs to bellhop; the
// README's close-code table lists them all.
const (
	// CloseSlowConsumer closes a connection whose outbound backlog passed
	// MaxOutbound. The client should reconnect and resynchronise (recover
	// missed messages with "since").
	CloseSlowConsumer codec.StatusCode = 4008
)

// closeReason names why a connection closed, for metrics and logs.
type closeReason uint8

const (
	reasonPeer closeReason = iota // the peer sent a close frame or hung up
	reasonProtocol
	reasonTooBig
	reasonIdle
	reasonHandshakeTimeout
	reasonHandshakeFailed
	reasonSlowConsumer
	reasonShutdown
	reasonServer // closed by the application
	reasonFull   // refused: MaxConnections reached
	reasonTLS
	reasonRateLimit // messages or pings too fast
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{
	"peer", "protocol_error", "too_big", "idle_timeout", "handshake_timeout",
	"handshake_failed", "slow_consumer", "shutdown", "server", "server_full", "tls_error", "rate_limit",
}

// String returns the reason's metric label.
func (r closeReason) String() string { return closeReasonNames[r] }
