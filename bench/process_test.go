package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a fake server process (see
// TestMain): "listen:ADDR", "listen-stubborn:ADDR" (ignores SIGTERM),
// "listen-gc:ADDR" (collects garbage once per accepted connection), "exit"
// (prints and exits 3) or "sleep" (never listens).
const helperEnv = "BENCH_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		helperMain(mode)
		return
	}
	os.Exit(m.Run())
}

func helperMain(mode string) {
	kind, addr, _ := strings.Cut(mode, ":")
	switch kind {
	case "exit":
		fmt.Fprintln(os.Stderr, "helper: bad flag -nope")
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Minute)
	case "listen", "listen-stubborn", "listen-gc":
		if kind == "listen-stubborn" {
			signal.Ignore(syscall.SIGTERM)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			os.Exit(4)
		}
		fmt.Println("helper: listening on", addr)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
				if kind == "listen-gc" {
					runtime.GC()
				}
			}
		}()
		if kind == "listen-stubborn" {
			time.Sleep(time.Minute) // until SIGKILL
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
		os.Exit(0)
	}
	os.Exit(5)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func helperProcess(t *testing.T, mode string, cpus string, timeout time.Duration) (*Process, error) {
	t.Helper()
	return helperProcessConfig(t, mode, ProcessConfig{CPUs: cpus, ReadyTimeout: timeout})
}

// helperProcessConfig starts the test binary in helper mode with cfg, whose
// Args and ReadyAddr it sets.
func helperProcessConfig(t *testing.T, mode string, cfg ProcessConfig) (*Process, error) {
	t.Helper()
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race helper would linger 1 s at exit
	t.Setenv(helperEnv, mode)
	addr := freeAddr(t)
	if strings.HasSuffix(mode, ":") {
		t.Setenv(helperEnv, mode+addr)
	}
	cfg.Args, cfg.ReadyAddr = []string{os.Args[0], "-test.run=^$"}, addr
	return StartProcess(context.Background(), cfg)
}

func TestStartProcessAndStop(t *testing.T) {
	var out strings.Builder // written by exec's copier until the process is reaped
	addr := freeAddr(t)
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	t.Setenv(helperEnv, "listen:"+addr)
	p, err := StartProcess(context.Background(), ProcessConfig{
		Args: []string{os.Args[0], "-test.run=^$"}, CPUs: "0", ReadyAddr: addr, Output: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Started() || p.PID <= 0 {
		t.Fatalf("Started %v PID %d", p.Started(), p.PID)
	}
	s, err := p.Sample()
	if err != nil || s.RSS <= 0 || s.Cores <= 0 || len(p.CPUs) != 1 {
		t.Fatalf("Sample = %#v, %v (CPUs %v); want RSS and the busy time of CPU 0", s, err, p.CPUs)
	}
	if rss, err := p.RSS(); err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatalf("second Stop = %v, want nil", err)
	}
	if _, err := p.Sample(); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Sample after Stop = %v, want ErrNoProcess", err)
	}
	if _, err := p.RSS(); !errors.Is(err, ErrNoProcess) {
		t.Errorf("RSS after Stop = %v, want ErrNoProcess", err)
	}
	if !strings.Contains(p.Output(), "listening on") || !strings.Contains(out.String(), "listening on") {
		t.Errorf("Output() = %q, copy %q; want the helper's line in both", p.Output(), out.String())
	}
}

func TestStartProcessFailures(t *testing.T) {
	cases := []struct {
		name, mode string
		timeout    time.Duration
		want       string
	}{
		{"exits early", "exit", time.Second, "bad flag -nope"},
		{"never listens", "sleep", 150 * time.Millisecond, "not listening"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := helperProcess(t, c.mode, "", c.timeout)
			if !errors.Is(err, ErrNoProcess) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrNoProcess mentioning %q", err, c.want)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
}

func TestStopKillsStubborn(t *testing.T) {
	p, err := helperProcess(t, "listen-stubborn:", "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(100 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop = %v, want a killed error", err)
	}
}

func TestStartProcessBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  ProcessConfig
		err  error
	}{
		{"no command", ProcessConfig{ReadyAddr: "127.0.0.1:1"}, ErrBadConfig},
		{"remote ready address", ProcessConfig{Args: []string{"true"}, ReadyAddr: "10.1.1.1:80"}, ErrNotLoopback},
		{"bad CPU list", ProcessConfig{Args: []string{"true"}, ReadyAddr: "127.0.0.1:1", CPUs: "x"}, ErrBadConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := StartProcess(context.Background(), c.cfg); !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
		})
	}
	if _, err := StartProcess(context.Background(), ProcessConfig{Args: []string{"/nonexistent/server"}, ReadyAddr: "127.0.0.1:1"}); err == nil {
		t.Error("starting a missing program succeeded")
	}
}

func TestAttachProcess(t *testing.T) {
	p, err := AttachProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.Started() || p.Stop(0) != nil || p.Output() != "" {
		t.Fatal("an attached process must not be stopped")
	}
	if s, err := p.Sample(); err != nil || s.RSS <= 0 {
		t.Fatalf("Sample = %#v, %v", s, err)
	}
	for _, pid := range []int{0, -1, 1 << 30} {
		if _, err := AttachProcess(pid); !errors.Is(err, ErrNoProcess) {
			t.Errorf("AttachProcess(%d) = %v, want ErrNoProcess", pid, err)
		}
	}
}

// allCPUs returns the CPUs this process may run on now.
func allCPUs(t testing.TB) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var all []int
	for i := range maxCPU + 1 {
		if set.IsSet(i) {
			all = append(all, i)
		}
	}
	return all
}

func TestTailBuffer(t *testing.T) {
	var tb tailBuffer
	_, _ = tb.Write([]byte(strings.Repeat("a", outputTail)))
	_, _ = tb.Write([]byte("  end of output \n"))
	got := tb.String()
	if len(got) > outputTail || !strings.HasSuffix(got, "end of output") || !strings.HasPrefix(got, "a") {
		t.Fatalf("tail has %d bytes ending %q", len(got), got[max(0, len(got)-20):])
	}
}

func TestParseCPUList(t *testing.T) {
	cases := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"0", []int{0}, true},
		{"1,0", []int{1, 0}, true},
		{"0-3,2", []int{0, 1, 2, 3}, true},
		{" 5 ", []int{5}, true},
		{"", nil, false},
		{"a", nil, false},
		{"3-1", nil, false},
		{"-1", nil, false},
		{"0-5000", nil, false},
	}
	for _, c := range cases {
		got, err := ParseCPUList(c.in)
		if (err == nil) != c.ok || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestPinProcess(t *testing.T) {
	// Pinning to every CPU changes nothing and must work for all threads.
	all := allCPUs(t)
	if err := PinProcess(os.Getpid(), all); err != nil {
		t.Fatal(err)
	}
	if err := PinProcess(os.Getpid(), nil); !errors.Is(err, ErrBadConfig) {
		t.Errorf("empty list err = %v", err)
	}
	if err := PinProcess(1<<30, all); !errors.Is(err, ErrNoProcess) {
		t.Errorf("missing pid err = %v", err)
	}
	p := &Process{PID: 1 << 30}
	if err := p.Pin(all); err == nil || p.CPUs != nil {
		t.Errorf("Pin of a missing process = %v, CPUs %v", err, p.CPUs)
	}
}
