package bench

import (
	"context"
	stdtls "crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
)

// recorder is a Handler that remembers what happened.
type recorder struct {
	mu       sync.Mutex
	upgrades int
	msgs     []string
	closes   []error
	onUp     func(*Conn)
}

func (r *recorder) OnUpgrade(c *Conn) {
	r.mu.Lock()
	r.upgrades++
	r.mu.Unlock()
	if r.onUp != nil {
		r.onUp(c)
	}
}

func (r *recorder) OnMessage(_ *Conn, op codec.OpCode, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, map[codec.OpCode]string{codec.OpText: "text", codec.OpBinary: "binary"}[op]+":"+string(p))
}

func (r *recorder) OnClose(_ *Conn, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closes = append(r.closes, err)
}

func (r *recorder) counts() (ups, msgs, closes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.upgrades, len(r.msgs), len(r.closes)
}

func newTestClient(t *testing.T, target Target, h Handler, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{Target: target, Handler: h, HandshakeTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	cl, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func TestClientEcho(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run("tls="+map[bool]string{false: "off", true: "on"}[secure], func(t *testing.T) {
			var tlsCfg *stdtls.Config
			if secure {
				cert, _, _ := selfSigned(t)
				tlsCfg = &stdtls.Config{Certificates: []stdtls.Certificate{cert}}
			}
			srv := startFake(t, tlsCfg, map[string]func(*fakeConn){"/echo": func(c *fakeConn) { c.accept101(""); c.echo() }})
			rec := &recorder{}
			cl := newTestClient(t, srv.target("/echo"), rec, func(c *ClientConfig) { c.Loops = 2 })
			conns := cl.Connect(context.Background(), 20, ConnectOptions{Concurrency: 4})
			if len(conns) != 20 || cl.Open() != 20 || cl.Stats().Upgraded.Load() != 20 {
				t.Fatalf("connected %d, open %d, stats %d; want 20 (errors %v)", len(conns), cl.Open(), cl.Stats().Upgraded.Load(), cl.Stats().FirstError())
			}
			big := strings.Repeat("x", 70000) // several TLS records, 64-bit length
			for _, c := range conns {
				if err := c.AsyncDo(func(c *Conn) {
					_ = c.Send(codec.OpText, []byte("hello"))
					_ = c.Send(codec.OpBinary, []byte(big))
				}); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 5*time.Second, "40 echoes", func() bool { _, n, _ := rec.counts(); return n == 40 })
			rec.mu.Lock()
			for _, m := range rec.msgs {
				if m != "text:hello" && m != "binary:"+big {
					t.Errorf("unexpected echo %.20q", m)
				}
			}
			rec.mu.Unlock()
			if n := cl.ConnectLatency().Count(); n != 20 {
				t.Errorf("connect latency count %d, want 20", n)
			}
			if err := cl.Close(); err != nil {
				t.Fatal(err)
			}
			if err := cl.Close(); !errors.Is(err, ErrClientClosed) {
				t.Errorf("second Close = %v, want ErrClientClosed", err)
			}
			ups, _, closes := rec.counts()
			if ups != 20 || closes != 20 || cl.Open() != 0 {
				t.Fatalf("upgrades %d closes %d open %d; want 20, 20, 0", ups, closes, cl.Open())
			}
			for _, err := range rec.closes {
				if err != nil {
					t.Errorf("OnClose err = %v after our own close, want nil", err)
				}
			}
			if n := cl.Stats().Errors(); n != 0 {
				t.Errorf("errors = %d (%s), want 0", n, cl.Stats().FirstError())
			}
		})
	}
}

func TestClientHandshakeFailures(t *testing.T) {
	release := make(chan struct{})
	srv := startFake(t, nil, map[string]func(*fakeConn){
		"/refuse": func(c *fakeConn) { _, _ = c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")) },
		"/badaccept": func(c *fakeConn) {
			_, _ = c.Write([]byte("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n"))
		},
		"/silent": func(c *fakeConn) { <-release },
		"/hangup": func(c *fakeConn) {},
	})
	defer close(release)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	_ = dead.Close()
	cases := []struct {
		name   string
		target Target
		kind   ErrorKind
	}{
		{"refused upgrade", srv.target("/refuse"), KindHandshake},
		{"bad accept key", srv.target("/badaccept"), KindHandshake},
		{"server closes before answering", srv.target("/hangup"), KindHandshake},
		{"no answer", srv.target("/silent"), KindTimeout},
		{"nothing listening", Target{Addr: deadAddr, Host: deadAddr, Path: "/"}, KindDial},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			cl := newTestClient(t, c.target, rec, func(cfg *ClientConfig) { cfg.HandshakeTimeout = 300 * time.Millisecond })
			conns := cl.Connect(context.Background(), 3, ConnectOptions{Concurrency: 3})
			st := cl.Stats()
			if len(conns) != 0 || st.errs[c.kind].Load() != 3 || st.Errors() != 3 {
				t.Fatalf("conns %d, %s errors %d, total %d (%v); want 0, 3, 3", len(conns), c.kind, st.errs[c.kind].Load(), st.Errors(), st.ErrorCounts())
			}
			if ups, _, closes := rec.counts(); ups != 0 || closes != 0 {
				t.Errorf("handler saw %d upgrades and %d closes, want none", ups, closes)
			}
			if st.FirstError() == "" {
				t.Error("no first error recorded")
			}
		})
	}
}

