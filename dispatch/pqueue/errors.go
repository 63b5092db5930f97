package pqueue

import "errors"

// Errors returned by Pool and ParsePriority. Submit returns the sentinels
// themselves (never wrapped), so the hot path does not allocate; compare
// with errors.Is all the same.
var (
	// ErrFull is the overflow policy of every lane: Submit refuses an item
	// whose lane (shard and priority) is at capacity and returns at once.
	// The item was not queued; the caller decides whether to reject the
	// request, degrade or retry later. Submit never blocks the caller.
	ErrFull = errors.New("pqueue: queue full")

	// ErrClosed is returned by Submit once Shutdown or Close has begun.
	ErrClosed = errors.New("pqueue: closed")

	// ErrPriority reports a Priority outside High, Medium and Low, or a
	// priority name other than "HIGH", "MEDIUM" and "LOW".
	ErrPriority = errors.New("pqueue: invalid priority")

	// ErrConfig is wrapped by every error New returns for a bad Config.
	ErrConfig = errors.New("pqueue: invalid config")
)
