package cluster

import (
	"context"
	"errors"
)

// Record is a versioned value in a Store table. Versions start at 1 and grow
// by one with every write, so a reader can tell which of two states is newer
// and a writer can update only the state it read.
type Record struct {
	Key     string
	Value   []byte // opaque to the store; shared, never modified
	Version uint64
}

// Store keeps the service's shared state (room boards, service requests,
// the list of properties) as versioned records in named tables. Every
// write is a compare-and-set on the version, so two nodes (or two workers)
// never overwrite each other's change unseen. Implementations are safe for
// concurrent use.
type Store interface {
	// Get returns the record, or ErrNotFound.
	Get(ctx context.Context, table, key string) (Record, error)
	// List returns every record of the table, in no particular order.
	List(ctx context.Context, table string) ([]Record, error)
	// Put writes value if the record's version is still expect (0: the key
	// must not exist) and returns the record with its new version, or
	// ErrConflict with the current record.
	Put(ctx context.Context, table, key string, value []byte, expect uint64) (Record, error)
	// Delete removes the record if its version is still expect (0: any).
	Delete(ctx context.Context, table, key string, expect uint64) error
}

// Store errors.
var (
	ErrNotFound = errors.New("cluster: record not found")
	ErrConflict = errors.New("cluster: version conflict")
)

// ConflictError carries the current record with ErrConflict.
type ConflictError struct{ Current Record }

func (e *ConflictError) Error() string { return ErrConflict.Error() }
func (e *ConflictError) Unwrap() error { return ErrConflict }
