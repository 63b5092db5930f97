package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame builds a masked frame with explicit header fields.
func clientFrame(fin bool, rsv byte, op OpCode, payload []byte) []byte {
	return AppendClientFrame(nil, Header{Fin: fin, Rsv: rsv, OpCode: op, Mask: testMask}, payload)
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

type parseCase struct {
	name    string
	deflate bool
	frames  [][]byte // fed one after another to the same parser
	wantErr error    // error on the last frame; nil means all succeed
	wantOps []OpCode // Message opcode of each successful frame
}

func parseCases() []parseCase {
	big := bytes.Repeat([]byte("a"), 70000)
	return []parseCase{
		{name: "text", frames: [][]byte{clientFrame(true, 0, OpText, []byte("hello"))}, wantOps: []OpCode{OpText}},
		{name: "empty binary", frames: [][]byte{clientFrame(true, 0, OpBinary, nil)}, wantOps: []OpCode{OpBinary}},
		{name: "16-bit length", frames: [][]byte{clientFrame(true, 0, OpBinary, make([]byte, 300))}, wantOps: []OpCode{OpBinary}},
		{name: "64-bit length", frames: [][]byte{clientFrame(true, 0, OpBinary, big)}, wantOps: []OpCode{OpBinary}},
		{name: "fragments with ping between", frames: [][]byte{
			clientFrame(false, 0, OpText, []byte("he")),
			clientFrame(true, 0, OpPing, []byte("p")),
			clientFrame(false, 0, OpContinuation, []byte("l")),
			clientFrame(true, 0, OpContinuation, []byte("lo")),
		}, wantOps: []OpCode{OpText, OpPing, OpText, OpText}},
		{name: "unmasked", frames: [][]byte{{0x81, 0x00}}, wantErr: ErrUnmasked},
		{name: "rsv1 without deflate", frames: [][]byte{clientFrame(true, Rsv1, OpText, nil)}, wantErr: ErrReservedBits},
		{name: "rsv2", frames: [][]byte{clientFrame(true, 2, OpText, nil)}, wantErr: ErrReservedBits},
		{name: "rsv3 with deflate", deflate: true, frames: [][]byte{clientFrame(true, 1, OpText, nil)}, wantErr: ErrReservedBits},
		{name: "rsv1 with deflate", deflate: true, frames: [][]byte{clientFrame(true, Rsv1, OpBinary, []byte{0})}, wantOps: []OpCode{OpBinary}},
		{name: "rsv1 on ping", deflate: true, frames: [][]byte{clientFrame(true, Rsv1, OpPing, nil)}, wantErr: ErrCompressedControl},
		{name: "rsv1 on continuation", deflate: true, frames: [][]byte{
			clientFrame(false, Rsv1, OpText, []byte{1}), clientFrame(true, Rsv1, OpContinuation, []byte{2}),
		}, wantErr: ErrCompressedContinue},
		{name: "reserved opcode 3", frames: [][]byte{clientFrame(true, 0, 3, nil)}, wantErr: ErrReservedOpCode},
		{name: "reserved opcode 0xb", frames: [][]byte{clientFrame(true, 0, 0xb, nil)}, wantErr: ErrReservedOpCode},
		{name: "ping too long", frames: [][]byte{clientFrame(true, 0, OpPing, make([]byte, 126))}, wantErr: ErrControlTooLong},
		{name: "fragmented ping", frames: [][]byte{clientFrame(false, 0, OpPing, nil)}, wantErr: ErrControlFragmented},
		{name: "continuation without start", frames: [][]byte{clientFrame(true, 0, OpContinuation, []byte("x"))}, wantErr: ErrContinuationNoStart},
		{name: "text inside fragmented", frames: [][]byte{
			clientFrame(false, 0, OpText, []byte("a")), clientFrame(true, 0, OpText, []byte("b")),
		}, wantErr: ErrDataInFragmented},
		{name: "close ok", frames: [][]byte{clientFrame(true, 0, OpClose, closePayload(1000, "bye"))}, wantOps: []OpCode{OpClose}},
		{name: "close empty", frames: [][]byte{clientFrame(true, 0, OpClose, nil)}, wantOps: []OpCode{OpClose}},
		{name: "close one byte", frames: [][]byte{clientFrame(true, 0, OpClose, []byte{3})}, wantErr: ErrCloseLength},
		{name: "close code 1005", frames: [][]byte{clientFrame(true, 0, OpClose, closePayload(1005, ""))}, wantErr: ErrCloseCode},
		{name: "close code 999", frames: [][]byte{clientFrame(true, 0, OpClose, closePayload(999, ""))}, wantErr: ErrCloseCode},
		{name: "close code 5000", frames: [][]byte{clientFrame(true, 0, OpClose, closePayload(5000, ""))}, wantErr: ErrCloseCode},
		{name: "close reason bad utf8", frames: [][]byte{clientFrame(true, 0, OpClose, closePayload(1000, "\xff"))}, wantErr: ErrCloseReasonUTF8},
		{name: "invalid utf8", frames: [][]byte{clientFrame(true, 0, OpText, []byte("a\xc3\x28"))}, wantErr: ErrInvalidUTF8},
		{name: "utf8 fails fast in first fragment", frames: [][]byte{clientFrame(false, 0, OpText, []byte("\xed\xa0\x80"))}, wantErr: ErrInvalidUTF8},
		{name: "utf8 split across fragments", frames: [][]byte{
			clientFrame(false, 0, OpText, []byte("\xe2\x82")), clientFrame(true, 0, OpContinuation, []byte("\xac")),
		}, wantOps: []OpCode{OpText, OpText}},
		{name: "utf8 truncated at end", frames: [][]byte{clientFrame(true, 0, OpText, []byte("\xe2\x82"))}, wantErr: ErrInvalidUTF8},
		{name: "binary not utf8 checked", frames: [][]byte{clientFrame(true, 0, OpBinary, []byte{0xff})}, wantOps: []OpCode{OpBinary}},
		{name: "64-bit length top bit", frames: [][]byte{{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}}, wantErr: ErrLengthEncoding},
	}
}

func TestParserCases(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := Parser{Deflate: tc.deflate}
			lim := Limits{}
			var ops []OpCode
			var err error
			for _, fr := range tc.frames {
				var f Frame
				var n int
				f, n, err = p.Next(append([]byte(nil), fr...), &lim)
				if err != nil {
					break
				}
				if n != len(fr) {
					t.Fatalf("consumed %d of %d", n, len(fr))
				}
				ops = append(ops, f.Message)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !equalOps(ops, tc.wantOps) {
				t.Fatalf("ops = %v, want %v", ops, tc.wantOps)
			}
		})
	}
}

