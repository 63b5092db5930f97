package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws/wsflate"
	"github.com/klauspost/compress/flate"

	"github.com/bellhop/bellhop/codec"
)

// roundTripCase is one message of the table shared by the compress and the
// decompress tests.
type roundTripCase struct {
	name string
	msg  []byte
}

func roundTripCases() []roundTripCase {
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return []roundTripCase{
		{"size=0", []byte{}},
		{"size=1", []byte("x")},
		{"size=125", bytes.Repeat([]byte("a"), 125)},
		{"size=126", hotelJSON(126)},
		{"size=4KiB/kind=json", hotelJSON(4 << 10)},
		{"size=64KiB/kind=random", random},
		{"size=1MiB/kind=repetitive", bytes.Repeat([]byte(`{"roomNumber":"101","status":"CLEANED"},`), 1<<20/40)},
	}
}

// inflateStd decodes a permessage-deflate payload with the standard library,
// the way a browser or any zlib-based peer does: append the tail, inflate.
func inflateStd(t testing.TB, p []byte) []byte {
	t.Helper()
	in := append(append([]byte{}, p...), readTail...)
	out, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(in)))
	if err != nil {
		t.Fatalf("compress/flate cannot inflate %d-byte payload: %v", len(p), err)
	}
	return out
}

// deflateStd compresses msg for the wire with compress/flate at level,
// flushing after every chunk bytes (a peer sending one deflate block per
// fragment) and stripping the sync tail.
func deflateStd(t testing.TB, msg []byte, level, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := stdflate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	for len(msg) > 0 {
		n := min(chunk, len(msg))
		if _, err := w.Write(msg[:n]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		msg = msg[n:]
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if !bytes.HasSuffix(out, syncTail) {
		t.Fatalf("compress/flate output does not end in a sync flush: % x", out[max(0, len(out)-8):])
	}
	return out[:len(out)-len(syncTail)]
}

func TestCompressorRoundTrip(t *testing.T) {
	c, d := NewCompressor(), NewDecompressor()
	prefix := []byte("hdr")
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := c.Append(append([]byte{}, prefix...), tc.msg)
			if !bytes.HasPrefix(p, prefix) {
				t.Fatalf("Compressor.Append lost the prefix: got % x", p[:min(len(p), 8)])
			}
			p = p[len(prefix):]
			if bytes.HasSuffix(p, syncTail) {
				t.Errorf("payload still ends in % x", syncTail)
			}
			if limit := len(tc.msg) + 5*(len(tc.msg)/(32<<10)+1) + 1; len(p) > limit {
				t.Errorf("payload is %d bytes for a %d-byte message, want <= %d", len(p), len(tc.msg), limit)
			}
			got, err := d.Append(append([]byte{}, prefix...), p, int64(len(tc.msg)))
			if err != nil {
				t.Fatalf("Decompressor.Append with max = message size: %v", err)
			}
			if !bytes.Equal(got[len(prefix):], tc.msg) || !bytes.HasPrefix(got, prefix) {
				t.Fatalf("round trip differs: got %d bytes, want %d", len(got)-len(prefix), len(tc.msg))
			}
			if got := inflateStd(t, p); !bytes.Equal(got, tc.msg) {
				t.Fatalf("compress/flate decodes %d bytes, want %d", len(got), len(tc.msg))
			}
			got, err = wsflate.DefaultHelper.Decompress(p)
			if err != nil || !bytes.Equal(got, tc.msg) {
				t.Fatalf("wsflate decodes %d bytes (err %v), want %d", len(got), err, len(tc.msg))
			}
			if len(tc.msg) > 1 { // max = 0 would mean no limit
				if _, err := d.Append(nil, p, int64(len(tc.msg)-1)); err != ErrMessageTooBig {
					t.Fatalf("max = size-1: got error %v, want ErrMessageTooBig", err)
				}
			}
		})
	}
}

// TestDecompressorForeign decodes messages compressed by other encoders:
// compress/flate at several levels, with one or many sync flushes per message,
// gobwas wsflate (level 9) and a klauspost Writer.
func TestDecompressorForeign(t *testing.T) {
	d := NewDecompressor()
	encoders := []struct {
		name string
		enc  func(t testing.TB, msg []byte) []byte
	}{
		{"enc=std/level=1", func(t testing.TB, m []byte) []byte { return deflateStd(t, m, stdflate.BestSpeed, len(m)+1) }},
		{"enc=std/level=9", func(t testing.TB, m []byte) []byte { return deflateStd(t, m, stdflate.BestCompression, len(m)+1) }},
		{"enc=std/level=huffman", func(t testing.TB, m []byte) []byte { return deflateStd(t, m, stdflate.HuffmanOnly, len(m)+1) }},
		{"enc=std/level=0", func(t testing.TB, m []byte) []byte { return deflateStd(t, m, stdflate.NoCompression, len(m)+1) }},
		{"enc=std/flush=per-1000B", func(t testing.TB, m []byte) []byte { return deflateStd(t, m, stdflate.DefaultCompression, 1000) }},
		{"enc=wsflate", func(t testing.TB, m []byte) []byte {
			p, err := wsflate.DefaultHelper.Compress(m)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"enc=klauspost-writer/level=5", func(t testing.TB, m []byte) []byte {
			var w appendWriter
			fw, _ := flate.NewWriter(&w, 5)
			fw.Write(m)
			fw.Flush()
			return w.b[:len(w.b)-len(syncTail)]
		}},
	}
	for _, e := range encoders {
		for _, tc := range roundTripCases() {
			t.Run(e.name+"/"+tc.name, func(t *testing.T) {
				got, err := d.Append(nil, e.enc(t, tc.msg), 0)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.msg) {
					t.Fatalf("got %d bytes, want %d", len(got), len(tc.msg))
				}
			})
		}
	}
}

