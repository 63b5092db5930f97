package codec

import (
	"bytes"
	"testing"
)

// FuzzParser parses a stream of frames split at a fuzzed offset, in two
// calls, and checks the parser's invariants: no panic, consumed bytes within
// the input, the same frames whole or split, and payloads that re-encode to
// the same frame.
func FuzzParser(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add(bytes.Join(tc.frames, nil), uint16(3), tc.deflate)
	}
	f.Add(clientFrame(true, 0, OpText, []byte("héllo")), uint16(1), false)
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16, deflate bool) {
		lim := Limits{MaxFrameSize: 1 << 16, MaxMessageSize: 1 << 17, MaxFragments: 64}
		whole := parseAll(t, append([]byte(nil), stream...), deflate, &lim, len(stream)+1)
		split := parseAll(t, append([]byte(nil), stream...), deflate, &lim, int(cut))
		if len(whole) != len(split) {
			t.Fatalf("whole gave %d frames, split at %d gave %d", len(whole), cut, len(split))
		}
		for i := range whole {
			if !bytes.Equal(whole[i], split[i]) {
				t.Fatalf("frame %d differs when split at %d", i, cut)
			}
		}
	})
}

// parseAll feeds stream to a fresh parser, first cut bytes then the rest,
// and returns each frame re-encoded (masked with its own mask).
func parseAll(t *testing.T, stream []byte, deflate bool, lim *Limits, cut int) [][]byte {
	p := Parser{Deflate: deflate}
	var out [][]byte
	var buf []byte
	feed := [][]byte{stream}
	if cut < len(stream) {
		feed = [][]byte{stream[:cut], stream[cut:]}
	}
	for _, chunk := range feed {
		buf = append(buf, chunk...)
		for len(buf) > 0 {
			f, n, err := p.Next(buf, lim)
			if err == ErrNeedMore {
				if n != 0 && n <= len(buf) {
					t.Fatalf("need more with n=%d but %d buffered", n, len(buf))
				}
				break
			}
			if err != nil {
				if CloseCode(err) == CloseInternalError {
					t.Fatalf("non-protocol error %v", err)
				}
				return out
			}
			if n <= 0 || n > len(buf) {
				t.Fatalf("consumed %d of %d", n, len(buf))
			}
			if len(f.Payload) > 0 && &f.Payload[len(f.Payload)-1] != &buf[n-1] {
				t.Fatalf("payload does not alias the end of the frame")
			}
			enc := AppendClientFrame(nil, f.Header, f.Payload)
			h, hn, err := ParseHeader(enc)
			if err != nil || h.Length != f.Length || h.OpCode != f.OpCode || h.Fin != f.Fin {
				t.Fatalf("re-encoded header %+v (err %v), want %+v", h, err, f.Header)
			}
			Unmask(enc[hn:], h.Mask, 0)
			if !bytes.Equal(enc[hn:], f.Payload) {
				t.Fatalf("re-encoded payload differs")
			}
			out = append(out, enc)
			buf = buf[n:]
		}
	}
	return out
}
