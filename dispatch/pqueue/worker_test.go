package pqueue

import (
	"fmt"
	"strings"
	"testing"
)

// item is a test work item: its priority and a sequence number.
type item struct {
	prio Priority
	n    int
}

func (it item) String() string { return fmt.Sprintf("%c%d", it.prio.String()[0], it.n) }

// trace records the items a worker runs, in order.
type trace []item

func (tr trace) String() string {
	var b strings.Builder
	for _, it := range tr {
		b.WriteByte(it.prio.String()[0])
	}
	return b.String()
}

func fill(t *testing.T, p *Pool[item], prio Priority, n int) {
	t.Helper()
	for i := range n {
		mustSubmit(t, p, 0, prio, item{prio, i})
	}
}

// TestTurnOrder drives one worker turn by turn and checks which priorities
// run in which order.
func TestTurnOrder(t *testing.T) {
	cases := []struct {
		name         string
		high, med    int // items queued before the first turn
		low          int
		hb, mb, lb   int // bursts
		turns        []string
		wantLastTurn int // items the last turn runs
	}{
		{"all_fit", 3, 3, 3, 8, 8, 8, []string{"HHHMMMLLL", ""}, 0},
		{"medium_burst", 1, 5, 1, 8, 2, 8, []string{"HMML", "MM", "M", ""}, 0},
		{"low_burst", 0, 0, 5, 8, 8, 2, []string{"LL", "LL", "L", ""}, 0},
		{"high_burst", 5, 1, 1, 2, 8, 8, []string{"HHML", "HH", "H", ""}, 0},
		{"only_high", 4, 0, 0, 8, 8, 8, []string{"HHHH", ""}, 0},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			var tr trace
			p, w := newTestWorker(t, Config{HighBurst: c.hb, MediumBurst: c.mb, LowBurst: c.lb},
				func(it item) { tr = append(tr, it) })
			fill(t, p, Low, c.low)
			fill(t, p, Medium, c.med)
			fill(t, p, High, c.high)
			for i, want := range c.turns {
				tr = tr[:0]
				n := w.turn()
				if got := tr.String(); got != want || n != len(want) {
					t.Fatalf("turn %d: ran %q (n=%d), want %q", i, got, n, want)
				}
			}
		})
	}
}

// TestTurnPerLaneFIFO checks that each lane keeps submission order.
func TestTurnPerLaneFIFO(t *testing.T) {
	var tr trace
	p, w := newTestWorker(t, Config{HighBurst: 3, MediumBurst: 2, LowBurst: 1},
		func(it item) { tr = append(tr, it) })
	for _, prio := range []Priority{Low, High, Medium} {
		fill(t, p, prio, 10)
	}
	for w.turn() > 0 {
	}
	next := [NumPriorities]int{}
	for _, it := range tr {
		requireEqual(t, "item "+it.String(), it.n, next[it.prio])
		next[it.prio]++
	}
	requireEqual(t, "ran", next, [NumPriorities]int{10, 10, 10})
}

// TestTurnHighPreempts checks that a HIGH item submitted while MEDIUM or
// LOW items run goes before the next of them.
func TestTurnHighPreempts(t *testing.T) {
	var tr trace
	var p *Pool[item]
	p, w := newTestWorker(t, Config{HighBurst: 8, MediumBurst: 8, LowBurst: 8}, func(it item) {
		tr = append(tr, it)
		if it.prio != High && it.n == 0 {
			mustSubmit(t, p, 0, High, item{High, 100 + int(it.prio)})
		}
	})
	fill(t, p, Medium, 2)
	fill(t, p, Low, 2)
	w.turn()
	requireEqual(t, "trace", tr.String(), "MHMLHL")
}

