package cluster

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryCoordinator is the Coordinator of a single node: presence, leases
// and deadlines in this process's memory.
type MemoryCoordinator struct {
	now func() time.Time

	mu        sync.Mutex                        // guards the maps
	presence  map[string]map[string]presenceRec // group -> key -> entry
	leases    map[string]lease
	deadlines map[string]time.Time
}

type presenceRec struct {
	value   []byte
	expires time.Time
}

type lease struct {
	holder  string
	expires time.Time
}

// NewMemoryCoordinator returns an empty coordinator; now is its clock for
// presence and lease expiry (nil: time.Now).
func NewMemoryCoordinator(now func() time.Time) *MemoryCoordinator {
	if now == nil {
		now = time.Now
	}
	return &MemoryCoordinator{
		now:       now,
		presence:  make(map[string]map[string]presenceRec),
		leases:    make(map[string]lease),
		deadlines: make(map[string]time.Time),
	}
}

// SetPresence implements Coordinator.
func (m *MemoryCoordinator) SetPresence(_ context.Context, group, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.presence[group]
	if g == nil {
		g = make(map[string]presenceRec)
		m.presence[group] = g
	}
	g[key] = presenceRec{value: slices.Clone(value), expires: m.now().Add(ttl)}
	return nil
}

// RemovePresence implements Coordinator.
func (m *MemoryCoordinator) RemovePresence(_ context.Context, group, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.presence[group], key)
	if len(m.presence[group]) == 0 {
		delete(m.presence, group)
	}
	return nil
}

// Presence implements Coordinator; expired entries are dropped on the way.
func (m *MemoryCoordinator) Presence(_ context.Context, group string) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := []Record{}
	for k, e := range m.presence[group] {
		if !now.Before(e.expires) {
			delete(m.presence[group], k)
			continue
		}
		out = append(out, Record{Key: k, Value: e.value})
	}
	return out, nil
}

// Lease implements Coordinator.
func (m *MemoryCoordinator) Lease(_ context.Context, name, holder string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if l, ok := m.leases[name]; ok && l.holder != holder && now.Before(l.expires) {
		return false, nil
	}
	m.leases[name] = lease{holder: holder, expires: now.Add(ttl)}
	return true, nil
}

// ReleaseLease implements Coordinator.
func (m *MemoryCoordinator) ReleaseLease(_ context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[name].holder == holder {
		delete(m.leases, name)
	}
	return nil
}

// Schedule implements Coordinator.
func (m *MemoryCoordinator) Schedule(_ context.Context, key string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deadlines[key] = at
	return nil
}

// Due implements Coordinator.
func (m *MemoryCoordinator) Due(_ context.Context, now time.Time, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type due struct {
		key string
		at  time.Time
	}
	var list []due
	for k, at := range m.deadlines {
		if !at.After(now) {
			list = append(list, due{k, at})
		}
	}
	slices.SortFunc(list, func(a, b due) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	out := make([]string, 0, min(limit, len(list)))
	for _, d := range list[:min(limit, len(list))] {
		out = append(out, d.key)
	}
	return out, nil
}

// Claim implements Coordinator.
func (m *MemoryCoordinator) Claim(_ context.Context, key string, now, retry time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.deadlines[key]
	if !ok || at.After(now) {
		return false, nil
	}
	m.deadlines[key] = retry
	return true, nil
}

// Cancel implements Coordinator.
func (m *MemoryCoordinator) Cancel(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.deadlines, key)
	return nil
}
