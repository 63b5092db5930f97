package engine_test

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// Offers of permessage-deflate as browsers send them, and the answer the
// engine gives: no context takeover either way, so no compressor state
// outlives a message.
const (
	offerChrome   = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
	offerFirefox  = "Sec-WebSocket-Extensions: permessage-deflate"
	deflateAnswer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
)

// deflateHandshake covers the negotiation of RFC 7692 section 5: acceptable
// offers get the engine's one answer, the others are declined without
// failing the handshake.
func deflateHandshake(t *testing.T, w *wire) {
	cases := []struct{ name, offer, want string }{
		{"chrome", offerChrome, deflateAnswer},
		{"firefox", offerFirefox, deflateAnswer},
		{"both-no-context-takeover", offerFirefox + "; server_no_context_takeover; client_no_context_takeover", deflateAnswer},
		{"server-window-15", offerFirefox + "; server_max_window_bits=15", deflateAnswer + "; server_max_window_bits=15"},
		{"second-offer-acceptable", offerFirefox + "; server_max_window_bits=10, permessage-deflate", deflateAnswer},
		{"server-window-10", offerFirefox + "; server_max_window_bits=10", ""},
		{"unknown-parameter", offerFirefox + "; hotel_mode", ""},
		{"other-extension", "Sec-WebSocket-Extensions: x-webkit-deflate-frame", ""},
		{"none", "X-No-Offer: 1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, resp := w.upgrade(t, tc.offer)
			expectExtension(t, resp, tc.want)
			if tc.want == "" {
				// Without the extension, RSV1 is a protocol error.
				c.write(fr(true, rsv1, codec.OpText, deflateMessage([]byte("x"))))
				expectCloseOnly(c, codec.CloseProtocolError)
				return
			}
			c.write(fr(true, rsv1, codec.OpText, deflateMessage([]byte("negotiated"))))
			expectReply(c, textEcho("negotiated"))
			closeClean(c)
		})
	}
}

// expectExtension checks the negotiated Sec-WebSocket-Extensions of a 101
// response; want "" means none.
func expectExtension(t *testing.T, resp *http.Response, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	got := resp.Header.Values("Sec-WebSocket-Extensions")
	switch {
	case want == "" && len(got) != 0:
		t.Fatalf("Sec-WebSocket-Extensions %q, want none", got)
	case want != "" && (len(got) != 1 || got[0] != want):
		t.Fatalf("Sec-WebSocket-Extensions %q, want %q", got, want)
	}
}

// deflateSizes straddle DefaultCompressThreshold and reach the default
// MaxMessageSize.
var deflateSizes = []int{0, 1, 100, engine.DefaultCompressThreshold - 1, engine.DefaultCompressThreshold,
	engine.DefaultCompressThreshold + 1, 4096, 65536, 300_000, engine.DefaultMaxMessageSize}

// TestConformanceDeflate covers the negotiation and Autobahn 12.x and
// 13.x: compressed messages of every size are echoed, compressed (RSV1) at
// or above the compress threshold and plain below it; fragmented compressed
// messages too.
func TestConformanceDeflate(t *testing.T) {
	plain := make([][]byte, len(deflateSizes))
	zipped := make([][]byte, len(deflateSizes))
	for i, size := range deflateSizes {
		plain[i] = jsonLike(size)
		zipped[i] = deflateMessage(plain[i])
	}
	forEachTransport(t, engine.Config{Deflate: true}, func(t *testing.T, w *wire) {
		t.Run("handshake", func(t *testing.T) { deflateHandshake(t, w) })
		for _, op := range []codec.OpCode{codec.OpText, codec.OpBinary} {
			for i, size := range deflateSizes {
				t.Run(fmt.Sprintf("op=%d/size=%d", op, size), func(t *testing.T) {
					p, z := plain[i], zipped[i]
					c := w.connectDeflate(t)
					c.write(fr(true, rsv1, op, z))
					expectDeflated(t, c, op, p)
					if size > 0 {
						c.write(fragmented(op, rsv1, z, 3))
						expectDeflated(t, c, op, p)
					}
					c.write(whole(op, p)) // uncompressed on a deflate connection
					expectDeflated(t, c, op, p)
					closeClean(c)
				})
			}
		}
		t.Run("no-context-takeover", func(t *testing.T) { deflateNoContext(t, w) })
		t.Run("variants", func(t *testing.T) { deflateVariants(t, w) })
	})
}

