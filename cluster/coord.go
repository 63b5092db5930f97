package cluster

import (
	"context"
	"time"
)

// Coordinator keeps what the nodes of a cluster share besides messages and
// records: presence (entries that vanish unless refreshed, so a node that
// dies drops out by itself), leases (one holder at a time, expiring, so a
// job owned by a dead node is taken over) and durable deadlines (so a timer
// set on one node still fires when that node is gone).
// Implementations are safe for concurrent use.
type Coordinator interface {
	// SetPresence stores or refreshes entry key of group for ttl.
	SetPresence(ctx context.Context, group, key string, value []byte, ttl time.Duration) error
	// RemovePresence drops entry key of group at once.
	RemovePresence(ctx context.Context, group, key string) error
	// Presence returns group's live entries (Record.Version is unused).
	Presence(ctx context.Context, group string) ([]Record, error)

	// Lease takes the named lease for holder, or extends it when holder
	// holds it already, for ttl. It reports whether holder holds it now.
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder holds it.
	ReleaseLease(ctx context.Context, name, holder string) error

	// Schedule sets deadline key to fall due at at, replacing an earlier one.
	Schedule(ctx context.Context, key string, at time.Time) error
	// Due returns up to limit keys due at now, earliest first.
	Due(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Claim takes a due deadline for handling: when key is due at now it is
	// pushed back to retry (so no other node takes it meanwhile, and it
	// comes due again if the claimer dies) and Claim reports true. The
	// claimer cancels the deadline when done.
	Claim(ctx context.Context, key string, now, retry time.Time) (bool, error)
	// Cancel drops deadline key.
	Cancel(ctx context.Context, key string) error
}
