package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// TestConformanceClose covers Autobahn 7.x: the server echoes the code of a
// valid close frame, fails invalid ones (bad code 1002, one-byte payload
// 1002, too long 1002, reason not UTF-8 1007), ignores whatever follows a
// close frame, and closes the TCP connection after the closing handshake.
func TestConformanceClose(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		w.runAll(t, closeCodeCases())
		w.runAll(t, closeFrameCases())
		w.runAll(t, closeThenCases())
		t.Run("no-status", func(t *testing.T) { closeNoStatus(t, w) })
		t.Run("client-keeps-socket-open", func(t *testing.T) { closeServerHangsUp(t, w) })
	})
}

// closeCodeCases: every code a peer may send is echoed (Autobahn 7.7, plus
// 1012-1014, registered with IANA since), every other one fails the
// connection with 1002 (Autobahn 7.9 and 7.13).
func closeCodeCases() []wireCase {
	var xs []wireCase
	valid := []codec.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	for _, code := range valid {
		xs = append(xs,
			wireCase{name: fmt.Sprintf("code=%d", code), send: closeFrame(code, ""), close: code},
			wireCase{name: fmt.Sprintf("code=%d/reason", code), send: closeFrame(code, "checking out"), close: code},
		)
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		p := []byte{byte(code >> 8), byte(code)}
		xs = append(xs, wireCase{name: fmt.Sprintf("code=%d", code), send: whole(codec.OpClose, p), close: codec.CloseProtocolError})
	}
	return xs
}

// closeFrameCases: the close payload's length and reason (Autobahn 7.3, 7.5).
func closeFrameCases() []wireCase {
	reason123 := strings.Repeat("r", codec.MaxControlPayload-2)
	long := append([]byte{0x03, 0xe8}, strings.Repeat("r", codec.MaxControlPayload-1)...)
	return []wireCase{
		{name: "payload=1", send: whole(codec.OpClose, []byte{0x03}), close: codec.CloseProtocolError},
		{name: "reason=123", send: closeFrame(codec.CloseNormal, reason123), close: codec.CloseNormal},
		{name: "reason=124", send: whole(codec.OpClose, long), close: codec.CloseProtocolError},
		{name: "reason=utf8", send: closeFrame(codec.CloseNormal, "au revoir, κόσμε \U0001f44b"), close: codec.CloseNormal},
		{name: "reason=invalid-utf8", send: whole(codec.OpClose, []byte("\x03\xe8bye \xed\xa0\x80")), close: codec.CloseInvalidPayload},
		{name: "reason=truncated-utf8", send: whole(codec.OpClose, []byte("\x03\xe8bye \xce")), close: codec.CloseInvalidPayload},
		{name: "bytewise", send: closeFrame(codec.CloseGoingAway, "bytewise"), write: writeBytewise, close: codec.CloseGoingAway},
	}
}

// closeThenCases: after the peer's close frame nothing is answered (Autobahn
// 7.1): no echo, no pong, no second close, no error for a bad frame.
func closeThenCases() []wireCase {
	bye := closeFrame(codec.CloseNormal, "bye")
	return []wireCase{
		{name: "echo-then-close", send: joinBytes(textFrame("last words"), bye), want: []serverFrame{textEcho("last words")}, close: codec.CloseNormal},
		{name: "close-then-text", send: joinBytes(bye, textFrame("too late")), close: codec.CloseNormal},
		{name: "close-then-ping", send: joinBytes(bye, whole(codec.OpPing, []byte("too late"))), close: codec.CloseNormal},
		{name: "close-twice", send: joinBytes(bye, closeFrame(codec.CloseGoingAway, "again")), close: codec.CloseNormal},
		{name: "close-then-bad-frame", send: joinBytes(bye, fr(true, rsv2, codec.OpText, nil)), close: codec.CloseNormal},
		{name: "close-then-invalid-utf8", send: joinBytes(bye, textFrame("\xff")), close: codec.CloseNormal},
		{name: "close-inside-fragmented", send: joinBytes(fr(false, 0, codec.OpText, []byte("half")), bye,
			fr(true, 0, codec.OpContinuation, []byte("never"))), close: codec.CloseNormal},
		{name: "close-after-large", send: joinBytes(whole(codec.OpBinary, binaryPayload(256<<10)), bye),
			want: []serverFrame{{codec.OpBinary, binaryPayload(256 << 10)}}, close: codec.CloseNormal},
	}
}

// closeNoStatus: a close frame without payload (no status code) is answered
// with 1000. RFC 6455 section 5.5.1 lets the answer carry any code or none;
// the engine echoes "normal closure", which is valid: two bytes, no reason.
func closeNoStatus(t *testing.T, w *wire) {
	c := w.connect(t)
	c.write(whole(codec.OpClose, nil))
	f := c.mustRead()
	if f.OpCode != codec.OpClose || len(f.Payload) != 2 {
		t.Fatalf("got op=%d payload %s, want a close frame carrying only a code", f.OpCode, abbrev(f.Payload))
	}
	if code, _, err := codec.ParseClose(f.Payload); err != nil || code != codec.CloseNormal {
		t.Fatalf("close code %d (err %v), want %d", code, err, codec.CloseNormal)
	}
	expectEOFOnly(c)
	w.alive(t)
}

// closeServerHangsUp: after answering the client's close frame the server
// closes the TCP connection itself, even when the client never does
// (RFC 6455 section 7.1.1: the server closes first).
func closeServerHangsUp(t *testing.T, w *wire) {
	c := w.connect(t)
	c.write(closeFrame(codec.CloseNormal, ""))
	expectCloseOnly(c, codec.CloseNormal)
	waitFor(t, 5*time.Second, func() bool { return w.srv.Connections() == 0 })
}