// TestStarvationBoundHighFlood keeps HIGH non-empty for ever (every HIGH
// item queues another) and checks that MEDIUM and LOW items still run
// within the documented bound of (⌊n/burst⌋ + 2) × B items.
func TestStarvationBoundHighFlood(t *testing.T) {
	const hb, mb, lb = 16, 4, 2
	const b = hb + mb + lb
	const nMed, nLow = 10, 5
	var tr trace
	var p *Pool[item]
	p, w := newTestWorker(t, Config{HighBurst: hb, MediumBurst: mb, LowBurst: lb, HighCapacity: 64},
		func(it item) {
			tr = append(tr, it)
			if it.prio == High {
				mustSubmit(t, p, 0, High, item{High, it.n + 1})
			}
		})
	fill(t, p, High, 32)
	fill(t, p, Medium, nMed)
	fill(t, p, Low, nLow)
	for range 10 {
		w.turn()
	}
	ran := [NumPriorities]int{}
	for idx, it := range tr {
		burst := []int{hb, mb, lb}[it.prio]
		if it.prio != High {
			// it.n items of its priority were ahead of it.
			if bound := (it.n/burst + 2) * b; idx > bound {
				t.Fatalf("%v ran after %d items, bound %d", it, idx, bound)
			}
		}
		ran[it.prio]++
	}
	requireEqual(t, "medium ran", ran[Medium], nMed)
	requireEqual(t, "low ran", ran[Low], nLow)
	// The first turn is exactly HighBurst HIGH, then the MEDIUM and LOW bursts.
	requireEqual(t, "first turn", tr[:b].String(), strings.Repeat("H", hb)+"MMMMLL")
}

// TestStarvationBoundHigh checks the HIGH bound in its worst case: HIGH
// items arrive while a MEDIUM item runs after the turn's HighBurst is used
// up, with MEDIUM and LOW saturated. A HIGH item with n HIGH items ahead
// must run after at most n + 1 + (⌊n/HighBurst⌋ + 1) × (MediumBurst +
// LowBurst) items counted from its arrival.
func TestStarvationBoundHigh(t *testing.T) {
	const hb, mb, lb, nHigh = 4, 3, 2, 13
	var tr trace
	var p *Pool[item]
	arrival := -1
	p, w := newTestWorker(t, Config{HighBurst: hb, MediumBurst: mb, LowBurst: lb}, func(it item) {
		tr = append(tr, it)
		if it.prio == High {
			return
		}
		mustSubmit(t, p, 0, it.prio, item{it.prio, it.n + 100}) // keep saturated
		if arrival < 0 {
			arrival = len(tr) - 1 // this MEDIUM item is the one running
			fill(t, p, High, nHigh)
		}
	})
	fill(t, p, High, hb) // use up the first turn's HIGH budget
	fill(t, p, Medium, 10)
	fill(t, p, Low, 10)
	for range 10 {
		w.turn()
	}
	requireEqual(t, "arrival", arrival, hb)
	seen, slack := 0, 1<<30
	for idx, it := range tr[arrival:] {
		if it.prio != High {
			continue
		}
		bound := it.n + 1 + (it.n/hb+1)*(mb+lb)
		if idx > bound {
			t.Fatalf("%v ran %d items after its arrival, bound %d", it, idx, bound)
		}
		slack = min(slack, bound-idx)
		seen++
	}
	requireEqual(t, "high ran", seen, nHigh)
	t.Logf("closest any HIGH item came to the bound: %d items", slack)
}

// TestPanicRecovered checks that a panicking handler is counted, reported
// through OnPanic with a stack, and does not stop the worker.
func TestPanicRecovered(t *testing.T) {
	var got []any
	var stack []byte
	var ran []int
	cfg := Config{OnPanic: func(r any, s []byte) { got = append(got, r); stack = s }}
	p, w := newTestWorker(t, cfg, func(n int) {
		if n%2 == 1 {
			panic(fmt.Sprintf("boom %d", n))
		}
		ran = append(ran, n)
	})
	for n := range 4 {
		mustSubmit(t, p, 0, Medium, n)
	}
	requireEqual(t, "turn", w.turn(), 4)
	requireEqual(t, "ran", fmt.Sprint(ran), "[0 2]")
	requireEqual(t, "recovered", fmt.Sprint(got), "[boom 1 boom 3]")
	if !strings.Contains(string(stack), "TestPanicRecovered") {
		t.Fatalf("stack does not show the handler:\n%s", stack)
	}
	st := p.Stats(Medium)
	requireEqual(t, "stats", st, Stats{Submitted: 4, Executed: 4, Panicked: 2})
}

// TestPanicWithoutHook checks that a nil OnPanic only counts.
func TestPanicWithoutHook(t *testing.T) {
	p, w := newTestWorker(t, Config{}, func(int) { panic("boom") })
	mustSubmit(t, p, 0, Low, 1)
	requireEqual(t, "turn", w.turn(), 1)
	requireEqual(t, "panicked", p.Stats(Low).Panicked, uint64(1))
}
