package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// Lifecycle tests: graceful shutdown, timers (idle, ping, handshake, close)
// and admission (MaxConnections, slow consumers), all on real loopback
// sockets. Timer tests run with a 50 ms tick and in parallel, so the package
// stays fast; they poll with waitFor (conformance_helpers_test.go) and
// measure elapsed time with generous upper bounds, because -race on two
// cores is slow.

// fastTick is the TickInterval of timer tests: the coarse clock and the
// sweeps advance every 50 ms, so timeouts fire within one tick.
const fastTick = 50 * time.Millisecond

// metric returns the value of one sample of srv's metrics, 0 when it is
// absent. name includes the labels, as in
// `bellhop_connections_closed_total{reason="peer"}`. It reads the text
// exposition rather than GetOrCreate, which would register lazily made
// counters before the engine does.
func metric(t testing.TB, srv *engine.Server, name string) float64 {
	t.Helper()
	var b bytes.Buffer
	srv.Metrics().WritePrometheus(&b)
	for line := range strings.SplitSeq(b.String(), "\n") {
		v, ok := strings.CutPrefix(line, name+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("metric %s: %v", name, err)
		}
		return f
	}
	return 0
}

// closedFor names the closed-connections counter for one reason label.
func closedFor(reason string) string {
	return `bellhop_connections_closed_total{reason="` + reason + `"}`
}

// awaitClose reads frames until a close frame, skipping data and pings, and
// returns its code and reason.
func awaitClose(t testing.TB, c *client) (codec.StatusCode, string) {
	t.Helper()
	for {
		f := c.mustRead()
		if f.OpCode != codec.OpClose {
			continue
		}
		code, reason, err := codec.ParseClose(f.Payload)
		if err != nil {
			t.Fatalf("bad close payload %q: %v", f.Payload, err)
		}
		return code, string(reason)
	}
}

// answerClose sends the client's half of the closing handshake.
func answerClose(c *client, code codec.StatusCode) {
	c.t.Helper()
	c.send(true, 0, codec.OpClose, codec.AppendClosePayload(nil, code, ""))
}

// shutdownAsync runs srv.Shutdown with a deadline of timeout in its own
// goroutine and delivers the result on the returned channel.
func shutdownAsync(srv *engine.Server, timeout time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	return done
}

// awaitShutdown waits for the result of shutdownAsync, failing the test if it
// takes longer than within.
func awaitShutdown(t testing.TB, done <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("Shutdown still running after %s", within)
		return nil
	}
}

// tlsCases runs the same test over ws and wss.
var tlsCases = []struct {
	name   string
	useTLS bool
}{{"tls=false", false}, {"tls=true", true}}

// withTLS returns cfg serving wss when useTLS is set.
func withTLS(t testing.TB, cfg engine.Config, useTLS bool) engine.Config {
	if useTLS {
		cfg.TLS = serverTLS(t)
	}
	return cfg
}

func TestShutdownGoingAway(t *testing.T) {
	t.Parallel()
	for _, tc := range tlsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, withTLS(t, engine.Config{CloseTimeout: time.Minute}, tc.useTLS))
			clients := make([]*client, 4)
			for i := range clients {
				clients[i] = connect(t, srv, tc.useTLS)
				clients[i].echoes(codec.OpText, []byte("before shutdown"))
			}
			start := time.Now()
			done := shutdownAsync(srv, time.Minute)
			for _, c := range clients {
				if code, _ := awaitClose(t, c); code != codec.CloseGoingAway {
					t.Fatalf("close code %d, want %d", code, codec.CloseGoingAway)
				}
				answerClose(c, codec.CloseGoingAway)
				c.expectEOF()
			}
			if err := awaitShutdown(t, done, 10*time.Second); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			// The deadline was a minute away: Shutdown returned because
			// every client answered, not because time ran out.
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("Shutdown took %s after every client answered", took)
			}
			if n := srv.Connections(); n != 0 || !srv.Draining() {
				t.Fatalf("after Shutdown: %d connections, draining %v", n, srv.Draining())
			}
			if got := metric(t, srv, closedFor("shutdown")); got != 4 {
				t.Fatalf("closed by shutdown: %v, want 4", got)
			}
			if conn, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
				_ = conn.Close()
				t.Fatal("server still accepts connections after Shutdown")
			}
		})
	}
}

