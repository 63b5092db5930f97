package bench

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistIndexCoversValue(t *testing.T) {
	prev := -1
	check := func(v uint64) {
		t.Helper()
		i := histIndex(v)
		if i < prev {
			t.Fatalf("histIndex(%d) = %d, below the previous index %d: not monotonic", v, i, prev)
		}
		prev = i
		lo, w := histBounds(i)
		if i == histBuckets-1 && v >= lo {
			return // the last bucket also takes everything above it
		}
		if v < lo || v >= lo+w {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, i, lo, lo+w)
		}
		if i >= 2*histSub && float64(w)/float64(lo) > 1.0/histSub+1e-12 {
			t.Fatalf("bucket %d width %d over 1/%d of %d", i, w, histSub, lo)
		}
	}
	for v := uint64(0); v < 4096; v++ {
		check(v)
	}
	for v := uint64(4096); v < 1<<45; v += v/37 + 1 {
		check(v)
	}
	check(math.MaxUint64)
	if got := histIndex(math.MaxUint64); got != histBuckets-1 {
		t.Fatalf("histIndex(max) = %d, want last bucket %d", got, histBuckets-1)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{
		{0, 1 * time.Microsecond},
		{0.5, 5000 * time.Microsecond},
		{0.9, 9000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{1, 10000 * time.Microsecond},
		{2, 10000 * time.Microsecond}, // clamped to 1
	}
	for _, c := range cases {
		got := h.Quantile(c.q)
		if diff := math.Abs(float64(got-c.want)) / float64(c.want); diff > 1.0/histSub {
			t.Errorf("Quantile(%v) = %v, want %v within %.1f%%", c.q, got, c.want, 100.0/histSub)
		}
	}
	if got, want := h.Max(), 10000*time.Microsecond; got != want {
		t.Errorf("Max = %v, want %v", got, want)
	}
	if got, want := h.Mean(), 5000500*time.Nanosecond; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
	if got := h.Quantile(math.NaN()); got != 0 {
		t.Errorf("Quantile(NaN) = %v, want 0", got)
	}
	s := h.Summary()
	if s.Count != 10000 || s.P50 > s.P90 || s.P90 > s.P99 || s.P99 > s.P999 || s.P999 > s.Max {
		t.Errorf("Summary not ordered: %#v", s)
	}
}

func TestHistogramEdgeValues(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 || h.Count() != 0 {
		t.Fatalf("empty histogram not zero: %#v", h.Summary())
	}
	h.Record(-time.Second) // counts as 0
	h.Record(time.Hour)    // beyond the last bucket's start
	if got := h.Quantile(0.25); got != 0 {
		t.Errorf("Quantile(0.25) = %v, want 0", got)
	}
	if got := h.Quantile(1); got != time.Hour {
		t.Errorf("Quantile(1) = %v, want the exact max 1h", got)
	}
}

func TestHistogramMergeReset(t *testing.T) {
	var a, b Histogram
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	b.Record(5 * time.Millisecond)
	a.Merge(&b)
	if a.Count() != 3 || a.Max() != 5*time.Millisecond || a.Mean() != 3*time.Millisecond {
		t.Fatalf("after Merge: %#v", a.Summary())
	}
	b.Merge(&Histogram{}) // merging an empty one keeps the max
	if b.Max() != 5*time.Millisecond {
		t.Fatalf("Max after empty merge = %v", b.Max())
	}
	a.Reset()
	if a.Count() != 0 || a.Max() != 0 || a.Quantile(1) != 0 {
		t.Fatalf("after Reset: %#v", a.Summary())
	}
}

func TestHistogramConcurrentRecord(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.Count() != 4000 || h.Max() != 3999*time.Microsecond {
		t.Fatalf("count %d max %v, want 4000 and 3.999ms", h.Count(), h.Max())
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234 * time.Microsecond) }); n != 0 {
		t.Fatalf("Record allocates %v times, want 0", n)
	}
}
