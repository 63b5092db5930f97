package bench

import (
	"bytes"
	"math"
	"strconv"
	"sync"
	"time"
)

// maxTraceLine bounds the unfinished line gcTrace keeps between writes; a
// longer line is not a gctrace line and is dropped.
const maxTraceLine = 4 << 10

// GCStats is what a Go server's runtime reported about its garbage
// collections (GODEBUG=gctrace=1) over a window of a run.
type GCStats struct {
	Cycles     int64
	PauseTotal time.Duration // stop-the-world time: sweep termination plus mark termination
	PauseMax   time.Duration // longest single stop-the-world phase
}

// gcTrace reads the lines the Go runtime prints with GODEBUG=gctrace=1 out
// of a server's output and adds up the stop-the-world pauses. Exec's copy
// goroutine writes to it while the scenario takes windows, so a mutex
// guards all of it.
type gcTrace struct {
	mu      sync.Mutex
	partial []byte  // start of a line not yet ended by '\n'
	window  GCStats // since the last take
	seen    bool    // a gctrace line was ever parsed: the server is a Go program
}

// Write splits p into lines and parses each.
func (g *gcTrace) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(g.partial)+len(p) <= maxTraceLine {
				g.partial = append(g.partial, p...)
			} else {
				g.partial = g.partial[:0]
			}
			break
		}
		line := p[:i]
		if len(g.partial) > 0 {
			line = append(g.partial, line...)
			g.partial = g.partial[:0]
		}
		g.parse(line)
		p = p[i+1:]
	}
	return n, nil
}

// parse reads one line such as
//
//	gc 7 @0.512s 1%: 0.021+1.2+0.004 ms clock, 0.04+0.3/0.9/0+0.008 ms cpu, 4->4->2 MB, 5 MB goal, ...
//
// whose clock times are sweep termination (stop the world), concurrent
// mark, and mark termination (stop the world).
func (g *gcTrace) parse(line []byte) {
	line = bytes.TrimSpace(line)
	if !bytes.HasPrefix(line, []byte("gc ")) {
		return
	}
	_, rest, ok := bytes.Cut(line, []byte("%: "))
	if !ok {
		return
	}
	clock, _, ok := bytes.Cut(rest, []byte(" ms clock"))
	if !ok {
		return
	}
	parts := bytes.Split(clock, []byte("+"))
	if len(parts) != 3 {
		return
	}
	sweep, err1 := strconv.ParseFloat(string(parts[0]), 64)
	mark, err2 := strconv.ParseFloat(string(parts[2]), 64)
	if err1 != nil || err2 != nil || !(sweep >= 0 && mark >= 0) || math.IsInf(sweep+mark, 0) {
		return // negative, NaN or infinite: not a pause the runtime reports
	}
	g.seen = true
	g.window.Cycles++
	for _, ms := range []float64{sweep, mark} {
		d := time.Duration(ms * float64(time.Millisecond))
		g.window.PauseTotal += d
		g.window.PauseMax = max(g.window.PauseMax, d)
	}
}

// take returns the window since the last take and starts a new one; ok is
// false while no gctrace line was seen (the server is not a Go program, or
// it has not collected yet).
func (g *gcTrace) take() (s GCStats, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, g.window = g.window, GCStats{}
	return s, g.seen
}

// takeGC takes the server's GC window, when there is a server to read.
func (e *Env) takeGC() (GCStats, bool) {
	if e.Server == nil {
		return GCStats{}, false
	}
	return e.Server.TakeGC()
}

// addGC reports a run's garbage collections in the server.
func (m *Metrics) addGC(s GCStats) {
	m.Add("server_gc_cycles", float64(s.Cycles), UnitCount)
	m.Add("server_gc_pause_total_us", micros(s.PauseTotal), UnitMicros)
	m.Add("server_gc_pause_max_us", micros(s.PauseMax), UnitMicros)
}
