package engine

import "errors"

// Errors returned by the Server's API.
var (
	// ErrClosed is returned by asynchronous calls on a connection or server
	// that has closed.
	ErrClosed = errors.New("engine: closed")
	// ErrOverloaded is returned when an event loop's task queue is full; the
	// caller must not assume the message was delivered.
	ErrOverloaded = errors.New("engine: event loop queue full")
	// ErrNotStarted is returned by calls that need a running server.
	ErrNotStarted = errors.New("engine: server not started")
)
