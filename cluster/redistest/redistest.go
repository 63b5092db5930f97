// Package redistest starts real redis-server processes for tests: a
// standalone server, or a Redis Cluster of several masters, each on a free
// loopback port, with nothing persisted, stopped when the test ends. Tests
// use it to run bellhop's Redis code against the real thing, and to break
// it on purpose: stop it, kill it, pause it, bring it back empty.
//
// It needs redis-server and redis-cli on PATH (`make deps` installs them).
// It never touches a Redis it did not start.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts for starting and stopping servers.
const (
	readyTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
	busOffset    = 10000 // Redis Cluster's bus port is the client port plus this
	portAttempts = 5     // a free port can be taken between finding and binding it
)

// Server is one redis-server process owned by a test. Its methods are safe
// for concurrent use.
type Server struct {
	Addr string // 127.0.0.1:port

	t     testing.TB
	port  int
	dir   string   // working directory: logs, cluster config
	extra []string // arguments beyond the defaults

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while stopped
	done chan struct{} // closed when cmd has exited
}

// Start runs a standalone redis-server on a free loopback port with no
// persistence; extra arguments are appended (e.g. "--maxmemory", "10mb").
// The server is stopped when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return start(t, false, extra)
}

func start(t testing.TB, cluster bool, extra []string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redistest: redis-server is not installed: run `make deps`")
	}
	var lastErr error
	for range portAttempts {
		port, err := freePort(cluster)
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), t: t, port: port, dir: t.TempDir(), extra: extra}
		if lastErr = s.launch(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: cannot start redis-server: %v", lastErr)
	return nil
}

// freePort finds a loopback port that is free, and for a cluster node one
// whose bus port (port+10000) is free too.
func freePort(cluster bool) (int, error) {
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if !cluster {
			return port, nil
		}
		if port+busOffset > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+busOffset)))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return port, nil
	}
	return 0, errors.New("redistest: no free port pair for a cluster node")
}

// args are the server's command line: loopback only, no RDB or AOF, its
// files in its own directory.
func (s *Server) args() []string {
	a := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--protected-mode", "yes",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"), "--daemonize", "no",
	}
	return append(a, s.extra...)
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch() error {
	cmd := exec.Command("redis-server", s.args()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited: %s", s.Addr, s.logTail())
		default:
		}
		if err := s.ping(200 * time.Millisecond); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("redis-server on %s not ready after %v: %s", s.Addr, readyTimeout, s.logTail())
}

// ping sends PING in RESP and expects +PONG.
func (s *Server) ping(timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", s.Addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	// A server started with --requirepass answers NOAUTH: it is up too.
	if l := strings.TrimSpace(line); l != "+PONG" && !strings.HasPrefix(l, "-NOAUTH") {
		return fmt.Errorf("PING answered %q", l)
	}
	return nil
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Running reports whether the process is up (it may be paused).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// signal sends sig and, when wait is set, waits for the exit.
func (s *Server) signal(sig syscall.Signal, wait bool) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	if wait {
		s.cmd = nil
	}
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if !wait {
		return
	}
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Stop shuts the server down (SIGTERM) and waits for it. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.Resume() // a paused process cannot act on SIGTERM
	s.signal(syscall.SIGTERM, true)
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() { s.signal(syscall.SIGKILL, true) }

// Pause freezes the server (SIGSTOP): connections stay open but nothing is
// answered, as with a hung or partitioned Redis. Resume undoes it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP, false) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT, false) }

// Restart starts a stopped or killed server again on the same address.
// Nothing is persisted, so it comes back empty, as a Redis that lost its
// data does.
func (s *Server) Restart() {
	s.t.Helper()
	if s.Running() {
		s.Stop()
	}
	var err error
	for range portAttempts { // the old socket may linger a moment
		if err = s.launch(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("redistest: cannot restart redis-server on %s: %v", s.Addr, err)
}

// Do runs one command through redis-cli and returns its raw output,
// trimmed, for setting up and checking tests.
func (s *Server) Do(args ...string) (string, error) {
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.port)}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("redis-cli %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
