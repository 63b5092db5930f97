package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// ClockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// Linux fixes it at 100 on every architecture Go runs on, whatever the
// kernel's internal HZ, so one tick is 10 ms of CPU time.
const ClockTicks = 100

// Sample is one reading of a process's resources.
type Sample struct {
	At  time.Time     // when it was read
	RSS int64         // resident set size in bytes (VmRSS)
	CPU time.Duration // user plus system CPU time of all its threads, dead ones included
	// Cores is the busy time of the CPUs the process is pinned to, when it
	// is (Process.CPUs): user, system, irq and softirq of every task there.
	// Unlike CPU it includes the softirq work of loopback packets handled
	// on those CPUs, which the kernel charges to no process.
	Cores time.Duration
}

// ReadSample reads the RSS and CPU time of process pid from procfs.
func ReadSample(pid int) (Sample, error) {
	s := Sample{At: time.Now()}
	var err error
	if s.RSS, err = ReadRSS(pid); err != nil {
		return s, err
	}
	s.CPU, err = ReadCPUTime(pid)
	return s, err
}

// ReadRSS returns the resident set size of process pid in bytes, from the
// VmRSS line of /proc/<pid>/status.
func ReadRSS(pid int) (int64, error) {
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return 0, procErr(pid, err)
	}
	return parseVmRSS(b)
}

// ReadCPUTime returns utime+stime of process pid, from /proc/<pid>/stat.
// Its resolution is one clock tick (10 ms).
func ReadCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return 0, procErr(pid, err)
	}
	return parseStatCPU(b)
}

// SelfCPUTime returns the user plus system CPU time this process has used,
// with microsecond resolution (getrusage), to show what the load cost.
func SelfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReadCPUBusy returns how long the given CPUs have been busy since boot
// (user, nice, system, irq and softirq; idle, iowait and steal excluded),
// from /proc/stat. Its resolution is one clock tick.
func ReadCPUBusy(cpus []int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("cannot read /proc/stat: %w", err)
	}
	return parseCPUBusy(b, cpus)
}

// parseCPUBusy sums the busy ticks of the "cpuN" lines of /proc/stat for
// the given CPUs.
func parseCPUBusy(b []byte, cpus []int) (time.Duration, error) {
	var ticks uint64
	found := 0
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) < 8 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue
		}
		n, err := strconv.Atoi(string(f[0][3:]))
		if err != nil || !slices.Contains(cpus, n) {
			continue
		}
		for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
			t, err := strconv.ParseUint(string(f[i]), 10, 63)
			if err != nil {
				return 0, fmt.Errorf("%w: /proc/stat %s field %d %q", ErrProcfs, f[0], i, f[i])
			}
			ticks += t
		}
		found++
	}
	if found != len(cpus) {
		return 0, fmt.Errorf("%w: /proc/stat lacks some of CPUs %v", ErrProcfs, cpus)
	}
	return time.Duration(ticks) * (time.Second / ClockTicks), nil
}

func procPath(pid int, name string) string {
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

func procErr(pid int, err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("%w: pid %d", ErrNoProcess, pid)
	}
	return fmt.Errorf("cannot read procfs of pid %d: %w", pid, err)
}

// parseVmRSS finds "VmRSS:   1234 kB" in the text of /proc/<pid>/status.
func parseVmRSS(b []byte) (int64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || !bytes.Equal(f[1], []byte("kB")) {
			return 0, fmt.Errorf("%w: VmRSS line %q", ErrProcfs, bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("%w: VmRSS value %q", ErrProcfs, f[0])
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS line (kernel thread or zombie?)", ErrProcfs)
}

// parseStatCPU returns utime+stime from the text of /proc/<pid>/stat. The
// command name (field 2) is in parentheses and may hold spaces and ')', so
// the fields are counted from the last ')'. After it, utime and stime are
// the 12th and 13th fields (fields 14 and 15 of proc(5)).
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without ')'", ErrProcfs)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields after the name, want at least 13", ErrProcfs, len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		t, err := strconv.ParseUint(string(s), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("%w: stat CPU field %q", ErrProcfs, s)
		}
		ticks += t
	}
	return time.Duration(ticks) * (time.Second / ClockTicks), nil
}

// SettleConfig says how WaitRSSSettled decides that memory stopped moving.
type SettleConfig struct {
	Interval  time.Duration // between readings; 0 means 250 ms
	Window    int           // consecutive readings that must agree; 0 means 4
	Tolerance int64         // bytes the window may spread; 0 means max(64 KiB, 0.5% of RSS)
	MaxWait   time.Duration // give up after this long and return the last reading; 0 means 30 s
}

func (c SettleConfig) withDefaults() SettleConfig {
	if c.Interval <= 0 {
		c.Interval = 250 * time.Millisecond
	}
	if c.Window <= 1 {
		c.Window = 4
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 30 * time.Second
	}
	return c
}

// WaitRSSSettled reads the RSS of read() (usually ReadRSS of the server)
// every Interval until Window readings in a row spread by no more than the
// tolerance, then returns the last one and true. After MaxWait it returns
// the last reading and false; a failed read or a cancelled ctx ends it with
// an error.
func WaitRSSSettled(ctx context.Context, read func() (int64, error), cfg SettleConfig) (int64, bool, error) {
	cfg = cfg.withDefaults()
	deadline := time.Now().Add(cfg.MaxWait)
	window := make([]int64, 0, cfg.Window)
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		rss, err := read()
		if err != nil {
			return 0, false, err
		}
		if len(window) == cfg.Window {
			window = append(window[:0], window[1:]...)
		}
		window = append(window, rss)
		if len(window) == cfg.Window && spread(window) <= cfg.tolerance(rss) {
			return rss, true, nil
		}
		if !time.Now().Before(deadline) {
			return rss, false, nil
		}
		select {
		case <-ctx.Done():
			return rss, false, ctx.Err()
		case <-t.C:
		}
	}
}

func (c SettleConfig) tolerance(rss int64) int64 {
	if c.Tolerance > 0 {
		return c.Tolerance
	}
	return max(64<<10, rss/200)
}

func spread(v []int64) int64 {
	lo, hi := v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return hi - lo
}

// ReadTaskCPUTime returns the CPU time of every thread of process pid, to
// the nanosecond: the sum of the first field of /proc/<pid>/task/*/schedstat.
// Unlike ReadCPUTime (10 ms ticks) it can time a few hundred publishes on
// Redis; it leaves out threads that exited, which Redis's do not. Without
// schedstat it falls back to ReadCPUTime.
func ReadTaskCPUTime(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(procPath(pid, "task/*/schedstat"))
	if err != nil || len(tasks) == 0 {
		return ReadCPUTime(pid)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if os.IsNotExist(err) {
			continue // the thread just exited
		}
		if err != nil {
			return 0, procErr(pid, err)
		}
		ns, err := parseSchedstat(b)
		if err != nil {
			return 0, err
		}
		total += ns
	}
	return total, nil
}

// parseSchedstat reads the run time (the first field, in nanoseconds) of
// a schedstat line.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := bytes.Fields(b)
	if len(f) != 3 {
		return 0, fmt.Errorf("%w: schedstat %q", ErrProcfs, bytes.TrimSpace(b))
	}
	ns, err := strconv.ParseUint(string(f[0]), 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: schedstat run time %q", ErrProcfs, f[0])
	}
	return time.Duration(ns), nil
}
