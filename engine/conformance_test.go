package engine_test

import (
	"fmt"
	"testing"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// framingSizes are the payload lengths of Autobahn 1.1 and 1.2: both sides
// of each length encoding's boundary (7-bit, 16-bit, 64-bit) and the default
// MaxFrameSize itself.
var framingSizes = []int{0, 125, 126, 127, 128, 65535, 65536, 65537, engine.DefaultMaxFrameSize}

// TestConformanceFraming covers Autobahn 1.x: text and binary messages of
// every length encoding are echoed, whether the frame arrives in one write
// or trickles in (the header a byte at a time).
func TestConformanceFraming(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		for _, op := range []codec.OpCode{codec.OpText, codec.OpBinary} {
			for _, size := range framingSizes {
				for _, slow := range []bool{false, true} {
					name := fmt.Sprintf("op=%d/size=%d/slow=%v", op, size, slow)
					t.Run(name, func(t *testing.T) {
						p := payloadFor(op, size)
						c := w.connect(t)
						if slow {
							writeSlowly(c, whole(op, p))
						} else {
							c.write(whole(op, p))
						}
						expectReply(c, serverFrame{op, p})
						closeClean(c)
					})
				}
			}
		}
	})
}

// TestConformancePingPong covers Autobahn 2.x: pings get pongs with the same
// payload, in order; unsolicited pongs are ignored; oversized or fragmented
// pings fail the connection.
func TestConformancePingPong(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		t.Run("payload=0..125", func(t *testing.T) {
			c := w.connect(t)
			var pings []byte
			for n := 0; n <= codec.MaxControlPayload; n++ {
				pings = append(pings, whole(codec.OpPing, binaryPayload(n))...)
			}
			c.write(pings)
			for n := 0; n <= codec.MaxControlPayload; n++ {
				expectReply(c, serverFrame{codec.OpPong, binaryPayload(n)})
			}
			closeClean(c)
		})
		t.Run("slow", func(t *testing.T) {
			c := w.connect(t)
			p := binaryPayload(codec.MaxControlPayload)
			writeBytewise(c, whole(codec.OpPing, p))
			expectReply(c, serverFrame{codec.OpPong, p})
			closeClean(c)
		})
		w.runAll(t, pingCases())
	})
}

// pingCases: bursts, odd payloads and pongs nobody asked for are fine;
// oversized and fragmented control frames fail the connection with 1002.
func pingCases() []wireCase {
	var burst []byte
	var pongs []serverFrame
	for i := range 10 {
		p := fmt.Appendf(nil, "ping-%d", i)
		burst = append(burst, whole(codec.OpPing, p)...)
		pongs = append(pongs, serverFrame{codec.OpPong, p})
	}
	return []wireCase{
		{name: "burst=10", send: burst, want: pongs},
		{name: "burst=10/bytewise", send: burst, write: writeBytewise, want: pongs},
		{name: "binary-payload", send: whole(codec.OpPing, []byte{0, 0xff, 0xfe, 0x80}),
			want: []serverFrame{{codec.OpPong, []byte{0, 0xff, 0xfe, 0x80}}}},
		{name: "unsolicited-pong", send: joinBytes(whole(codec.OpPong, []byte("unasked")), textFrame("after pong")),
			want: []serverFrame{textEcho("after pong")}},
		{name: "unsolicited-empty-pong", send: joinBytes(whole(codec.OpPong, nil), textFrame("after pong")),
			want: []serverFrame{textEcho("after pong")}},
		{name: "payload=126", send: whole(codec.OpPing, binaryPayload(126)), close: codec.CloseProtocolError},
		{name: "payload=200", send: whole(codec.OpPing, binaryPayload(200)), close: codec.CloseProtocolError},
		{name: "fragmented", send: joinBytes(fr(false, 0, codec.OpPing, []byte("a")), fr(true, 0, codec.OpContinuation, []byte("b"))),
			close: codec.CloseProtocolError},
		{name: "fragmented-pong", send: joinBytes(fr(false, 0, codec.OpPong, []byte("a")), fr(true, 0, codec.OpContinuation, []byte("b"))),
			close: codec.CloseProtocolError},
		{name: "ping-after-bad-frame", send: joinBytes(textFrame("first"), fr(false, 0, codec.OpPing, nil), whole(codec.OpPing, []byte("x"))),
			want: []serverFrame{textEcho("first")}, close: codec.CloseProtocolError},
	}
}