func TestClientServerInitiated(t *testing.T) {
	pongs := make(chan string, 1)
	closeReply := make(chan []byte, 1)
	srv := startFake(t, nil, map[string]func(*fakeConn){
		"/ping": func(c *fakeConn) {
			c.accept101("")
			c.send(codec.OpPing, []byte("p1"))
			if f, err := c.next(); err == nil && f.OpCode == codec.OpPong {
				pongs <- string(f.Payload)
			}
			c.send(codec.OpClose, []byte{0x03, 0xe9, 'b', 'y', 'e'}) // 1001 "bye"
			if f, err := c.next(); err == nil && f.OpCode == codec.OpClose {
				closeReply <- f.Payload
			}
		},
		"/frag": func(c *fakeConn) {
			c.accept101("")
			_, _ = c.Write(codec.AppendHeader(nil, codec.Header{OpCode: codec.OpText, Length: 3}))
			_, _ = c.Write([]byte("hel"))
			c.send(codec.OpPing, nil) // control frames may come between fragments
			_, _ = c.Write(append(codec.AppendHeader(nil, codec.Header{Fin: true, OpCode: codec.OpContinuation, Length: 2}), "lo"...))
			c.echo()
		},
		"/drop": func(c *fakeConn) { c.accept101("") },
	})
	t.Run("ping then close", func(t *testing.T) {
		rec := &recorder{}
		cl := newTestClient(t, srv.target("/ping"), rec, nil)
		if conns := cl.Connect(context.Background(), 1, ConnectOptions{}); len(conns) != 1 {
			t.Fatalf("no connection: %s", cl.Stats().FirstError())
		}
		if got := recvTimeout(t, pongs); got != "p1" {
			t.Errorf("pong payload %q, want p1", got)
		}
		if got := recvTimeout(t, closeReply); len(got) < 2 || got[0] != 0x03 || got[1] != 0xe9 {
			t.Errorf("close reply %x, want code 1001 echoed", got)
		}
		waitFor(t, 2*time.Second, "OnClose", func() bool { _, _, n := rec.counts(); return n == 1 })
		if err := rec.closes[0]; !errors.Is(err, ErrPeerClosed) || !strings.Contains(err.Error(), "1001") {
			t.Errorf("OnClose err = %v, want ErrPeerClosed with 1001", err)
		}
		if n := cl.Stats().errs[KindClosed].Load(); n != 1 {
			t.Errorf("closed errors = %d, want 1", n)
		}
	})
	t.Run("fragmented message", func(t *testing.T) {
		rec := &recorder{}
		cl := newTestClient(t, srv.target("/frag"), rec, nil)
		cl.Connect(context.Background(), 1, ConnectOptions{})
		waitFor(t, 2*time.Second, "joined message", func() bool { _, n, _ := rec.counts(); return n == 1 })
		if rec.msgs[0] != "text:hello" {
			t.Errorf("message %q, want text:hello", rec.msgs[0])
		}
	})
	t.Run("dropped transport", func(t *testing.T) {
		rec := &recorder{}
		cl := newTestClient(t, srv.target("/drop"), rec, nil)
		cl.Connect(context.Background(), 1, ConnectOptions{})
		waitFor(t, 2*time.Second, "OnClose", func() bool { _, _, n := rec.counts(); return n == 1 })
		if !errors.Is(rec.closes[0], ErrPeerClosed) || cl.Stats().errs[KindClosed].Load() != 1 {
			t.Errorf("OnClose err = %v, closed errors %d; want ErrPeerClosed, 1", rec.closes[0], cl.Stats().errs[KindClosed].Load())
		}
	})
}

