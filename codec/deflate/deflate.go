package deflate

import (
	"bytes"

	"github.com/klauspost/compress/flate"
)

// syncTail is the empty stored block a sync flush ends with. RFC 7692 section
// 7.2.1 has the sender remove it from every compressed message and section
// 7.2.2 has the receiver put it back.
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// Compressor deflates whole messages for permessage-deflate with no context
// takeover: each message is compressed on its own and references no earlier
// message, so its bytes are valid for every peer and can be shared by a
// broadcast.
//
// It is built on flate.StatelessDeflate, which keeps no memory between calls;
// its scratch state (a Huffman bit writer and a token buffer, about 270 KiB)
// lives in sync.Pools inside klauspost/compress, shared by the whole process
// and bounded by GOMAXPROCS, never by the number of connections or loops. The
// alternative, a pooled flate.Writer at level 1, holds 0.5 MiB when created
// and 0.8 MiB once used, and on realistic hotel JSON it is not better on both
// CPU and size (BenchmarkCompress, median of 8 interleaved runs, 2 cores;
// ns per message and output bytes):
//
//	hotel JSON   stateless          writer level 1     compress/flate level 1
//	256 B        4.1 µs, 188 B      4.2 µs, 193 B      8.6 µs, 188 B
//	1 KiB        7.0 µs, 497 B      6.9 µs, 494 B      19.6 µs, 487 B
//	16 KiB       23.2 µs, 2529 B    21.7 µs, 2475 B    48.0 µs, 2474 B
//
// The two klauspost variants are within run-to-run noise on CPU and within
// 2.2% on size, so the one without per-instance state wins.
//
// A Compressor holds only a slice header between the start and the end of
// Append, so it costs a few bytes. It is owned by one goroutine (an event loop
// or a worker) and is not safe for concurrent use.
type Compressor struct {
	w appendWriter // collects StatelessDeflate's output; holds dst only during Append
}

// NewCompressor returns a Compressor.
func NewCompressor() *Compressor { return &Compressor{} }

// Append appends the compressed form of msg to dst as it goes on the wire in
// a permessage-deflate message (RSV1 set on the first frame): DEFLATE data
// ending in a sync flush whose trailing 0x00 0x00 0xff 0xff is removed (RFC
// 7692 section 7.2.1). An empty msg yields the single byte 0x00, the empty
// stored block of RFC 7692 section 7.2.3.6. Incompressible input is sent in
// stored blocks, so the output can be up to 5 bytes per 32 KiB longer than msg;
// a caller that cares compares the lengths and sends msg uncompressed.
//
// Append allocates only when dst lacks capacity; the result aliases dst when
// it fits.
func (c *Compressor) Append(dst, msg []byte) []byte {
	start := len(dst)
	c.w.b = dst
	// StatelessDeflate fails only when its writer does, and appendWriter
	// never fails.
	if err := flate.StatelessDeflate(&c.w, msg, false, nil); err != nil {
		panic("BUG: deflate: StatelessDeflate failed writing to memory: " + err.Error())
	}
	out := c.w.b
	c.w.b = nil // do not keep the caller's buffer alive
	if !bytes.HasSuffix(out[start:], syncTail) {
		panic("BUG: deflate: StatelessDeflate output does not end in a sync flush")
	}
	return out[:len(out)-len(syncTail)]
}

// appendWriter is an io.Writer that appends to a slice. It never fails.
type appendWriter struct {
	b []byte // output so far: the caller's dst plus what was written
}

// Write appends p to w.b.
func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// Worth reports whether a message of n bytes should be compressed given
// threshold: only when threshold > 0 and n >= threshold. A threshold of zero
// or less turns compression off, so the zero value of a config field means
// "never compress" rather than "compress everything". Small messages gain
// little (a few bytes of JSON) for a fixed CPU cost of several microseconds
// per message, see Compressor.
func Worth(n, threshold int) bool {
	return threshold > 0 && n >= threshold
}