// deflateNoContext sends the same message several times, each compressed
// on its own (the client promised no context takeover), and decodes each
// answer with a fresh inflater (the server promised the same).
func deflateNoContext(t *testing.T, w *wire) {
	c := w.connectDeflate(t)
	p := jsonLike(2000)
	for range 5 {
		c.write(fr(true, rsv1, codec.OpText, deflateMessage(p)))
		expectDeflated(t, c, codec.OpText, p)
	}
	closeClean(c)
}

// deflateVariants are encodings a compliant client may use (RFC 7692
// section 7.2.3): a final block, stored blocks, the empty stored block,
// pings between compressed fragments, and an empty first fragment.
func deflateVariants(t *testing.T, w *wire) {
	p := jsonLike(3000)
	frags := fragmented(codec.OpText, rsv1, deflateMessage(p), 2)
	first := bytes.Index(frags[1:], []byte{0x80}) + 1 // start of the continuation frame
	cases := []struct {
		name string
		op   codec.OpCode
		send []byte
		want []serverFrame // frames before the echo
	}{
		{"final-block", codec.OpText, fr(true, rsv1, codec.OpText, deflateFinal(t, p)), nil},
		{"stored", codec.OpBinary, fr(true, rsv1, codec.OpBinary, deflateLevel(t, p, flate.NoCompression)), nil},
		{"huffman-only", codec.OpBinary, fr(true, rsv1, codec.OpBinary, deflateLevel(t, p, flate.HuffmanOnly)), nil},
		{"ping-between", codec.OpText, joinBytes(frags[:first], whole(codec.OpPing, []byte("p")), frags[first:]),
			[]serverFrame{{codec.OpPong, []byte("p")}}},
		{"empty-first-fragment", codec.OpText,
			joinBytes(fr(false, rsv1, codec.OpText, nil), fr(true, 0, codec.OpContinuation, deflateMessage(p))), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := w.connectDeflate(t)
			c.write(tc.send)
			for _, r := range tc.want {
				expectReply(c, r)
			}
			expectDeflated(t, c, tc.op, p)
			closeClean(c)
		})
	}
	t.Run("empty-stored-block", func(t *testing.T) {
		c := w.connectDeflate(t)
		c.write(fr(true, rsv1, codec.OpText, []byte{0x00}))
		expectDeflated(t, c, codec.OpText, nil)
		closeClean(c)
	})
}

// deflateLimit is MaxMessageSize in TestConformanceDeflateErrors.
const deflateLimit = 64 << 10

