package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want int64
		err  error
	}{
		{"normal", "Name:\tbellhop\nVmPeak:\t  9999 kB\nVmRSS:\t   12345 kB\nThreads:\t5\n", 12345 << 10, nil},
		{"last line without newline", "Name:\tx\nVmRSS:\t1 kB", 1024, nil},
		{"zero", "VmRSS:\t0 kB\n", 0, nil},
		{"missing (kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, ErrProcfs},
		{"wrong unit", "VmRSS:\t12 MB\n", 0, ErrProcfs},
		{"not a number", "VmRSS:\tlots kB\n", 0, ErrProcfs},
		{"negative", "VmRSS:\t-5 kB\n", 0, ErrProcfs},
		{"empty", "", 0, ErrProcfs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(c.in))
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("parseVmRSS = %d, %v; want %d, %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	const tail = " S 1 2 3 4 5 6 7 8 9 10 %s %s 13 14 20 0 5 0 100 2000 300"
	cases := []struct {
		name string
		in   string
		want time.Duration
		err  error
	}{
		{"normal", "4242 (bellhop)" + fmtTail(tail, "150", "50"), 2 * time.Second, nil},
		{"name with spaces and parens", "4242 (a) b) (c d)" + fmtTail(tail, "1", "2"), 30 * time.Millisecond, nil},
		{"zero", "1 (x)" + fmtTail(tail, "0", "0"), 0, nil},
		{"no paren", "4242 bellhop S 1", 0, ErrProcfs},
		{"too few fields", "4242 (bellhop) S 1 2 3", 0, ErrProcfs},
		{"utime not a number", "4242 (b)" + fmtTail(tail, "x", "1"), 0, ErrProcfs},
		{"stime negative", "4242 (b)" + fmtTail(tail, "1", "-1"), 0, ErrProcfs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(c.in))
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, %v", got, err, c.want, c.err)
			}
		})
	}
}

func fmtTail(tail, utime, stime string) string { return fmt.Sprintf(tail, utime, stime) }

func TestReadSampleSelf(t *testing.T) {
	busy := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(busy) {
	}
	s, err := ReadSample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS <= 0 || s.CPU < 0 || s.At.IsZero() {
		t.Fatalf("ReadSample(self) = %#v, want RSS > 0", s)
	}
	if SelfCPUTime() <= 0 {
		t.Fatalf("SelfCPUTime = %v after busy work, want > 0", SelfCPUTime())
	}
}

func TestReadMissingProcess(t *testing.T) {
	const pid = 1 << 30 // above pid_max
	if _, err := ReadRSS(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("ReadRSS(missing) err = %v, want ErrNoProcess", err)
	}
	if _, err := ReadCPUTime(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("ReadCPUTime(missing) err = %v, want ErrNoProcess", err)
	}
	if _, err := ReadSample(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("ReadSample(missing) err = %v, want ErrNoProcess", err)
	}
}

func TestWaitRSSSettled(t *testing.T) {
	fast := SettleConfig{Interval: time.Millisecond, Window: 3, MaxWait: time.Second}
	cases := []struct {
		name     string
		readings []int64
		cfg      SettleConfig
		want     int64
		settled  bool
	}{
		{"settles after growth", []int64{1 << 20, 2 << 20, 3 << 20, 3 << 20, 3<<20 + 100, 3 << 20}, fast, 3<<20 + 100, true},
		{"explicit tolerance", []int64{100, 200, 150, 170}, SettleConfig{Interval: time.Millisecond, Window: 3, Tolerance: 50, MaxWait: time.Second}, 170, true},
		{"never settles", nil, SettleConfig{Interval: time.Millisecond, Window: 3, MaxWait: 20 * time.Millisecond}, -1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := 0
			read := func() (int64, error) {
				i++
				if c.readings == nil {
					return int64(i) << 30, nil // always moving
				}
				return c.readings[min(i-1, len(c.readings)-1)], nil
			}
			got, settled, err := WaitRSSSettled(context.Background(), read, c.cfg)
			if err != nil || settled != c.settled || c.want >= 0 && got != c.want {
				t.Fatalf("WaitRSSSettled = %d, %v, %v; want %d, %v", got, settled, err, c.want, c.settled)
			}
		})
	}
}

