package deflate

import (
	"bufio"
	stdflate "compress/flate"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/flate"
)

// benchSizes are the hotel JSON message sizes the benchmarks run on.
var benchSizes = []int{256, 1 << 10, 16 << 10}

// appender is a message compressor under benchmark.
type appender interface {
	Append(dst, msg []byte) []byte
}

// writerCompressor is the alternative to Compressor: one flate.Writer (level
// 1, about 0.8 MiB) reset before every message, as a pool would hand out.
type writerCompressor struct {
	fw interface {
		io.Writer
		Flush() error
		Reset(io.Writer)
	}
	w appendWriter
}

func newWriterL1() *writerCompressor {
	c := &writerCompressor{}
	c.fw, _ = flate.NewWriter(&c.w, flate.BestSpeed)
	return c
}

func newStdWriterL1() *writerCompressor {
	c := &writerCompressor{}
	c.fw, _ = stdflate.NewWriter(&c.w, stdflate.BestSpeed)
	return c
}

// Append compresses msg with a sync flush and strips the tail.
func (c *writerCompressor) Append(dst, msg []byte) []byte {
	c.w.b = dst
	c.fw.Reset(&c.w)
	c.fw.Write(msg)
	c.fw.Flush()
	out := c.w.b
	c.w.b = nil
	return out[:len(out)-len(syncTail)]
}

func BenchmarkCompress(b *testing.B) {
	impls := []struct {
		name string
		new  func() appender
	}{
		{"stateless", func() appender { return NewCompressor() }},
		{"writerL1", func() appender { return newWriterL1() }},
		{"std", func() appender { return newStdWriterL1() }},
	}
	for _, size := range benchSizes {
		msg := hotelJSON(size)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("size=%d/impl=%s", size, impl.name), func(b *testing.B) {
				c := impl.new()
				dst := make([]byte, 0, 2*len(msg)+64)
				var out []byte
				b.ReportAllocs()
				b.SetBytes(int64(len(msg)))
				for b.Loop() {
					out = c.Append(dst, msg)
				}
				b.ReportMetric(float64(len(out)), "outB")
				b.ReportMetric(float64(len(out))/float64(len(msg)), "ratio")
			})
		}
	}
}

// inflater is a message decompressor under benchmark.
type inflater interface {
	Append(dst, p []byte, maxSize int64) ([]byte, error)
}

// stdDecompressor inflates with compress/flate the way Decompressor does with
// klauspost: one reader reset per message, fed through a bufio.Reader.
type stdDecompressor struct {
	fr  io.ReadCloser
	br  *bufio.Reader
	src tailReader
}

func newStdDecompressor() *stdDecompressor {
	d := &stdDecompressor{}
	d.br = bufio.NewReaderSize(&d.src, readBufferSize)
	d.fr = stdflate.NewReader(d.br)
	return d
}

// Append inflates p into dst, which must have room for the output.
func (d *stdDecompressor) Append(dst, p []byte, _ int64) ([]byte, error) {
	d.src.reset(p)
	d.br.Reset(&d.src)
	d.fr.(stdflate.Resetter).Reset(d.br, nil)
	n, err := io.ReadFull(d.fr, dst[len(dst):cap(dst)])
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	return dst[:len(dst)+n], err
}

func BenchmarkDecompress(b *testing.B) {
	impls := []struct {
		name string
		new  func() inflater
	}{
		{"ours", func() inflater { return NewDecompressor() }},
		{"std", func() inflater { return newStdDecompressor() }},
	}
	for _, size := range benchSizes {
		msg := hotelJSON(size)
		p := NewCompressor().Append(nil, msg)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("size=%d/impl=%s", size, impl.name), func(b *testing.B) {
				d := impl.new()
				dst := make([]byte, 0, len(msg)+1)
				b.ReportAllocs()
				b.SetBytes(int64(len(msg)))
				for b.Loop() {
					out, err := d.Append(dst, p, int64(len(msg)))
					if err != nil || len(out) != len(msg) {
						b.Fatalf("got %d bytes, %v", len(out), err)
					}
				}
			})
		}
	}
}

// BenchmarkNew reports what one compressor or decompressor costs in memory
// (B/op): the price of having one per event loop.
func BenchmarkNew(b *testing.B) {
	impls := []struct {
		name string
		new  func() any
	}{
		{"compressor/impl=stateless", func() any { return NewCompressor() }},
		{"compressor/impl=writerL1", func() any { return newWriterL1() }},
		{"compressor/impl=std", func() any { return newStdWriterL1() }},
		{"decompressor/impl=ours", func() any { return NewDecompressor() }},
		{"decompressor/impl=std", func() any { return newStdDecompressor() }},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = impl.new()
			}
		})
	}
}

// sink keeps benchmark results alive.
var sink any
