package bench

import (
	"testing"
	"time"
)

func BenchmarkHistogramRecord(b *testing.B) {
	b.Run("mode=serial", func(b *testing.B) {
		var h Histogram
		b.ReportAllocs()
		d := time.Duration(0)
		for b.Loop() {
			d += 977
			h.Record(d)
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		var h Histogram
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			d := time.Duration(0)
			for pb.Next() {
				d += 977
				h.Record(d)
			}
		})
	})
}

func BenchmarkHistogramQuantile(b *testing.B) {
	var h Histogram
	for i := range 100000 {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Quantile(0.99)
	}
}
