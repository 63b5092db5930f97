package pqueue

import "testing"

// FuzzRing runs a sequence of push (even byte) and pop (odd byte)
// operations against a slice model of a bounded FIFO queue.
func FuzzRing(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 1, 1, 1, 0, 1})
	f.Add(uint8(0), []byte{0, 1, 0, 1})
	f.Add(uint8(4), []byte{0, 2, 4, 6, 8, 1, 3, 0, 0, 5, 7, 9, 11})
	f.Fuzz(func(t *testing.T, logCap uint8, ops []byte) {
		capacity := 2 << (logCap % 7)
		r := newRing[int](capacity)
		var model []int
		for i, op := range ops {
			if op%2 == 0 {
				ok := r.push(i)
				if ok != (len(model) < capacity) {
					t.Fatalf("op %d: push = %v with %d of %d queued", i, ok, len(model), capacity)
				}
				if ok {
					model = append(model, i)
				}
				continue
			}
			v, ok := r.pop()
			if ok != (len(model) > 0) || (ok && v != model[0]) {
				t.Fatalf("op %d: pop = %d, %v; model %v", i, v, ok, model)
			}
			if ok {
				model = model[1:]
			}
			if r.empty() != (len(model) == 0) {
				t.Fatalf("op %d: empty = %v with %d queued", i, r.empty(), len(model))
			}
		}
	})
}

// FuzzParsePriority checks that ParsePriority accepts exactly the three
// wire names and that accepted names round-trip through String.
func FuzzParsePriority(f *testing.F) {
	for _, s := range []string{"HIGH", "MEDIUM", "LOW", "high", "", "Priority(3)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePriority(s)
		if err != nil {
			if s == "HIGH" || s == "MEDIUM" || s == "LOW" {
				t.Fatalf("ParsePriority(%q) refused a wire name: %v", s, err)
			}
			return
		}
		if !p.Valid() || p.String() != s {
			t.Fatalf("ParsePriority(%q) = %v, which prints as %q", s, p, p.String())
		}
	})
}
