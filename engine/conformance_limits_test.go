package engine_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// TestConformanceLarge covers Autobahn 9.x: messages of the largest allowed
// size, in one frame and in 64 KiB fragments, and many small messages
// pipelined, all echoed in order.
func TestConformanceLarge(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		for _, op := range []codec.OpCode{codec.OpText, codec.OpBinary} {
			p := payloadFor(op, engine.DefaultMaxMessageSize)
			n := engine.DefaultMaxMessageSize / (64 << 10)
			w.runAll(t, []wireCase{
				{name: fmt.Sprintf("op=%d/frames=1", op), send: whole(op, p), want: []serverFrame{{op, p}}},
				{name: fmt.Sprintf("op=%d/frames=%d", op, n), send: fragmented(op, 0, p, n), want: []serverFrame{{op, p}}},
			})
		}
		t.Run("pipelined=1000", func(t *testing.T) { pipelined(t, w, 1000) })
	})
}

// pipelined sends n messages in one go, then reads the n echoes and checks
// they come back in order.
func pipelined(t *testing.T, w *wire, n int) {
	c := w.connect(t)
	var out []byte
	for i := range n {
		op := codec.OpText
		if i%3 == 0 {
			op = codec.OpBinary
		}
		out = append(out, whole(op, fmt.Appendf(nil, "message %d", i))...)
	}
	c.write(out)
	for i := range n {
		f := c.mustRead()
		if want := fmt.Sprintf("message %d", i); string(f.Payload) != want {
			t.Fatalf("echo %d: got %s, want %q", i, abbrev(f.Payload), want)
		}
	}
	closeClean(c)
}

// limitSize is the frame and message size of the limits test's server.
const limitSize = 64 << 10

// limitFragments is the MaxFragments of the limits test's server.
const limitFragments = 8

// TestConformanceLimits checks MaxFrameSize, MaxMessageSize and
// MaxFragments. A frame or message one byte over its limit fails with 1009,
// decided from the header alone, so the server never waits for (or buffers)
// an oversized payload; one fragment too many fails with 1008.
func TestConformanceLimits(t *testing.T) {
	cfg := engine.Config{MaxFrameSize: limitSize, MaxMessageSize: limitSize, MaxFragments: limitFragments}
	forEachTransport(t, cfg, func(t *testing.T, w *wire) {
		w.runAll(t, limitSizeCases())
		w.runAll(t, limitHeaderCases())
		p := textPayload(80)
		w.runAll(t, []wireCase{
			{name: "fragments=limit", send: fragmented(codec.OpText, 0, p, limitFragments),
				want: []serverFrame{{codec.OpText, p}}},
			{name: "fragments=limit+1", send: fragmented(codec.OpText, 0, p, limitFragments+1), close: codec.ClosePolicyViolation},
		})
	})
}

// limitSizeCases are messages at and just over the size limits.
func limitSizeCases() []wireCase {
	quarter := binaryPayload(limitSize / 4)
	return []wireCase{
		{name: "frame=limit", send: whole(codec.OpText, textPayload(limitSize)),
			want: []serverFrame{{codec.OpText, textPayload(limitSize)}}},
		{name: "frame=limit+1", send: headerOnly(true, codec.OpText, limitSize+1), close: codec.CloseMessageTooBig},
		{name: "message=limit", send: fragmented(codec.OpBinary, 0, binaryPayload(limitSize), 4),
			want: []serverFrame{{codec.OpBinary, binaryPayload(limitSize)}}},
		{name: "message=limit+1", send: joinBytes(fr(false, 0, codec.OpBinary, quarter), fr(false, 0, codec.OpContinuation, quarter),
			fr(false, 0, codec.OpContinuation, quarter), fr(false, 0, codec.OpContinuation, quarter),
			headerOnly(true, codec.OpContinuation, 1)), close: codec.CloseMessageTooBig},
	}
}

// limitHeaderCases send only the header of a frame far over the limit.
func limitHeaderCases() []wireCase {
	// A 64-bit length with the top bit set is malformed (RFC 6455 section 5.2).
	overflow := binary.BigEndian.AppendUint64([]byte{0x82, 0x80 | 127}, 1<<63)
	return []wireCase{
		{name: "header-only/length=10MiB", send: headerOnly(true, codec.OpBinary, 10<<20), close: codec.CloseMessageTooBig},
		{name: "header-only/length=10MiB/text", send: headerOnly(true, codec.OpText, 10<<20), close: codec.CloseMessageTooBig},
		{name: "header-only/length=2^62", send: headerOnly(true, codec.OpBinary, 1<<62), close: codec.CloseMessageTooBig},
		{name: "header-only/length=2^63", send: append(overflow, 1, 2, 3, 4), close: codec.CloseProtocolError},
		{name: "header-only/bytewise", send: headerOnly(true, codec.OpText, 10<<20), write: writeBytewise, close: codec.CloseMessageTooBig},
		{name: "header-only/unfinished", send: headerOnly(false, codec.OpText, 10<<20), close: codec.CloseMessageTooBig},
	}
}

// headerOnly returns only the header of a masked frame announcing length
// bytes. The over-limitSize cases send nothing more: the server must decide
// from the header, and payload it never reads could reset the connection
// before its close frame is read.
func headerOnly(fin bool, op codec.OpCode, length int64) []byte {
	return codec.AppendHeader(nil, codec.Header{Fin: fin, OpCode: op, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: length})
}
