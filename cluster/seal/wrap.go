package seal

import (
	"context"
	"errors"
	"fmt"

	"github.com/bellhop/bellhop/cluster"
)

// Broker seals publications on their way into a cluster.Broker and opens
// them on the way out (Recover); pair it with Handler for deliveries. The
// channel name is the associated data, so a record moved to another
// channel does not open.
type Broker struct {
	cluster.Broker
	Keys *Keyring
}

// Publish implements cluster.Broker.
func (b *Broker) Publish(ctx context.Context, ch string, data []byte, opts cluster.PublishOptions) (cluster.Publication, error) {
	p, err := b.Broker.Publish(ctx, ch, b.Keys.Seal(data, []byte(ch)), opts)
	p.Data = data
	return p, err
}

// Recover implements cluster.Broker: fn gets the history opened. A record
// that does not open (a retired key, tampering) fails the recovery, which
// the client sees as UNAVAILABLE: never a silent gap.
func (b *Broker) Recover(ctx context.Context, ch string, since cluster.Position, limit int, fn func(cluster.HistoryResult)) error {
	var openErr error
	err := b.Broker.Recover(ctx, ch, since, limit, func(res cluster.HistoryResult) {
		pubs := make([]cluster.Publication, len(res.Publications))
		for i, p := range res.Publications {
			plain, err := b.Keys.Open(p.Data, []byte(p.Channel))
			if err != nil {
				openErr = fmt.Errorf("seal: history of %s at %s: %w", ch, p.Position, err)
				return
			}
			p.Data = plain
			pubs[i] = p
		}
		res.Publications = pubs
		fn(res)
	})
	if err == nil {
		err = openErr
	}
	return err
}

// Handler returns a cluster.Handler that opens each delivery and hands it
// to h; one that does not open goes to bad (for a log line and a metric).
func Handler(keys *Keyring, h cluster.Handler, bad func(p cluster.Publication, err error)) cluster.Handler {
	return func(p cluster.Publication) {
		plain, err := keys.Open(p.Data, []byte(p.Channel))
		if err != nil {
			if bad != nil {
				bad(p, err)
			}
			return
		}
		p.Data = plain
		h(p)
	}
}

// Store seals record values on their way into a cluster.Store and opens
// them on the way out. The table and key are the associated data.
type Store struct {
	cluster.Store
	Keys *Keyring
}

func aad(table, key string) []byte { return []byte(table + "\x00" + key) }

func (s *Store) open(table string, rec cluster.Record) (cluster.Record, error) {
	plain, err := s.Keys.Open(rec.Value, aad(table, rec.Key))
	if err != nil {
		return cluster.Record{}, fmt.Errorf("seal: record %s/%s: %w", table, rec.Key, err)
	}
	rec.Value = plain
	return rec, nil
}

// Get implements cluster.Store.
func (s *Store) Get(ctx context.Context, table, key string) (cluster.Record, error) {
	rec, err := s.Store.Get(ctx, table, key)
	if err != nil {
		return rec, err
	}
	return s.open(table, rec)
}

// List implements cluster.Store.
func (s *Store) List(ctx context.Context, table string) ([]cluster.Record, error) {
	recs, err := s.Store.List(ctx, table)
	if err != nil {
		return nil, err
	}
	out := make([]cluster.Record, len(recs))
	for i, rec := range recs {
		if out[i], err = s.open(table, rec); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Put implements cluster.Store; a conflict's current record is opened too.
func (s *Store) Put(ctx context.Context, table, key string, value []byte, expect uint64) (cluster.Record, error) {
	rec, err := s.Store.Put(ctx, table, key, s.Keys.Seal(value, aad(table, key)), expect)
	if err == nil {
		rec.Value = value
	}
	return rec, s.openConflict(table, err)
}

// Delete implements cluster.Store; a conflict's current record is opened.
func (s *Store) Delete(ctx context.Context, table, key string, expect uint64) error {
	return s.openConflict(table, s.Store.Delete(ctx, table, key, expect))
}

// openConflict returns err with a conflict's current record opened, so no
// sealed bytes leave the store; when it does not open, that error.
func (s *Store) openConflict(table string, err error) error {
	var ce *cluster.ConflictError
	if !errors.As(err, &ce) || ce.Current.Value == nil {
		return err
	}
	cur, oerr := s.open(table, ce.Current)
	if oerr != nil {
		return oerr
	}
	return &cluster.ConflictError{Current: cur}
}