func recvTimeout[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(3 * time.Second):
		t.Fatal("timed out waiting for the fake server")
	}
	var zero T
	return zero
}

func TestClientProtocolViolations(t *testing.T) {
	routes := map[string]func(*fakeConn){
		"/masked": func(c *fakeConn) {
			c.accept101("")
			_, _ = c.Write(codec.AppendClientFrame(nil, codec.Header{Fin: true, OpCode: codec.OpText}, []byte("x")))
			c.echo()
		},
		"/orphan": func(c *fakeConn) {
			c.accept101("")
			c.send(codec.OpContinuation, []byte("x"))
			c.echo()
		},
		"/badclose": func(c *fakeConn) {
			c.accept101("")
			c.send(codec.OpClose, []byte{0x03}) // one-byte close payload
			c.echo()
		},
		"/toolong": func(c *fakeConn) {
			c.accept101("")
			_, _ = c.Write(codec.AppendHeader(nil, codec.Header{OpCode: codec.OpText, Length: 60}))
			_, _ = c.Write(make([]byte, 60))
			_, _ = c.Write(codec.AppendHeader(nil, codec.Header{Fin: true, OpCode: codec.OpContinuation, Length: 60}))
			_, _ = c.Write(make([]byte, 60))
			c.echo()
		},
		"/extension": func(c *fakeConn) { c.accept101("Sec-WebSocket-Extensions: permessage-deflate\r\n") },
	}
	srv := startFake(t, nil, routes)
	cases := []struct {
		path string
		kind ErrorKind
	}{{"/masked", KindProtocol}, {"/orphan", KindProtocol}, {"/badclose", KindProtocol}, {"/toolong", KindProtocol}, {"/extension", KindHandshake}}
	for _, c := range cases {
		t.Run("path="+c.path, func(t *testing.T) {
			rec := &recorder{}
			cl := newTestClient(t, srv.target(c.path), rec, func(cfg *ClientConfig) { cfg.MaxFrame = 100 })
			cl.Connect(context.Background(), 1, ConnectOptions{})
			waitFor(t, 2*time.Second, c.kind.String()+" error", func() bool { return cl.Stats().errs[c.kind].Load() == 1 })
			if c.kind == KindProtocol {
				waitFor(t, 2*time.Second, "OnClose", func() bool { _, _, n := rec.counts(); return n == 1 })
				if !errors.Is(rec.closes[0], ErrProtocol) {
					t.Errorf("OnClose err = %v, want ErrProtocol", rec.closes[0])
				}
			}
		})
	}
}