// TestConformanceDeflateErrors: bits and payloads a compressed stream must
// not carry. RSV1 off the first frame fails with 1002, bad DEFLATE data and
// invalid UTF-8 after inflating with 1007, a message inflating past
// MaxMessageSize with 1009 (a message inflating to exactly it is fine).
func TestConformanceDeflateErrors(t *testing.T) {
	z := deflateMessage(jsonLike(1000))
	bomb := deflateMessage(make([]byte, 16*deflateLimit))
	atLimit := jsonLike(deflateLimit)
	zAtLimit, zOver := deflateMessage(atLimit), deflateMessage(jsonLike(deflateLimit+1))
	cfg := engine.Config{Deflate: true, MaxFrameSize: deflateLimit, MaxMessageSize: deflateLimit}
	forEachTransport(t, cfg, func(t *testing.T, w *wire) {
		cases := []wireCase{
			{name: "rsv1-on-continuation", send: joinBytes(fr(false, rsv1, codec.OpText, z[:10]), fr(true, rsv1, codec.OpContinuation, z[10:])),
				close: codec.CloseProtocolError},
			{name: "rsv1-only-on-continuation", send: joinBytes(fr(false, 0, codec.OpText, []byte("plain")), fr(true, rsv1, codec.OpContinuation, z)),
				close: codec.CloseProtocolError},
			{name: "rsv1-on-ping", send: fr(true, rsv1, codec.OpPing, nil), close: codec.CloseProtocolError},
			{name: "rsv1-on-pong", send: fr(true, rsv1, codec.OpPong, nil), close: codec.CloseProtocolError},
			{name: "rsv1-on-close", send: fr(true, rsv1, codec.OpClose, codec.AppendClosePayload(nil, 1000, "")), close: codec.CloseProtocolError},
			{name: "rsv1-on-ping-between-fragments", send: joinBytes(fr(false, rsv1, codec.OpText, z[:10]), fr(true, rsv1, codec.OpPing, nil)),
				close: codec.CloseProtocolError},
			{name: "rsv2", send: fr(true, rsv1|rsv2, codec.OpText, z), close: codec.CloseProtocolError},
			{name: "rsv3", send: fr(true, rsv3, codec.OpBinary, z), close: codec.CloseProtocolError},
			{name: "corrupt/reserved-block-type", send: fr(true, rsv1, codec.OpBinary, []byte{0xff, 0xff, 0xff}), close: codec.CloseInvalidPayload},
			{name: "corrupt/bad-stored-length", send: fr(true, rsv1, codec.OpBinary, []byte{0x01, 0x05, 0x00, 0x00, 0x00, 'x'}),
				close: codec.CloseInvalidPayload},
			{name: "corrupt/distance-too-far", send: fr(true, rsv1, codec.OpBinary, distanceTooFar()), close: codec.CloseInvalidPayload},
			{name: "corrupt/truncated", send: fr(true, rsv1, codec.OpText, z[:len(z)/2]), close: codec.CloseInvalidPayload},
			{name: "invalid-utf8", send: fr(true, rsv1, codec.OpText, deflateMessage([]byte("bad \xed\xa0\x80 text"))),
				close: codec.CloseInvalidPayload},
			{name: "invalid-utf8/truncated", send: fr(true, rsv1, codec.OpText, deflateMessage([]byte(strings.Repeat("κ", 600)+"\xce"))),
				close: codec.CloseInvalidPayload},
			{name: "invalid-utf8/fragmented", send: fragmented(codec.OpText, rsv1, deflateMessage([]byte("bad \xff text")), 2),
				close: codec.CloseInvalidPayload},
			{name: "zip-bomb", send: fr(true, rsv1, codec.OpBinary, bomb), close: codec.CloseMessageTooBig},
			{name: "zip-bomb/fragmented", send: fragmented(codec.OpBinary, rsv1, bomb, 4), close: codec.CloseMessageTooBig},
			{name: "zip-bomb/text", send: fr(true, rsv1, codec.OpText, bomb), close: codec.CloseMessageTooBig},
			{name: "inflated=limit+1", send: fr(true, rsv1, codec.OpText, zOver), close: codec.CloseMessageTooBig},
		}
		for _, x := range cases {
			t.Run(x.name, func(t *testing.T) {
				c := w.connectDeflate(t)
				c.write(x.send)
				expectCloseOnly(c, x.close)
				w.alive(t)
			})
		}
		t.Run("inflated=limit", func(t *testing.T) {
			c := w.connectDeflate(t)
			c.write(fr(true, rsv1, codec.OpText, zAtLimit))
			expectDeflated(t, c, codec.OpText, atLimit)
			closeClean(c)
		})
		t.Run("binary-not-utf8-checked", func(t *testing.T) {
			c := w.connectDeflate(t)
			p := []byte("\xed\xa0\x80\xff binary")
			c.write(fr(true, rsv1, codec.OpBinary, deflateMessage(p)))
			expectDeflated(t, c, codec.OpBinary, p)
			closeClean(c)
		})
	})
}

