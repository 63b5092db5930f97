package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/bellhop/bellhop/codec"
)

const textOp = codec.OpText

func itoa(n int) string { return strconv.Itoa(n) }

// serverFrame encodes an unmasked server frame with FIN set.
func serverFrame(op codec.OpCode, payload []byte) []byte {
	return codec.AppendFrame(nil, op, payload, false)
}

type parsedFrame struct {
	op      codec.OpCode
	fin     bool
	payload string
}

// streamFrames is a stream of frames of every length encoding.
func streamFrames() ([]byte, []parsedFrame) {
	var stream []byte
	var want []parsedFrame
	add := func(h codec.Header, payload []byte) {
		h.Length = int64(len(payload))
		stream = codec.AppendHeader(stream, h)
		stream = append(stream, payload...)
		want = append(want, parsedFrame{h.OpCode, h.Fin, string(payload)})
	}
	add(codec.Header{Fin: true, OpCode: codec.OpText}, nil)
	add(codec.Header{Fin: true, OpCode: codec.OpText}, bytes.Repeat([]byte("a"), 125))
	add(codec.Header{Fin: true, OpCode: codec.OpBinary}, bytes.Repeat([]byte{0xff}, 126))
	add(codec.Header{Fin: true, OpCode: codec.OpPing}, []byte("ping"))
	add(codec.Header{Fin: false, OpCode: codec.OpText}, []byte("frag"))
	add(codec.Header{Fin: true, OpCode: codec.OpContinuation}, []byte("ment"))
	add(codec.Header{Fin: true, OpCode: codec.OpBinary}, bytes.Repeat([]byte("z"), 70000))
	add(codec.Header{Fin: true, OpCode: codec.OpClose}, []byte{0x03, 0xe8})
	return stream, want
}

// parseAll parses whole frames from b like OnTraffic does, returning them
// and the bytes used.
func parseAll(t testing.TB, b []byte) ([]parsedFrame, int) {
	var out []parsedFrame
	n := 0
	for {
		h, p, m, err := readFrame(b[n:], DefaultMaxFrame)
		if err == codec.ErrNeedMore {
			if m != 0 {
				t.Fatalf("ErrNeedMore consumed %d bytes", m)
			}
			return out, n
		}
		if err != nil {
			t.Fatalf("readFrame at %d: %v", n, err)
		}
		out = append(out, parsedFrame{h.OpCode, h.Fin, string(p)})
		n += m
	}
}

func TestReadFrameSplitInput(t *testing.T) {
	stream, want := streamFrames()
	splits := []int{0, 1, 2, 3, 4, 10, 127, 128, 129, 130, 131, 300, 1000, 70000, len(stream) - 1, len(stream)}
	for k := 0; k < 300; k++ {
		splits = append(splits, k)
	}
	for _, k := range splits {
		// First read: the prefix. The rest arrives later, appended to the
		// bytes not consumed, as gnet's inbound buffer keeps them.
		first, n := parseAll(t, stream[:k])
		rest, m := parseAll(t, stream[n:])
		got := append(first, rest...)
		if n+m != len(stream) {
			t.Fatalf("split %d: consumed %d of %d", k, n+m, len(stream))
		}
		if len(got) != len(want) {
			t.Fatalf("split %d: %d frames, want %d", k, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("split %d frame %d: op %v fin %v len %d, want op %v fin %v len %d",
					k, i, got[i].op, got[i].fin, len(got[i].payload), want[i].op, want[i].fin, len(want[i].payload))
			}
		}
	}
}

func TestReadFrameByteByByte(t *testing.T) {
	stream, want := streamFrames()
	var buf []byte
	var got []parsedFrame
	for _, b := range stream {
		buf = append(buf, b)
		frames, n := parseAll(t, buf)
		got = append(got, frames...)
		buf = buf[n:]
	}
	if len(buf) != 0 || len(got) != len(want) {
		t.Fatalf("left %d bytes, got %d frames, want 0 and %d", len(buf), len(got), len(want))
	}
}

