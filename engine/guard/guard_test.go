package guard

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTest(t *testing.T, cfg Config) (*Guard, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	cfg.Now = c.now
	g := New(cfg)
	t.Cleanup(g.Close)
	return g, c
}

var (
	ipA = netip.MustParseAddr("203.0.113.7")
	ipB = netip.MustParseAddr("198.51.100.9")
)

// TestAdmit walks one IP through the connection limits, step by step.
func TestAdmit(t *testing.T) {
	g, clk := newTest(t, Config{MaxConnsPerIP: 3, ConnectRate: 1, ConnectBurst: 4, BanAfter: 100})
	steps := []struct {
		name string
		op   string // admit, release, wait
		ip   netip.Addr
		wait time.Duration
		want int
	}{
		{"first", "admit", ipA, 0, Admitted},
		{"second", "admit", ipA, 0, Admitted},
		{"third", "admit", ipA, 0, Admitted},
		{"over_concurrent", "admit", ipA, 0, OverLimit},
		{"other_ip_unaffected", "admit", ipB, 0, Admitted},
		{"one_closes", "release", ipA, 0, 0},
		{"last_token", "admit", ipA, 0, Admitted}, // the burst of 4: the refusal took none
		{"another_closes", "release", ipA, 0, 0},
		{"no_token", "admit", ipA, 0, OverLimit},
		{"refill", "wait", ipA, 1100 * time.Millisecond, 0},
		{"after_refill", "admit", ipA, 0, Admitted},
	}
	for _, st := range steps {
		switch st.op {
		case "admit":
			if got := g.Admit(st.ip); got != st.want {
				t.Fatalf("%s: Admit = %d, want %d", st.name, got, st.want)
			}
		case "release":
			g.Release(st.ip)
		case "wait":
			clk.add(st.wait)
		}
	}
}

// TestBan: repeated violations earn a ban that refuses with 403, ends
// after BanFor, and is shared by every address of an IPv6 /64.
func TestBan(t *testing.T) {
	var bans []netip.Addr
	g, clk := newTest(t, Config{MessageRate: 2, MessageBurst: 2, BanAfter: 3, BanFor: time.Minute,
		OnBan: func(ip netip.Addr, _ time.Time) { bans = append(bans, ip) }})
	v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	cases := []struct {
		name string
		ip   netip.Addr
	}{{"v4", ipA}, {"v6", v6a}}
	for _, tc := range cases {
		for i := range 2 {
			if !g.Message(tc.ip) {
				t.Fatalf("%s: message %d of the burst refused", tc.name, i)
			}
		}
		for i := range 3 {
			if g.Message(tc.ip) {
				t.Fatalf("%s: message %d over the budget admitted", tc.name, i)
			}
		}
		if got := g.Admit(tc.ip); got != Banned || !g.Banned(tc.ip) {
			t.Fatalf("%s: after 3 violations Admit = %d", tc.name, got)
		}
	}
	if g.Admit(v6b) != Banned {
		t.Fatal("another address of the banned /64 admitted")
	}
	if len(bans) != 2 || bans[1] != netip.MustParseAddr("2001:db8:1:2::") {
		t.Fatalf("OnBan calls %v", bans)
	}
	if g.Admit(ipB) != Admitted {
		t.Fatal("a clean IP refused")
	}
	clk.add(time.Minute + time.Second)
	if got := g.Admit(ipA); got != Admitted {
		t.Fatalf("after the ban: %d", got)
	}
}

