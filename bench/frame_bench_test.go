package bench

import "testing"

func BenchmarkReadFrame(b *testing.B) {
	for _, size := range []int{128, 4096} {
		frame := serverFrame(textOp, make([]byte, size))
		b.Run("size="+itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, _, _, err := readFrame(frame, DefaultMaxFrame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
