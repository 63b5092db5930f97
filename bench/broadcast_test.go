package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBroadcastPayloadRoundTrip(t *testing.T) {
	const now = 1764108000123456789
	cases := []struct {
		seq, sent int64
		size      int
		wantLen   int
	}{
		{0, now, 256, 256},
		{99, now, 64, 64},
		{1<<63 - 1, 1<<63 - 1, 0, 41},
		{7, 0, 5, 5}, // header "B7:0:" is exactly 5 bytes
		{12, 3, 2, 6},
	}
	for _, c := range cases {
		p := AppendBroadcastPayload([]byte("x"), c.seq, c.sent, c.size)
		if p[0] != 'x' || len(p)-1 != c.wantLen {
			t.Fatalf("seq %d size %d: got %d bytes %q, want %d after the prefix", c.seq, c.size, len(p)-1, p, c.wantLen)
		}
		seq, sent, err := ParseBroadcastPayload(p[1:])
		if err != nil || seq != c.seq || sent != c.sent {
			t.Fatalf("parse %q = %d, %d, %v; want %d, %d", p[1:], seq, sent, err, c.seq, c.sent)
		}
		if !utf8.Valid(p[1:]) {
			t.Fatalf("payload %q is not valid UTF-8", p[1:])
		}
	}
}

func TestParseBroadcastPayloadRejects(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"no B", "A1:2:"},
		{"no fields", "B"},
		{"empty seq", "B:2:"},
		{"empty time", "B1::"},
		{"unterminated seq", "B12"},
		{"unterminated time", "B1:2"},
		{"sign", "B-1:2:"},
		{"letter", "B1x:2:"},
		{"seq overflow", "B9223372036854775808:2:"},
		{"time overflow", "B1:99999999999999999999:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := ParseBroadcastPayload([]byte(c.in)); !errors.Is(err, ErrBroadcastPayload) {
				t.Fatalf("err = %v, want ErrBroadcastPayload", err)
			}
		})
	}
}

func TestBroadcastDeliverCountsLossAndDuplicates(t *testing.T) {
	r := newBroadcastRun(Config{Messages: 70, Size: 64}, new(Stats))
	a, b := &broadcastSub{seen: make([]uint64, 2)}, &broadcastSub{seen: make([]uint64, 2)}
	r.subs = []*broadcastSub{a, b}
	r.want.Store(140)
	for seq := range int64(70) {
		r.deliver(a, seq, 0, time.Millisecond)
	}
	r.deliver(b, 0, 0, time.Millisecond)
	r.deliver(b, 69, 0, time.Millisecond)
	r.deliver(b, 69, 0, time.Millisecond)
	r.deliver(b, 64, 0, time.Millisecond)
	lost, lossy := r.lost()
	if lost != 67 || lossy != 1 || r.dups.Load() != 1 || b.dups.Load() != 1 || r.stats.Ops.Load() != 74 {
		t.Fatalf("lost %d lossy %d dups %d ops %d; want 67 1 1 74", lost, lossy, r.dups.Load(), r.stats.Ops.Load())
	}
	select {
	case <-r.done:
		t.Fatal("done before every delivery")
	default:
	}
	for seq := range int64(70) {
		r.deliver(b, seq, 0, time.Millisecond)
	}
	select {
	case <-r.done:
	default:
		t.Fatal("not done after every delivery")
	}
	if lost, _ := r.lost(); lost != 0 || r.dups.Load() != 4 {
		t.Fatalf("lost %d dups %d, want 0 4", lost, r.dups.Load())
	}
}

func TestBroadcastRejectsBadConfig(t *testing.T) {
	target, _ := ParseTarget("ws://127.0.0.1:1/echo")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"size below header", Config{Conns: 1, Size: 10}, "at least"},
		{"too many bits", Config{Conns: 1 << 20, Messages: 1 << 11, Size: 100}, "Conns*Messages"},
		{"negative rate", Config{Conns: 1, Size: 100, PublishRate: -1}, "PublishRate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Target = target
			err := Broadcast{}.Run(context.Background(), &Env{Config: c.cfg.withDefaults(), Stats: new(Stats)}, &Result{Params: map[string]any{}})
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadConfig containing %q", err, c.want)
			}
		})
	}
}
