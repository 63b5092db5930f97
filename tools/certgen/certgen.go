package certgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"time"
)

// clockSkew backdates NotBefore so that a peer whose clock runs slightly
// behind still accepts a certificate made a moment ago.
const clockSkew = time.Minute

// Organization is the subject organization of every generated certificate; it
// marks the certificate as a development one when it shows up in a handshake.
const Organization = "bellhop development"

// Generate returns a new self-signed ECDSA P-256 certificate valid for hosts
// (DNS names or IP addresses) during validFor from now, and its private key.
// The certificate is PEM-encoded ("CERTIFICATE") and the key is PKCS #8
// ("PRIVATE KEY"), the forms tls.X509KeyPair and Node's tls module read. The
// certificate is for server authentication only.
func Generate(hosts []string, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	tmpl, err := newTemplate(hosts, validFor, time.Now())
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: cannot generate key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: cannot create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: cannot encode key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// newTemplate validates the arguments and builds the certificate template.
// The serial number is left nil so x509.CreateCertificate picks a random one.
func newTemplate(hosts []string, validFor time.Duration, now time.Time) (*x509.Certificate, error) {
	if len(hosts) == 0 {
		return nil, ErrNoHosts
	}
	if validFor <= 0 {
		return nil, fmt.Errorf("%w: %v", ErrBadValidity, validFor)
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{Organization}, CommonName: hosts[0]},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if err := addHost(tmpl, h); err != nil {
			return nil, err
		}
	}
	return tmpl, nil
}

// addHost adds h to the template's IP or DNS subject alternative names.
func addHost(tmpl *x509.Certificate, h string) error {
	if ip := net.ParseIP(h); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		return nil
	}
	if h == "" || strings.ContainsAny(h, ":/ \t\r\n") {
		return fmt.Errorf("%w: %q", ErrBadHost, h)
	}
	tmpl.DNSNames = append(tmpl.DNSNames, h)
	return nil
}
