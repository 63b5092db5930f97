// Package bench is bellhop's load-test harness: it opens thousands of
// WebSocket (ws or wss) connections to a server on loopback, drives a
// scenario over them and measures what the server spent doing it.
//
// # Clients
//
// Connections are event-driven: a Client runs a few gnet event loops (client
// mode) and every connection lives on one of them, so one core drives ~19k
// connections with no goroutine per connection. Connections are dialled by a
// bounded pool of short-lived worker goroutines (blocking connect, and for wss
// the blocking TLS handshake), which then hand the socket to an event loop
// with EnrollContext. Source addresses rotate over 127.0.0.2–127.0.0.250, so
// ephemeral ports never run out. After enrolment a connection is owned by its
// event loop: its state is touched only in the loop's callbacks or in tasks
// queued to it (Conn.AsyncDo).
//
// # Scenarios
//
// A Scenario (connect, hold, echo, broadcast, hotel) runs against an
// Env that holds the Config and, optionally, the server Process whose RSS and
// CPU time are read from procfs. Each run returns a Result: parameters, named metrics and
// error counts, printed as a human summary (WriteSummary) and as one JSON line
// (WriteJSON). While a scenario runs, a Progress line is printed every second.
// Results of many runs (several servers, several rounds) are read back with
// ReadResults and compared with Compare: WriteReport writes a Markdown report
// with the baseline's ratio to the best peer per metric, the goals met or
// missed (PeerGoals) and an SVG plot of latency percentiles per case.
//
// A server started with ProcessConfig.GCTrace runs with GODEBUG=gctrace=1;
// when it is a Go program, its GC cycles and stop-the-world pauses during
// the run are reported too.
//
// # Measurements
//
// Latencies go into a Histogram (log-linear buckets, safe for concurrent use,
// no allocation per record). Server CPU per operation is the change of the
// server's utime+stime (/proc/<pid>/stat) over the measured phase divided by
// the operations done in it; memory per connection is the change of VmRSS
// (/proc/<pid>/status) divided by the connections held, once it has settled.
// utime+stime leaves out the softirq time the kernel spends moving loopback
// packets, which it charges to no process; when the server is pinned to its
// own CPUs, the busy time of those CPUs (/proc/stat) is reported as well
// (server_core_*), an all-in cost that includes it.
//
// The harness reads procfs and pins with sched_setaffinity: it runs on
// Linux only.
//
//	env := &bench.Env{Config: cfg, Server: proc, Progress: os.Stderr}
//	res, err := bench.Run(ctx, bench.Echo{}, env)
//	bench.WriteSummary(os.Stdout, res)
package bench