func TestShutdownCutsSilentClientAtDeadline(t *testing.T) {
	t.Parallel()
	const deadline = 600 * time.Millisecond
	srv := startServer(t, engine.Config{CloseTimeout: time.Minute, TickInterval: fastTick})
	polite := connect(t, srv, false)
	silent := connect(t, srv, false)
	start := time.Now()
	done := shutdownAsync(srv, deadline)
	if code, _ := awaitClose(t, polite); code != codec.CloseGoingAway {
		t.Fatalf("polite client: close code %d, want 1001", code)
	}
	answerClose(polite, codec.CloseGoingAway)
	polite.expectEOF()
	if code, _ := awaitClose(t, silent); code != codec.CloseGoingAway {
		t.Fatalf("silent client: close code %d, want 1001", code)
	}
	silent.expectEOF() // cut by the deadline; CloseTimeout is a minute
	err := awaitShutdown(t, done, 10*time.Second)
	took := time.Since(start)
	t.Logf("Shutdown returned %v after %s", err, took)
	if took < deadline-fastTick {
		t.Fatalf("Shutdown returned after %s, before its deadline of %s with a client still open", took, deadline)
	}
	if srv.Connections() != 0 {
		t.Fatalf("%d connections left after Shutdown", srv.Connections())
	}
}

func TestShutdownRefusesNewConnections(t *testing.T) {
	t.Parallel()
	for _, tc := range tlsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, withTLS(t, engine.Config{CloseTimeout: time.Minute}, tc.useTLS))
			holder := connect(t, srv, tc.useTLS) // keeps the drain going until it answers
			done := shutdownAsync(srv, time.Minute)
			if code, _ := awaitClose(t, holder); code != codec.CloseGoingAway {
				t.Fatalf("close code %d, want 1001", code)
			}
			if !srv.Draining() {
				t.Fatal("Draining() is false during Shutdown")
			}
			late := dial(t, srv, tc.useTLS)
			if resp := late.handshake(upgradeRequest("/echo")); resp.StatusCode != 503 {
				t.Fatalf("upgrade during drain: status %d, want 503", resp.StatusCode)
			}
			late.expectEOF()
			answerClose(holder, codec.CloseGoingAway)
			holder.expectEOF()
			if err := awaitShutdown(t, done, 10*time.Second); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		})
	}
}

func TestShutdownNotStarted(t *testing.T) {
	t.Parallel()
	srv, err := engine.New(engine.Config{Routes: map[string]engine.Handler{"/echo": engine.NewEcho("/echo")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); !errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("Shutdown before Start: %v, want ErrNotStarted", err)
	}
	if err := srv.Close(); !errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("Close before Start: %v, want ErrNotStarted", err)
	}
}

