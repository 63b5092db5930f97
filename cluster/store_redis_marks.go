package cluster

import (
	"math"
	"sync"
)

// maxWriteMarks bounds the writes a node remembers until its cache shows
// them; past it the oldest table's marks are forgotten (its next reads may
// briefly be the cached, older state, as before a mark existed).
const maxWriteMarks = 4096

// markDeleted is the mark of a record this node deleted.
const markDeleted = math.MaxUint64

// writeMarks gives a node read-your-writes over the client-side cache.
// Redis invalidates a cached record when anyone writes it, but the
// invalidation arrives on its own, a moment after the write's reply: a
// read right after a write could still get the old copy. So the store
// remembers the version each of its own writes made, and a cached read
// that is older goes to Redis instead; the mark goes once the cache
// caught up. Safe for concurrent use; mu guards the maps.
type writeMarks struct {
	mu     sync.Mutex
	tables map[string]map[string]uint64 // table -> key -> version written (markDeleted: deleted)
	order  []string                     // tables in the order they got marks, for the bound
	n      int                          // marks held
}

// set records that this node wrote version v of table/key.
func (w *writeMarks) set(table, key string, v uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tables == nil {
		w.tables = make(map[string]map[string]uint64)
	}
	t := w.tables[table]
	if t == nil {
		t = make(map[string]uint64)
		w.tables[table] = t
		w.order = append(w.order, table)
	}
	if _, ok := t[key]; !ok {
		w.n++
	}
	t[key] = v
	for w.n > maxWriteMarks && len(w.order) > 1 {
		oldest := w.order[0]
		w.order = w.order[1:]
		w.n -= len(w.tables[oldest])
		delete(w.tables, oldest)
	}
}

// fresh reports whether a cached read of table/key is at least as new as
// this node's last write of it (found: the cache had the record, at
// version v), and forgets the mark once it is.
func (w *writeMarks) fresh(table, key string, found bool, v uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tables[table]
	mark, ok := t[key]
	if !ok {
		return true
	}
	caughtUp := (mark == markDeleted && !found) || (mark != markDeleted && found && v >= mark)
	if caughtUp {
		delete(t, key)
		w.n--
	}
	return caughtUp
}

// freshTable reports whether a cached copy of a whole table (records by
// key) shows every write this node made to it, forgetting the marks it
// shows.
func (w *writeMarks) freshTable(table string, recs map[string]uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	all := true
	for key, mark := range w.tables[table] {
		v, found := recs[key]
		if (mark == markDeleted && !found) || (mark != markDeleted && found && v >= mark) {
			delete(w.tables[table], key)
			w.n--
			continue
		}
		all = false
	}
	return all
}
