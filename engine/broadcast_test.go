package engine_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/deflate"
	"github.com/bellhop/bellhop/codec/handshake"
	"github.com/bellhop/bellhop/engine"
)

// Broadcast tests: the echo endpoint's 'B' messages, Server.Publish from
// other goroutines, and shared Message values, with plain and
// permessage-deflate clients on several loops.

// recorder is a Handler for tests that need the *engine.Conn values. It
// subscribes each connection to the comma-separated topics of its "topics"
// query parameter, hands the connection to the test on open and records the
// close codes it is told about. Text messages "sub:X" and "unsub:X" change
// subscriptions and are answered with "ok:sub:X" or "ok:unsub:X"; other
// messages are echoed. Its channels are buffered so the loop never blocks.
type recorder struct {
	opened chan *engine.Conn
	closed chan codec.StatusCode
}

func newRecorder() *recorder {
	return &recorder{opened: make(chan *engine.Conn, 256), closed: make(chan codec.StatusCode, 256)}
}

func (r *recorder) OnOpen(c *engine.Conn, req *handshake.Request) {
	for topic := range strings.SplitSeq(req.QueryValue("topics"), ",") {
		if topic != "" {
			c.Subscribe(topic)
		}
	}
	r.opened <- c
}

func (r *recorder) OnMessage(c *engine.Conn, op codec.OpCode, data []byte) {
	cmd, topic, _ := strings.Cut(string(data), ":")
	switch {
	case op == codec.OpText && cmd == "sub":
		c.Subscribe(topic)
	case op == codec.OpText && cmd == "unsub":
		c.Unsubscribe(topic)
	default:
		c.Send(op, data)
		return
	}
	c.Send(codec.OpText, []byte("ok:"+string(data)))
}

func (r *recorder) OnClose(_ *engine.Conn, code codec.StatusCode) { r.closed <- code }

// startRecorder starts a server with a recorder on /t.
func startRecorder(t testing.TB, cfg engine.Config) (*engine.Server, *recorder) {
	t.Helper()
	rec := newRecorder()
	cfg.Routes = map[string]engine.Handler{"/t": rec}
	return startServer(t, cfg), rec
}

// connectRecorded upgrades on /t subscribed to topics (comma-separated) and
// returns the client with the server's side of the connection.
func connectRecorded(t testing.TB, srv *engine.Server, rec *recorder, topics string, extra ...string) (*client, *engine.Conn) {
	t.Helper()
	c := dial(t, srv, false)
	if resp := c.handshake(upgradeRequest("/t?topics="+topics, extra...)); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: status %d", resp.StatusCode)
	}
	select {
	case conn := <-rec.opened:
		return c, conn
	case <-time.After(5 * time.Second):
		t.Fatal("handler OnOpen not called")
		return nil, nil
	}
}

// awaitCode returns the next close code the recorder was told about.
func (r *recorder) awaitCode(t testing.TB) codec.StatusCode {
	t.Helper()
	select {
	case code := <-r.closed:
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("handler OnClose not called")
		return 0
	}
}

// expectText reads one frame and checks it is the text message want.
func expectText(t testing.TB, c *client, want string) {
	t.Helper()
	f := c.mustRead()
	if f.OpCode != codec.OpText || string(f.Payload) != want {
		t.Fatalf("got op %d %q, want text %q", f.OpCode, f.Payload, want)
	}
}

