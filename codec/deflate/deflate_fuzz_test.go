package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"testing"
)

// fuzzMaxOutput bounds what FuzzDecompress lets a payload inflate to, so a
// small bomb found by the fuzzer does not exhaust memory.
const fuzzMaxOutput = 8 << 20

// decompressSeeds are valid, edge and corrupt payloads; the committed corpus
// in testdata/fuzz holds more.
func decompressSeeds() [][]byte {
	c := NewCompressor()
	return [][]byte{
		{},
		{0x00},
		{0x03, 0x00},
		{0x06},
		{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00},
		{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00},
		{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00},
		fixedBlock(litA, len3, dist1, eob),
		fixedBlock(len3, dist1, eob),
		c.Append(nil, hotelJSON(256)),
		c.Append(nil, hotelJSON(1<<10)),
		c.Append(nil, make([]byte, 64<<10)),
	}
}

// FuzzDecompress checks that any payload either inflates within the limit or
// fails with ErrCorrupt or ErrMessageTooBig, leaving dst as it was, and that
// the result does not depend on the limit or on the previous message.
func FuzzDecompress(f *testing.F) {
	for _, p := range decompressSeeds() {
		f.Add(p, int64(0))
		f.Add(p, int64(100))
	}
	d := NewDecompressor()
	f.Fuzz(func(t *testing.T, p []byte, maxSize int64) {
		if maxSize <= 0 || maxSize > fuzzMaxOutput {
			maxSize = fuzzMaxOutput
		}
		out, err := d.Append([]byte("pre"), p, maxSize)
		if !bytes.HasPrefix(out, []byte("pre")) {
			t.Fatalf("prefix lost: %q", out[:min(len(out), 3)])
		}
		out = out[3:]
		switch err {
		case nil:
			if int64(len(out)) > maxSize {
				t.Fatalf("inflated %d bytes, over max %d", len(out), maxSize)
			}
		case ErrCorrupt, ErrMessageTooBig:
			if len(out) != 0 {
				t.Fatalf("error %v with %d bytes of output", err, len(out))
			}
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		again, err := d.Append(nil, p, int64(len(out))+1)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second decode differs: %d bytes, %v; first %d bytes", len(again), err, len(out))
		}
		std, err := io.ReadAll(io.LimitReader(stdflate.NewReader(bytes.NewReader(append(append([]byte{}, p...), readTail...))), fuzzMaxOutput+1))
		if err == nil && !bytes.Equal(std, out) {
			t.Fatalf("compress/flate inflates to %d bytes, we to %d", len(std), len(out))
		}
	})
}

// FuzzRoundTrip checks that every message survives compression and
// decompression, and that compress/flate decodes our output too.
func FuzzRoundTrip(f *testing.F) {
	for _, tc := range roundTripCases() {
		if len(tc.msg) <= 4<<10 {
			f.Add(tc.msg)
		}
	}
	c, d := NewCompressor(), NewDecompressor()
	f.Fuzz(func(t *testing.T, msg []byte) {
		p := c.Append([]byte("pre"), msg)
		if !bytes.HasPrefix(p, []byte("pre")) {
			t.Fatalf("Compressor lost the prefix")
		}
		p = p[3:]
		out, err := d.Append(nil, p, int64(max(len(msg), 1)))
		if err != nil || !bytes.Equal(out, msg) {
			t.Fatalf("round trip: %d bytes, %v; want %d bytes", len(out), err, len(msg))
		}
		if std := inflateStd(t, p); !bytes.Equal(std, msg) {
			t.Fatalf("compress/flate decodes %d bytes, want %d", len(std), len(msg))
		}
	})
}
