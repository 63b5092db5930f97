package bench

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	stdtls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
)

// fakeServer is a small WebSocket server for client tests: one goroutine
// per connection, behaviour chosen by the request path. It reads client
// frames with codec.Parser, so it also checks that the client masks them.
type fakeServer struct {
	t      *testing.T
	ln     net.Listener
	tls    *stdtls.Config
	routes map[string]func(*fakeConn)
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

// fakeConn is one upgraded (or not yet answered) connection on the fake
// server, owned by its goroutine.
type fakeConn struct {
	net.Conn
	br     *bufio.Reader
	req    *http.Request
	parser codec.Parser
	buf    []byte
}

func startFake(t *testing.T, tlsCfg *stdtls.Config, routes map[string]func(*fakeConn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln, tls: tlsCfg, routes: routes}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *fakeServer) target(path string) Target {
	return Target{Secure: s.tls != nil, Addr: s.ln.Addr().String(), Host: s.ln.Addr().String(), Path: path}
}

func (s *fakeServer) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if s.tls != nil {
			c = stdtls.Server(c, s.tls)
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *fakeServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	fc := &fakeConn{Conn: c, br: bufio.NewReader(c)}
	req, err := http.ReadRequest(fc.br)
	if err != nil {
		return
	}
	fc.req = req
	if h := s.routes[req.URL.Path]; h != nil {
		h(fc)
	}
}

// accept101 answers the upgrade properly.
func (c *fakeConn) accept101(extra string) {
	sum := sha1.Sum([]byte(c.req.Header.Get("Sec-WebSocket-Key") + wsGUID))
	_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
		base64.StdEncoding.EncodeToString(sum[:])+"\r\n"+extra+"\r\n")
}

// next reads the next client frame, unmasked.
func (c *fakeConn) next() (codec.Frame, error) {
	for {
		f, n, err := c.parser.Next(c.buf, &codec.Limits{})
		if err == nil {
			payload := append([]byte(nil), f.Payload...)
			f.Payload = payload
			c.buf = c.buf[n:]
			return f, nil
		}
		if err != codec.ErrNeedMore {
			return f, err
		}
		tmp := make([]byte, 4096)
		m, rerr := c.br.Read(tmp)
		if rerr != nil {
			return f, rerr
		}
		c.buf = append(c.buf, tmp[:m]...)
	}
}

func (c *fakeConn) send(op codec.OpCode, payload []byte) {
	_, _ = c.Write(codec.AppendFrame(nil, op, payload, false))
}

// echo answers data frames with the same message, pings with pongs, and a
// close frame with a close frame, then returns.
func (c *fakeConn) echo() {
	for {
		f, err := c.next()
		if err != nil {
			return
		}
		switch f.OpCode {
		case codec.OpPing:
			c.send(codec.OpPong, f.Payload)
		case codec.OpClose:
			c.send(codec.OpClose, f.Payload)
			return
		case codec.OpText, codec.OpBinary:
			c.send(f.OpCode, f.Payload)
		}
	}
}

// selfSigned returns an ECDSA P-256 certificate for localhost and
// 127.0.0.1, and its PEM encodings.
func selfSigned(t testing.TB) (cert stdtls.Certificate, certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err = stdtls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM, keyPEM
}

// writeCert writes a self-signed pair to dir and returns the file names.
func writeCert(t testing.TB, dir string) (certFile, keyFile string) {
	_, certPEM, keyPEM := selfSigned(t)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var errTest = errors.New("test error")