func TestBroadcastReachesEveryOtherClientOnce(t *testing.T) {
	t.Parallel()
	const clients, perSender = 20, 10
	srv := startServer(t, engine.Config{Loops: 2})
	cs := make([]*client, clients)
	for i := range cs {
		cs[i] = connect(t, srv, false)
	}
	if loops := metric(t, srv, "bellhop_event_loops"); loops != 2 {
		t.Fatalf("%v event loops serve the clients, want 2", loops)
	}
	results := make(chan error, clients)
	for i, c := range cs {
		go func() { results <- readEchoBroadcasts(c, i, clients, perSender) }()
	}
	for seq := range perSender {
		for i, c := range cs {
			c.send(true, 0, codec.OpText, fmt.Appendf(nil, "B%02d:%04d", i, seq))
		}
	}
	for range cs {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	// Nothing else is queued: the next frame each client reads is its echo.
	for _, c := range cs {
		c.echoes(codec.OpText, []byte("after the broadcasts"))
	}
}

// readEchoBroadcasts reads the (clients-1)*perSender broadcasts of
// TestBroadcastReachesEveryOtherClientOnce for client self and checks none
// is its own, none is missing or repeated and each sender's are in order.
func readEchoBroadcasts(c *client, self, clients, perSender int) error {
	next := make([]int, clients)
	for n := range (clients - 1) * perSender {
		f, err := c.read()
		if err != nil {
			return fmt.Errorf("client %d, message %d: %w", self, n, err)
		}
		var from, seq int
		if _, err := fmt.Sscanf(string(f.Payload), "B%02d:%04d", &from, &seq); err != nil ||
			f.OpCode != codec.OpText || !f.Fin || f.Rsv != 0 || len(f.Payload) != 8 {
			return fmt.Errorf("client %d: unexpected frame %+v %q", self, f.Header, f.Payload)
		}
		if from == self || from >= clients || seq != next[from] {
			return fmt.Errorf("client %d: got %q, want sender %d's message %d", self, f.Payload, from, next[from])
		}
		next[from]++
	}
	return nil
}

// connectDeflate upgrades on /echo offering permessage-deflate and checks
// the server accepted it.
func connectDeflate(t testing.TB, srv *engine.Server) *client {
	t.Helper()
	c := dial(t, srv, false)
	resp := c.handshake(upgradeRequest("/echo", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("upgrade: status %d, extensions %q", resp.StatusCode, ext)
	}
	return c
}

// compressible returns n bytes of hotel-like JSON text starting with 'B'.
func compressible(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `B{"type":"ROOM_STATUS_UPDATE","room":"%d","status":"clean"}`, 100+i)
	}
	return b.Bytes()[:n]
}

func TestBroadcastDeflateAndPlainMixed(t *testing.T) {
	t.Parallel()
	srv := startServer(t, engine.Config{Deflate: true, Loops: 2})
	type peer struct {
		c       *client
		deflate bool
	}
	var peers []peer
	for i := range 6 {
		if i%2 == 0 {
			peers = append(peers, peer{connectDeflate(t, srv), true})
		} else {
			peers = append(peers, peer{connect(t, srv, false), false})
		}
	}
	inflater := deflate.NewDecompressor()
	cases := []struct {
		name       string
		from       int
		payload    []byte
		compressed bool // the sender sends it with RSV1
	}{
		{"large_from_deflate_compressed", 0, compressible(4096), true},
		{"large_from_deflate_plain", 2, compressible(512), false},
		{"large_from_plain", 1, compressible(20000), false},
		{"small_from_plain", 3, compressible(100), false},
		{"small_from_deflate_compressed", 4, compressible(511), true},
	}
	for _, tc := range cases {
		t.Run("msg="+tc.name, func(t *testing.T) {
			sender := peers[tc.from].c
			if tc.compressed {
				sender.send(true, codec.Rsv1, codec.OpText, deflate.NewCompressor().Append(nil, tc.payload))
			} else {
				sender.send(true, 0, codec.OpText, tc.payload)
			}
			for i, p := range peers {
				if i == tc.from {
					continue
				}
				f := p.c.mustRead()
				got := f.Payload
				wantRsv := byte(0)
				if p.deflate && len(tc.payload) >= engine.DefaultCompressThreshold {
					wantRsv = codec.Rsv1
				}
				if f.Rsv != wantRsv {
					t.Fatalf("peer %d (deflate %v): rsv %#x, want %#x", i, p.deflate, f.Rsv, wantRsv)
				}
				if f.Rsv == codec.Rsv1 {
					var err error
					if got, err = inflater.Append(nil, f.Payload, 0); err != nil {
						t.Fatalf("peer %d: inflate: %v", i, err)
					}
				}
				if f.OpCode != codec.OpText || !bytes.Equal(got, tc.payload) {
					t.Fatalf("peer %d (deflate %v): op %d, %d bytes differ from the %d sent", i, p.deflate, f.OpCode, len(got), len(tc.payload))
				}
			}
		})
	}
	for _, p := range peers { // the senders did not get their own messages
		p.c.echoes(codec.OpText, []byte("done"))
	}
}

