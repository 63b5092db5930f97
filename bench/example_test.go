package bench_test

import (
	"fmt"
	"os"
	"time"

	"github.com/bellhop/bellhop/bench"
)

func ExampleHistogram() {
	var h bench.Histogram // safe for concurrent Record, no allocation per Record
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Summary()
	fmt.Println(s.Count, s.P50.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond), s.Max)
	// Output: 1000 500µs 990µs 1ms
}

func ExampleParseTarget() {
	t, err := bench.ParseTarget("wss://localhost:8443/echo")
	fmt.Println(t.Addr, t.Secure, err)
	_, err = bench.ParseTarget("ws://10.0.0.7:3001/echo")
	fmt.Println(err)
	// Output:
	// 127.0.0.1:8443 true <nil>
	// target "ws://10.0.0.7:3001/echo": bench: address is not on loopback (127.0.0.0/8): "10.0.0.7"
}

func ExampleWriteSummary() {
	res := &bench.Result{Scenario: "echo", Target: "ws://127.0.0.1:3001/echo", Seconds: 10.2,
		Params: map[string]any{"conns": 1000, "size": 128}}
	res.Metrics.Add("round_trips_per_sec", 61234.5, bench.UnitPerSec)
	res.Metrics.Add("server_cpu_us_per_round_trip", 9.87, bench.UnitMicros)
	_ = bench.WriteSummary(os.Stdout, res)
	// Output:
	// echo  ws://127.0.0.1:3001/echo  10.2s
	//   params: conns=1000 size=128
	//   round_trips_per_sec                 61234.5 /s
	//   server_cpu_us_per_round_trip          9.870 µs
	//   errors: none
}
