package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process defaults.
const (
	DefaultReadyTimeout = 10 * time.Second
	DefaultStopTimeout  = 20 * time.Second
	outputTail          = 4 << 10 // bytes of server output kept for error messages
)

// Process is the server under test: either attached by PID (measured only)
// or started by the harness (measured, then stopped by its PID). Its
// methods are safe for concurrent use, except Pin, which must be called
// before the Process is shared.
type Process struct {
	PID  int
	CPUs []int // CPUs the server is pinned to, if it is: samples then read their busy time too

	cmd    *exec.Cmd     // nil when attached
	exited chan struct{} // closed when a started process exited
	err    error         // cmd.Wait's result, set before exited is closed
	tail   *tailBuffer   // last bytes of the server's output
	gc     *gcTrace      // GC pauses parsed from the output; nil unless started with GCTrace
	once   sync.Once     // Stop runs once
}

// AttachProcess returns the running process pid, to read its resources.
// The harness never signals an attached process.
func AttachProcess(pid int) (*Process, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("%w: pid %d", ErrNoProcess, pid)
	}
	if _, err := ReadSample(pid); err != nil {
		return nil, err
	}
	return &Process{PID: pid}, nil
}

// ProcessConfig says how to start the server.
type ProcessConfig struct {
	Args         []string      // program and arguments (no shell)
	CPUs         string        // when set, run under "taskset -c CPUs"
	ReadyAddr    string        // wait until this loopback address accepts TCP connections (required)
	ReadyTimeout time.Duration // 0 means DefaultReadyTimeout
	Output       io.Writer     // copy of the server's stdout and stderr; nil keeps only a tail for errors
	GCTrace      bool          // run with GODEBUG=gctrace=1 and report a Go server's GC pauses
}

// StartProcess starts the server and waits until it accepts connections on
// ReadyAddr. The server is killed if the harness dies (PDEATHSIG). If it
// exits or does not get ready in time, StartProcess stops it and returns an
// error with the tail of its output.
func StartProcess(ctx context.Context, cfg ProcessConfig) (*Process, error) {
	if len(cfg.Args) == 0 {
		return nil, fmt.Errorf("%w: empty server command", ErrBadConfig)
	}
	if err := CheckLoopbackAddr(cfg.ReadyAddr); err != nil {
		return nil, err
	}
	args := cfg.Args
	p := &Process{exited: make(chan struct{}), tail: &tailBuffer{}}
	if cfg.CPUs != "" {
		cpus, err := ParseCPUList(cfg.CPUs)
		if err != nil {
			return nil, err
		}
		p.CPUs = cpus
		args = append([]string{"taskset", "-c", cfg.CPUs}, args...)
	}
	p.cmd = exec.Command(args[0], args[1:]...)
	var out io.Writer = p.tail
	if cfg.Output != nil {
		out = io.MultiWriter(p.tail, cfg.Output)
	}
	if cfg.GCTrace {
		p.gc = &gcTrace{}
		out = io.MultiWriter(out, p.gc)
		p.cmd.Env = withGCTrace(os.Environ())
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start server %q: %w", strings.Join(args, " "), err)
	}
	p.PID = p.cmd.Process.Pid
	go p.reap()
	if err := p.waitReady(ctx, cfg.ReadyAddr, cmp0(cfg.ReadyTimeout, DefaultReadyTimeout)); err != nil {
		_ = p.Stop(time.Second)
		return nil, err
	}
	return p, nil
}

// reap waits for the started process. It runs in its own goroutine from
// StartProcess until the process exits; it owns err until it closes exited.
func (p *Process) reap() {
	p.err = p.cmd.Wait()
	close(p.exited)
}

// waitReady dials addr until it accepts, the process exits or time is up.
func (p *Process) waitReady(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w: server exited (%v) before listening on %s; output: %s", ErrNoProcess, p.err, addr, p.tail)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: server not listening on %s after %s; output: %s", ErrNoProcess, addr, timeout, p.tail)
		}
	}
}

// Started reports whether the harness started the process (and will stop
// it).
func (p *Process) Started() bool { return p.cmd != nil }

// Sample reads the process's RSS and CPU time, and the busy time of its
// CPUs when CPUs is set.
func (p *Process) Sample() (Sample, error) {
	if p.gone() {
		return Sample{}, fmt.Errorf("%w: server exited (%v); output: %s", ErrNoProcess, p.err, p.tail)
	}
	s, err := ReadSample(p.PID)
	if err != nil || len(p.CPUs) == 0 {
		return s, err
	}
	s.Cores, err = ReadCPUBusy(p.CPUs)
	return s, err
}

// Pin restricts every thread of the process to cpus (see PinProcess) and
// records them in CPUs.
func (p *Process) Pin(cpus []int) error {
	if err := PinProcess(p.PID, cpus); err != nil {
		return err
	}
	p.CPUs = cpus
	return nil
}

// RSS reads the process's resident set size in bytes.
func (p *Process) RSS() (int64, error) {
	if p.gone() {
		return 0, fmt.Errorf("%w: server exited (%v); output: %s", ErrNoProcess, p.err, p.tail)
	}
	return ReadRSS(p.PID)
}

func (p *Process) gone() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// TakeGC returns the garbage collections a Go server reported since the
// previous call (or its start) and starts a new window. ok is false when
// the process was not started with GCTrace or has printed no gctrace line
// yet (it is not a Go program, or it has not collected).
func (p *Process) TakeGC() (s GCStats, ok bool) {
	if p.gc == nil {
		return s, false
	}
	return p.gc.take()
}

// withGCTrace returns env with gctrace=1 added to GODEBUG.
func withGCTrace(env []string) []string {
	out := make([]string, 0, len(env)+1)
	debug := "gctrace=1"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			if v != "" {
				debug = v + ",gctrace=1"
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GODEBUG="+debug)
}

// Output returns the tail of a started server's output.
func (p *Process) Output() string {
	if p.tail == nil {
		return ""
	}
	return p.tail.String()
}

// Stop ends a started process: SIGTERM, then SIGKILL if it has not exited
// after timeout (0 means DefaultStopTimeout). It waits for the exit. For an
// attached process it does nothing. It returns an error only when the
// process had to be killed.
func (p *Process) Stop(timeout time.Duration) error {
	if p.cmd == nil {
		return nil
	}
	var err error
	p.once.Do(func() { err = p.stop(cmp0(timeout, DefaultStopTimeout)) })
	return err
}

func (p *Process) stop(timeout time.Duration) error {
	if p.gone() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cannot signal server pid %d: %w", p.PID, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
		return nil
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("server pid %d did not stop within %s after SIGTERM; killed", p.PID, timeout)
}

// tailBuffer keeps the last outputTail bytes written to it. It is safe for
// concurrent use: exec's copying goroutine writes while Process reads.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - outputTail; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns the kept bytes, trimmed.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