func TestCloseAfterShutdownReturns(t *testing.T) {
	t.Parallel()
	srv := startServer(t, engine.Config{})
	if err := awaitShutdown(t, shutdownAsync(srv, 5*time.Second), 10*time.Second); err != nil {
		t.Fatalf("Shutdown with no clients: %v", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err == nil {
			t.Fatal("Close after Shutdown reported success for a stopped server")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close after Shutdown hangs")
	}
}

func TestConcurrentCloseAndShutdownReturn(t *testing.T) {
	t.Parallel()
	srv := startServer(t, engine.Config{})
	errs := make(chan error, 2)
	go func() { errs <- srv.Close() }()
	go func() { errs <- srv.Shutdown(context.Background()) }()
	for range 2 {
		select {
		case <-errs:
		case <-time.After(10 * time.Second):
			t.Fatal("Close and Shutdown called together: one of them never returns")
		}
	}
}

// closeSeen is what a reading goroutine saw of a server close.
type closeSeen struct {
	code   codec.StatusCode
	reason string
	at     time.Time
	err    error // a read error before any close frame
}

// readUntilClose reads frames, skipping data frames and pings, until the
// server's close frame. It runs in its own goroutine, so it reports instead
// of failing the test.
func readUntilClose(c *client) closeSeen {
	for {
		f, err := c.read()
		if err != nil {
			return closeSeen{err: err, at: time.Now()}
		}
		if f.OpCode == codec.OpClose {
			code, reason, err := codec.ParseClose(f.Payload)
			return closeSeen{code: code, reason: string(reason), at: time.Now(), err: err}
		}
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = time.Second
	srv := startServer(t, engine.Config{IdleTimeout: idle, PingInterval: -1, TickInterval: fastTick})
	silent := connect(t, srv, false)
	start := time.Now()
	active := connect(t, srv, false)
	silentClosed := make(chan closeSeen, 1)
	go func() { silentClosed <- readUntilClose(silent) }()

	// Traffic defers the timeout: active echoes every tenth of the timeout
	// until silent is closed and 1.5 timeouts have passed.
	var seen *closeSeen
	var last time.Time // when active's last message was echoed
	for seen == nil || time.Since(start) < idle*3/2 {
		active.echoes(codec.OpText, []byte("still here"))
		last = time.Now()
		select {
		case s := <-silentClosed:
			seen = &s
		default:
		}
		if time.Since(start) > idle+5*time.Second {
			t.Fatal("silent client not closed")
		}
		time.Sleep(idle / 10)
	}
	took := seen.at.Sub(start)
	if seen.err != nil || seen.code != codec.CloseGoingAway || seen.reason != "idle timeout" {
		t.Fatalf("silent client: %+v, want close 1001 \"idle timeout\"", *seen)
	}
	if took < idle-2*fastTick || took > idle+5*time.Second {
		t.Fatalf("silent client closed after %s, want about %s", took, idle)
	}
	silent.expectEOF()
	if code, _ := awaitClose(t, active); code != codec.CloseGoingAway {
		t.Fatalf("active client: close code %d, want 1001", code)
	}
	if quiet := time.Since(last); quiet < idle-2*fastTick {
		t.Fatalf("active client closed %s after its last message, want at least %s", quiet, idle)
	}
	waitFor(t, 5*time.Second, func() bool { return metric(t, srv, closedFor("idle_timeout")) == 2 })
}

// answerPings reads frames in its own goroutine, answering pings with
// pongs, until the text message "alive" comes back; it reports the number
// of pings seen or what went wrong.
func answerPings(c *client, pings *atomic.Int64) error {
	for {
		f, err := c.read()
		if err != nil {
			return fmt.Errorf("after %d pings: %w", pings.Load(), err)
		}
		switch {
		case f.OpCode == codec.OpPing:
			pings.Add(1)
			pong := codec.AppendClientFrame(nil, codec.Header{Fin: true, OpCode: codec.OpPong, Mask: [4]byte{1, 2, 3, 4}}, f.Payload)
			if _, err := c.conn.Write(pong); err != nil {
				return err
			}
		case f.OpCode == codec.OpText && string(f.Payload) == "alive":
			return nil
		default:
			return fmt.Errorf("after %d pings: unexpected frame op %d %q", pings.Load(), f.OpCode, f.Payload)
		}
	}
}

func TestPingKeepsClientAlive(t *testing.T) {
	t.Parallel()
	const idle = time.Second
	srv := startServer(t, engine.Config{IdleTimeout: idle, PingInterval: 300 * time.Millisecond, TickInterval: fastTick})
	answering := connect(t, srv, false)
	deaf := connect(t, srv, false) // reads pings but never answers
	start := time.Now()
	var pings atomic.Int64
	answered := make(chan error, 1)
	go func() { answered <- answerPings(answering, &pings) }()

	seen := readUntilClose(deaf)
	if took := seen.at.Sub(start); seen.err != nil || seen.code != codec.CloseGoingAway || took < idle-2*fastTick {
		t.Fatalf("deaf client: %+v after %s, want close 1001 after about %s", seen, took, idle)
	}
	// The answering client lives on through two idle timeouts, then still
	// echoes.
	time.Sleep(time.Until(start.Add(2 * idle)))
	answering.send(true, 0, codec.OpText, []byte("alive"))
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("answering client: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("answering client: no echo")
	}
	if pings.Load() == 0 {
		t.Fatal("answering client saw no ping")
	}
	if got := metric(t, srv, "bellhop_pings_sent_total"); got < float64(pings.Load()) {
		t.Fatalf("pings sent metric %v, want at least %d", got, pings.Load())
	}
	t.Logf("answering client saw %d pings in %s", pings.Load(), time.Since(start))
}

func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	cases := []struct {
		name      string
		serveTLS  bool // server speaks wss
		clientTLS bool // client completes the TLS handshake
		send      string
	}{
		{name: "nothing", send: ""},
		{name: "half_head", send: "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"},
		{name: "tls_no_client_hello", serveTLS: true, send: ""},
		{name: "tls_no_request", serveTLS: true, clientTLS: true, send: ""},
		{name: "tls_half_head", serveTLS: true, clientTLS: true, send: "GET /echo HTTP/1.1\r\n"},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := withTLS(t, engine.Config{HandshakeTimeout: timeout, TickInterval: fastTick}, tc.serveTLS)
			srv := startServer(t, cfg)
			upgraded := connect(t, srv, tc.serveTLS) // finished its handshake: unaffected
			start := time.Now()
			c := dial(t, srv, tc.clientTLS)
			if tc.send != "" {
				c.write([]byte(tc.send))
			}
			c.expectEOF()
			took := time.Since(start)
			if took < timeout-2*fastTick || took > timeout+3*time.Second {
				t.Fatalf("closed after %s, want about %s", took, timeout)
			}
			waitFor(t, 5*time.Second, func() bool { return metric(t, srv, closedFor("handshake_timeout")) == 1 })
			// upgraded is older than the connection that timed out.
			upgraded.echoes(codec.OpText, []byte("upgraded in time"))
		})
	}
}

