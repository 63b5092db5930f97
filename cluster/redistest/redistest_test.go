package redistest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServerLifecycle(t *testing.T) {
	s := Start(t, "--maxmemory", "16mb")
	if got, err := s.Do("config", "get", "maxmemory"); err != nil || !strings.Contains(got, "16777216") {
		t.Fatalf("extra arguments not applied: %q, %v", got, err)
	}
	if got, err := s.Do("config", "get", "bind"); err != nil || !strings.Contains(got, "127.0.0.1") {
		t.Fatalf("not bound to loopback only: %q, %v", got, err)
	}
	if _, err := s.Do("set", "k", "v"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fail func()
	}{
		{"stop", s.Stop},
		{"kill", s.Kill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fail()
			if s.Running() {
				t.Fatal("still running")
			}
			if c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond); err == nil {
				_ = c.Close()
				t.Fatal("still accepting connections")
			}
			s.Restart()
			if got, err := s.Do("get", "k"); err != nil || got != "" {
				t.Fatalf("restarted server is not empty: %q, %v", got, err)
			}
			if _, err := s.Do("set", "k", "v"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServerPause(t *testing.T) {
	s := Start(t)
	s.Pause()
	if err := s.ping(300 * time.Millisecond); err == nil {
		t.Fatal("a paused server answered PING")
	}
	if !s.Running() {
		t.Fatal("a paused server counts as stopped")
	}
	s.Resume()
	if err := s.ping(2 * time.Second); err != nil {
		t.Fatalf("no answer after Resume: %v", err)
	}
	s.Pause()
	s.Stop() // must not hang on a paused process
	if s.Running() {
		t.Fatal("still running after Stop")
	}
	s.Stop() // stopping twice is fine
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("both on %s", a.Addr)
	}
	if _, err := a.Do("set", "only", "a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Do("get", "only"); got != "" {
		t.Fatalf("b sees a's key: %q", got)
	}
}

func TestCluster(t *testing.T) {
	c := StartCluster(t, 3)
	if len(c.Addrs()) != 3 {
		t.Fatalf("addrs %v", c.Addrs())
	}
	info, err := c.Nodes[0].Do("cluster", "info")
	if err != nil || !strings.Contains(info, "cluster_known_nodes:3") || !strings.Contains(info, "cluster_slots_assigned:16384") {
		t.Fatalf("cluster info: %q, %v", info, err)
	}
	// A key lives on exactly one master: the others redirect.
	moved := 0
	for _, n := range c.Nodes {
		if out, _ := n.Do("set", "room:101", "x"); strings.Contains(out, "MOVED") {
			moved++
		}
	}
	if moved != 2 {
		t.Fatalf("%d nodes redirected, want 2", moved)
	}
}

// fatalTB records a Fatal instead of ending the test, so the helpers'
// refusals can be checked; Fatal unwinds with a panic the test recovers.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalled struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(fatalled{})
}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalled{})
}

// expectFatal runs fn with a fatalTB and returns its message.
func expectFatal(t *testing.T, fn func(tb testing.TB)) (msg string) {
	t.Helper()
	tb := &fatalTB{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatalled); !ok {
				panic(r)
			}
			msg = tb.msg
		}
	}()
	fn(tb)
	t.Fatal("no Fatal")
	return ""
}

func TestRefusals(t *testing.T) {
	if msg := expectFatal(t, func(tb testing.TB) { StartCluster(tb, 2) }); !strings.Contains(msg, "at least 3 masters") {
		t.Errorf("2 masters: %q", msg)
	}
	t.Run("no redis-server", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if msg := expectFatal(t, func(tb testing.TB) { Start(tb) }); !strings.Contains(msg, "make deps") {
			t.Errorf("missing binary: %q", msg)
		}
	})
}

func TestLaunchFailures(t *testing.T) {
	port, err := freePort(false)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), t: t, port: port, dir: t.TempDir(),
		extra: []string{"--no-such-option", "1"}}
	if err := s.launch(); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("bad option: %v", err)
	}
	if s.Running() {
		t.Error("a server that failed to start counts as running")
	}
	if _, err := s.Do("ping"); err == nil {
		t.Error("Do on a server that is not running: no error")
	}
	if err := s.ping(100 * time.Millisecond); err == nil {
		t.Error("ping of nothing: no error")
	}
	if p, err := freePort(true); err != nil || p+busOffset > 65535 {
		t.Errorf("cluster port %d, %v", p, err)
	}
}
