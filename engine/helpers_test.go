package engine_test

import (
	"bufio"
	"bytes"
	cryptotls "crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
	"github.com/bellhop/bellhop/tools/certgen"
)

// testCert is one certificate for the whole test binary: generating is slow.
var testCert = sync.OnceValues(func() ([]byte, []byte) {
	certPEM, keyPEM, err := certgen.Generate([]string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		panic(err)
	}
	return certPEM, keyPEM
})

// serverTLS returns a server TLS config with the test certificate.
func serverTLS(t testing.TB) *tls.Config {
	certPEM, keyPEM := testCert()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
}

// clientTLS returns a client config that trusts the test certificate.
func clientTLS(t testing.TB) *cryptotls.Config {
	certPEM, _ := testCert()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("bad test certificate")
	}
	return &cryptotls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: cryptotls.VersionTLS13}
}

// startServer starts a server on a free loopback port with an echo endpoint
// on /echo (unless cfg has routes) and stops it when the test ends.
func startServer(t testing.TB, cfg engine.Config) *engine.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Routes == nil {
		cfg.Routes = map[string]engine.Handler{"/echo": engine.NewEcho("/echo")}
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	srv, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// client is a raw WebSocket client for wire tests: it writes exactly the
// bytes a test asks for and reads frames as they come.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// dial opens a TCP (or TLS) connection to srv without the upgrade.
func dial(t testing.TB, srv *engine.Server, useTLS bool) *client {
	t.Helper()
	addr := srv.Addr().String()
	var conn net.Conn
	var err error
	if useTLS {
		conn, err = cryptotls.Dial("tcp", addr, clientTLS(t))
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// upgradeRequest returns a valid upgrade request head for path with extra
// header lines.
func upgradeRequest(path string, extra ...string) string {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// connect dials and upgrades on /echo, failing the test unless the answer is 101.
func connect(t testing.TB, srv *engine.Server, useTLS bool, extra ...string) *client {
	t.Helper()
	c := dial(t, srv, useTLS)
	resp := c.handshake(upgradeRequest("/echo", extra...))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: status %d", resp.StatusCode)
	}
	return c
}

// handshake writes a raw request head and reads the response head.
func (c *client) handshake(req string) *http.Response {
	c.t.Helper()
	c.write([]byte(req))
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.t.Fatalf("reading handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp
}

func (c *client) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes one masked frame.
func (c *client) send(fin bool, rsv byte, op codec.OpCode, payload []byte) {
	c.t.Helper()
	c.write(codec.AppendClientFrame(nil, codec.Header{Fin: fin, Rsv: rsv, OpCode: op, Mask: [4]byte{1, 2, 3, 4}}, payload))
}

// frame is a frame read from the server.
type frame struct {
	codec.Header
	Payload []byte
}

// read reads one server frame; the server never masks.
func (c *client) read() (frame, error) {
	var hdr [codec.MaxHeaderSize]byte
	if _, err := io.ReadFull(c.r, hdr[:2]); err != nil {
		return frame{}, err
	}
	need := 2
	switch hdr[1] & 0x7f {
	case 126:
		need = 4
	case 127:
		need = 10
	}
	if hdr[1]&0x80 != 0 {
		return frame{}, errors.New("server frame is masked")
	}
	if _, err := io.ReadFull(c.r, hdr[2:need]); err != nil {
		return frame{}, err
	}
	h, _, err := codec.ParseHeader(hdr[:need])
	if err != nil {
		return frame{}, err
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.r, p); err != nil {
		return frame{}, err
	}
	return frame{Header: h, Payload: p}, nil
}

// mustRead reads one frame or fails the test.
func (c *client) mustRead() frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

// expectClose reads frames until a close frame and checks its code, then
// checks the server closes the TCP connection.
func (c *client) expectClose(code codec.StatusCode) {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("want close %d, got error %v", code, err)
		}
		if f.OpCode != codec.OpClose {
			continue
		}
		got, _, err := codec.ParseClose(f.Payload)
		if err != nil || got != code {
			c.t.Fatalf("close code %d (err %v), want %d", got, err, code)
		}
		break
	}
	c.expectEOF()
}

// expectEOF checks that the server closes the connection.
func (c *client) expectEOF() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
			return
		}
		c.t.Fatalf("want EOF, got %v", err)
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// echoes checks a message round trip through the echo endpoint.
func (c *client) echoes(op codec.OpCode, payload []byte) {
	c.t.Helper()
	c.send(true, 0, op, payload)
	f := c.mustRead()
	if f.OpCode != op || !bytes.Equal(f.Payload, payload) {
		c.t.Fatalf("echo: got op %d len %d, want op %d len %d", f.OpCode, len(f.Payload), op, len(payload))
	}
}