func TestCompressorEmpty(t *testing.T) {
	got := NewCompressor().Append(nil, nil)
	if want := []byte{0x00}; !bytes.Equal(got, want) {
		t.Fatalf("empty message compresses to %#v, want %#v (RFC 7692 section 7.2.3.6)", got, want)
	}
}

// TestDecompressorRFC7692 decodes the examples of RFC 7692 section 7.2.3.
func TestDecompressorRFC7692(t *testing.T) {
	d := NewDecompressor()
	cases := []struct {
		name string
		p    []byte
		want string
	}{
		{"sec=7.2.3.1/hello", []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, "Hello"},
		{"sec=7.2.3.3/stored", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, "Hello"},
		{"sec=7.2.3.4/bfinal", []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, "Hello"},
		{"sec=7.2.3.5/two-blocks", []byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}, "Hello"},
		{"sec=7.2.3.6/empty-block", []byte{0x00}, ""},
		{"empty-payload", []byte{}, ""},
		{"nil-payload", nil, ""},
		{"bfinal-then-garbage", []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xff, 0xff, 0xff}, "Hello"},
		{"final-empty-block", []byte{0x03, 0x00}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Append([]byte("x"), tc.p, 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "x"+tc.want {
				t.Fatalf("got %q, want %q", got, "x"+tc.want)
			}
		})
	}
}

// fixedBlock builds a final fixed-Huffman block from literal/length codes and
// distance codes (RFC 1951 section 3.2.6), written least significant bit
// first. Each item is {code, bits}; codes are written most significant bit
// first as RFC 1951 requires for Huffman codes.
func fixedBlock(items ...[2]int) []byte {
	var out []byte
	var acc, n uint
	put := func(v, bits uint) {
		acc |= v << n
		n += bits
		for n >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	put(1, 1) // BFINAL
	put(1, 2) // BTYPE = 01
	for _, it := range items {
		code, bits := uint(it[0]), uint(it[1])
		for i := int(bits) - 1; i >= 0; i-- {
			put(code>>uint(i)&1, 1)
		}
	}
	if n > 0 {
		out = append(out, byte(acc))
	}
	return out
}

// Fixed Huffman codes used by the corrupt-input cases.
var (
	litA   = [2]int{0x30 + 'a', 8} // literal 'a'
	eob    = [2]int{0, 7}          // end of block (256)
	len3   = [2]int{1, 7}          // length 3 (257)
	dist1  = [2]int{0, 5}          // distance 1
	dist30 = [2]int{30, 5}         // reserved distance code
)

func TestDecompressorCorrupt(t *testing.T) {
	valid := NewCompressor().Append(nil, hotelJSON(4<<10))
	cases := []struct {
		name string
		p    []byte
	}{
		{"reserved-block-type", []byte{0x06}},
		{"stored-bad-nlen", []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'H', 'e', 'l', 'l', 'o'}},
		{"stored-truncated", []byte{0x01, 0x00, 0x01, 0xff, 0xfe, 'H', 'e'}},
		{"distance-before-start", fixedBlock(len3, dist1, eob)},
		{"reserved-distance-code", fixedBlock(litA, len3, dist30, eob)},
		{"dynamic-bad-table", []byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"cut-in-half", valid[:len(valid)/2]},
	}
	d := NewDecompressor()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := append(make([]byte, 0, 64), "keep"...)
			got, err := d.Append(dst, tc.p, 1<<20)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got error %v (output %q), want ErrCorrupt", err, got)
			}
			if code := codec.CloseCode(err); code != 1007 {
				t.Fatalf("close code %d, want 1007", code)
			}
			if string(got) != "keep" {
				t.Fatalf("dst changed on error: %q", got)
			}
			got, err = d.Append(nil, fixedBlock(litA, len3, dist1, eob), 0)
			if err != nil || string(got) != "aaaa" {
				t.Fatalf("reuse after error: got %q, %v, want \"aaaa\"", got, err)
			}
		})
	}
}

