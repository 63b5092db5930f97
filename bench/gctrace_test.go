package bench

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGCTraceParse(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		cycles int64
		total  time.Duration
		max    time.Duration
	}{
		{"one line", "gc 1 @0.005s 2%: 0.018+0.42+0.004 ms clock, 0.036+0.10/0.31/0.33+0.009 ms cpu, 3->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n",
			1, 22 * time.Microsecond, 18 * time.Microsecond},
		{"forced, then another", "gc 2 @1.0s 0%: 0.5+3+1.5 ms clock, 1+2/3/4+5 ms cpu, 4->4->2 MB, 5 MB goal, 2 P (forced)\ngc 3 @2.0s 0%: 0.1+1+0.2 ms clock, x\n",
			2, 2300 * time.Microsecond, 1500 * time.Microsecond},
		{"other output ignored", "server: listening on :3001\ngcx 1 nope\ngc 4 @1s 1%: bad+1+2 ms clock\ngc 5 @1s 1%: 1+2 ms clock\n", 0, 0, 0},
		{"negative and NaN pauses refused", "gc 7 @1s 1%: -1+1+1 ms clock\ngc 8 @1s 1%: NaN+1+1 ms clock\ngc 9 @1s 1%: 1e400+1+1 ms clock\n", 0, 0, 0},
		{"unfinished line waits", "gc 6 @1s 1%: 1+1+1 ms clock", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g gcTrace
			// Write byte by byte too: lines split across writes must join.
			for _, chunks := range [][]string{{tt.input}, strings.SplitAfter(tt.input, "")} {
				for _, c := range chunks {
					if n, err := g.Write([]byte(c)); n != len(c) || err != nil {
						t.Fatalf("Write = %d, %v", n, err)
					}
				}
				s, ok := g.take()
				if s.Cycles != tt.cycles || s.PauseTotal != tt.total || s.PauseMax != tt.max {
					t.Errorf("got %+v, want cycles %d total %v max %v", s, tt.cycles, tt.total, tt.max)
				}
				if ok != (tt.cycles > 0) {
					t.Errorf("ok = %v", ok)
				}
				g = gcTrace{}
			}
		})
	}
}

func TestGCTraceDropsLongLines(t *testing.T) {
	var g gcTrace
	long := strings.Repeat("x", maxTraceLine+1)
	_, _ = g.Write([]byte("gc 1 @1s 1%: 1+1+1 ms clock" + long))
	if len(g.partial) != 0 {
		t.Fatalf("kept %d bytes of an overlong line", len(g.partial))
	}
	_, _ = g.Write([]byte("\ngc 2 @1s 1%: 1+1+1 ms clock, \n"))
	if s, _ := g.take(); s.Cycles != 1 {
		t.Fatalf("cycles = %d, want 1 (the overlong line dropped, the next one parsed)", s.Cycles)
	}
}

func TestWithGCTrace(t *testing.T) {
	tests := []struct {
		env  []string
		want string
	}{
		{[]string{"HOME=/root"}, "GODEBUG=gctrace=1"},
		{[]string{"GODEBUG=madvdontneed=1", "A=b"}, "GODEBUG=madvdontneed=1,gctrace=1"},
		{[]string{"GODEBUG="}, "GODEBUG=gctrace=1"},
	}
	for _, tt := range tests {
		got := withGCTrace(tt.env)
		n := 0
		for _, kv := range got {
			if strings.HasPrefix(kv, "GODEBUG=") {
				n++
			}
		}
		if n != 1 || !slices.Contains(got, tt.want) {
			t.Errorf("withGCTrace(%q) = %q, want one %q", tt.env, got, tt.want)
		}
	}
}

// TestProcessGCTrace starts a Go program with GCTrace and reads the
// collections it makes (one per accepted connection).
func TestProcessGCTrace(t *testing.T) {
	p, err := helperProcessConfig(t, "listen-gc:", ProcessConfig{GCTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	if !slices.Contains(p.cmd.Env, "GODEBUG=gctrace=1") {
		t.Fatalf("environment has no GODEBUG=gctrace=1: %q", p.cmd.Env)
	}
	addr := strings.TrimPrefix(os.Getenv(helperEnv), "listen-gc:")
	waitFor(t, 5*time.Second, "first gctrace line", func() bool {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
		}
		_, ok := p.TakeGC()
		return ok
	})
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	var total int64
	waitFor(t, 5*time.Second, "three forced collections", func() bool {
		s, _ := p.TakeGC()
		total += s.Cycles
		return total >= 3
	})
	if _, ok := (&Process{}).TakeGC(); ok {
		t.Error("a process without GCTrace reported collections")
	}
}