func TestConnLoopOnlyCalls(t *testing.T) {
	srv := startFake(t, nil, map[string]func(*fakeConn){"/echo": func(c *fakeConn) { c.accept101(""); c.echo() }})
	sendAfterClose := make(chan error, 1)
	var rec recorder
	rec.onUp = func(c *Conn) {
		c.SetData("state")
		if !c.IsOpen() || c.Data() != "state" {
			t.Errorf("IsOpen %v Data %v in OnUpgrade", c.IsOpen(), c.Data())
		}
	}
	cl := newTestClient(t, srv.target("/echo"), &failHandler{recorder: &rec, sendAfterClose: sendAfterClose}, nil)
	conns := cl.Connect(context.Background(), 1, ConnectOptions{})
	if len(conns) != 1 {
		t.Fatalf("no connection: %s", cl.Stats().FirstError())
	}
	if err := conns[0].AsyncDo(func(c *Conn) { c.Fail(KindMismatch, errTest) }); err != nil {
		t.Fatal(err)
	}
	if err := recvTimeout(t, sendAfterClose); !errors.Is(err, ErrConnClosed) {
		t.Errorf("Send in OnClose = %v, want ErrConnClosed", err)
	}
	if n := cl.Stats().errs[KindMismatch].Load(); n != 1 {
		t.Errorf("mismatch errors = %d, want 1", n)
	}
	if !errors.Is(rec.closes[0], errTest) {
		t.Errorf("OnClose err = %v, want the Fail error", rec.closes[0])
	}
}

// failHandler records events and tries a Send from OnClose.
type failHandler struct {
	*recorder
	sendAfterClose chan error
}

func (h *failHandler) OnClose(c *Conn, err error) {
	h.recorder.OnClose(c, err)
	h.sendAfterClose <- c.Send(codec.OpText, []byte("late"))
}

func TestClientConfigValidation(t *testing.T) {
	good := Target{Addr: "127.0.0.1:1", Host: "127.0.0.1:1", Path: "/"}
	cases := []struct {
		name string
		cfg  ClientConfig
		err  error
	}{
		{"remote target", ClientConfig{Target: Target{Addr: "10.0.0.1:80"}}, ErrNotLoopback},
		{"remote source", ClientConfig{Target: good, Sources: []netip.Addr{netip.MustParseAddr("192.168.1.1")}}, ErrNotLoopback},
		{"too many loops", ClientConfig{Target: good, Loops: 65}, ErrBadConfig},
		{"negative frame", ClientConfig{Target: good, MaxFrame: -1}, ErrBadConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewClient(c.cfg); !errors.Is(err, c.err) {
				t.Fatalf("NewClient err = %v, want %v", err, c.err)
			}
		})
	}
}

func TestConnectAfterClose(t *testing.T) {
	cl := newTestClient(t, Target{Addr: "127.0.0.1:1", Host: "x", Path: "/"}, nil, nil)
	_ = cl.Close()
	if conns := cl.Connect(context.Background(), 5, ConnectOptions{}); len(conns) != 0 || cl.Stats().Errors() != 0 {
		t.Fatalf("Connect after Close: %d conns, %d errors; want none", len(conns), cl.Stats().Errors())
	}
}

func TestConnectPacedAndCancelled(t *testing.T) {
	srv := startFake(t, nil, map[string]func(*fakeConn){"/echo": func(c *fakeConn) { c.accept101(""); c.echo() }})
	cl := newTestClient(t, srv.target("/echo"), nil, nil)
	start := time.Now()
	conns := cl.Connect(context.Background(), 5, ConnectOptions{Concurrency: 2, Rate: 50})
	if len(conns) != 5 || time.Since(start) < 70*time.Millisecond {
		t.Fatalf("%d conns in %v; want 5 paced over at least 80 ms", len(conns), time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	conns = cl.Connect(ctx, 100, ConnectOptions{Concurrency: 2, Rate: 10})
	if len(conns) > 2 || cl.Stats().Errors() != 0 {
		t.Fatalf("cancelled Connect gave %d conns and %d errors; want at most 2 and none", len(conns), cl.Stats().Errors())
	}
}
