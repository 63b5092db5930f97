package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// maxResultLine bounds one JSON line ReadResults accepts.
const maxResultLine = 1 << 20

// ReadResults reads JSON lines written by WriteJSON. Blank lines are
// skipped; a line that is not a Result is an error naming its number.
func ReadResults(r io.Reader) ([]*Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxResultLine)
	var out []*Result
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		res := new(Result)
		if err := json.Unmarshal([]byte(line), res); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read results: %w", err)
	}
	return out, nil
}

// ReadResultFiles reads and concatenates the results of every file.
func ReadResultFiles(paths ...string) ([]*Result, error) {
	var all []*Result
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		rs, err := ReadResults(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, rs...)
	}
	return all, nil
}

// Goal is a goal for one row of a comparison: the baseline's value of
// Metric in Case must be at most MaxRatio times the best peer's (for
// higher-is-better metrics: at least 1/MaxRatio times), and, when Max is
// set, at most Max.
type Goal struct {
	Case     string
	Metric   string
	MaxRatio float64 // 0: no ratio goal
	Max      float64 // 0: no absolute goal
	Text     string  // how the goal reads in the report
}

// PeerGoals are the goals `make bench-peers` checks, for the case names
// its script gives (tools/scripts/bench-peers.sh).
var PeerGoals = []Goal{
	{Case: "echo-128", Metric: "server_cpu_us_per_round_trip", MaxRatio: 0.6, Text: "≤ 0.6x best peer"},
	{Case: "broadcast-saturated", Metric: "server_cpu_us_per_delivery", MaxRatio: 0.5, Text: "≤ 0.5x best peer"},
	{Case: "broadcast-2hz", Metric: "latency_p99_us", MaxRatio: 0.5, Text: "≤ 0.5x best peer"},
	{Case: "hold", Metric: "rss_per_conn_bytes", MaxRatio: 1, Max: 1024, Text: "≤ 1 KB and below every peer"},
	{Case: "connect", Metric: "server_cpu_us_per_handshake", MaxRatio: 0.5, Text: "≤ 0.5x best peer"},
	{Case: "connect-wss", Metric: "server_handshakes_per_sec", Max: 5000, Text: "≥ 5000/s per core"},
	{Case: "hold-wss", Metric: "rss_per_conn_bytes", Max: 10240, Text: "≤ 10 KB"},
}

// keyMetrics are the rows a comparison shows per scenario; other scenarios
// show every metric.
var keyMetrics = map[string][]string{
	"connect": {"handshakes_per_sec", "server_cpu_us_per_handshake", "server_core_us_per_handshake",
		"server_handshakes_per_sec", "connect_p50_us", "connect_p99_us"},
	"hold": {"conns_held", "rss_per_conn_bytes", "server_cpu_us_per_handshake"},
	"echo": {"round_trips_per_sec", "server_cpu_us_per_round_trip", "server_core_us_per_round_trip",
		"rtt_p50_us", "rtt_p99_us", "rtt_max_us"},
	"hotel": {"conns", "deliveries_per_sec", "lost", "unexpected", "error_events", "api_errors", "escalated",
		"latency_high_p50_us", "latency_high_p99_us", "latency_medium_p50_us", "latency_medium_p99_us",
		"latency_low_p50_us", "latency_low_p99_us", "latency_room_update_p99_us", "latency_checkin_p99_us",
		"latency_service_request_p99_us", "latency_request_update_p99_us", "latency_alert_p99_us",
		"latency_low_alert_p99_us", "server_cpu_us_per_delivery"},
	"broadcast": {"deliveries_per_sec", "server_cpu_us_per_delivery", "server_core_us_per_delivery",
		"latency_p50_us", "latency_p90_us", "latency_p99_us", "latency_max_us", "lost", "duplicated"},
}

// gcMetrics are shown for every scenario when a server reported them.
var gcMetrics = []string{"server_gc_cycles", "server_gc_pause_total_us", "server_gc_pause_max_us"}

// higherIsBetter reports the direction of a metric, from its name.
func higherIsBetter(name string) bool {
	return strings.HasSuffix(name, "_per_sec") || name == "conns_held" || name == "conns" || name == "deliveries"
}

// Comparison is the results of several servers (Result.Label) on the same
// cases (Result.Case), with one server as the baseline the others are
// compared with.
type Comparison struct {
	Baseline string
	Cases    []string                // in order of first appearance
	Labels   []string                // baseline first, then the peers in order of first appearance
	runs     map[[2]string][]*Result // by case and label, every run
	merged   map[[2]string]*Result   // by case and label: the median of its runs, made on first use
	goals    []Goal
}

