package peers_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const (
	readyTimeout = 20 * time.Second // a -race build starts slowly
	ioTimeout    = 10 * time.Second
	exitTimeout  = 10 * time.Second
)

// binDir holds the Go servers, built once by TestMain.
var binDir string

// raceExempt lists the servers built without -race even when the tests run
// with it. nbio's accept goroutine hands each connection to a poller
// through epoll, an ordering the race detector cannot see, so it reports
// races inside nbio and the net package (not on every run). nbio marks its own
// functions //go:norace, but that does not cover the net package or the
// generated wrappers.
var raceExempt = map[string]bool{"peer-nbio": true}

// buildServers builds every command under cmd/ into dir. When the tests run
// with -race, the servers are built with it too (except raceExempt), so
// their own races are caught as well.
func buildServers(dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("cannot find the go command: %w", err)
	}
	cmds, err := os.ReadDir("cmd")
	if err != nil {
		return err
	}
	for _, c := range cmds {
		args := []string{"build", "-o", filepath.Join(dir, c.Name())}
		if raceEnabled && !raceExempt[c.Name()] {
			args = append(args, "-race")
		}
		cmd := exec.Command(goBin, append(args, "./cmd/"+c.Name())...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", c.Name(), err, out)
		}
	}
	return nil
}

// freeAddr returns a loopback address with a port that was free a moment
// ago: the servers take an address flag, not a listener.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// server is a started peer process. stderr collects its output.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	exited chan struct{} // closed when the process has been waited for
	err    error         // Wait's result; read after exited is closed
}

// startServer runs argv and waits until addr accepts TCP connections. The
// process is killed at the end of the test if it is still running.
func startServer(t *testing.T, addr string, argv []string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(argv[0], argv[1:]...), addr: addr, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before listening: %v\n%s", s.err, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not listening on %s after %v: %v\n%s", addr, readyTimeout, err, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit error, or an error when the
// process does not exit within exitTimeout.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.exited:
		return s.err
	case <-time.After(exitTimeout):
		return errors.New("no exit after SIGTERM")
	}
}

// dial opens a WebSocket client connection to path on s.
func (s *server) dial(t *testing.T, path string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+s.addr+path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// expect reads one message from c and checks it is kind with data.
func expect(t *testing.T, who string, c *websocket.Conn, kind int, data []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	gotKind, got, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("%s: read: %v", who, err)
	}
	if gotKind != kind || !bytes.Equal(got, data) {
		t.Fatalf("%s: got %s %q, want %s %q", who, kindName(gotKind), clip(got), kindName(kind), clip(data))
	}
}

func send(t *testing.T, who string, c *websocket.Conn, kind int, data []byte) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := c.WriteMessage(kind, data); err != nil {
		t.Fatalf("%s: write: %v", who, err)
	}
}

func kindName(k int) string {
	switch k {
	case websocket.TextMessage:
		return "text"
	case websocket.BinaryMessage:
		return "binary"
	}
	return fmt.Sprintf("opcode %d", k)
}

func clip(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// syncBuffer is a bytes.Buffer safe for the process's output copier and
// the test to use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nodeSkip returns why the Node peer cannot run here, or "".
func nodeSkip() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node not on PATH"
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules", "ws")); err != nil {
		return "node/node_modules missing (run build.sh or npm ci in node/)"
	}
	return ""
}
