package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// The conformance tests cover the case groups of the Autobahn|Testsuite
// (1.x framing through 13.x compression) with raw frames over loopback
// sockets. Every group runs twice, over ws and over wss, each time against a
// server of its own. A case that must fail the connection also checks that
// the server still serves a fresh connection, and every group ends by
// waiting for the server's connection count to drop back to zero, so a
// leaked connection fails the group that leaked it.

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !holdsWithin(timeout, cond) {
		t.Fatalf("condition still false after %s", timeout)
	}
}

// holdsWithin reports whether cond held within timeout, checking every few
// milliseconds.
func holdsWithin(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// wire is one server under test and the transport its clients use.
type wire struct {
	srv    *engine.Server
	useTLS bool
}

// forEachTransport runs fn as the parallel sub-tests tls=false and
// tls=true, each against its own server started from cfg. When fn returns,
// and once the clients fn opened are closed, the server must be back to zero
// connections. The caller's test runs in parallel with the other groups: a
// server costs half a second to stop, which would otherwise add up.
func forEachTransport(t *testing.T, cfg engine.Config, fn func(t *testing.T, w *wire)) {
	t.Helper()
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		name := "tls=false"
		if useTLS {
			name = "tls=true"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := cfg
			if useTLS {
				c.TLS = serverTLS(t)
			}
			w := &wire{srv: startServer(t, c), useTLS: useTLS}
			t.Cleanup(func() { w.expectNoConns(t) }) // runs before startServer's Close
			fn(t, w)
		})
	}
}

// expectNoConns checks that every connection, handshaking ones included,
// is gone within a few seconds.
func (w *wire) expectNoConns(t testing.TB) {
	t.Helper()
	if !holdsWithin(5*time.Second, func() bool { return w.srv.Connections() == 0 }) {
		t.Errorf("server still has %d connections", w.srv.Connections())
	}
}

// connect opens an upgraded connection on /echo.
func (w *wire) connect(t testing.TB, extra ...string) *client {
	t.Helper()
	return connect(t, w.srv, w.useTLS, extra...)
}

// upgrade dials and sends an upgrade request for /echo with extra header
// lines, returning the client and the response, whatever its status.
func (w *wire) upgrade(t testing.TB, extra ...string) (*client, *http.Response) {
	t.Helper()
	c := dial(t, w.srv, w.useTLS)
	return c, c.handshake(upgradeRequest("/echo", extra...))
}

// alive checks that the server still upgrades a fresh connection, echoes on
// it and closes it cleanly.
func (w *wire) alive(t testing.TB) {
	t.Helper()
	c := w.connect(t)
	c.echoes(codec.OpText, []byte("still serving"))
	closeClean(c)
}

// closeClean runs the closing handshake from the client side.
func closeClean(c *client) {
	c.t.Helper()
	c.send(true, 0, codec.OpClose, codec.AppendClosePayload(nil, codec.CloseNormal, "done"))
	expectCloseOnly(c, codec.CloseNormal)
}

// Frame header bits as they appear in codec.Header.Rsv.
const (
	rsv1 byte = 0x4
	rsv2 byte = 0x2
	rsv3 byte = 0x1
)

// fr returns a masked client frame. The mask depends on the payload length,
// so consecutive frames use different masks.
func fr(fin bool, rsv byte, op codec.OpCode, payload []byte) []byte {
	n := len(payload)
	h := codec.Header{Fin: fin, Rsv: rsv, OpCode: op, Mask: [4]byte{byte(n), 0x5a, byte(n >> 8), 0xc3}}
	return codec.AppendClientFrame(nil, h, payload)
}

// whole returns a whole (FIN) client frame without reserved bits.
func whole(op codec.OpCode, payload []byte) []byte { return fr(true, 0, op, payload) }

// textFrame returns a whole client text frame.
func textFrame(s string) []byte { return whole(codec.OpText, []byte(s)) }

// closeFrame returns a client close frame with code and reason.
func closeFrame(code codec.StatusCode, reason string) []byte {
	return whole(codec.OpClose, codec.AppendClosePayload(nil, code, reason))
}