// Compare groups results by case and label. Results without a Case use
// their Scenario; without a Label, "server".
func Compare(results []*Result, baseline string, goals []Goal) *Comparison {
	c := &Comparison{Baseline: baseline, runs: map[[2]string][]*Result{}, merged: map[[2]string]*Result{}, goals: goals}
	if baseline != "" {
		c.Labels = append(c.Labels, baseline)
	}
	for _, r := range results {
		cs, label := r.CaseName(), cmp.Or(r.Label, "server")
		if !slices.Contains(c.Cases, cs) {
			c.Cases = append(c.Cases, cs)
		}
		if !slices.Contains(c.Labels, label) {
			c.Labels = append(c.Labels, label)
		}
		k := [2]string{cs, label}
		c.runs[k] = append(c.runs[k], r)
	}
	return c
}

// CaseName returns the case a result belongs to: Case, or the scenario.
func (r *Result) CaseName() string { return cmp.Or(r.Case, r.Scenario) }

// Result returns the run of label in case cs, or nil. When there were
// several runs (rounds), it is one result whose metrics are the medians of
// the runs' and whose errors are their sum.
func (c *Comparison) Result(cs, label string) *Result {
	k := [2]string{cs, label}
	if r, ok := c.merged[k]; ok {
		return r
	}
	runs := c.runs[k]
	var r *Result
	switch len(runs) {
	case 0:
		return nil
	case 1:
		r = runs[0]
	default:
		r = medianResult(runs)
	}
	c.merged[k] = r
	return r
}

// Rounds returns how many runs of label case cs had.
func (c *Comparison) Rounds(cs, label string) int { return len(c.runs[[2]string{cs, label}]) }

// medianResult merges runs of one case and server: the first run's
// description, each metric's median over the runs that have it, the sum
// of the errors.
func medianResult(runs []*Result) *Result {
	first := runs[0]
	r := &Result{Scenario: first.Scenario, Case: first.Case, Label: first.Label, Target: first.Target,
		Start: first.Start, Params: first.Params, Errors: map[string]int64{}, FirstError: first.FirstError}
	var names []string
	values := map[string][]float64{}
	for _, run := range runs {
		r.Seconds += run.Seconds
		for k, v := range run.Errors {
			r.Errors[k] += v
		}
		if r.FirstError == "" {
			r.FirstError = run.FirstError
		}
		for _, m := range run.Metrics {
			if _, ok := values[m.Name]; !ok {
				names = append(names, m.Name)
			}
			values[m.Name] = append(values[m.Name], m.Value)
		}
	}
	for _, n := range names {
		r.Metrics.Add(n, median(values[n]), UnitCount)
	}
	return r
}

// median returns the middle value of v (the mean of the two middle ones
// for an even count).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Ratio returns the baseline's value of metric in case cs over the best
// peer's, and that peer's label. ok is false without a baseline value or
// a non-zero peer value.
func (c *Comparison) Ratio(cs, metric string) (ratio float64, best string, ok bool) {
	base := c.Result(cs, c.Baseline)
	if base == nil {
		return 0, "", false
	}
	bv, found := base.Metrics.Get(metric)
	if !found {
		return 0, "", false
	}
	var bestV float64
	for _, l := range c.Labels {
		r := c.Result(cs, l)
		if l == c.Baseline || r == nil {
			continue
		}
		v, found := r.Metrics.Get(metric)
		if !found {
			continue
		}
		if best == "" || (higherIsBetter(metric) && v > bestV) || (!higherIsBetter(metric) && v < bestV) {
			best, bestV = l, v
		}
	}
	if best == "" || bestV == 0 {
		return 0, best, false
	}
	return bv / bestV, best, true
}

// rows returns the metric names to show for case cs.
func (c *Comparison) rows(cs string) []string {
	var scenario string
	var all []string
	for _, l := range c.Labels {
		r := c.Result(cs, l)
		if r == nil {
			continue
		}
		scenario = r.Scenario
		for _, m := range r.Metrics {
			if !slices.Contains(all, m.Name) {
				all = append(all, m.Name)
			}
		}
	}
	keys, ok := keyMetrics[scenario]
	if !ok {
		return all
	}
	var rows []string
	for _, k := range append(slices.Clone(keys), gcMetrics...) {
		if slices.Contains(all, k) {
			rows = append(rows, k)
		}
	}
	return rows
}