func TestPublishFromGoroutines(t *testing.T) {
	t.Parallel()
	const publishers, each = 4, 50
	srv, rec := startRecorder(t, engine.Config{Loops: 2})
	onlyA, _ := connectRecorded(t, srv, rec, "a,all")
	both, bothConn := connectRecorded(t, srv, rec, "a,b,all")
	onlyB, _ := connectRecorded(t, srv, rec, "b,all")
	none, _ := connectRecorded(t, srv, rec, "all")

	if err := srv.Publish("nobody", srv.NewMessage(codec.OpText, []byte("lost")), nil); err != nil {
		t.Fatalf("Publish to a topic without subscribers: %v", err)
	}
	errs := make(chan error, publishers)
	for g := range publishers {
		go func() {
			for i := range each {
				for _, topic := range []string{"a", "b"} {
					if err := srv.Publish(topic, srv.NewMessage(codec.OpText, fmt.Appendf(nil, "%s:%d:%04d", topic, g, i)), nil); err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range publishers {
		if err := <-errs; err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	readTopics(t, onlyA, publishers, each, "a")
	readTopics(t, both, publishers, each, "a", "b")
	readTopics(t, onlyB, publishers, each, "b")

	// exclude skips one connection; the marker on "all" published after it
	// is then the next thing every client reads.
	publishText(t, srv, "a", "not for both", bothConn)
	publishText(t, srv, "all", "marker", nil)
	expectText(t, onlyA, "not for both")
	expectText(t, onlyA, "marker")
	expectText(t, both, "marker")
	expectText(t, onlyB, "marker")
	expectText(t, none, "marker")

	// After unsub the connection gets nothing more on that topic.
	onlyA.send(true, 0, codec.OpText, []byte("unsub:a"))
	expectText(t, onlyA, "ok:unsub:a")
	publishText(t, srv, "a", "after unsub", nil)
	publishText(t, srv, "all", "marker 2", nil)
	expectText(t, onlyA, "marker 2")
	expectText(t, both, "after unsub")
	expectText(t, both, "marker 2")
}

// publishText publishes one text message from the test goroutine.
func publishText(t testing.TB, srv *engine.Server, topic, text string, exclude *engine.Conn) {
	t.Helper()
	if err := srv.Publish(topic, srv.NewMessage(codec.OpText, []byte(text)), exclude); err != nil {
		t.Fatalf("Publish(%q): %v", topic, err)
	}
}

// readTopics reads every message of TestPublishFromGoroutines published to
// topics and checks each publisher's messages per topic arrive once, in
// order.
func readTopics(t testing.TB, c *client, publishers, each int, topics ...string) {
	t.Helper()
	next := map[string]int{}
	for range publishers * each * len(topics) {
		f := c.mustRead()
		var topic string
		var g, i int
		parts := strings.Split(string(f.Payload), ":")
		if len(parts) == 3 {
			topic = parts[0]
			_, _ = fmt.Sscanf(parts[1]+" "+parts[2], "%d %d", &g, &i)
		}
		key := fmt.Sprintf("%s:%d", topic, g)
		if !strings.Contains(strings.Join(topics, ","), topic) || topic == "" || next[key] != i {
			t.Fatalf("subscribed to %v: got %q, want message %d of %s", topics, f.Payload, next[key], key)
		}
		next[key]++
	}
}

func TestNewMessageFrames(t *testing.T) {
	t.Parallel()
	inflater := deflate.NewDecompressor()
	for _, on := range []bool{false, true} {
		srv, err := engine.New(engine.Config{Deflate: on, Routes: map[string]engine.Handler{"/t": newRecorder()}})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 125, 511, 512, 70000} {
			t.Run(fmt.Sprintf("deflate=%v/size=%d", on, n), func(t *testing.T) {
				payload := compressible(n)
				m := srv.NewMessage(codec.OpText, payload)
				defer m.Release()
				plain := m.Frame(false)
				h, hn, err := codec.ParseHeader(plain)
				if err != nil || !h.Fin || h.OpCode != codec.OpText || h.Rsv != 0 || !bytes.Equal(plain[hn:], payload) {
					t.Fatalf("plain frame: header %+v, err %v", h, err)
				}
				if m.Len() != len(plain) {
					t.Fatalf("Len %d, want %d", m.Len(), len(plain))
				}
				compressed := m.Frame(true)
				if !on || n < engine.DefaultCompressThreshold {
					if !bytes.Equal(compressed, plain) {
						t.Fatal("Frame(true) differs from the plain frame for a message not worth compressing")
					}
					return
				}
				h, hn, err = codec.ParseHeader(compressed)
				if err != nil || h.Rsv != codec.Rsv1 || int(h.Length) != len(compressed)-hn || len(compressed) >= len(plain) {
					t.Fatalf("compressed frame: header %+v (%d bytes, plain %d), err %v", h, len(compressed), len(plain), err)
				}
				got, err := inflater.Append(nil, compressed[hn:], 0)
				if err != nil || !bytes.Equal(got, payload) {
					t.Fatalf("inflated frame: %d bytes, err %v", len(got), err)
				}
			})
		}
	}
}