func TestMaxConnections(t *testing.T) {
	t.Parallel()
	for _, tc := range tlsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, withTLS(t, engine.Config{MaxConnections: 3}, tc.useTLS))
			open := []*client{connect(t, srv, tc.useTLS), connect(t, srv, tc.useTLS), connect(t, srv, tc.useTLS)}
			extra := dial(t, srv, tc.useTLS)
			resp := extra.handshake(upgradeRequest("/echo"))
			if resp.StatusCode != 503 {
				t.Fatalf("4th connection: status %d, want 503", resp.StatusCode)
			}
			extra.expectEOF()
			for i, c := range open {
				c.echoes(codec.OpText, []byte("still served "+strconv.Itoa(i)))
			}
			answerClose(open[0], codec.CloseNormal)
			open[0].expectClose(codec.CloseNormal)
			waitFor(t, 5*time.Second, func() bool { return srv.Connections() == 2 })
			again := connect(t, srv, tc.useTLS)
			again.echoes(codec.OpBinary, []byte{1, 2, 3})
			if got := metric(t, srv, `bellhop_handshake_failures_total{status="503"}`); got != 1 {
				t.Fatalf("503 metric %v, want 1", got)
			}
			if got := metric(t, srv, closedFor("server_full")); got != 1 {
				t.Fatalf("server_full metric %v, want 1", got)
			}
		})
	}
}

