package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Signer mints tokens with one private key (or HMAC secret) under one key
// id. It is for tools and tests: the server only verifies. A Signer is
// immutable and safe for concurrent use.
type Signer struct {
	id  string // "kid" put in each token header
	alg alg    // algorithm fixed by the key
	key any    // *ecdsa.PrivateKey, *rsa.PrivateKey or []byte
}

// NewSigner returns a signer for key, which is an *ecdsa.PrivateKey on P-256
// (ES256), an *rsa.PrivateKey of at least 2048 bits (RS256) or a []byte
// secret of at least MinSecretSize bytes (HS256). kid names the key in the
// token header and must be the id the verifier's key set knows it by.
func NewSigner(kid string, key any) (*Signer, error) {
	var pub any
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case []byte:
		pub = k
	default:
		return nil, fmt.Errorf("%w: cannot sign with a %T", ErrBadKey, key)
	}
	// newKey applies to the public half the checks the verifier will apply.
	k, err := newKey(kid, 0, pub, "signer")
	if err != nil {
		return nil, err
	}
	return &Signer{id: kid, alg: k.alg, key: key}, nil
}

// ParseSigner returns a signer for the key in data: a PEM private key
// (PKCS #8 "PRIVATE KEY", SEC 1 "EC PRIVATE KEY" or PKCS #1 "RSA PRIVATE
// KEY"), or else the base64 HS256 secret of a .secret file.
func ParseSigner(kid string, data []byte) (*Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		if bytes.Contains(data, []byte("-----BEGIN")) {
			return nil, fmt.Errorf("%w: unreadable PEM", ErrBadKey)
		}
		secret, err := decodeSecret(string(data))
		if err != nil {
			return nil, err
		}
		return NewSigner(kid, secret)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrBadKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return NewSigner(kid, key)
}

// KeyID returns the kid the signer puts in token headers.
func (s *Signer) KeyID() string { return s.id }

// Alg returns the JOSE algorithm of the signer: HS256, ES256 or RS256.
func (s *Signer) Alg() string { return s.alg.String() }

// Sign returns a compact JWS token carrying c, with the signer's kid in the
// header. c.KeyID is ignored. c must pass the checks Verify makes that do not
// depend on the clock, so a fresh token always verifies against a key set
// holding the signer's public key: Subject, Role, Property, Expires (and Room
// for a guest) are required. Times are written in whole seconds.
func (s *Signer) Sign(c Claims) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	sc := toSigned(c)
	t := jwt.NewWithClaims(algMethods[s.alg], sc)
	t.Header["kid"] = s.id
	token, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: cannot sign: %w", err)
	}
	return token, nil
}