// TestAllowList: trusted networks skip every limit and are never banned.
func TestAllowList(t *testing.T) {
	g, _ := newTest(t, Config{MaxConnsPerIP: 1, MessageRate: 1, MessageBurst: 1, BanAfter: 1,
		Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	lb := netip.MustParseAddr("10.1.2.3")
	for range 10 {
		if g.Admit(lb) != Admitted || !g.Message(lb) {
			t.Fatal("allow-listed IP limited")
		}
		g.Violation(lb)
	}
	g.Ban(lb, time.Now().Add(time.Hour))
	if g.Banned(lb) || g.Tracked() != 0 {
		t.Fatal("allow-listed IP tracked or banned")
	}
	g.Release(lb)
	// A v4-mapped v6 address is the v4 address.
	if g.Admit(netip.MustParseAddr("::ffff:10.9.9.9")) != Admitted {
		t.Fatal("v4-mapped allow-listed IP limited")
	}
}

// TestTrackingBound: past MaxTracked IPs, new ones are refused (memory
// stays bounded under an address-spraying flood); idle ones are forgotten.
func TestTrackingBound(t *testing.T) {
	g, clk := newTest(t, Config{MaxTracked: 2, BanWindow: time.Second})
	a, b, c := ipA, ipB, netip.MustParseAddr("192.0.2.1")
	if g.Admit(a) != Admitted || g.Admit(b) != Admitted {
		t.Fatal("first two refused")
	}
	if g.Admit(c) != OverLimit || !g.Message(c) {
		t.Fatal("third IP: want refused connection, message passed")
	}
	g.Release(a)
	g.Release(b)
	clk.add(time.Hour)
	g.forgetIdle()
	if g.Tracked() != 0 {
		t.Fatalf("%d tracked after sweeping idle IPs", g.Tracked())
	}
	if g.Admit(c) != Admitted {
		t.Fatal("third IP refused after the sweep")
	}
	g.Violation(c)
	g.Ban(ipA, clk.now().Add(time.Minute))
	if !g.Banned(ipA) {
		t.Fatal("Ban did not ban")
	}
}

// TestSweeperStops: New starts the sweeper and Close ends it (twice is fine).
func TestSweeperStops(t *testing.T) {
	g := New(Config{sweepEvery: time.Millisecond, Now: time.Now})
	g.Admit(ipA)
	g.Release(ipA)
	time.Sleep(10 * time.Millisecond)
	g.Close()
	g.Close()
}

// TestConcurrent: loops admit, message and release at once (run with -race).
func TestConcurrent(t *testing.T) {
	g, _ := newTest(t, Config{MaxConnsPerIP: 1000, ConnectRate: -1, MessageRate: -1})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
			for range 500 {
				if g.Admit(ip) != Admitted {
					t.Error("refused")
					return
				}
				g.Message(ip)
				g.Release(ip)
			}
		})
	}
	wg.Wait()
}

func BenchmarkMessage(b *testing.B) {
	g := New(Config{MessageRate: 1e12, MessageBurst: 1 << 30})
	defer g.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g.Message(ipA)
		}
	})
}

// TestClusterLoad: other nodes' connections count against the per-IP
// limit and their rates against the IP's budget; Report says what this
// node has and starts counting anew.
func TestClusterLoad(t *testing.T) {
	g, clk := newTest(t, Config{MaxConnsPerIP: 4, ConnectRate: 10, ConnectBurst: 10, MessageRate: 10, MessageBurst: 10, BanAfter: 1000})
	for range 2 {
		if g.Admit(ipA) != Admitted {
			t.Fatal("refused")
		}
	}
	g.Message(ipA)
	rep := g.Report(10, time.Second)
	if l := rep[ipA]; l.Conns != 2 || l.Connects != 2 || l.Messages != 1 || len(rep) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if l := g.Report(10, time.Second)[ipA]; l.Connects != 0 || l.Conns != 2 {
		t.Fatalf("second report %+v: counts not reset", l)
	}
	g.SetRemote(map[netip.Addr]Load{ipA: {Conns: 2}, ipB: {Messages: 10}})
	if g.Admit(ipA) != OverLimit {
		t.Fatal("2 here + 2 elsewhere admitted a fifth")
	}
	// ipB's budget is all used elsewhere: after the burst, nothing refills.
	for range 10 {
		g.Message(ipB)
	}
	clk.add(time.Second)
	if g.Message(ipB) {
		t.Fatal("a message admitted while other nodes use the whole rate")
	}
	g.SetRemote(nil)
	clk.add(time.Second)
	if g.Admit(ipA) != Admitted || !g.Message(ipB) {
		t.Fatal("limits still held after the other nodes' load went")
	}
	if got := g.Report(1, 0); len(got) != 1 {
		t.Fatalf("report bound: %d entries", len(got))
	}
}