func TestCloseTimeout(t *testing.T) {
	t.Parallel()
	const closeTimeout = 500 * time.Millisecond
	srv := startServer(t, engine.Config{CloseTimeout: closeTimeout, TickInterval: fastTick})
	c := connect(t, srv, false)
	done := shutdownAsync(srv, time.Minute)
	if code, _ := awaitClose(t, c); code != codec.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	sent := time.Now()
	c.expectEOF() // never answered
	took := time.Since(sent)
	if took < closeTimeout-2*fastTick || took > closeTimeout+3*time.Second {
		t.Fatalf("transport closed %s after the close frame, want about %s", took, closeTimeout)
	}
	if err := awaitShutdown(t, done, 10*time.Second); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, engine.Config{MaxOutbound: 64 << 10})
	slow := connect(t, srv, false) // never reads until it is cut
	reader := connect(t, srv, false)
	sender := connect(t, srv, false)
	var got atomic.Int64
	readErr := make(chan error, 1)
	go func() { readErr <- readBroadcasts(reader, &got) }()

	sent := sendUntilSlow(t, srv, sender, 4096)
	// The slow connection is gone; the others are not hurt and keep going.
	waitFor(t, 10*time.Second, func() bool { return srv.Connections() == 2 })
	for range 16 {
		sender.send(true, 0, codec.OpText, broadcastPayload(sent))
		sent++
	}
	waitFor(t, 10*time.Second, func() bool {
		select {
		case err := <-readErr:
			t.Fatalf("reader: %v", err)
		default:
		}
		return got.Load() == int64(sent)
	})
	sender.echoes(codec.OpText, []byte("sender unaffected"))
	slow.expectEOF() // it may first read what the kernel had buffered
	if n := metric(t, srv, closedFor("slow_consumer")); n != 1 {
		t.Fatalf("slow_consumer closes: %v, want 1", n)
	}
	if n := metric(t, srv, `bellhop_close_codes_total{code="4008"}`); n != 1 {
		t.Fatalf("close code 4008 counted %v times, want 1", n)
	}
	t.Logf("slow consumer detected after %d messages of %d bytes", sent-16, len(broadcastPayload(0)))
}

func TestSlowConsumerSeesCloseCode(t *testing.T) {
	srv := startServer(t, engine.Config{MaxOutbound: 64 << 10, CloseTimeout: 5 * time.Second})
	slow := connect(t, srv, false)
	sender := connect(t, srv, false)
	sendUntilSlow(t, srv, sender, 4096)
	// The client wakes up and reads everything it was sent: a client that
	// resumes reading within CloseTimeout must learn why it was cut.
	_ = slow.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var last codec.StatusCode
	for {
		f, err := slow.read()
		if err != nil {
			break
		}
		if f.OpCode == codec.OpClose {
			last, _, _ = codec.ParseClose(f.Payload)
		}
	}
	if last != engine.CloseSlowConsumer {
		t.Fatalf("slow consumer got close code %d, want %d", last, engine.CloseSlowConsumer)
	}
}

// broadcastPayload is the i-th text message of a slow-consumer test: 'B'
// (broadcast through the echo endpoint), its sequence number, then padding
// to 16 KiB.
func broadcastPayload(i int) []byte {
	p := fmt.Appendf(make([]byte, 0, 16<<10), "B%08d", i)
	return append(p, bytes.Repeat([]byte{'x'}, 16<<10-len(p))...)
}

// sendUntilSlow broadcasts from sender in batches until srv counts a slow
// consumer, and returns the number of messages sent. It fails after max.
func sendUntilSlow(t testing.TB, srv *engine.Server, sender *client, max int) int {
	t.Helper()
	sent := 0
	for metric(t, srv, "bellhop_slow_consumers_total") == 0 {
		if sent >= max {
			t.Fatalf("no slow consumer after %d messages of 16 KiB", sent)
		}
		for range 32 {
			sender.send(true, 0, codec.OpText, broadcastPayload(sent))
			sent++
		}
		time.Sleep(time.Millisecond) // let the loops write before counting again
	}
	return sent
}

// readBroadcasts reads the slow-consumer test's broadcasts in order,
// counting them in got, until the connection fails.
func readBroadcasts(c *client, got *atomic.Int64) error {
	for {
		f, err := c.read()
		if err != nil {
			return err
		}
		want := broadcastPayload(int(got.Load()))
		if f.OpCode != codec.OpText || !bytes.Equal(f.Payload, want) {
			return fmt.Errorf("message %d: op %d %.12q, want %.12q", got.Load(), f.OpCode, f.Payload, want)
		}
		got.Add(1)
	}
}
