package certgen

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

func TestGenerateRejectsBadArguments(t *testing.T) {
	cases := []struct {
		name     string
		hosts    []string
		validFor time.Duration
		want     error
	}{
		{"hosts=nil", nil, time.Hour, ErrNoHosts},
		{"hosts=empty", []string{}, time.Hour, ErrNoHosts},
		{"host=blank", []string{"localhost", ""}, time.Hour, ErrBadHost},
		{"host=with-port", []string{"localhost:8443"}, time.Hour, ErrBadHost},
		{"host=with-space", []string{"local host"}, time.Hour, ErrBadHost},
		{"host=url", []string{"https//x/y"}, time.Hour, ErrBadHost},
		{"host=ipv6-zone", []string{"fe80::1%eth0"}, time.Hour, ErrBadHost},
		{"valid=zero", []string{"localhost"}, 0, ErrBadValidity},
		{"valid=negative", []string{"localhost"}, -time.Second, ErrBadValidity},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certPEM, keyPEM, err := Generate(tc.hosts, tc.validFor)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Generate(%#v, %v) error = %v, want %v", tc.hosts, tc.validFor, err, tc.want)
			}
			if certPEM != nil || keyPEM != nil {
				t.Fatalf("Generate returned PEM data with error %v", err)
			}
		})
	}
}

func TestGenerateCertificateFields(t *testing.T) {
	cases := []struct {
		name     string
		hosts    []string
		validFor time.Duration
		wantDNS  []string
		wantIPs  []string
	}{
		{"hosts=default", []string{"localhost", "127.0.0.1", "::1"}, 365 * 24 * time.Hour,
			[]string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"hosts=ip-only", []string{"127.0.0.2"}, time.Minute, nil, []string{"127.0.0.2"}},
		{"hosts=dns-only", []string{"bellhop.test", "*.bellhop.test"}, time.Hour,
			[]string{"bellhop.test", "*.bellhop.test"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			cert, _ := mustGenerate(t, tc.hosts, tc.validFor)
			if !slices.Equal(cert.DNSNames, tc.wantDNS) {
				t.Errorf("DNSNames = %#v, want %#v", cert.DNSNames, tc.wantDNS)
			}
			if got := ipStrings(cert.IPAddresses); !slices.Equal(got, tc.wantIPs) {
				t.Errorf("IPAddresses = %#v, want %#v", got, tc.wantIPs)
			}
			checkValidity(t, cert, before, tc.validFor)
			checkUsage(t, cert, tc.hosts[0])
		})
	}
}

func TestGenerateKeyMatchesCertificate(t *testing.T) {
	certPEM, keyPEM, err := Generate([]string{"localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("tls.X509KeyPair: %v", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("private key is %T, want *ecdsa.PrivateKey", pair.PrivateKey)
	}
	if key.Curve != elliptic.P256() {
		t.Errorf("curve = %s, want P-256", key.Curve.Params().Name)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("key PEM block type is not PRIVATE KEY: %q", keyPEM[:min(len(keyPEM), 40)])
	}
}

func TestGenerateIsFreshEachCall(t *testing.T) {
	a, keyA := mustGenerate(t, []string{"localhost"}, time.Hour)
	b, keyB := mustGenerate(t, []string{"localhost"}, time.Hour)
	if a.SerialNumber.Cmp(b.SerialNumber) == 0 {
		t.Errorf("two certificates share serial %v", a.SerialNumber)
	}
	if bytes.Equal(keyA, keyB) {
		t.Error("two calls returned the same private key")
	}
}

// TestGenerateVerifiesPerHost checks that the certificate is its own trust
// anchor for each name it carries and for no other.
func TestGenerateVerifiesPerHost(t *testing.T) {
	cert, _ := mustGenerate(t, []string{"localhost", "127.0.0.1", "::1"}, time.Hour)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	cases := []struct {
		host string
		ok   bool
	}{
		{"localhost", true}, {"127.0.0.1", true}, {"::1", true},
		{"127.0.0.2", false}, {"example.com", false},
	}
	for _, tc := range cases {
		t.Run("host="+tc.host, func(t *testing.T) {
			_, err := cert.Verify(x509.VerifyOptions{
				DNSName:   tc.host,
				Roots:     roots,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if (err == nil) != tc.ok {
				t.Fatalf("Verify(%q) error = %v, want ok=%v", tc.host, err, tc.ok)
			}
		})
	}
}

// TestGenerateServesTLS runs a real TLS 1.3 handshake on loopback with the
// certificate as the client's only root.
func TestGenerateServesTLS(t *testing.T) {
	certPEM, keyPEM, err := Generate([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS13,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	served := make(chan error, 1)
	go serveOne(ln, served) // owns the accepted conn until it returns

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("AppendCertsFromPEM found no certificate")
	}
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatalf("tls.Dial: %v", err)
	}
	defer conn.Close()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != "hello" {
		t.Errorf("read %q, want %q", got, "hello")
	}
	if err := <-served; err != nil {
		t.Errorf("server: %v", err)
	}
}

// serveOne accepts one connection, writes "hello", closes it and reports the
// outcome on done. It runs in its own goroutine started by the test.
func serveOne(ln net.Listener, done chan<- error) {
	c, err := ln.Accept()
	if err != nil {
		done <- err
		return
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Write([]byte("hello"))
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	done <- err
}

func mustGenerate(t *testing.T, hosts []string, validFor time.Duration) (*x509.Certificate, []byte) {
	t.Helper()
	certPEM, keyPEM, err := Generate(hosts, validFor)
	if err != nil {
		t.Fatalf("Generate(%#v, %v): %v", hosts, validFor, err)
	}
	b, rest := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("certificate PEM is not one CERTIFICATE block: %q", certPEM)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	return cert, keyPEM
}

func checkValidity(t *testing.T, cert *x509.Certificate, before time.Time, validFor time.Duration) {
	t.Helper()
	// Certificate times have one-second resolution.
	if lo := before.Add(-clockSkew - time.Second); cert.NotBefore.Before(lo) || cert.NotBefore.After(before) {
		t.Errorf("NotBefore = %v, want within [%v, %v]", cert.NotBefore, lo, before)
	}
	want := before.Add(validFor)
	if d := cert.NotAfter.Sub(want); d < -time.Second || d > 5*time.Second {
		t.Errorf("NotAfter = %v, want about %v", cert.NotAfter, want)
	}
}

func checkUsage(t *testing.T, cert *x509.Certificate, commonName string) {
	t.Helper()
	if cert.PublicKeyAlgorithm != x509.ECDSA || cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("algorithms = %v/%v, want ECDSA/ECDSAWithSHA256", cert.PublicKeyAlgorithm, cert.SignatureAlgorithm)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ExtKeyUsage = %v, want [ServerAuth]", cert.ExtKeyUsage)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature || cert.IsCA {
		t.Errorf("KeyUsage = %v IsCA = %v, want DigitalSignature and not a CA", cert.KeyUsage, cert.IsCA)
	}
	if cert.Subject.CommonName != commonName || !slices.Equal(cert.Subject.Organization, []string{Organization}) {
		t.Errorf("Subject = %v, want CN=%s O=%s", cert.Subject, commonName, Organization)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("certificate is not self-signed: %v", err)
	}
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}