func TestWaitRSSSettledStops(t *testing.T) {
	boom := errors.New("read failed")
	if _, _, err := WaitRSSSettled(context.Background(), func() (int64, error) { return 0, boom }, SettleConfig{}); !errors.Is(err, boom) {
		t.Errorf("reader error: got %v, want %v", err, boom)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := int64(0)
	read := func() (int64, error) {
		n += 1 << 30
		if n > 2<<30 {
			cancel()
		}
		return n, nil
	}
	_, settled, err := WaitRSSSettled(ctx, read, SettleConfig{Interval: time.Millisecond})
	if !errors.Is(err, context.Canceled) || settled {
		t.Errorf("cancelled: settled %v err %v, want false, context.Canceled", settled, err)
	}
}

func TestSettleDefaults(t *testing.T) {
	c := SettleConfig{}.withDefaults()
	if c.Interval != 250*time.Millisecond || c.Window != 4 || c.MaxWait != 30*time.Second {
		t.Fatalf("defaults = %#v", c)
	}
	if got := c.tolerance(100 << 20); got != (100<<20)/200 {
		t.Errorf("tolerance(100 MiB) = %d, want 0.5%%", got)
	}
	if got := c.tolerance(1 << 20); got != 64<<10 {
		t.Errorf("tolerance(1 MiB) = %d, want the 64 KiB floor", got)
	}
}

func TestParseCPUBusy(t *testing.T) {
	stat := "cpu  100 0 50 9000 5 1 2 3 0 0\n" +
		"cpu0 10 1 20 4000 7 3 4 100 0 0\n" +
		"cpu1 90 0 30 5000 0 0 6 0 0 0\n" +
		"intr 12345\nctxt 999\n"
	cases := []struct {
		cpus []int
		want time.Duration
		err  error
	}{
		{[]int{0}, 380 * time.Millisecond, nil}, // 10+1+20+3+4 ticks: idle, iowait and steal left out
		{[]int{1}, 1260 * time.Millisecond, nil},
		{[]int{0, 1}, 1640 * time.Millisecond, nil},
		{[]int{2}, 0, ErrProcfs},
		{[]int{0, 2}, 0, ErrProcfs},
	}
	for _, c := range cases {
		got, err := parseCPUBusy([]byte(stat), c.cpus)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("parseCPUBusy(%v) = %v, %v; want %v, %v", c.cpus, got, err, c.want, c.err)
		}
	}
	if _, err := parseCPUBusy([]byte("cpu0 1 x 3 4 5 6 7 8\n"), []int{0}); !errors.Is(err, ErrProcfs) {
		t.Errorf("bad field: err = %v, want ErrProcfs", err)
	}
	if busy, err := ReadCPUBusy([]int{0}); err != nil || busy <= 0 {
		t.Errorf("ReadCPUBusy([0]) = %v, %v", busy, err)
	}
}

func TestReadTaskCPUTime(t *testing.T) {
	pid := os.Getpid()
	a, err := ReadTaskCPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	for x, deadline := 0, time.Now().Add(20*time.Millisecond); time.Now().Before(deadline); x++ {
		_ = x * x // burn a little CPU
	}
	b, err := ReadTaskCPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if a <= 0 || b <= a {
		t.Errorf("CPU time %v then %v, want it positive and growing", a, b)
	}
	if _, err := ReadTaskCPUTime(1 << 30); !errors.Is(err, ErrNoProcess) {
		t.Errorf("missing process: %v", err)
	}
	parses := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"123 45 6\n", 123, false},
		{"123 45\n", 0, true},
		{"x 45 6\n", 0, true},
	}
	for _, p := range parses {
		got, err := parseSchedstat([]byte(p.in))
		if got != p.want || (err != nil) != p.err {
			t.Errorf("parseSchedstat(%q) = %v, %v", p.in, got, err)
		}
	}
}
