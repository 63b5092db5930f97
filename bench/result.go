package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Units of metrics, used by the human summary. JSON keeps only the value;
// metric names carry their unit as a suffix (_us, _bytes, _per_sec).
const (
	UnitCount   = ""
	UnitBytes   = "B"
	UnitMicros  = "µs"
	UnitPerSec  = "/s"
	UnitPercent = "%"
	UnitSeconds = "s"
)

// Metric is one named number of a run.
type Metric struct {
	Name  string
	Value float64
	Unit  string
}

// Metrics is an ordered list of metrics: the summary prints them in the
// order they were added, and JSON writes them as one object in that order.
type Metrics []Metric

// Add appends a metric. Non-finite values (a rate over zero time, a cost per
// zero operations) are left out rather than written as NaN.
func (m *Metrics) Add(name string, value float64, unit string) {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return
	}
	*m = append(*m, Metric{Name: name, Value: value, Unit: unit})
}

// Get returns the value of the metric called name.
func (m Metrics) Get(name string) (float64, bool) {
	for _, x := range m {
		if x.Name == name {
			return x.Value, true
		}
	}
	return 0, false
}

// MarshalJSON writes the metrics as one JSON object, in order.
func (m Metrics) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, x := range m {
		if i > 0 {
			b = append(b, ',')
		}
		name, err := json.Marshal(x.Name)
		if err != nil {
			return nil, err
		}
		b = append(b, name...)
		b = append(b, ':')
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a JSON object of numbers, keeping its order. Units
// are not in JSON and come back empty.
func (m *Metrics) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("bench: metrics must be a JSON object")
	}
	*m = (*m)[:0]
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var v float64
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("bench: metric %q: %w", name, err)
		}
		*m = append(*m, Metric{Name: name, Value: v})
	}
	_, err := dec.Token()
	return err
}

// Result is what one scenario run measured. It is written as one JSON line
// per run, so results of many runs (and of other servers under the same
// harness) can be appended to one file and compared.
type Result struct {
	Scenario   string           `json:"scenario"`
	Case       string           `json:"case,omitempty"`  // the comparison row group, e.g. "echo-128"; empty means Scenario
	Label      string           `json:"label,omitempty"` // what was measured, e.g. the server's name
	Target     string           `json:"target"`
	Start      time.Time        `json:"start"`
	Seconds    float64          `json:"seconds"` // wall time of the whole run
	Params     map[string]any   `json:"params"`  // the knobs the run used
	Metrics    Metrics          `json:"metrics"`
	Errors     map[string]int64 `json:"errors,omitempty"` // failures by ErrorKind name
	FirstError string           `json:"first_error,omitempty"`
}

// ErrorCount returns the total of Errors.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// perOp returns total/ops in microseconds per operation, NaN when ops is 0.
func perOp(total time.Duration, ops int64) float64 {
	if ops <= 0 {
		return math.NaN()
	}
	return float64(total) / float64(time.Microsecond) / float64(ops)
}

// rate returns ops per second over d, NaN when d is 0.
func rate(ops int64, d time.Duration) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(ops) / d.Seconds()
}

// addDeliveryRate adds deliver_seconds and deliveries_per_sec: the
// deliveries over the time from start to the last one (lastRecv, Unix
// nanoseconds; 0 when none arrived, and nothing is added).
func (m *Metrics) addDeliveryRate(deliveries, lastRecv int64, start time.Time) {
	if lastRecv <= 0 {
		return
	}
	elapsed := time.Duration(lastRecv - start.UnixNano())
	m.Add("deliver_seconds", elapsed.Seconds(), UnitSeconds)
	m.Add("deliveries_per_sec", rate(deliveries, elapsed), UnitPerSec)
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// addLatency adds count, p50, p90, p99, p99.9, max and mean of h as
// prefix_p50_us and so on.
func (m *Metrics) addLatency(prefix string, h *Histogram) {
	s := h.Summary()
	if s.Count == 0 {
		return
	}
	m.Add(prefix+"_p50_us", micros(s.P50), UnitMicros)
	m.Add(prefix+"_p90_us", micros(s.P90), UnitMicros)
	m.Add(prefix+"_p99_us", micros(s.P99), UnitMicros)
	m.Add(prefix+"_p999_us", micros(s.P999), UnitMicros)
	m.Add(prefix+"_max_us", micros(s.Max), UnitMicros)
	m.Add(prefix+"_mean_us", micros(s.Mean), UnitMicros)
}
