package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Position is where a publication sits in its channel's history. Offsets
// start at 1 and grow by one with each publication, with no gaps. Epoch
// names one lifetime of the history: when a broker loses it (an in-memory
// broker restarts, Redis comes back empty), the epoch changes, so a client
// holding an old position learns that it cannot be recovered.
type Position struct {
	Epoch  string // opaque, without '-'
	Offset uint64
}

// String formats the position as the messageId clients see: "<epoch>-<offset>".
func (p Position) String() string {
	return p.Epoch + "-" + strconv.FormatUint(p.Offset, 10)
}

// IsZero reports whether the position is unset.
func (p Position) IsZero() bool { return p.Epoch == "" && p.Offset == 0 }

// ParsePosition parses a messageId made by Position.String: an epoch
// without '-', a '-', then a decimal offset of at least 1.
func ParsePosition(s string) (Position, error) {
	i := strings.IndexByte(s, '-')
	if i <= 0 || strings.IndexByte(s[i+1:], '-') >= 0 {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	off, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil || off == 0 {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	return Position{Epoch: s[:i], Offset: off}, nil
}

// Publication is one message of a channel, as stored and delivered.
type Publication struct {
	Channel string
	Position
	Data []byte    // the message, opaque to the broker; shared, never modified
	Time time.Time // when the broker accepted it
	// Pending marks a publication the broker could not store yet (Redis
	// is unreachable): it was delivered to this node's subscribers only,
	// and waits in the node's outbox to be stored and sent to the other
	// nodes. Its Position is provisional, in an epoch no history has, so
	// a client resuming from it gets recovered:false and a snapshot.
	Pending bool

	origin string // the node that replayed it from its outbox ("-": none)
}

// PublishOptions vary one Publish call.
type PublishOptions struct {
	// IdempotencyKey makes a retried publish return the first one's
	// publication instead of appending a duplicate, for IdempotencyWindow.
	IdempotencyKey string
}

// HistoryResult is what History found after a position.
type HistoryResult struct {
	Publications []Publication // after since, oldest first, at most the limit asked for
	Top          Position      // the channel's latest position when read (offset 0: empty)
	// Recovered is false when the history no longer reaches back to since
	// (trimmed by age or size, or another epoch): the caller must send a
	// fresh snapshot instead of a partial replay. Publications is then
	// empty, unless since is of another epoch and the channel's current
	// history is held from its start: then it is that whole history.
	Recovered bool
}

// Handler receives the publications of the channels this node subscribed
// to, in offset order per channel, one at a time per channel. It must not
// block: hand the work to the engine's asynchronous API.
type Handler func(pub Publication)

// Broker moves publications between the nodes of a cluster and keeps each
// channel's recent history for recovery. Implementations are safe for
// concurrent use.
type Broker interface {
	// Publish appends data to the channel's history and delivers it to every
	// node subscribed to the channel (this one included), once and in
	// order. It returns the publication as stored.
	Publish(ctx context.Context, channel string, data []byte, opts PublishOptions) (Publication, error)

	// Subscribe asks for deliveries of channel to this node's Handler. Calls
	// are reference counted: the node stays subscribed until as many
	// Unsubscribe calls were made.
	Subscribe(ctx context.Context, channel string) error
	Unsubscribe(ctx context.Context, channel string) error

	// Recover reads the history after since (an unset since reads nothing
	// and returns only the top) and calls fn with it while deliveries of the
	// channel to this node are held back: every publication is then either
	// in the result (offset <= Top.Offset) or delivered to the Handler after
	// fn returns. fn must not block.
	Recover(ctx context.Context, channel string, since Position, limit int, fn func(HistoryResult)) error

	// Close releases the broker's resources; later calls fail with ErrClosed.
	Close() error
}

// Errors returned by brokers.
var (
	ErrClosed      = errors.New("cluster: broker closed")
	ErrBadPosition = errors.New("cluster: malformed message id")
	ErrBadChannel  = errors.New("cluster: invalid channel name")
)

// validChannel rejects names a broker could not store safely.
func validChannel(ch string) error {
	if ch == "" || len(ch) > 255 {
		return fmt.Errorf("%w: %q", ErrBadChannel, ch)
	}
	for i := 0; i < len(ch); i++ {
		if c := ch[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("%w: %q", ErrBadChannel, ch)
		}
	}
	return nil
}