func TestReadFrameErrors(t *testing.T) {
	long := make([]byte, 10)
	long[0], long[1] = 0x82, 127
	binary.BigEndian.PutUint64(long[2:], 1<<63)
	cases := []struct {
		name string
		in   []byte
		max  int64
	}{
		{"masked", codec.AppendClientFrame(nil, codec.Header{Fin: true, OpCode: codec.OpText}, []byte("x")), DefaultMaxFrame},
		{"rsv1 without extension", []byte{0xc1, 0x00}, DefaultMaxFrame},
		{"reserved data opcode", []byte{0x83, 0x00}, DefaultMaxFrame},
		{"reserved control opcode", []byte{0x8b, 0x00}, DefaultMaxFrame},
		{"control over 125", append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...), DefaultMaxFrame},
		{"fragmented control", []byte{0x09, 0x00}, DefaultMaxFrame},
		{"over the limit", serverFrame(codec.OpText, make([]byte, 200)), 100},
		{"64-bit length with top bit", long, DefaultMaxFrame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, n, err := readFrame(c.in, c.max)
			if !errors.Is(err, ErrProtocol) || n != 0 {
				t.Fatalf("readFrame = n %d, err %v; want ErrProtocol", n, err)
			}
		})
	}
}

func TestUpgradeRequest(t *testing.T) {
	nonce := [16]byte{1, 2, 3}
	req := string(appendUpgradeRequest(nil, Target{Host: "localhost:3001", Path: "/echo?x=1"}, &nonce, "bellhop.v1"))
	for _, want := range []string{
		"GET /echo?x=1 HTTP/1.1\r\n", "Host: localhost:3001\r\n", "Upgrade: websocket\r\n",
		"Sec-WebSocket-Key: AQIDAAAAAAAAAAAAAAAAAA==\r\n", "Sec-WebSocket-Protocol: bellhop.v1\r\n",
	} {
		if !strings.Contains(req, want) {
			t.Errorf("request lacks %q:\n%s", want, req)
		}
	}
	if !strings.HasSuffix(req, "\r\n\r\n") {
		t.Errorf("request does not end the head: %q", req)
	}
}

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 section 1.3: key dGhlIHNhbXBsZSBub25jZQ== → s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
	nonce := [16]byte([]byte("the sample nonce"))
	if got := acceptKey(&nonce); string(got[:]) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptKey = %s", got)
	}
}

// response101 builds a valid answer for nonce plus extra header lines.
func response101(nonce *[16]byte, extra ...string) string {
	key := acceptKey(nonce)
	s := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + string(key[:]) + "\r\n"
	for _, e := range extra {
		s += e + "\r\n"
	}
	return s + "\r\n"
}

func TestReadUpgradeResponse(t *testing.T) {
	nonce := [16]byte([]byte("the sample nonce"))
	ok := response101(&nonce)
	cases := []struct {
		name     string
		in       string
		protocol string
		want     int
		err      bool
	}{
		{"valid", ok, "", len(ok), false},
		{"valid with frame after", ok + "\x81\x02hi", "", len(ok), false},
		{"incomplete", ok[:len(ok)-1], "", 0, false},
		{"bare status code", strings.Replace(ok, "101 Switching Protocols", "101", 1), "", len(ok) - len(" Switching Protocols"), false},
		{"case-insensitive names", strings.NewReplacer("Upgrade: websocket", "UPGRADE: WebSocket", "Connection: Upgrade", "connection: keep-alive, upgrade").Replace(ok), "", len(ok) + len(" keep-alive,"), false},
		{"protocol chosen", response101(&nonce, "Sec-WebSocket-Protocol: bellhop.v1"), "bellhop.v1", len(response101(&nonce, "Sec-WebSocket-Protocol: bellhop.v1")), false},
		{"refused", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "", 0, true},
		{"wrong accept", strings.Replace(ok, "Accept: s3p", "Accept: xxx", 1), "", 0, true},
		{"no upgrade header", strings.Replace(ok, "Upgrade: websocket\r\n", "", 1), "", 0, true},
		{"unasked extension", response101(&nonce, "Sec-WebSocket-Extensions: permessage-deflate"), "", 0, true},
		{"unasked protocol", response101(&nonce, "Sec-WebSocket-Protocol: other"), "", 0, true},
		{"header without colon", response101(&nonce, "garbage"), "", 0, true},
		{"head too large", "HTTP/1.1 101 OK\r\n" + strings.Repeat("X-Pad: 0123456789\r\n", 600), "", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := readUpgradeResponse([]byte(c.in), &nonce, c.protocol)
			if (err != nil) != c.err || n != c.want {
				t.Fatalf("readUpgradeResponse = %d, %v; want %d, error %v", n, err, c.want, c.err)
			}
			if err != nil && !errors.Is(err, ErrHandshake) {
				t.Fatalf("error %v does not wrap ErrHandshake", err)
			}
		})
	}
}
