package engine_test

import (
	cryptotls "crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"

	"github.com/bellhop/bellhop/engine"
)

// TestReleaseHandshakeState runs a real TLS 1.3 handshake (Go's client
// against a llib server over loopback TCP), releases the server's
// handshake state and checks that the references are gone and that the
// session still carries data both ways.
func TestReleaseHandshakeState(t *testing.T) {
	if state := engine.HandshakeState(tls.NewConn(nil, &tls.Config{}, false, true)); len(state) != 4 {
		t.Fatalf("llib's tls.Conn lacks the handshake fields this release was written for: found %v", state)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		msg []byte
		err error
	}
	done := make(chan result, 1)
	var server *tls.Conn
	cfg := serverTLS(t)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		server = tls.NewConn(raw, cfg, false, false) // blocking mode, for the test
		if err := server.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		engine.ReleaseHandshake(server)
		buf := make([]byte, 5)
		if _, err := io.ReadFull(server, buf); err != nil {
			done <- result{err: err}
			return
		}
		_, err = server.Write([]byte("pong!"))
		done <- result{msg: buf, err: err}
	}()
	client, err := cryptotls.Dial("tcp", ln.Addr().String(), clientTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Write([]byte("ping!")); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 5)
	if _, err := io.ReadFull(client, reply); err != nil || string(reply) != "pong!" {
		t.Fatalf("reply %q, %v", reply, err)
	}
	res := <-done
	if res.err != nil || string(res.msg) != "ping!" {
		t.Fatalf("server read %q, %v", res.msg, res.err)
	}
	for name, held := range engine.HandshakeState(server) {
		if held {
			t.Errorf("field %s still set after release", name)
		}
	}
	if server.ClientHello() != nil {
		t.Error("ClientHello still held")
	}
}

func TestReleaseHandshakeKeepsHalfReadMessage(t *testing.T) {
	tc := tls.NewConn(nil, &tls.Config{}, false, true)
	engine.SetHandBuffer(tc, []byte{1, 0, 0})
	engine.ReleaseHandshake(tc)
	if !engine.HandshakeState(tc)["hand"] {
		t.Error("a half-read handshake message was dropped")
	}
	engine.SetHandBuffer(tc, []byte{})
	engine.ReleaseHandshake(tc)
	if engine.HandshakeState(tc)["hand"] {
		t.Error("an empty handshake buffer was kept")
	}
}
