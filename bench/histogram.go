package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram bucket layout: log-linear, as HdrHistogram does. Values below
// 2*histSub nanoseconds have a bucket each; above, every power of two is cut
// into histSub equal buckets, so a bucket is at most 1/histSub (1.6%) of its
// value wide. Values of 2^(histMaxBits+1) ns (~37 minutes) and more share the
// last bucket; Max stays exact.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histMaxBits = 40
	// histBuckets counts the buckets: 2*histSub exact ones, then histSub per
	// power of two up to 2^(histMaxBits+1).
	histBuckets = (histMaxBits-histSubBits)*histSub + 2*histSub
)

// Histogram records durations in fixed log-linear buckets. Record costs a few
// atomic adds and never allocates, so event loops and dial workers can all
// record into one Histogram concurrently. The zero value is ready to use.
//
// Reads (Quantile, Summary) are not atomic with respect to concurrent
// records: taken while recording goes on they are a close approximation,
// taken after it stopped they are exact up to the bucket width.
type Histogram struct {
	count   atomic.Uint64
	sum     atomic.Uint64 // nanoseconds; wraps after ~584 years of total latency
	max     atomic.Uint64
	buckets [histBuckets]atomic.Uint64
}

// histIndex returns the bucket of v nanoseconds.
func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits - 1
	if e > histMaxBits-histSubBits {
		return histBuckets - 1
	}
	return e*histSub + int(v>>uint(e))
}

// histBounds returns the lowest value of bucket i and its width.
func histBounds(i int) (lo, width uint64) {
	if i < 2*histSub {
		return uint64(i), 1
	}
	e := uint(i/histSub - 1)
	m := uint64(i%histSub + histSub)
	return m << e, 1 << e
}

// Record adds one observation. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.buckets[histIndex(v)].Add(1)
	h.count.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// Max returns the largest observation, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the average observation, or 0 when there is none.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value below which a fraction q (0..1) of the
// observations fall: the midpoint of the bucket holding that rank, never
// above Max. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 || math.IsNaN(q) {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := max(uint64(math.Ceil(q*float64(n))), 1)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			if i == histBuckets-1 {
				return h.Max() // the overflow bucket has no upper bound
			}
			lo, w := histBounds(i)
			return time.Duration(min(lo+(w-1)/2, h.max.Load()))
		}
	}
	return h.Max()
}

// Merge adds every observation of o to h. o should not be recorded into
// meanwhile.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.buckets {
		if c := o.buckets[i].Load(); c != 0 {
			h.buckets[i].Add(c)
		}
	}
	h.count.Add(o.count.Load())
	h.sum.Add(o.sum.Load())
	v := o.max.Load()
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Reset forgets all observations. It must not race with Record.
func (h *Histogram) Reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
	h.count.Store(0)
	h.sum.Store(0)
	h.max.Store(0)
}

// LatencySummary is a histogram boiled down to the numbers a report shows.
type LatencySummary struct {
	Count uint64
	Mean  time.Duration
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	P999  time.Duration
	Max   time.Duration
}

// Summary returns the count, mean, p50, p90, p99, p99.9 and max.
func (h *Histogram) Summary() LatencySummary {
	return LatencySummary{
		Count: h.Count(),
		Mean:  h.Mean(),
		P50:   h.Quantile(0.50),
		P90:   h.Quantile(0.90),
		P99:   h.Quantile(0.99),
		P999:  h.Quantile(0.999),
		Max:   h.Max(),
	}
}