// TestConformanceReservedBits covers Autobahn 3.x: a frame with RSV1, RSV2
// or RSV3 set and no extension negotiated fails the connection with 1002.
// Frames before it are answered; the bad frame and what follows are not.
// The server here does not enable permessage-deflate, so it declines an
// offer of it and RSV1 stays reserved.
func TestConformanceReservedBits(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		var xs []wireCase
		cases := []struct {
			rsv byte
			op  codec.OpCode
			p   string
		}{
			{rsv1, codec.OpText, "rsv1"},
			{rsv2, codec.OpText, "rsv2"},
			{rsv2 | rsv1, codec.OpText, "rsv1+2"},
			{rsv3, codec.OpBinary, "rsv3"},
			{rsv3 | rsv1, codec.OpBinary, "rsv1+3"},
			{rsv3 | rsv2, codec.OpPing, "rsv2+3"},
			{rsv1 | rsv2 | rsv3, codec.OpClose, ""},
			{rsv1, codec.OpPong, "rsv1"},
			{rsv2, codec.OpContinuation, "rsv2"},
		}
		for _, tc := range cases {
			bad := fr(true, tc.rsv, tc.op, []byte(tc.p))
			name := fmt.Sprintf("rsv=%d/op=%d", tc.rsv, tc.op)
			xs = append(xs,
				wireCase{name: name, send: bad, close: codec.CloseProtocolError},
				wireCase{name: name + "/between", send: joinBytes(textFrame("before"), bad, whole(codec.OpPing, []byte("after"))),
					want: []serverFrame{textEcho("before")}, close: codec.CloseProtocolError},
				// The server fails at the header: nothing may follow it.
				wireCase{name: name + "/bytewise", send: joinBytes(textFrame("before"), fr(true, tc.rsv, tc.op, nil)), write: writeBytewise,
					want: []serverFrame{textEcho("before")}, close: codec.CloseProtocolError},
			)
		}
		w.runAll(t, xs)
		t.Run("deflate-offered-not-enabled", func(t *testing.T) {
			c, resp := w.upgrade(t, offerChrome)
			expectExtension(t, resp, "")
			c.write(fr(true, rsv1, codec.OpBinary, deflateMessage([]byte("compressed"))))
			expectCloseOnly(c, codec.CloseProtocolError)
			w.alive(t)
		})
	})
}

// TestConformanceOpcodes covers Autobahn 4.x: reserved data opcodes (3-7)
// and reserved control opcodes (0xB-0xF) fail the connection with 1002.
func TestConformanceOpcodes(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		var xs []wireCase
		for _, op := range []codec.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
			name := fmt.Sprintf("op=%#x", byte(op))
			xs = append(xs,
				wireCase{name: name, send: whole(op, nil), close: codec.CloseProtocolError},
				wireCase{name: name + "/payload", send: whole(op, []byte("reserved")), close: codec.CloseProtocolError},
				wireCase{name: name + "/between", send: joinBytes(textFrame("before"), whole(op, []byte("reserved")), whole(codec.OpPing, nil)),
					want: []serverFrame{textEcho("before")}, close: codec.CloseProtocolError},
				wireCase{name: name + "/unfinished", send: fr(false, 0, op, []byte("x")), close: codec.CloseProtocolError},
			)
		}
		w.runAll(t, xs)
	})
}

// TestConformanceFragmentation covers Autobahn 5.x: fragmented messages are
// echoed whole, control frames may come between fragments, and fragments
// out of order fail the connection with 1002.
func TestConformanceFragmentation(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		w.runAll(t, fragmentEchoCases())
		w.runAll(t, fragmentErrorCases())
	})
}

