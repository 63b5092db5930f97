package cluster

import (
	"math"
	"slices"
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
	for w.n > maxWriteMarks && len(w.order) > 0 { // the oldest table goes first; alone, it goes too
		w.drop(w.order[0])
	}
}

// caughtUp reports whether a cached read (found, at version v) shows the
// write a mark records.
func caughtUp(mark uint64, found bool, v uint64) bool {
	return (mark == markDeleted && !found) || (mark != markDeleted && found && v >= mark)
}

// forget removes the mark of table/key, and the table once it has none.
// w.mu is held.
func (w *writeMarks) forget(table, key string) {
	t := w.tables[table]
	delete(t, key)
	w.n--
	if len(t) == 0 {
		w.drop(table)
	}
}

// drop forgets every mark of table. w.mu is held.
func (w *writeMarks) drop(table string) {
	w.n -= len(w.tables[table])
	delete(w.tables, table)
	if i := slices.Index(w.order, table); i >= 0 {
		w.order = slices.Delete(w.order, i, i+1)
	}
}

// fresh reports whether a cached read of table/key is at least as new as
// this node's last write of it (found: the cache had the record, at
// version v), and forgets the mark once it is.
func (w *writeMarks) fresh(table, key string, found bool, v uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	mark, ok := w.tables[table][key]
	if !ok {
		return true
	}
	if !caughtUp(mark, found, v) {
		return false
	}
	w.forget(table, key)
	return true
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
		if caughtUp(mark, found, v) {
			w.forget(table, key) // deleting while ranging is allowed
			continue
		}
		all = false
	}
	return all
}
