package cluster

import (
	"strconv"
	"testing"
)

func TestWriteMarks(t *testing.T) {
	var w writeMarks
	w.set("rooms", "101", 3)
	w.set("rooms", "102", markDeleted)
	steps := []struct {
		name         string
		key          string
		found        bool
		version      uint64
		fresh        bool
		marksAfterwd int
	}{
		{"unmarked key", "999", true, 1, true, 2},
		{"older cached copy", "101", true, 2, false, 2},
		{"cache lost the record", "101", false, 0, false, 2},
		{"cache caught up", "101", true, 3, true, 1},
		{"deleted, cache still has it", "102", true, 5, false, 1},
		{"deleted, cache agrees", "102", false, 0, true, 0},
	}
	for _, st := range steps {
		if got := w.fresh("rooms", st.key, st.found, st.version); got != st.fresh || w.n != st.marksAfterwd {
			t.Fatalf("%s: fresh %v with %d marks, want %v with %d", st.name, got, w.n, st.fresh, st.marksAfterwd)
		}
	}
	w.set("rooms", "101", 4)
	w.set("rooms", "103", markDeleted)
	if w.freshTable("rooms", map[string]uint64{"101": 3, "103": 1}) {
		t.Fatal("a table copy missing two writes counted as fresh")
	}
	if !w.freshTable("rooms", map[string]uint64{"101": 4}) || w.n != 0 {
		t.Fatalf("a table copy showing every write: %d marks left", w.n)
	}
	if len(w.tables) != 0 || len(w.order) != 0 {
		t.Fatalf("a table without marks is kept: %v %v", w.tables, w.order)
	}
}

func TestWriteMarksBound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tables int // writes spread round-robin over this many tables
	}{{"three_tables", 3}, {"one_table", 1}, {"a_table_each", maxWriteMarks + 10}} {
		var w writeMarks
		for i := range maxWriteMarks + 10 {
			w.set("t"+strconv.Itoa(i%tc.tables), strconv.Itoa(i), 1)
		}
		if w.n > maxWriteMarks || w.n != countMarks(&w) || len(w.order) != len(w.tables) {
			t.Fatalf("%s: %d marks held (counted %d) in %d tables (%d in order), bound %d",
				tc.name, w.n, countMarks(&w), len(w.tables), len(w.order), maxWriteMarks)
		}
	}
}

func countMarks(w *writeMarks) int {
	n := 0
	for _, t := range w.tables {
		n += len(t)
	}
	return n
}
