package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleResult() *Result {
	r := &Result{
		Scenario: "echo", Label: "bellhop", Target: "ws://127.0.0.1:3001/echo",
		Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Seconds: 12.5,
		Params: map[string]any{"conns": 1000, "size": 128},
		Errors: map[string]int64{"closed": 2}, FirstError: "closed: bench: connection closed by server",
	}
	r.Metrics.Add("round_trips_per_sec", 123456.789, UnitPerSec)
	r.Metrics.Add("conns", 1000, UnitCount)
	r.Metrics.Add("server_cpu_us_per_round_trip", 6.54321, UnitMicros)
	r.Metrics.Add("nan", math.NaN(), UnitCount)
	r.Metrics.Add("inf", math.Inf(1), UnitCount)
	return r
}

func TestMetricsSkipNonFinite(t *testing.T) {
	r := sampleResult()
	if len(r.Metrics) != 3 {
		t.Fatalf("metrics %v: NaN and Inf should be left out", r.Metrics)
	}
	if v, ok := r.Metrics.Get("conns"); !ok || v != 1000 {
		t.Errorf("Get(conns) = %v, %v", v, ok)
	}
	if _, ok := r.Metrics.Get("nan"); ok {
		t.Error("Get(nan) found a skipped metric")
	}
}

func TestResultJSONRoundTrip(t *testing.T) {
	r := sampleResult()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("not one line: %q", line)
	}
	// Metrics keep their order in the object.
	if i, j := strings.Index(line, "round_trips_per_sec"), strings.Index(line, `"conns":1000,"server`); i < 0 || j < 0 || i > j {
		t.Fatalf("metrics out of order: %s", line)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Metrics) != 3 || back.Metrics[0].Name != "round_trips_per_sec" || back.Metrics[2].Value != 6.54321 {
		t.Fatalf("metrics back = %#v", back.Metrics)
	}
	if back.Scenario != r.Scenario || back.Label != r.Label || !back.Start.Equal(r.Start) || back.ErrorCount() != 2 {
		t.Fatalf("result back = %#v", back)
	}
}

func TestMetricsUnmarshalErrors(t *testing.T) {
	for _, in := range []string{`[1,2]`, `{"a":"x"}`, `{"a":1`, `{`} {
		var m Metrics
		if err := json.Unmarshal([]byte(in), &m); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want error", in)
		}
	}
}

func TestWriteSummary(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, sampleResult()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"echo  ws://127.0.0.1:3001/echo  [bellhop]  12.5s", "params: conns=1000 size=128",
		"round_trips_per_sec", "123456.8 /s", "6.543 µs", "errors: closed=2", "first error: closed:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := WriteSummary(&buf, &Result{Scenario: "connect"}); err != nil || !strings.Contains(buf.String(), "errors: none") {
		t.Errorf("empty summary = %q, %v", buf.String(), err)
	}
}

func TestFormatValue(t *testing.T) {
	cases := map[float64]string{0: "0", 42: "42", -7: "-7", 1234.56: "1234.6", 6.54321: "6.543", -1500.25: "-1500.2", 0.5: "0.500"}
	for v, want := range cases {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestAppendJSONFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	for range 2 {
		if err := AppendJSONFile(path, sampleResult()); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
	if err := AppendJSONFile(filepath.Join(t.TempDir(), "missing", "x.jsonl"), sampleResult()); err == nil {
		t.Error("AppendJSONFile into a missing directory succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errTest }

func TestWriteErrors(t *testing.T) {
	if err := WriteJSON(failWriter{}, sampleResult()); !errors.Is(err, errTest) {
		t.Errorf("WriteJSON err = %v", err)
	}
	if err := WriteSummary(failWriter{}, sampleResult()); !errors.Is(err, errTest) {
		t.Errorf("WriteSummary err = %v", err)
	}
	bad := sampleResult()
	bad.Params["bad"] = make(chan int)
	if err := WriteJSON(&bytes.Buffer{}, bad); err == nil {
		t.Error("WriteJSON of an unencodable param succeeded")
	}
}

// lockedBuffer is a bytes.Buffer safe for the progress goroutine.
type lockedBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func TestProgress(t *testing.T) {
	out := &lockedBuffer{mu: make(chan struct{}, 1)}
	var st Stats
	st.SetPhase("measuring")
	st.Upgraded.Add(10)
	st.Open.Add(10)
	st.Ops.Add(500)
	st.AddError(KindClosed, errTest)
	p := NewProgress(out, "echo", &st, 10*time.Millisecond)
	p.Start()
	waitFor(t, 2*time.Second, "a progress line", func() bool { return strings.Contains(out.String(), "\n") })
	p.Stop()
	line := out.String()
	for _, want := range []string{"[echo]", "measuring", "open=10", "handshakes=10", "ops=500", "errors=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress %q lacks %q", line, want)
		}
	}
	quiet := NewProgress(nil, "x", &st, 0)
	quiet.Start()
	quiet.Stop()
}

func TestStats(t *testing.T) {
	var s Stats
	if s.ErrorCounts() != nil || s.FirstError() != "" || s.Phase() != "" || s.Errors() != 0 {
		t.Fatal("zero Stats not empty")
	}
	s.AddError(KindDial, errTest)
	s.AddError(KindDial, errors.New("second"))
	s.AddError(numKinds+3, nil) // out of range counts as protocol
	if got := s.ErrorCounts(); got["dial"] != 2 || got["protocol"] != 1 || len(got) != 2 {
		t.Errorf("ErrorCounts = %v", got)
	}
	if s.FirstError() != "dial: test error" || s.Errors() != 3 {
		t.Errorf("FirstError %q, Errors %d", s.FirstError(), s.Errors())
	}
	if ErrorKind(200).String() != "unknown" || KindMismatch.String() != "mismatch" {
		t.Error("ErrorKind names wrong")
	}
}
