package cluster

import (
	"context"
	"sync"
)

// MemoryStore is the Store of a single node, in process memory. Safe for
// concurrent use: one mutex guards all tables, held only for map access.
type MemoryStore struct {
	mu     sync.RWMutex
	tables map[string]map[string]Record
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{tables: make(map[string]map[string]Record)}
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, table, key string) (Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.tables[table][key]
	if !ok {
		return Record{}, ErrNotFound
	}
	return r, nil
}

// List implements Store.
func (s *MemoryStore) List(_ context.Context, table string) ([]Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[table]
	out := make([]Record, 0, len(t))
	for _, r := range t {
		out = append(out, r)
	}
	return out, nil
}

// Put implements Store.
func (s *MemoryStore) Put(_ context.Context, table, key string, value []byte, expect uint64) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[table]
	if t == nil {
		t = make(map[string]Record)
		s.tables[table] = t
	}
	cur, ok := t[key]
	if cur.Version != expect || (!ok && expect != 0) {
		return Record{}, &ConflictError{Current: cur}
	}
	r := Record{Key: key, Value: value, Version: cur.Version + 1}
	t[key] = r
	return r, nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, table, key string, expect uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[table]
	cur, ok := t[key]
	if !ok {
		return ErrNotFound
	}
	if expect != 0 && cur.Version != expect {
		return &ConflictError{Current: cur}
	}
	delete(t, key)
	return nil
}