func equalOps(a, b []OpCode) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParserCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code StatusCode
	}{
		{ErrUnmasked, 1002}, {ErrInvalidUTF8, 1007}, {ErrCloseReasonUTF8, 1007},
		{ErrFrameTooBig, 1009}, {ErrMessageTooBig, 1009}, {ErrTooManyFragments, 1008},
		{errors.New("other"), 1011},
	} {
		if got := CloseCode(tc.err); got != tc.code {
			t.Errorf("CloseCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

// TestParserByteByByte feeds a stream of frames one byte at a time, the way
// a slow peer can deliver them, and checks every frame comes out whole.
func TestParserByteByByte(t *testing.T) {
	var stream []byte
	msgs := [][]byte{[]byte("x"), bytes.Repeat([]byte("y"), 200), bytes.Repeat([]byte("z"), 70000), nil}
	for _, m := range msgs {
		stream = append(stream, clientFrame(true, 0, OpBinary, m)...)
	}
	var p Parser
	var buf []byte
	var got [][]byte
	for _, b := range stream {
		buf = append(buf, b)
		for {
			f, n, err := p.Next(buf, &Limits{})
			if err == ErrNeedMore {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, append([]byte(nil), f.Payload...))
			buf = buf[n:]
		}
	}
	if len(got) != len(msgs) {
		t.Fatalf("got %d frames, want %d", len(got), len(msgs))
	}
	for i := range msgs {
		if !bytes.Equal(got[i], msgs[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
}

func TestParserNeedMoreReportsLength(t *testing.T) {
	fr := clientFrame(true, 0, OpBinary, make([]byte, 1000))
	var p Parser
	for _, cut := range []int{0, 1, 3, 7} {
		if _, n, err := p.Next(fr[:cut], &Limits{}); err != ErrNeedMore || n != 0 {
			t.Fatalf("cut %d: n=%d err=%v, want 0 and ErrNeedMore", cut, n, err)
		}
	}
	if _, n, err := p.Next(fr[:8], &Limits{}); err != ErrNeedMore || n != len(fr) {
		t.Fatalf("header complete: n=%d err=%v, want %d and ErrNeedMore", n, err, len(fr))
	}
}

func TestParserLimits(t *testing.T) {
	cases := []struct {
		name   string
		lim    Limits
		frames [][]byte
		want   error
	}{
		{"frame too big", Limits{MaxFrameSize: 10}, [][]byte{clientFrame(true, 0, OpBinary, make([]byte, 11))}, ErrFrameTooBig},
		{"frame at limit", Limits{MaxFrameSize: 10}, [][]byte{clientFrame(true, 0, OpBinary, make([]byte, 10))}, nil},
		{"message too big", Limits{MaxMessageSize: 10}, [][]byte{
			clientFrame(false, 0, OpBinary, make([]byte, 6)), clientFrame(true, 0, OpContinuation, make([]byte, 5)),
		}, ErrMessageTooBig},
		{"too many fragments", Limits{MaxFragments: 3}, [][]byte{
			clientFrame(false, 0, OpBinary, nil), clientFrame(false, 0, OpContinuation, nil), clientFrame(false, 0, OpContinuation, nil),
		}, ErrTooManyFragments},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			var err error
			for _, fr := range tc.frames {
				// Only the header is given: limits must trip before the payload is buffered.
				if h := fr[:len(fr)-1]; len(h) >= 2 {
					if _, _, err = p.Next(h, &tc.lim); err != nil && err != ErrNeedMore {
						break
					}
				}
				_, _, err = p.Next(fr, &tc.lim)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{Fin: true, OpCode: OpText, Length: 0},
		{Fin: false, OpCode: OpBinary, Length: 125},
		{Fin: true, OpCode: OpBinary, Length: 126, Rsv: Rsv1},
		{Fin: true, OpCode: OpBinary, Length: 65535},
		{Fin: true, OpCode: OpBinary, Length: 65536, Masked: true, Mask: testMask},
		{Fin: true, OpCode: OpPong, Length: 1 << 40},
	} {
		b := AppendHeader(nil, h)
		if len(b) != HeaderSize(int(h.Length), h.Masked) {
			t.Errorf("%+v: size %d, HeaderSize %d", h, len(b), HeaderSize(int(h.Length), h.Masked))
		}
		got, n, err := ParseHeader(b)
		if err != nil || n != len(b) || got != h {
			t.Errorf("round trip %+v: got %+v n=%d err=%v", h, got, n, err)
		}
	}
}

func TestAppendCloseFrame(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: must be cut on a rune boundary
	for _, tc := range []struct {
		code   StatusCode
		reason string
	}{{1000, ""}, {1001, "going away"}, {4008, long}, {CloseNoStatus, "ignored"}} {
		b := AppendCloseFrame(nil, tc.code, tc.reason)
		h, n, err := ParseHeader(b)
		if err != nil || h.OpCode != OpClose || !h.Fin || int(h.Length) != len(b)-n || h.Length > MaxControlPayload {
			t.Fatalf("bad frame %x: %+v %v", b, h, err)
		}
		code, reason, err := ParseClose(b[n:])
		if err != nil {
			t.Fatalf("ParseClose: %v", err)
		}
		want := tc.code
		if tc.code == CloseNoStatus {
			want = CloseNoStatus
		}
		if code != want || !strings.HasPrefix(tc.reason, string(reason)) {
			t.Fatalf("got %d %q", code, reason)
		}
	}
}

func TestValidCloseCode(t *testing.T) {
	valid := map[StatusCode]bool{1000: true, 1003: true, 1007: true, 1011: true, 1014: true, 3000: true, 4999: true}
	invalid := []StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}
	for c := range valid {
		if !ValidCloseCode(c) {
			t.Errorf("%d should be valid", c)
		}
	}
	for _, c := range invalid {
		if ValidCloseCode(c) {
			t.Errorf("%d should be invalid", c)
		}
	}
}

func TestProtocolErrorMessage(t *testing.T) {
	if got := ErrFrameTooBig.Error(); got != "codec: frame too big" {
		t.Fatalf("got %q", got)
	}
	_, _, ok := (&Parser{}).InMessage()
	if ok {
		t.Fatal("fresh parser in a message")
	}
}
