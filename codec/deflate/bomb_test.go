package deflate

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// bomb returns a payload that inflates to copies MiB of zeros. It repeats the
// compressed form of 1 MiB of zeros, sync flush included: each copy starts
// with an empty window and refers only to itself, so the concatenation is a
// valid stream. Building it costs one 1 MiB compression whatever its size.
func bomb(copies int) []byte {
	chunk := append(NewCompressor().Append(nil, make([]byte, 1<<20)), syncTail...)
	p := bytes.Repeat(chunk, copies)
	return p[:len(p)-len(syncTail)]
}

func TestDecompressorBombValid(t *testing.T) {
	p := bomb(4)
	for name, got := range map[string][]byte{
		"dec=compress/flate": inflateStd(t, p),
		"dec=ours":           mustAppend(t, NewDecompressor(), p, 0),
	} {
		if len(got) != 4<<20 || bytes.IndexByte(got, 1) >= 0 {
			t.Errorf("%s: got %d bytes, want 4 MiB of zeros", name, len(got))
		}
	}
}

// TestDecompressorBomb feeds a 1 GiB bomb (about 1 MiB on the wire) ending in
// a reserved block type: inflating it all would take seconds and end in
// ErrCorrupt, so ErrMessageTooBig shows Append stopped at the limit.
func TestDecompressorBomb(t *testing.T) {
	p := append(bomb(1024), syncTail...)
	p = append(p, 0x06) // reserved block type: ErrCorrupt if ever reached
	const maxSize = 1 << 20
	d := NewDecompressor()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	out, err := d.Append(nil, p, maxSize)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != ErrMessageTooBig {
		t.Fatalf("got error %v, want ErrMessageTooBig", err)
	}
	if len(out) != 0 {
		t.Fatalf("got %d bytes of output with the error, want 0", len(out))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*maxSize {
		t.Errorf("rejecting the bomb allocated %d bytes, want <= %d", alloc, 4*maxSize)
	}
	if elapsed > 2*time.Second {
		t.Errorf("rejecting the bomb took %v", elapsed)
	}
	t.Logf("1 GiB bomb, %d bytes on the wire, rejected at %d bytes in %v", len(p), maxSize, elapsed)
}

func mustAppend(t *testing.T, d *Decompressor, p []byte, maxSize int64) []byte {
	t.Helper()
	out, err := d.Append(nil, p, maxSize)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
