// Command bellhop-bench is the load-test harness of bellhop: it runs one
// scenario (connect, hold, echo, broadcast, hotel) against a WebSocket
// server on loopback, prints a progress line every second and a summary at
// the end, and writes one JSON line per run. `bellhop-bench report` turns
// result lines into a Markdown report with latency plots. See
// bellhop-bench -h.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/bellhop/bellhop/bench"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // the run could not be done or measured
	exitErrors = 2 // it ran, but connections or messages failed
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one benchmark and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr)
	}
	o, err := loadConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "bellhop-bench:", err)
		return exitFailed
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := execute(ctx, o, stderr)
	if res != nil {
		if werr := output(o, res, stdout, stderr); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bellhop-bench:", err)
		return exitFailed
	}
	if res.ErrorCount() > 0 {
		return exitErrors
	}
	return exitOK
}

// execute pins the harness, gets the server process and runs the scenario.
func execute(ctx context.Context, o *options, stderr io.Writer) (*bench.Result, error) {
	if len(o.loadCPUs) > 0 {
		if err := bench.PinProcess(os.Getpid(), o.loadCPUs); err != nil {
			return nil, err
		}
		runtime.GOMAXPROCS(len(o.loadCPUs))
	}
	proc, err := server(ctx, o)
	if err != nil {
		return nil, err
	}
	env := &bench.Env{Config: o.cfg, Server: proc}
	if !o.quiet {
		env.Progress = stderr
	}
	res, err := bench.Run(ctx, o.scenario, env)
	if proc != nil {
		if serr := proc.Stop(0); serr != nil && err == nil {
			err = serr
		}
	}
	if res != nil {
		res.Case = o.caseName
		if proc != nil {
			res.Params["server_pid"] = proc.PID
		}
	}
	return res, err
}

// server starts or attaches the server under test, or returns nil when
// neither was asked for.
func server(ctx context.Context, o *options) (*bench.Process, error) {
	switch {
	case len(o.serverCmd) > 0:
		cfg := bench.ProcessConfig{Args: o.serverCmd, CPUs: o.serverCPU, ReadyAddr: o.cfg.Target.Addr, ReadyTimeout: o.readyTimeout, GCTrace: o.gcTrace}
		if o.serverLog != "" {
			f, err := os.OpenFile(o.serverLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return nil, fmt.Errorf("-server-log: %w", err)
			}
			// The file stays open until exit: the server writes to it until it stops.
			cfg.Output = f
		}
		return bench.StartProcess(ctx, cfg)
	case o.serverPID != 0:
		p, err := bench.AttachProcess(o.serverPID)
		if err != nil {
			return nil, err
		}
		if o.serverCPU != "" {
			cpus, _ := bench.ParseCPUList(o.serverCPU) // validated in loadConfig
			if err := p.Pin(cpus); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	return nil, nil
}

// output writes the summary and the JSON line. The summary goes to stderr
// when the JSON line takes stdout. With -results the line also goes to the
// folder's results.jsonl and the folder's report is written again.
func output(o *options, res *bench.Result, stdout, stderr io.Writer) error {
	if o.resultsDir != "" {
		if err := os.MkdirAll(o.resultsDir, 0o755); err != nil {
			return fmt.Errorf("-results: %w", err)
		}
		file := filepath.Join(o.resultsDir, "results.jsonl")
		if err := bench.AppendJSONFile(file, res); err != nil {
			return err
		}
		if err := writeReport([]string{file}, o.resultsDir, "bellhop-bench report", "bellhop", true, stderr); err != nil {
			return err
		}
	}
	if o.jsonPath != "" {
		if err := bench.WriteSummary(stdout, res); err != nil {
			return err
		}
		return bench.AppendJSONFile(o.jsonPath, res)
	}
	if err := bench.WriteSummary(stderr, res); err != nil {
		return err
	}
	return bench.WriteJSON(stdout, res)
}
