package engine_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
	"github.com/bellhop/bellhop/engine"
)

// Benchmarks of the hot paths through the public API: fan-out to many
// subscribers on real loopback sockets, an echo round trip, and encoding a
// shared Message.
//
// BenchmarkFanOut holds N subscribers, that is 2N sockets. With an
// open-files limit of 20000 per process, 10000 subscribers do not fit in one
// process, so the client side runs in a child process (this test binary
// re-executed as TestFanOutDrainHelper) that upgrades the connections and
// discards what it reads.

// fanOutTopic is the topic every fan-out subscriber is on.
const fanOutTopic = "fanout"

// subscriber is a Handler that puts every connection on one topic and counts
// the subscriptions, so a benchmark knows when all are in place.
type subscriber struct {
	topic string
	count atomic.Int64
}

func (s *subscriber) OnOpen(c *engine.Conn, _ *handshake.Request) {
	c.Subscribe(s.topic)
	s.count.Add(1)
}
func (s *subscriber) OnMessage(*engine.Conn, codec.OpCode, []byte) {}
func (s *subscriber) OnClose(*engine.Conn, codec.StatusCode)       {}

// framesSent returns srv's counter of frames written, which a loop advances
// once per flush: when it reaches a target, the loops have written every
// delivery up to it.
func framesSent(srv *engine.Server) *metrics.Counter {
	return srv.Metrics().GetOrCreateCounter("bellhop_frames_sent_total")
}

// awaitFrames waits until c reaches target, yielding the CPU meanwhile.
func awaitFrames(b *testing.B, c *metrics.Counter, target uint64) {
	deadline := time.Now().Add(30 * time.Second)
	for c.Get() < target {
		if time.Now().After(deadline) {
			b.Fatalf("frames sent stuck at %d, want %d", c.Get(), target)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("subscribers="+strconv.Itoa(n), func(b *testing.B) { benchFanOut(b, n) })
	}
}

// benchFanOut publishes one 256-byte message per iteration to n subscribers,
// keeping at most window publishes in flight, and waits for every delivery
// before the timer stops.
func benchFanOut(b *testing.B, n int) {
	const window = 8
	sub := &subscriber{topic: fanOutTopic}
	srv := startServer(b, engine.Config{
		Loops:          2,
		MaxConnections: 2 * n,
		MaxOutbound:    64 << 20, // the drains keep up; never cut one mid-run
		IdleTimeout:    time.Hour,
		PingInterval:   -1,
		Routes:         map[string]engine.Handler{"/sub": sub},
	})
	startDrains(b, srv.Addr().String(), n)
	waitFor(b, time.Minute, func() bool { return sub.count.Load() == int64(n) })
	payload := bytes.Repeat([]byte{'x'}, 256)
	frames := framesSent(srv)
	base := frames.Get()
	publish := func() {
		if err := srv.Publish(fanOutTopic, srv.NewMessage(codec.OpText, payload), nil); err != nil {
			b.Fatal(err)
		}
	}
	publish() // warm the loops' buffers
	base += uint64(n)
	awaitFrames(b, frames, base)

	b.ReportAllocs()
	b.SetBytes(int64(len(payload) * n)) // bytes delivered per publish
	var i uint64
	for b.Loop() {
		publish()
		i++
		if i > window {
			awaitFrames(b, frames, base+(i-window)*uint64(n))
		}
	}
	b.StartTimer() // b.Loop stopped the timer; the deliveries in flight belong to the measurement
	awaitFrames(b, frames, base+i*uint64(n))
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*uint64(n)), "ns/delivery")
	if got := srv.Connections(); got != n {
		b.Fatalf("%d subscribers left of %d", got, n)
	}
}

// startDrains starts the child process holding n upgraded connections to
// addr, and waits until it reports them all upgraded. The child is killed
// when the benchmark ends.
func startDrains(b *testing.B, addr string, n int) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFanOutDrainHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BELLHOP_DRAIN_ADDR="+addr, "BELLHOP_DRAIN_CONNS="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("drain process: %q, %v", line, err)
	}
}

// TestFanOutDrainHelper is the client side of BenchmarkFanOut when this test
// binary runs as its child; otherwise it does nothing. It upgrades
// BELLHOP_DRAIN_CONNS connections to /sub at BELLHOP_DRAIN_ADDR, prints
// "ready", and discards everything it reads until it is killed.
func TestFanOutDrainHelper(t *testing.T) {
	addr := os.Getenv("BELLHOP_DRAIN_ADDR")
	if addr == "" {
		return
	}
	n, err := strconv.Atoi(os.Getenv("BELLHOP_DRAIN_CONNS"))
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 64) // bounded dialing
	for range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			c, err := upgradeRaw(addr, "/sub")
			if err != nil {
				errs <- err
				return
			}
			conns <- c
		}()
	}
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case c := <-conns:
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}
	fmt.Println("ready")
	select {} // until the parent kills this process
}

