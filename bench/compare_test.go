package bench

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// result builds a run of label in case cs with the given metrics.
func result(scenario, cs, label string, metrics ...any) *Result {
	r := &Result{Scenario: scenario, Case: cs, Label: label, Params: map[string]any{"conns": 10, "server_pid": 1}}
	for i := 0; i+1 < len(metrics); i += 2 {
		r.Metrics.Add(metrics[i].(string), metrics[i+1].(float64), UnitCount)
	}
	return r
}

func latencyMetrics(prefix string, p50 float64) []any {
	return []any{prefix + "_p50_us", p50, prefix + "_p90_us", p50 * 2, prefix + "_p99_us", p50 * 4,
		prefix + "_p999_us", p50 * 8, prefix + "_max_us", p50 * 16}
}

func sampleComparison() *Comparison {
	return Compare([]*Result{
		result("echo", "echo-128", "gws", "server_cpu_us_per_round_trip", 10.0, "round_trips_per_sec", 90000.0, "extra", 1.0),
		result("echo", "echo-128", "bellhop", "server_cpu_us_per_round_trip", 5.0, "round_trips_per_sec", 100000.0),
		result("echo", "echo-128", "nbio", "server_cpu_us_per_round_trip", 8.0, "round_trips_per_sec", 120000.0),
		result("hold", "hold", "bellhop", "rss_per_conn_bytes", 900.0),
		result("hold", "hold", "nbio", "rss_per_conn_bytes", 1500.0),
		result("broadcast", "broadcast-2hz", "bellhop", append(latencyMetrics("latency", 1000), "lost", 0.0)...),
		result("broadcast", "broadcast-2hz", "gws", append(latencyMetrics("latency", 1500), "lost", 0.0)...),
		result("hotel", "", "bellhop", append(latencyMetrics("latency_high", 100), latencyMetrics("latency_low", 300)...)...),
	}, "bellhop", PeerGoals)
}

func TestCompareRatios(t *testing.T) {
	c := sampleComparison()
	if got := strings.Join(c.Labels, ","); got != "bellhop,gws,nbio" {
		t.Errorf("labels %q: the baseline comes first", got)
	}
	if got := strings.Join(c.Cases, ","); got != "echo-128,hold,broadcast-2hz,hotel" {
		t.Errorf("cases %q", got)
	}
	tests := []struct {
		cs, metric string
		ratio      float64
		best       string
		ok         bool
	}{
		{"echo-128", "server_cpu_us_per_round_trip", 5.0 / 8, "nbio", true},  // lower is better: best peer is the lowest
		{"echo-128", "round_trips_per_sec", 100000.0 / 120000, "nbio", true}, // higher is better: the highest
		{"hold", "rss_per_conn_bytes", 0.6, "nbio", true},
		{"broadcast-2hz", "lost", 0, "gws", false}, // zero peer value: no ratio
		{"hotel", "latency_high_p50_us", 0, "", false},
		{"missing", "x", 0, "", false},
	}
	for _, tt := range tests {
		ratio, best, ok := c.Ratio(tt.cs, tt.metric)
		if ok != tt.ok || best != tt.best || (ok && ratio != tt.ratio) {
			t.Errorf("Ratio(%s, %s) = %v, %q, %v; want %v, %q, %v", tt.cs, tt.metric, ratio, best, ok, tt.ratio, tt.best, tt.ok)
		}
	}
}

func TestCompareGoals(t *testing.T) {
	c := sampleComparison()
	tests := []struct {
		goal     Goal
		met, ok  bool
		measured string
	}{
		{Goal{Case: "echo-128", Metric: "server_cpu_us_per_round_trip", MaxRatio: 0.6}, false, true, "5 = 0.62x nbio"},
		{Goal{Case: "echo-128", Metric: "server_cpu_us_per_round_trip", MaxRatio: 0.7}, true, true, "5 = 0.62x nbio"},
		{Goal{Case: "hold", Metric: "rss_per_conn_bytes", MaxRatio: 1, Max: 1024}, true, true, "900 = 0.60x nbio"},
		{Goal{Case: "hold", Metric: "rss_per_conn_bytes", Max: 800}, false, true, "900"},
		{Goal{Case: "echo-128", Metric: "round_trips_per_sec", Max: 99000}, true, true, "100000"},
		{Goal{Case: "echo-128", Metric: "round_trips_per_sec", MaxRatio: 0.9}, false, true, "100000 = 0.83x nbio"},
		{Goal{Case: "hotel", Metric: "latency_high_p50_us", MaxRatio: 0.5}, true, true, "100 (no peer value)"},
		{Goal{Case: "nope", Metric: "x"}, false, false, ""},
		{Goal{Case: "hold", Metric: "nope"}, false, false, ""},
	}
	for _, tt := range tests {
		met, measured, ok := c.Check(tt.goal)
		if met != tt.met || ok != tt.ok || measured != tt.measured {
			t.Errorf("Check(%+v) = %v, %q, %v; want %v, %q, %v", tt.goal, met, measured, ok, tt.met, tt.measured, tt.ok)
		}
	}
}

func TestWriteReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results", "run1")
	c := sampleComparison()
	if err := WriteReport(dir, "peers", c); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# peers",
		"| hold | rss_per_conn_bytes | ≤ 1 KB and below every peer | 900 = 0.60x nbio | ✓ |",
		"| echo-128 | server_cpu_us_per_round_trip | ≤ 0.6x best peer | 5 = 0.62x nbio | ✗ |",
		"| metric | bellhop | gws | nbio | bellhop / best peer |",
		"| server_cpu_us_per_round_trip | 5 | 10 | 8 | 0.62x (nbio) |",
		"| errors | 0 | 0 | 0 |",
		"![broadcast-2hz latency percentiles](broadcast-2hz-latency.svg)",
		"![hotel latency percentiles](hotel-latency.svg)",
		"Scenario `echo`: conns=10.",
	} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if bytes.Contains(md, []byte("| extra |")) || bytes.Contains(md, []byte("server_pid")) {
		t.Errorf("report.md shows a metric or parameter it should leave out:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, "echo-128-latency.svg")); err == nil {
		t.Error("a plot was drawn for a case without latency percentiles")
	}
	svg, err := os.ReadFile(filepath.Join(dir, "hotel-latency.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg, []string{"high", "low"}) // the shared "latency_" is dropped
	svg, _ = os.ReadFile(filepath.Join(dir, "broadcast-2hz-latency.svg"))
	checkSVG(t, svg, []string{"bellhop", "gws"})
}

// checkSVG parses svg as XML and checks it has one line and legend entry
// per series.
func checkSVG(t *testing.T, svg []byte, names []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	lines := 0
	var texts []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "polyline" {
				lines++
			}
		case xml.CharData:
			texts = append(texts, string(e))
		}
	}
	if lines != len(names) {
		t.Errorf("%d lines, want %d", lines, len(names))
	}
	all := strings.Join(texts, "|")
	for _, n := range names {
		if !strings.Contains(all, "|"+n+"|") {
			t.Errorf("legend lacks %q: %s", n, all)
		}
	}
	for _, axis := range []string{"p50", "p99.9", "max", "percentile"} {
		if !strings.Contains(all, axis) {
			t.Errorf("axis label %q missing", axis)
		}
	}
}

func TestReadResults(t *testing.T) {
	var buf bytes.Buffer
	for _, r := range []*Result{sampleResult(), result("hold", "hold", "nbio", "rss_per_conn_bytes", 1500.0)} {
		if err := WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	buf.WriteString("\n")
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := ReadResultFiles(path)
	if err != nil || len(rs) != 2 {
		t.Fatalf("ReadResultFiles = %d results, %v", len(rs), err)
	}
	if rs[1].CaseName() != "hold" || rs[0].CaseName() != "echo" {
		t.Errorf("cases %q %q", rs[0].CaseName(), rs[1].CaseName())
	}
	if _, err := ReadResults(strings.NewReader("{}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: err = %v", err)
	}
	if _, err := ReadResultFiles(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestWriteLatencySVGEdges(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLatencySVG(&buf, "a<b & c", nil); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, buf.Bytes(), nil)
	if !strings.Contains(buf.String(), "a&lt;b &amp; c") {
		t.Error("title not escaped")
	}
	tests := map[float64]string{0.5: "0.5 µs", 12: "12 µs", 1500: "1.5 ms", 2e6: "2 s"}
	for us, want := range tests {
		if got := durationLabel(us); got != want {
			t.Errorf("durationLabel(%v) = %q, want %q", us, got, want)
		}
	}
	if got := safeFileName("a b/c-d_e"); got != "a_b_c-d_e" {
		t.Errorf("safeFileName = %q", got)
	}
}

func TestCompareRoundsTakeMedians(t *testing.T) {
	runs := []*Result{
		result("echo", "e", "bellhop", "cpu", 3.0, "rate", 10.0),
		result("echo", "e", "bellhop", "cpu", 1.0, "rate", 30.0),
		result("echo", "e", "bellhop", "cpu", 2.0),
		result("echo", "e", "gws", "cpu", 4.0),
		result("echo", "e", "gws", "cpu", 8.0),
	}
	runs[1].Errors = map[string]int64{"closed": 2}
	runs[2].Errors = map[string]int64{"closed": 1, "dial": 1}
	c := Compare(runs, "bellhop", nil)
	b := c.Result("e", "bellhop")
	if v, _ := b.Metrics.Get("cpu"); v != 2 {
		t.Errorf("median cpu = %v, want 2", v)
	}
	if v, _ := b.Metrics.Get("rate"); v != 20 {
		t.Errorf("median rate of two runs = %v, want 20", v)
	}
	if b.ErrorCount() != 4 || b.Errors["closed"] != 3 {
		t.Errorf("errors %v, want their sum", b.Errors)
	}
	if c.Result("e", "bellhop") != b {
		t.Error("merged result not kept")
	}
	if ratio, best, ok := c.Ratio("e", "cpu"); !ok || best != "gws" || ratio != 2.0/6 {
		t.Errorf("Ratio = %v %q %v", ratio, best, ok)
	}
	var md bytes.Buffer
	if err := c.WriteMarkdown(&md, "t", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "Median of 3 rounds.") {
		t.Errorf("rounds not said:\n%s", md.String())
	}
}

func TestHigherIsBetter(t *testing.T) {
	for name, want := range map[string]bool{
		"server_handshakes_per_sec": true, "deliveries_per_sec": true, "conns_held": true,
		"server_cpu_us_per_handshake": false, "rss_per_conn_bytes": false, "lost": false, "connect_seconds": false,
	} {
		if got := higherIsBetter(name); got != want {
			t.Errorf("higherIsBetter(%q) = %v", name, got)
		}
	}
}
