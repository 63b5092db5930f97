package bench

import "errors"

// Errors returned by the harness. Failures of single connections are not
// returned as errors: they are counted per ErrorKind in the Result.
var (
	// ErrNotLoopback is returned for a target or source address outside
	// 127.0.0.0/8: the harness never sends load off the machine.
	ErrNotLoopback = errors.New("bench: address is not on loopback (127.0.0.0/8)")
	// ErrBadURL is returned for a target URL that is not ws:// or wss:// with
	// a host, a port and a path.
	ErrBadURL = errors.New("bench: invalid target URL")
	// ErrBadConfig is returned when Config values are out of range or
	// conflict; the message names the field.
	ErrBadConfig = errors.New("bench: invalid configuration")
	// ErrHandshake is returned when the server does not answer the upgrade
	// with a valid 101 Switching Protocols.
	ErrHandshake = errors.New("bench: WebSocket handshake failed")
	// ErrProtocol is returned when the server sends something RFC 6455
	// forbids to a client (a masked frame, a bad length, an oversized frame).
	ErrProtocol = errors.New("bench: protocol violation by server")
	// ErrEchoMismatch is returned when an echoed message differs from the
	// one sent.
	ErrEchoMismatch = errors.New("bench: echo differs from the message sent")
	// ErrBroadcastPayload is returned when a broadcast message is not one
	// the publisher sent: no "B<seq>:<nanos>:" header, or a wrong size.
	ErrBroadcastPayload = errors.New("bench: malformed broadcast message")
	// ErrPeerClosed is returned when the server closed a connection the
	// scenario still needed.
	ErrPeerClosed = errors.New("bench: connection closed by server")
	// ErrTimeout is returned when a connection did not finish its handshake
	// in time.
	ErrTimeout = errors.New("bench: handshake timed out")
	// ErrConnClosed is returned by Conn.Send on a connection that is not
	// open (still upgrading, closing or closed).
	ErrConnClosed = errors.New("bench: connection not open")
	// ErrClientClosed is returned by calls on a Client after Close.
	ErrClientClosed = errors.New("bench: client closed")
	// ErrNoProcess is returned when the server process does not exist or
	// exited before it was ready.
	ErrNoProcess = errors.New("bench: server process not running")
	// ErrProcfs is returned when a /proc file cannot be parsed.
	ErrProcfs = errors.New("bench: cannot parse procfs")
)