// connectDeflate upgrades with Chrome's offer and checks it was accepted.
func (w *wire) connectDeflate(t *testing.T) *client {
	t.Helper()
	c, resp := w.upgrade(t, offerChrome)
	expectExtension(t, resp, deflateAnswer)
	return c
}

// expectDeflated reads one message frame of op and checks its payload is p:
// compressed (RSV1) when p reaches the compress threshold, plain below it.
// A compressed answer is inflated on its own, as no context takeover
// requires.
func expectDeflated(t *testing.T, c *client, op codec.OpCode, p []byte) {
	t.Helper()
	f := c.mustRead()
	if !f.Fin || f.OpCode != op {
		t.Fatalf("got frame fin=%v op=%d, want a whole op=%d", f.Fin, f.OpCode, op)
	}
	compressed := f.Rsv == rsv1
	if f.Rsv&^rsv1 != 0 || compressed != (len(p) >= engine.DefaultCompressThreshold) {
		t.Fatalf("payload of %d bytes answered with rsv=%d; compress threshold is %d", len(p), f.Rsv, engine.DefaultCompressThreshold)
	}
	got := f.Payload
	if compressed {
		got = inflateRaw(t, f.Payload)
	}
	if !bytes.Equal(got, p) {
		t.Fatalf("echo %s, want %s", abbrev(got), abbrev(p))
	}
}

// jsonLike returns n bytes of JSON-like text that compress well.
func jsonLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"room":%d,"event":"housekeeping","status":"clean","floor":%d},`, 100+i%400, i%12)
	}
	return b.Bytes()[:n]
}

// flateWriters recycles compressors: flate.NewWriter costs a lot, and more
// under the race detector.
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, flate.BestSpeed) // BestSpeed is a valid level
	return fw
}}

// deflateMessage compresses p as a permessage-deflate sender does: a sync
// flush with its 00 00 ff ff tail removed (RFC 7692 section 7.2.1). It is
// safe for concurrent use.
func deflateMessage(p []byte) []byte {
	var b bytes.Buffer
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	fw.Reset(&b)
	_, _ = fw.Write(p) // writing to a bytes.Buffer cannot fail
	_ = fw.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// deflateLevel is deflateMessage at another compress/flate level.
func deflateLevel(t testing.TB, p []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	out, ok := bytes.CutSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	if !ok {
		t.Fatal("sync flush did not end with 00 00 ff ff")
	}
	return out
}

// deflateFinal compresses p ending in a final block, which RFC 7692
// section 7.2.3.4 allows a sender to use.
func deflateFinal(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = fw.Write(p)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// distanceTooFar is a fixed-Huffman block whose first symbol is a match
// reaching back before the start of the message.
func distanceTooFar() []byte {
	// BFINAL=1, BTYPE=01, then length code 257 (0000001, length 3) and
	// distance code 0 (00000, distance 1) with nothing before it.
	return []byte{0x03, 0x02, 0x00, 0x00}
}

// inflateRaw decodes a permessage-deflate payload sent by the server.
func inflateRaw(t testing.TB, p []byte) []byte {
	t.Helper()
	out, err := inflateMessage(p)
	if err != nil {
		t.Fatalf("server sent invalid DEFLATE data: %v", err)
	}
	return out
}

// inflateMessage decodes a permessage-deflate payload: it puts back the
// tail the sender removed and adds an empty final block. It is safe for
// concurrent use.
func inflateMessage(p []byte) ([]byte, error) {
	in := joinBytes(p, []byte{0, 0, 0xff, 0xff, 0x01, 0, 0, 0xff, 0xff})
	return io.ReadAll(flate.NewReader(bytes.NewReader(in)))
}
