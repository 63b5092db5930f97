package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/bellhop/bellhop/bench"
)

const reportUsage = `usage: bellhop-bench report [flags] FILE.jsonl...

Reads the JSON result lines of earlier runs (-json or -results) and writes report.md (one table per
case, one column per server label, the baseline's ratio to the best peer, the goals met or missed) and
one latency-percentile plot per case (<case>-latency.svg) into -out.

Flags:
`

// runReport is the report subcommand: it returns the exit status.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bellhop-bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, reportUsage)
		fs.PrintDefaults()
	}
	baseline := fs.String("baseline", "bellhop", "server `label` the others are compared with")
	out := fs.String("out", "", "report `folder` (default: the first file's folder)")
	title := fs.String("title", "bellhop-bench report", "report title")
	goals := fs.Bool("goals", true, "check the peer goals of make bench-peers (bench.PeerGoals)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitFailed
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "bellhop-bench report: name at least one result file")
		return exitFailed
	}
	if err := writeReport(fs.Args(), *out, *title, *baseline, *goals, stdout); err != nil {
		fmt.Fprintln(stderr, "bellhop-bench report:", err)
		return exitFailed
	}
	return exitOK
}

// writeReport reads files and writes the report into dir (default: the
// first file's folder).
func writeReport(files []string, dir, title, baseline string, withGoals bool, stdout io.Writer) error {
	results, err := bench.ReadResultFiles(files...)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return errors.New("no results in " + files[0])
	}
	if dir == "" {
		dir = filepath.Dir(files[0])
	}
	var goals []bench.Goal
	if withGoals {
		goals = bench.PeerGoals
	}
	if err := bench.WriteReport(dir, title, bench.Compare(results, baseline, goals)); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "report:", filepath.Join(dir, "report.md"))
	return err
}
