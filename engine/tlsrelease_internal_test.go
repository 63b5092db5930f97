package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	cryptotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/lesismal/llib/std/crypto/tls"
)

// selfSignedLLIB returns a llib certificate for localhost.
func selfSignedLLIB(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// fieldIsNil reads the pointer field f of tc.
func fieldIsNil(tc *tls.Conn, f handshakeField) bool {
	return *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(tc), f.offset)) == nil
}

// TestReleaseHandshakeState runs a real TLS 1.3 handshake (Go's client
// against a llib server over loopback TCP), releases the server's
// handshake state and checks that the references are gone and that the
// session still carries data both ways.
func TestReleaseHandshakeState(t *testing.T) {
	if len(handshakeFields) != 4 {
		t.Fatalf("llib's tls.Conn lacks the handshake fields this release was written for: found %v", handshakeFields)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := &tls.Config{Certificates: []tls.Certificate{selfSignedLLIB(t)}, MinVersion: tls.VersionTLS13}
	type result struct {
		msg []byte
		err error
	}
	done := make(chan result, 1)
	var server *tls.Conn
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
		releaseHandshake(server)
		buf := make([]byte, 5)
		if _, err := io.ReadFull(server, buf); err != nil {
			done <- result{err: err}
			return
		}
		_, err = server.Write([]byte("pong!"))
		done <- result{msg: buf, err: err}
	}()
	client, err := cryptotls.Dial("tcp", ln.Addr().String(), &cryptotls.Config{InsecureSkipVerify: true, MinVersion: cryptotls.VersionTLS13})
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
	for _, f := range handshakeFields {
		if !fieldIsNil(server, f) {
			t.Errorf("field %s still set after release", f.name)
		}
	}
	if server.ClientHello() != nil {
		t.Error("ClientHello still held")
	}
}

func TestReleaseHandshakeKeepsHalfReadMessage(t *testing.T) {
	tc := tls.NewConn(nil, &tls.Config{}, false, true)
	var hand *handshakeField
	for i := range handshakeFields {
		if handshakeFields[i].name == handBuffer {
			hand = &handshakeFields[i]
		}
	}
	if hand == nil {
		t.Fatal("no hand field")
	}
	pending := []byte{1, 0, 0}
	*(**[]byte)(unsafe.Add(unsafe.Pointer(tc), hand.offset)) = &pending
	releaseHandshake(tc)
	if fieldIsNil(tc, *hand) {
		t.Error("a half-read handshake message was dropped")
	}
	empty := pending[:0]
	*(**[]byte)(unsafe.Add(unsafe.Pointer(tc), hand.offset)) = &empty
	releaseHandshake(tc)
	if !fieldIsNil(tc, *hand) {
		t.Error("an empty handshake buffer was kept")
	}
}
