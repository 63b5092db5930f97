package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"
)

// Outbox defaults.
const (
	DefaultOutboxMessages = 10000
	DefaultOutboxBytes    = 64 << 20
	outboxRetryMin        = 100 * time.Millisecond
	outboxRetryMax        = time.Second
)

// ErrOutboxFull is returned when Redis is unreachable and the outbox holds
// as much as it may: the publication was neither stored nor delivered.
var ErrOutboxFull = errors.New("cluster: Redis unavailable and the outbox is full")

// outbox holds the publications a node accepted while Redis was
// unreachable, in order, until its replay goroutine has stored them.
// Bounded by count and bytes. The replay goroutine (one at most, started
// when the outbox fills from empty) is owned by the broker: Close ends it
// and drops what is left, which the log and the metric tell.
type outbox struct {
	b        *RedisBroker
	id       string // this node's origin mark on replays, and its pending epoch
	maxItems int
	maxBytes int

	mu      sync.Mutex // guards the fields below
	items   []outboxItem
	bytes   int
	seq     uint64 // provisional offsets of pending publications
	running bool   // the replay goroutine is on
	done    chan struct{}
	// stored maps a replayed publication's provisional position to the
	// one Redis gave it, so a client of this node resuming from the
	// provisional messageId it got recovers exactly. Cleared when it
	// reaches twice maxItems: an older provisional id then resyncs.
	stored map[Position]Position
}

type outboxItem struct {
	ch, idem string
	data     []byte
	pos      Position // provisional
}

func newOutbox(b *RedisBroker, maxItems, maxBytes int) *outbox {
	var r [6]byte
	_, _ = rand.Read(r[:])
	return &outbox{b: b, id: "q" + hex.EncodeToString(r[:]), maxItems: maxItems, maxBytes: maxBytes,
		done: make(chan struct{}), stored: make(map[Position]Position)}
}

// notSent reports whether err proves the publish never reached Redis: the
// breaker refused it, or no connection could be made. Anything else (a
// timeout, a connection lost mid-call) may have been applied, so it is
// returned to the caller rather than queued and risk a repeat.
func notSent(err error) bool {
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// queueBehind queues the publication when the outbox is not empty, so it
// keeps its place behind the ones waiting; ok is false when the outbox is
// empty and the caller should publish to Redis.
func (o *outbox) queueBehind(ch string, data []byte, idem string) (Publication, bool, error) {
	o.mu.Lock()
	if len(o.items) == 0 {
		o.mu.Unlock()
		return Publication{}, false, nil
	}
	p, err := o.addLocked(ch, data, idem, ErrUnavailable)
	o.mu.Unlock()
	if err == nil {
		o.b.deliverPending(p)
	}
	return p, true, err
}

// queue adds a publication that Redis did not take (cause) and delivers it
// to this node's subscribers.
func (o *outbox) queue(ch string, data []byte, idem string, cause error) (Publication, error) {
	o.mu.Lock()
	p, err := o.addLocked(ch, data, idem, cause)
	o.mu.Unlock()
	if err == nil {
		o.b.deliverPending(p)
	}
	return p, err
}

// addLocked appends an item and starts the replay when needed. o.mu is held.
func (o *outbox) addLocked(ch string, data []byte, idem string, cause error) (Publication, error) {
	if len(o.items) >= o.maxItems || o.bytes+len(data) > o.maxBytes {
		return Publication{}, errors.Join(ErrOutboxFull, cause)
	}
	select {
	case <-o.done:
		return Publication{}, ErrClosed
	default:
	}
	o.seq++
	if idem == "" {
		// A replay that times out is retried; the key makes the retry
		// return the first attempt's publication instead of a repeat.
		idem = o.id + "-" + strconv.FormatUint(o.seq, 10)
	}
	pos := Position{Epoch: o.id, Offset: o.seq}
	o.items = append(o.items, outboxItem{ch: ch, idem: idem, data: data, pos: pos})
	o.bytes += len(data)
	if !o.running {
		o.running = true
		o.b.wg.Add(1)
		go o.replay()
	}
	return Publication{
		Channel: ch, Position: pos, Data: data, Time: time.Now(), Pending: true,
	}, nil
}

// replay stores the queued publications in order, retrying with backoff
// (the breaker answers at once while open, so a retry is cheap) until the
// outbox is empty or the broker closes.
func (o *outbox) replay() {
	defer o.b.wg.Done()
	wait := outboxRetryMin
	for {
		o.mu.Lock()
		if len(o.items) == 0 {
			o.running = false
			o.mu.Unlock()
			return
		}
		it := o.items[0]
		o.mu.Unlock()
		p, err := o.b.publishNow(context.Background(), it.ch, it.data, it.idem, o.id)
		if err != nil {
			select {
			case <-o.done:
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, outboxRetryMax)
			continue
		}
		wait = outboxRetryMin
		o.mu.Lock()
		o.items[0] = outboxItem{}
		o.items = o.items[1:]
		o.bytes -= len(it.data)
		if len(o.stored) >= 2*o.maxItems {
			clear(o.stored)
		}
		o.stored[it.pos] = p.Position
		o.mu.Unlock()
	}
}

// resolve returns the stored position of a replayed provisional one, or
// pos unchanged.
func (o *outbox) resolve(pos Position) Position {
	if pos.Epoch != o.id {
		return pos
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if real, ok := o.stored[pos]; ok {
		return real
	}
	return pos
}

// len returns how many publications wait.
func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// close ends the replay and returns how many publications were dropped.
func (o *outbox) close() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.done)
	n := len(o.items)
	o.items, o.bytes = nil, 0
	return n
}