// Check says how the baseline fares against t: met, and the text of the
// measured value.
func (c *Comparison) Check(t Goal) (met bool, measured string, ok bool) {
	base := c.Result(t.Case, c.Baseline)
	if base == nil {
		return false, "", false
	}
	v, found := base.Metrics.Get(t.Metric)
	if !found {
		return false, "", false
	}
	met = true
	measured = formatValue(v)
	if t.Max > 0 {
		if higherIsBetter(t.Metric) {
			met = v >= t.Max
		} else {
			met = v <= t.Max
		}
	}
	if t.MaxRatio > 0 {
		ratio, best, rok := c.Ratio(t.Case, t.Metric)
		if !rok {
			return met, measured + " (no peer value)", true
		}
		if higherIsBetter(t.Metric) {
			met = met && ratio >= 1/t.MaxRatio
		} else {
			met = met && ratio <= t.MaxRatio
		}
		measured += fmt.Sprintf(" = %.2fx %s", ratio, best)
	}
	return met, measured, true
}

// WriteMarkdown writes the comparison: the targets met or missed, then per
// case a table of key metrics, one column per server and a ratio column
// (baseline / best peer). plots maps a case to an image file to link.
func (c *Comparison) WriteMarkdown(w io.Writer, title string, plots map[string]string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "Generated %s. Baseline: **%s**. Ratios are baseline / best peer in the same run: below 1 is better for costs and latencies, above 1 for rates.\n\n",
		time.Now().UTC().Format(time.RFC3339), c.Baseline)
	c.writeTargets(&b)
	for _, cs := range c.Cases {
		c.writeCase(&b, cs, plots[cs])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (c *Comparison) writeTargets(b *strings.Builder) {
	var lines []string
	for _, t := range c.goals {
		met, measured, ok := c.Check(t)
		if !ok {
			continue
		}
		mark := "✗"
		if met {
			mark = "✓"
		}
		lines = append(lines, fmt.Sprintf("| %s | %s | %s | %s | %s |", t.Case, t.Metric, t.Text, measured, mark))
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("## Targets\n\n| case | metric | target | measured | met |\n|---|---|---|---|---|\n")
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteString("\n\n")
}

func (c *Comparison) writeCase(b *strings.Builder, cs, plot string) {
	var labels []string
	var params string
	for _, l := range c.Labels {
		if r := c.Result(cs, l); r != nil {
			labels = append(labels, l)
			if params == "" {
				params = paramText(r)
				if n := c.Rounds(cs, l); n > 1 {
					params += fmt.Sprintf(" Median of %d rounds.", n)
				}
			}
		}
	}
	fmt.Fprintf(b, "## %s\n\n%s\n\n| metric | %s | %s / best peer |\n|---|%s---|\n",
		cs, params, strings.Join(labels, " | "), c.Baseline, strings.Repeat("---:|", len(labels)))
	for _, m := range c.rows(cs) {
		fmt.Fprintf(b, "| %s |", m)
		for _, l := range labels {
			if v, ok := c.Result(cs, l).Metrics.Get(m); ok {
				fmt.Fprintf(b, " %s |", formatValue(v))
			} else {
				b.WriteString(" — |")
			}
		}
		if ratio, best, ok := c.Ratio(cs, m); ok {
			fmt.Fprintf(b, " %.2fx (%s) |\n", ratio, best)
		} else {
			b.WriteString(" — |\n")
		}
	}
	b.WriteString("| errors |")
	for _, l := range labels {
		fmt.Fprintf(b, " %d |", c.Result(cs, l).ErrorCount())
	}
	b.WriteString(" |\n\n")
	if plot != "" {
		fmt.Fprintf(b, "![%s latency percentiles](%s)\n\n", cs, plot)
	}
}

// paramText describes a run's parameters in one line, leaving out those
// that differ between servers by nature.
func paramText(r *Result) string {
	var parts []string
	for _, k := range sortedKeys(r.Params) {
		if k == "server_pid" || k == "server_cmd" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, r.Params[k]))
	}
	return fmt.Sprintf("Scenario `%s`: %s.", r.Scenario, strings.Join(parts, " "))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// WriteReport writes report.md and one latency plot per case with latency
// percentiles (<case>-latency.svg) into dir, creating it.
func WriteReport(dir, title string, c *Comparison) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create report folder: %w", err)
	}
	plots := map[string]string{}
	for _, cs := range c.Cases {
		series := c.latencySeries(cs)
		if len(series) == 0 {
			continue
		}
		name := safeFileName(cs) + "-latency.svg"
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = WriteLatencySVG(f, cs+": latency percentiles", series)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		plots[cs] = name
	}
	f, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return err
	}
	err = c.WriteMarkdown(f, title, plots)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// safeFileName keeps letters, digits, '-' and '_' of s.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