// upgradeRaw dials addr and upgrades on path, reading the 101 response head.
func upgradeRaw(addr, path string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, upgradeRequest(path)); err != nil {
		return nil, err
	}
	head := make([]byte, 0, 256)
	var b [1]byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) { // byte by byte: nothing after the head is consumed
		if _, err := c.Read(b[:]); err != nil {
			return nil, fmt.Errorf("reading upgrade response: %w", err)
		}
		head = append(head, b[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) {
		return nil, fmt.Errorf("upgrade refused: %q", head)
	}
	return c, nil
}

func BenchmarkEchoRoundTrip(b *testing.B) {
	const size = 128
	for _, useTLS := range []bool{false, true} {
		b.Run(fmt.Sprintf("tls=%v/size=%d", useTLS, size), func(b *testing.B) {
			srv := startServer(b, withTLS(b, engine.Config{Loops: 1, IdleTimeout: time.Hour, PingInterval: -1}, useTLS))
			c := connect(b, srv, useTLS)
			_ = c.conn.SetDeadline(time.Time{})
			payload := bytes.Repeat([]byte{'e'}, size)
			req := codec.AppendClientFrame(nil, codec.Header{Fin: true, OpCode: codec.OpBinary, Mask: [4]byte{1, 2, 3, 4}}, payload)
			want := codec.AppendFrame(nil, codec.OpBinary, payload, false)
			resp := make([]byte, len(want))
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				if _, err := c.conn.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c.r, resp); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Equal(resp, want) {
				b.Fatalf("echo %q, want %q", resp, want)
			}
		})
	}
}

func BenchmarkNewMessage(b *testing.B) {
	for _, compress := range []bool{false, true} {
		srv, err := engine.New(engine.Config{Deflate: compress, Routes: map[string]engine.Handler{"/t": &subscriber{}}})
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{256, 4096} {
			b.Run(fmt.Sprintf("deflate=%v/size=%d", compress, size), func(b *testing.B) {
				payload := compressible(size)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					srv.NewMessage(codec.OpText, payload).Release()
				}
			})
		}
	}
}

// TestPublishAllocsIndependentOfSubscribers checks that a broadcast
// allocates nothing per subscriber: a round of broadcasts, delivered to every
// subscriber, allocates as much for 10 subscribers as for 200. A round is
// burst 'B' messages sent to the echo endpoint in one write, so they are
// published in one loop turn and every subscriber gets burst frames in one
// flush. It does not run in parallel: AllocsPerRun counts the whole process.
func TestPublishAllocsIndependentOfSubscribers(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 420 sockets")
	}
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items)")
	}
	bursts := []int{1, 8, 16}
	few, many := broadcastAllocs(t, 10, bursts), broadcastAllocs(t, 200, bursts)
	for i, burst := range bursts {
		t.Run("burst="+strconv.Itoa(burst), func(t *testing.T) {
			t.Logf("allocations per round: %v for 10 subscribers, %v for 200", few[i], many[i])
			if many[i] > few[i]+2 {
				t.Fatalf("allocations grow with subscribers: %.1f for 200, %.1f for 10", many[i], few[i])
			}
		})
	}
}

// broadcastAllocs returns, for each burst, the allocations of one round of
// burst broadcasts to n subscribers on loopback sockets, waiting until every
// delivery is written. One loop serves everyone, so every subscriber's
// OnOpen has run before the sender's first message is read.
func broadcastAllocs(t *testing.T, n int, bursts []int) []float64 {
	srv := startServer(t, engine.Config{Loops: 1, PingInterval: -1})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() { _ = srv.Close() }() // ends the drains before wg.Wait
	for range n {
		c, err := upgradeRaw(srv.Addr().String(), "/echo")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
	}
	sender := connect(t, srv, false)
	_ = sender.conn.SetDeadline(time.Time{})
	frames := framesSent(srv)
	var allocs []float64
	for _, burst := range bursts {
		var msgs []byte
		for range burst {
			msgs = codec.AppendClientFrame(msgs, codec.Header{Fin: true, OpCode: codec.OpText, Mask: [4]byte{9, 8, 7, 6}},
				append([]byte{'B'}, bytes.Repeat([]byte{'a'}, 255)...))
		}
		round := func() {
			target := frames.Get() + uint64(n*burst)
			if _, err := sender.conn.Write(msgs); err != nil {
				t.Fatal(err)
			}
			for frames.Get() < target {
				time.Sleep(20 * time.Microsecond)
			}
		}
		for range 20 {
			round() // warm pools and buffers
		}
		allocs = append(allocs, testing.AllocsPerRun(100, round))
	}
	return allocs
}