// joinBytes joins byte slices.
func joinBytes(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// serverFrame is a frame the server must send: whole, without reserved bits.
type serverFrame struct {
	op      codec.OpCode
	payload []byte
}

// textEcho is the echo of a text message.
func textEcho(s string) serverFrame { return serverFrame{codec.OpText, []byte(s)} }

// wireCase is one wire case: what the client writes after the upgrade and
// what the server must answer.
type wireCase struct {
	name  string
	send  []byte                // written after the upgrade
	write func(*client, []byte) // how send is written; nil writes it at once
	want  []serverFrame         // frames the server must answer with, in order
	close codec.StatusCode      // close code that must follow want; 0 when the connection stays open
}

// run plays x on a fresh connection. A connection that must stay open then
// still echoes and closes cleanly; one that must be failed gets exactly the
// close frame after want, then EOF, and the server must still be serving.
func (w *wire) run(t *testing.T, x wireCase) {
	t.Helper()
	c := w.connect(t)
	if x.write != nil {
		x.write(c, x.send)
	} else {
		c.write(x.send)
	}
	for _, r := range x.want {
		expectReply(c, r)
	}
	if x.close == 0 {
		c.echoes(codec.OpText, []byte("still open"))
		closeClean(c)
		return
	}
	expectCloseOnly(c, x.close)
	w.alive(t)
}

// runAll runs each wireCase as a sub-test named after it.
func (w *wire) runAll(t *testing.T, xs []wireCase) {
	t.Helper()
	for _, x := range xs {
		t.Run(x.name, func(t *testing.T) { w.run(t, x) })
	}
}

// expectReply reads one frame and checks it is r, whole and unmarked.
func expectReply(c *client, r serverFrame) {
	c.t.Helper()
	f := c.mustRead()
	if !f.Fin || f.Rsv != 0 || f.OpCode != r.op || !bytes.Equal(f.Payload, r.payload) {
		c.t.Fatalf("got frame fin=%v rsv=%d op=%d payload %s, want op=%d payload %s",
			f.Fin, f.Rsv, f.OpCode, abbrev(f.Payload), r.op, abbrev(r.payload))
	}
}

// expectCloseOnly checks that the next frame is a valid close frame with
// code, and that the server then closes the connection without sending
// anything else.
func expectCloseOnly(c *client, code codec.StatusCode) {
	c.t.Helper()
	f := c.mustRead()
	if f.OpCode != codec.OpClose {
		c.t.Fatalf("got frame op=%d payload %s, want close %d", f.OpCode, abbrev(f.Payload), code)
	}
	if !f.Fin || f.Rsv != 0 {
		c.t.Fatalf("close frame fin=%v rsv=%d", f.Fin, f.Rsv)
	}
	got, reason, err := codec.ParseClose(f.Payload)
	if err != nil || got != code {
		c.t.Fatalf("close code %d reason %q (err %v), want %d", got, reason, err, code)
	}
	expectEOFOnly(c)
}

// expectEOFOnly checks that the server closes the connection and sends no
// frame before doing so.
func expectEOFOnly(c *client) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := c.read()
	switch {
	case err == nil:
		c.t.Fatalf("frame op=%d payload %s after the close frame, want EOF", f.OpCode, abbrev(f.Payload))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
	default:
		c.t.Fatalf("want EOF, got %v", err)
	}
}

// abbrev formats a payload for a failure message, cut when long.
func abbrev(p []byte) string {
	if len(p) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", p[:40], len(p))
	}
	return fmt.Sprintf("%q", p)
}

// writeBytewise writes b one byte per write, so the server reads the frame
// (or head) in as many pieces as the network lets it.
func writeBytewise(c *client, b []byte) {
	c.t.Helper()
	for i := range b {
		c.write(b[i : i+1])
	}
}

// writeRandomChunks writes b in chunks of random size up to maxChunk, pausing
// briefly after each so the server sees partial frames across its reads.
func writeRandomChunks(c *client, b []byte, rng *rand.Rand, maxChunk int) {
	c.t.Helper()
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(maxChunk))
		c.write(b[:n])
		b = b[n:]
		time.Sleep(100 * time.Microsecond)
	}
}

// writeSlowly writes a frame as a slow client would: the header one byte
// per write, then the payload one byte per write when short or in random
// chunks when long.
func writeSlowly(c *client, b []byte) {
	c.t.Helper()
	if len(b) <= 256 {
		writeBytewise(c, b)
		return
	}
	writeBytewise(c, b[:codec.MaxHeaderSize])
	writeRandomChunks(c, b[codec.MaxHeaderSize:], rand.New(rand.NewPCG(uint64(len(b)), 1)), 32<<10)
}

// textPayload returns n bytes of ASCII text. It never starts with 'B',
// which the echo endpoint broadcasts instead of echoing.
func textPayload(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -_.,ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	p := make([]byte, n)
	for i := range p {
		p[i] = alphabet[(i*7+i/len(alphabet))%len(alphabet)]
	}
	return p
}

// binaryPayload returns n pseudo-random bytes, the same for the same n.
func binaryPayload(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// payloadFor returns a payload of n bytes suited to op.
func payloadFor(op codec.OpCode, n int) []byte {
	if op == codec.OpText {
		return textPayload(n)
	}
	return binaryPayload(n)
}

// fragmented splits p into n frames of op (continuations after the first),
// FIN on the last, with rsv on the first frame only.
func fragmented(op codec.OpCode, rsv byte, p []byte, n int) []byte {
	var out []byte
	size := (len(p) + n - 1) / n
	for i := 0; i < n; i++ {
		lo, hi := min(i*size, len(p)), min((i+1)*size, len(p))
		o, r := codec.OpContinuation, byte(0)
		if i == 0 {
			o, r = op, rsv
		}
		out = append(out, fr(i == n-1, r, o, p[lo:hi])...)
	}
	return out
}
