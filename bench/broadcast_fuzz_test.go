package bench

import (
	"errors"
	"testing"
)

// FuzzParseBroadcastPayload parses arbitrary bytes as a broadcast message:
// it must never panic, must fail only with ErrBroadcastPayload, and what it
// accepts must survive encoding and parsing again.
func FuzzParseBroadcastPayload(f *testing.F) {
	f.Add(AppendBroadcastPayload(nil, 3, 1764108000123456789, 64))
	f.Add([]byte("B0:0:"))
	f.Add([]byte("B9223372036854775807:1:"))
	f.Add([]byte("B1:x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, sent, err := ParseBroadcastPayload(b)
		if err != nil {
			if !errors.Is(err, ErrBroadcastPayload) {
				t.Fatalf("error %v is not ErrBroadcastPayload", err)
			}
			return
		}
		if seq < 0 || sent < 0 {
			t.Fatalf("negative fields %d %d from %q", seq, sent, b)
		}
		seq2, sent2, err := ParseBroadcastPayload(AppendBroadcastPayload(nil, seq, sent, len(b)))
		if err != nil || seq2 != seq || sent2 != sent {
			t.Fatalf("%q parsed to %d, %d; again %d, %d, %v", b, seq, sent, seq2, sent2, err)
		}
	})
}
