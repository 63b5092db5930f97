package bench

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzGCTrace feeds arbitrary server output to the gctrace reader: it must
// never panic, never keep more than one bounded partial line, and count
// pauses only as non-negative durations.
func FuzzGCTrace(f *testing.F) {
	f.Add([]byte("gc 1 @0.005s 2%: 0.018+0.42+0.004 ms clock, 0.036+0.10/0.31/0.33+0.009 ms cpu, 3->4->1 MB, 4 MB goal, 2 P\n"))
	f.Add([]byte("gc 2 @1s 0%: 1e3+NaN+-1 ms clock\ngc 3 @1s 0%: +++ ms clock\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		var g gcTrace
		for len(out) > 0 {
			n := min(len(out), 7)
			_, _ = g.Write(out[:n])
			out = out[n:]
		}
		if len(g.partial) > maxTraceLine {
			t.Fatalf("kept %d bytes of a partial line", len(g.partial))
		}
		s, _ := g.take()
		if s.Cycles < 0 || s.PauseTotal < 0 || s.PauseMax < 0 || s.PauseMax > s.PauseTotal {
			t.Fatalf("inconsistent stats %+v", s)
		}
	})
}

// FuzzReadResults reads arbitrary result files: an error or results, never
// a panic, and whatever it reads can be compared and reported.
func FuzzReadResults(f *testing.F) {
	f.Add([]byte(`{"scenario":"echo","label":"bellhop","metrics":{"rtt_p50_us":1,"rtt_p90_us":2,"rtt_p99_us":3,"rtt_p999_us":4,"rtt_max_us":5}}` + "\n"))
	f.Add([]byte("{}\n\n{\"metrics\":[]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ReadResults(bytes.NewReader(data))
		if err != nil {
			return
		}
		c := Compare(rs, "bellhop", PeerGoals)
		var b strings.Builder
		if err := c.WriteMarkdown(&b, "fuzz", nil); err != nil {
			t.Fatal(err)
		}
		for _, cs := range c.Cases {
			var svg bytes.Buffer
			if err := WriteLatencySVG(&svg, cs, c.latencySeries(cs)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzParseTag checks that a parsed hotel tag is one appendTag could make.
func FuzzParseTag(f *testing.F) {
	f.Add("r5f2a91c042", "5f2a91c0")
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, s, run string) {
		op, seq, ok := parseTag(s, run)
		if !ok {
			return
		}
		if seq < 0 || len(run) != hotelTagRun {
			t.Fatalf("parseTag(%q, %q) = %c %d", s, run, op, seq)
		}
		if back := string(appendTag(nil, op, run, seq)); !strings.HasPrefix(s, back[:1+hotelTagRun]) {
			t.Fatalf("tag %q does not round-trip: %q", s, back)
		}
	})
}