func TestDecompressorMaxSize(t *testing.T) {
	zeros := NewCompressor().Append(nil, make([]byte, 1<<20))
	if len(zeros) > 4<<10 {
		t.Fatalf("1 MiB of zeros compresses to %d bytes, want about 1 KiB", len(zeros))
	}
	d := NewDecompressor()
	cases := []struct {
		name    string
		dst     []byte
		max     int64
		wantErr error
	}{
		{"max=64KiB/dst=nil", nil, 64 << 10, ErrMessageTooBig},
		{"max=64KiB/dst=prefix", []byte("ab"), 64 << 10, ErrMessageTooBig},
		{"max=64KiB/dst=1MiB-capacity", make([]byte, 0, 1<<20), 64 << 10, ErrMessageTooBig},
		{"max=1", nil, 1, ErrMessageTooBig},
		{"max=1MiB-1", nil, 1<<20 - 1, ErrMessageTooBig},
		{"max=1MiB", nil, 1 << 20, nil},
		{"max=0", nil, 0, nil},
		{"max=-1", nil, -1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.dst)
			got, err := d.Append(tc.dst, zeros, tc.max)
			if err != tc.wantErr {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if len(got) != n || codec.CloseCode(err) != 1009 {
					t.Fatalf("on error got len %d (want %d), close code %d (want 1009)", len(got), n, codec.CloseCode(err))
				}
				if tc.dst == nil && int64(cap(got)) > 2*tc.max+minGrow {
					t.Fatalf("dst grew to %d bytes for max %d", cap(got), tc.max)
				}
				return
			}
			if len(got) != 1<<20 || bytes.IndexByte(got, 1) >= 0 {
				t.Fatalf("got %d bytes, want 1 MiB of zeros", len(got))
			}
		})
	}
}

func TestWorth(t *testing.T) {
	cases := []struct {
		n, threshold int
		want         bool
	}{
		{0, 0, false}, {1 << 20, 0, false}, {1 << 20, -1, false},
		{255, 256, false}, {256, 256, true}, {257, 256, true},
		{0, 1, false}, {1, 1, true},
	}
	for _, tc := range cases {
		if got := Worth(tc.n, tc.threshold); got != tc.want {
			t.Errorf("Worth(%d, %d) = %v, want %v", tc.n, tc.threshold, got, tc.want)
		}
	}
}

func TestAllocs(t *testing.T) {
	c, d := NewCompressor(), NewDecompressor()
	for _, size := range []int{256, 16 << 10, 200 << 10} {
		msg := hotelJSON(size)
		p := c.Append(nil, msg)
		dst := make([]byte, 0, 2*len(msg)+64)
		if n := testing.AllocsPerRun(20, func() {
			if _, err := d.Append(dst, p, int64(len(msg))); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("size=%d: Decompressor.Append allocates %v times per call, want 0", size, n)
		}
		if raceEnabled {
			continue // sync.Pool drops items at random under the race detector
		}
		if n := testing.AllocsPerRun(20, func() { c.Append(dst, msg) }); n != 0 {
			t.Errorf("size=%d: Compressor.Append allocates %v times per call, want 0", size, n)
		}
	}
}

func ExampleCompressor() {
	c, d := NewCompressor(), NewDecompressor()
	msg := []byte(`{"event":"ROOM_STATUS_UPDATE","payload":{"roomNumber":"101","status":"CLEANED"}}`)
	p := c.Append(nil, msg) // payload of a frame with RSV1 set
	out, err := d.Append(nil, p, 1<<20)
	fmt.Println(string(out) == string(msg), err)
	// Output: true <nil>
}

func ExampleDecompressor() {
	d := NewDecompressor()
	// RFC 7692 section 7.2.3.1: "Hello" compressed, tail removed.
	out, err := d.Append(nil, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, 125)
	fmt.Printf("%s %v\n", out, err)
	// Output: Hello <nil>
}

// TestDecompressorNoContextLeak checks that a message cannot refer back into
// the previous message still held in the shared window: with one
// Decompressor per loop that would leak another connection's data.
func TestDecompressorNoContextLeak(t *testing.T) {
	d := NewDecompressor()
	if _, err := d.Append(nil, NewCompressor().Append(nil, []byte("secret from another connection")), 0); err != nil {
		t.Fatal(err)
	}
	got, err := d.Append(nil, fixedBlock(len3, dist1, eob), 0) // copy 3 bytes from 1 back
	if err != ErrCorrupt {
		t.Fatalf("got %q, %v; want ErrCorrupt", got, err)
	}
}

func TestHotelJSON(t *testing.T) {
	for _, n := range []int{126, 256, 1 << 10, 4 << 10, 16 << 10} {
		msg := hotelJSON(n)
		if len(msg) != n || !json.Valid(msg) {
			t.Errorf("hotelJSON(%d): %d bytes, valid JSON %v", n, len(msg), json.Valid(msg))
		}
	}
}