// fragmentEchoCases are fragmented messages the server must echo whole.
func fragmentEchoCases() []wireCase {
	var xs []wireCase
	for _, n := range []int{2, 3, 10, 100} {
		p := textPayload(1000)
		xs = append(xs,
			wireCase{name: fmt.Sprintf("text/fragments=%d", n), send: fragmented(codec.OpText, 0, p, n),
				want: []serverFrame{{codec.OpText, p}}},
			wireCase{name: fmt.Sprintf("binary/fragments=%d", n), send: fragmented(codec.OpBinary, 0, binaryPayload(1000), n),
				want: []serverFrame{{codec.OpBinary, binaryPayload(1000)}}},
		)
	}
	// Autobahn 10.1.1: 64 KiB of text in fragments of at most 1300 bytes.
	big := textPayload(64 << 10)
	xs = append(xs, wireCase{name: "text/64KiB/fragment=1300", send: fragmented(codec.OpText, 0, big, (len(big)+1299)/1300),
		want: []serverFrame{{codec.OpText, big}}})
	frag := func(fin bool, op codec.OpCode, s string) []byte { return fr(fin, 0, op, []byte(s)) }
	cont := codec.OpContinuation
	withPing := joinBytes(frag(false, codec.OpText, "frag"), whole(codec.OpPing, []byte("p1")), frag(false, cont, "men"),
		whole(codec.OpPong, []byte("ignored")), whole(codec.OpPing, []byte("p2")), frag(true, cont, "ted"))
	interleaved := []serverFrame{{codec.OpPong, []byte("p1")}, {codec.OpPong, []byte("p2")}, textEcho("fragmented")}
	return append(xs,
		wireCase{name: "text/fragments=2/bytewise", send: fragmented(codec.OpText, 0, []byte("fragmented"), 2),
			write: writeBytewise, want: []serverFrame{textEcho("fragmented")}},
		wireCase{name: "ping-between", send: withPing, want: interleaved},
		wireCase{name: "ping-between/bytewise", send: withPing, write: writeBytewise, want: interleaved},
		wireCase{name: "empty-fragments", send: joinBytes(frag(false, codec.OpText, ""), frag(false, cont, ""), frag(true, cont, "")),
			want: []serverFrame{textEcho("")}},
		wireCase{name: "two-messages", send: joinBytes(frag(false, codec.OpText, "one"), frag(true, cont, "-1"),
			frag(false, codec.OpBinary, "two"), frag(true, cont, "-2")),
			want: []serverFrame{textEcho("one-1"), {codec.OpBinary, []byte("two-2")}}},
	)
}

// fragmentErrorCases break the order of fragments (Autobahn 5.9-5.18).
func fragmentErrorCases() []wireCase {
	frag := func(fin bool, op codec.OpCode, s string) []byte { return fr(fin, 0, op, []byte(s)) }
	cont := codec.OpContinuation
	return []wireCase{
		{name: "continuation-without-start/fin", send: frag(true, cont, "orphan"), close: codec.CloseProtocolError},
		{name: "continuation-without-start/nofin", send: frag(false, cont, "orphan"), close: codec.CloseProtocolError},
		{name: "continuation-after-message", send: joinBytes(frag(false, codec.OpText, "a"), frag(true, cont, "b"), frag(false, cont, "c")),
			want: []serverFrame{textEcho("ab")}, close: codec.CloseProtocolError},
		{name: "text-inside-text", send: joinBytes(frag(false, codec.OpText, "a"), frag(false, codec.OpText, "b")),
			close: codec.CloseProtocolError},
		{name: "binary-inside-text", send: joinBytes(frag(false, codec.OpText, "a"), frag(true, codec.OpBinary, "b")),
			close: codec.CloseProtocolError},
		{name: "text-inside-text/bytewise", send: joinBytes(frag(false, codec.OpText, "a"), frag(true, codec.OpText, "")),
			write: writeBytewise, close: codec.CloseProtocolError},
		{name: "fragmented-ping-inside-text", send: joinBytes(frag(false, codec.OpText, "a"), frag(false, codec.OpPing, "p")),
			close: codec.CloseProtocolError},
		{name: "fragmented-close", send: joinBytes(fr(false, 0, codec.OpClose, codec.AppendClosePayload(nil, 1000, ""))),
			close: codec.CloseProtocolError},
	}
}
