package peers_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

const path = "/echo"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "peers-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	if err := buildServers(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// peer is one server under test: argv builds its command line, skip says
// why it cannot run here ("" when it can). dropsEmpty marks a library that
// never delivers a message with an empty payload to the application (nbio
// v1.6.8's parser only hands on messages with data), so there is nothing
// to echo; the benchmarks never send one.
type peer struct {
	name       string
	argv       func(addr string) []string
	skip       func() string
	dropsEmpty bool
}

// goPeer runs the Go server bin with extra flags; the sub-test name
// carries them as key=value.
func goPeer(bin string, extra ...string) peer {
	name := bin
	for i := 0; i+1 < len(extra); i += 2 {
		name += "/" + strings.TrimLeft(extra[i], "-") + "=" + extra[i+1]
	}
	return peer{
		name: name,
		argv: func(addr string) []string {
			return append([]string{filepath.Join(binDir, bin), "-addr", addr, "-path", path}, extra...)
		},
		skip: func() string { return "" },
	}
}

func withDropsEmpty(p peer) peer {
	p.dropsEmpty = true
	return p
}

var peers = []peer{
	goPeer("peer-gorilla"),
	goPeer("peer-gws"),
	withDropsEmpty(goPeer("peer-nbio")),
	withDropsEmpty(goPeer("peer-nbio", "-loops", "1")),
	{
		name: "peer-node",
		argv: func(addr string) []string {
			return []string{"node", filepath.Join("node", "server.mjs"), "--addr", addr, "--path", path}
		},
		skip: nodeSkip,
	},
}

// step is one message of the protocol script: client from sends it, and
// exactly the clients in to receive it, unchanged.
type step struct {
	name string
	from int
	kind int
	data []byte
	to   []int
}

var script = []step{
	{"text echoes", 0, websocket.TextMessage, []byte("hello"), []int{0}},
	{"binary echoes", 0, websocket.BinaryMessage, []byte{0, 0xff, 'x'}, []int{0}},
	{"empty text echoes", 2, websocket.TextMessage, []byte{}, []int{2}},
	{"large binary echoes", 1, websocket.BinaryMessage, bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16), []int{1}},
	{"binary B echoes", 1, websocket.BinaryMessage, []byte("Bbinary"), []int{1}},
	{"lowercase b echoes", 2, websocket.TextMessage, []byte("broadcast? no"), []int{2}},
	{"text B broadcasts to the others", 0, websocket.TextMessage, []byte("Bcast from 0"), []int{1, 2}},
	{"text B from another client", 2, websocket.TextMessage, []byte("B"), []int{0, 1}},
}

// start starts the peer on a free loopback port, or skips the test when
// the peer cannot run here.
func (p peer) start(t *testing.T) *server {
	t.Helper()
	if why := p.skip(); why != "" {
		t.Skip(why)
	}
	addr := freeAddr(t)
	return startServer(t, addr, p.argv(addr))
}

// TestPeers starts each server and runs the protocol script with three
// clients, then checks that nothing else arrived, that other paths answer
// 404, and that SIGTERM stops the server cleanly with clients connected.
func TestPeers(t *testing.T) {
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			s := p.start(t)
			clients := []*websocket.Conn{s.dial(t, path), s.dial(t, path), s.dial(t, path)}
			runScript(t, clients, p.dropsEmpty)
			fence(t, clients)
			checkNotFound(t, s)
			if err := s.stop(); err != nil {
				t.Fatalf("stop: %v\n%s", err, s.stderr)
			}
			if out := s.stderr.String(); out != "" {
				t.Errorf("server printed output:\n%s", out)
			}
		})
	}
}

// runScript plays script over clients. With dropsEmpty, steps with an
// empty payload still send but expect nothing; the fence that follows then
// checks nothing came back.
func runScript(t *testing.T, clients []*websocket.Conn, dropsEmpty bool) {
	t.Helper()
	for _, st := range script {
		if dropsEmpty && len(st.data) == 0 {
			st.to = nil
		}
		send(t, fmt.Sprintf("%s: client %d", st.name, st.from), clients[st.from], st.kind, st.data)
		for _, to := range st.to {
			expect(t, fmt.Sprintf("%s: client %d", st.name, to), clients[to], st.kind, st.data)
		}
	}
}

// fence has every client send one more message and checks that its echo is
// the next thing the client reads: no broadcast came back to its sender and
// nothing arrived that the script did not expect.
func fence(t *testing.T, clients []*websocket.Conn) {
	t.Helper()
	for i, c := range clients {
		msg := []byte(fmt.Sprintf("fence %d", i))
		who := fmt.Sprintf("fence: client %d", i)
		send(t, who, c, websocket.TextMessage, msg)
		expect(t, who, c, websocket.TextMessage, msg)
	}
}

// checkNotFound checks that a plain request and an upgrade on a path other
// than the WebSocket one both get 404.
func checkNotFound(t *testing.T, s *server) {
	t.Helper()
	hc := &http.Client{Timeout: ioTimeout}
	resp, err := hc.Get("http://" + s.addr + "/other")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other: status %d, want 404", resp.StatusCode)
	}
	d := websocket.Dialer{HandshakeTimeout: ioTimeout}
	c, resp, err := d.Dial("ws://"+s.addr+"/other", nil)
	if err == nil {
		_ = c.Close()
		t.Fatal("upgrade on /other succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("upgrade on /other: %v, want status 404", err)
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
}

// TestPeersStopWithoutClients checks the quick path: SIGTERM right after
// start-up, before any connection.
func TestPeersStopWithoutClients(t *testing.T) {
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			s := p.start(t)
			if err := s.stop(); err != nil {
				t.Fatalf("stop: %v\n%s", err, s.stderr)
			}
		})
	}
}
