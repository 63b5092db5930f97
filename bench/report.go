package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WriteJSON writes r as one line of JSON.
func WriteJSON(w io.Writer, r *Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cannot encode result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// AppendJSONFile appends r as one JSON line to the file at path, creating
// it when missing.
func AppendJSONFile(path string, r *Result) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("cannot open result file: %w", err)
	}
	if err := WriteJSON(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// WriteSummary writes r for a human: a title line, the parameters, one
// line per metric and the errors.
func WriteSummary(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s", r.Scenario, r.Target)
	if r.Label != "" {
		fmt.Fprintf(&b, "  [%s]", r.Label)
	}
	fmt.Fprintf(&b, "  %.1fs\n", r.Seconds)
	if len(r.Params) > 0 {
		b.WriteString("  params:")
		for _, k := range slices.Sorted(maps.Keys(r.Params)) {
			fmt.Fprintf(&b, " %s=%v", k, r.Params[k])
		}
		b.WriteByte('\n')
	}
	width := 0
	for _, m := range r.Metrics {
		width = max(width, len(m.Name))
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "  %-*s %14s %s\n", width, m.Name, formatValue(m.Value), m.Unit)
	}
	if len(r.Errors) == 0 {
		b.WriteString("  errors: none\n")
	} else {
		b.WriteString("  errors:")
		for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
			fmt.Fprintf(&b, " %s=%d", k, r.Errors[k])
		}
		fmt.Fprintf(&b, "\n  first error: %s\n", r.FirstError)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatValue prints integers without decimals and other values with
// three significant decimals at most.
func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)):
		return strconv.FormatInt(int64(v), 10)
	case v >= 1000 || v <= -1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// Progress prints one line per interval while a run goes on: elapsed
// time, phase, open connections, handshakes and operations with their rates
// over the last interval, and errors. It runs in its own goroutine, owned by
// the Progress, from Start until Stop returns.
type Progress struct {
	w        io.Writer
	name     string
	stats    *Stats
	interval time.Duration
	stop     chan struct{}
	wg       sync.WaitGroup
}

// NewProgress returns a progress printer for the run called name. A nil w
// makes Start and Stop no-ops.
func NewProgress(w io.Writer, name string, stats *Stats, interval time.Duration) *Progress {
	return &Progress{w: w, name: name, stats: stats, interval: cmp0(interval, time.Second), stop: make(chan struct{})}
}

// Start begins printing.
func (p *Progress) Start() {
	if p.w == nil {
		return
	}
	p.wg.Add(1)
	go p.loop(time.Now())
}

// Stop ends printing and waits for the printer to exit. Call it once.
func (p *Progress) Stop() {
	close(p.stop)
	p.wg.Wait()
}

func (p *Progress) loop(start time.Time) {
	defer p.wg.Done()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	var lastHS, lastOps int64
	last := start
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			hs, ops := p.stats.Upgraded.Load(), p.stats.Ops.Load()
			dt := now.Sub(last).Seconds()
			fmt.Fprintf(p.w, "[%s] %5.1fs %-10s open=%d handshakes=%d (%.0f/s) ops=%d (%.0f/s) errors=%d\n",
				p.name, now.Sub(start).Seconds(), p.stats.Phase(), p.stats.Open.Load(),
				hs, float64(hs-lastHS)/dt, ops, float64(ops-lastOps)/dt, p.stats.Errors())
			lastHS, lastOps, last = hs, ops, now
		}
	}
}
