package engine_test

import (
	"bufio"
	cryptotls "crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
	"github.com/bellhop/bellhop/tools/certgen"
)

// Tests of certificate changes on a running wss server: Certificates.Reload
// and Server.SetTLS affect new handshakes only and never drop a connection.

// newCertFiles writes a new certificate for localhost and its key to dir
// and returns their paths, its serial and its PEM.
func newCertFiles(t *testing.T, dir string) (certFile, keyFile string, serial *big.Int, certPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := certgen.Generate([]string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := errors.Join(os.WriteFile(certFile, certPEM, 0o600), os.WriteFile(keyFile, keyPEM, 0o600)); err != nil {
		t.Fatal(err)
	}
	cert, err := cryptotls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, leaf.SerialNumber, certPEM
}

// peerSerial makes a TLS handshake with srv and returns the serial of the
// certificate served, which must chain to roots.
func peerSerial(t *testing.T, srv *engine.Server, roots *x509.CertPool) *big.Int {
	t.Helper()
	conn, err := cryptotls.Dial("tcp", srv.Addr().String(), &cryptotls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: cryptotls.VersionTLS13})
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func TestCertificatesReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, first, firstPEM := newCertFiles(t, dir)
	certs, err := engine.LoadCertificates(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if certs.Leaf().SerialNumber.Cmp(first) != 0 {
		t.Fatalf("Leaf serial %v, want %v", certs.Leaf().SerialNumber, first)
	}
	srv := startServer(t, engine.Config{TLS: certs.TLSConfig(tls.VersionTLS13)})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(firstPEM)
	if got := peerSerial(t, srv, roots); got.Cmp(first) != 0 {
		t.Fatalf("served serial %v, want %v", got, first)
	}
	before := dialWSS(t, srv, roots)

	_, _, second, secondPEM := newCertFiles(t, dir) // same paths, new contents
	roots.AppendCertsFromPEM(secondPEM)
	if err := certs.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := peerSerial(t, srv, roots); got.Cmp(second) != 0 || certs.Leaf().SerialNumber.Cmp(second) != 0 {
		t.Fatalf("after Reload: served %v, Leaf %v, want %v", got, certs.Leaf().SerialNumber, second)
	}
	before.echoes(codec.OpText, []byte("opened before the reload"))

	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := certs.Reload(); err == nil {
		t.Fatal("Reload accepted a broken key")
	}
	if got := peerSerial(t, srv, roots); got.Cmp(second) != 0 {
		t.Fatalf("after a failed Reload: served %v, want the previous %v", got, second)
	}
	if err := os.Remove(certFile); err != nil {
		t.Fatal(err)
	}
	if err := certs.Reload(); err == nil {
		t.Fatal("Reload accepted a missing certificate")
	}
	if _, err := engine.LoadCertificates(certFile, keyFile); err == nil {
		t.Fatal("LoadCertificates accepted a missing certificate")
	}
}

func TestServerSetTLS(t *testing.T) {
	t.Parallel()
	oldFile, oldKey, oldSerial, oldPEM := newCertFiles(t, t.TempDir())
	newFile, newKey, newSerial, newPEM := newCertFiles(t, t.TempDir())
	oldCerts, err := engine.LoadCertificates(oldFile, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	newCerts, err := engine.LoadCertificates(newFile, newKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, engine.Config{TLS: oldCerts.TLSConfig(tls.VersionTLS12)})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(oldPEM)
	roots.AppendCertsFromPEM(newPEM)
	before := dialWSS(t, srv, roots)
	if got := peerSerial(t, srv, roots); got.Cmp(oldSerial) != 0 {
		t.Fatalf("served %v, want %v", got, oldSerial)
	}
	srv.SetTLS(newCerts.TLSConfig(tls.VersionTLS13))
	if got := peerSerial(t, srv, roots); got.Cmp(newSerial) != 0 {
		t.Fatalf("after SetTLS: served %v, want %v", got, newSerial)
	}
	before.echoes(codec.OpText, []byte("opened before SetTLS"))
}

// dialWSS upgrades on /echo over TLS with the given roots.
func dialWSS(t *testing.T, srv *engine.Server, roots *x509.CertPool) *client {
	t.Helper()
	conn, err := cryptotls.Dial("tcp", srv.Addr().String(), &cryptotls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: cryptotls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	if resp := c.handshake(upgradeRequest("/echo")); resp.StatusCode != 101 {
		t.Fatalf("upgrade: status %d", resp.StatusCode)
	}
	return c
}
