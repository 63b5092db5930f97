package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSigner(t *testing.T) {
	k := genKeys(t)
	ecDER, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		data    []byte
		wantAlg string
	}{
		{"pem=pkcs8-ec", privatePEM(t, k.ec), "ES256"},
		{"pem=pkcs8-rsa", privatePEM(t, k.rsa), "RS256"},
		{"pem=sec1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), "ES256"},
		{"pem=pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsa)}), "RS256"},
		{"secret=base64", []byte(b64std(k.secret) + "\n"), "HS256"},
	}
	v := testVerifier(t, mustKeySet(t, k))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kid := map[string]string{"ES256": "ec", "RS256": "rsa", "HS256": "hs"}[tc.wantAlg]
			s, err := ParseSigner(kid, tc.data)
			if err != nil {
				t.Fatalf("ParseSigner: %v", err)
			}
			if s.Alg() != tc.wantAlg || s.KeyID() != kid {
				t.Errorf("Alg, KeyID = %s, %s; want %s, %s", s.Alg(), s.KeyID(), tc.wantAlg, kid)
			}
			c, err := v.Verify(mustSign(t, s, staffClaims()))
			if err != nil || c.KeyID != kid {
				t.Errorf("Verify: %+v, %v", c, err)
			}
		})
	}
}

func mustKeySet(t *testing.T, k testKeys) *KeySet {
	t.Helper()
	doc := keySetDoc(
		entry(member("kid", "ec"), member("pem", publicPEM(t, &k.ec.PublicKey))),
		entry(member("kid", "rsa"), member("pem", publicPEM(t, &k.rsa.PublicKey))),
		entry(member("kid", "hs"), member("secret", b64std(k.secret))),
	)
	ks, err := LoadKeySet("", writeFile(t, t.TempDir(), "k.json", doc))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestSignerErrors(t *testing.T) {
	k := genKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	newCases := []struct {
		name string
		kid  string
		key  any
		msg  string
	}{
		{"key=string", "a", "secret", "cannot sign with a string"},
		{"key=public", "a", &k.ec.PublicKey, "cannot sign with a *ecdsa.PublicKey"},
		{"key=rsa-1024", "a", small, "1024 bits"},
		{"key=P-384", "a", p384, "P-384"},
		{"key=short-secret", "a", []byte("short"), "at least 32"},
		{"kid=empty", "", k.secret, "empty key id"},
	}
	for _, tc := range newCases {
		t.Run("NewSigner/"+tc.name, func(t *testing.T) {
			if _, err := NewSigner(tc.kid, tc.key); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want ErrBadKey containing %q", err, tc.msg)
			}
		})
	}
	parseCases := []struct {
		name string
		data string
		msg  string
	}{
		{"pem=public", publicPEM(t, &k.ec.PublicKey), "not a private key"},
		{"pem=broken", "-----BEGIN PRIVATE KEY-----\n%%%\n", "unreadable PEM"},
		{"pem=bad-der", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})), ""},
		{"secret=garbage", "not base64!", "not base64"},
	}
	for _, tc := range parseCases {
		t.Run("ParseSigner/"+tc.name, func(t *testing.T) {
			if _, err := ParseSigner("a", []byte(tc.data)); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want ErrBadKey containing %q", err, tc.msg)
			}
		})
	}
}

func TestSignRefusesInvalidClaims(t *testing.T) {
	s := mustSigner(t, "hs", genKeys(t).secret)
	mod := func(f func(*Claims)) Claims {
		c := staffClaims()
		f(&c)
		return c
	}
	cases := []struct {
		name string
		c    Claims
		want error
	}{
		{"sub=empty", mod(func(c *Claims) { c.Subject = "" }), ErrMissingClaim},
		{"role=zero", mod(func(c *Claims) { c.Role = 0 }), ErrMissingClaim},
		{"role=99", mod(func(c *Claims) { c.Role = 99 }), ErrUnknownRole},
		{"property=empty", mod(func(c *Claims) { c.Property = "" }), ErrMissingClaim},
		{"room=empty/role=guest", mod(func(c *Claims) { c.Role = Guest }), ErrMissingClaim},
		{"exp=zero", mod(func(c *Claims) { c.Expires = time.Time{} }), ErrMissingClaim},
		{"exp=1969", mod(func(c *Claims) { c.Expires = time.Unix(-10, 0) }), ErrInvalidClaim},
		{"iat=10000", mod(func(c *Claims) { c.IssuedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), ErrInvalidClaim},
		{"dept=too-long", mod(func(c *Claims) { c.Dept = strings.Repeat("d", MaxClaimSize+1) }), ErrInvalidClaim},
		{"floors=range", mod(func(c *Claims) { c.Floors = []int{-MaxFloor - 1} }), ErrInvalidClaim},
		{"floors=count", mod(func(c *Claims) { c.Floors = make([]int, MaxFloors+1) }), ErrInvalidClaim},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := s.Sign(tc.c)
			if !errors.Is(err, tc.want) || tok != "" {
				t.Errorf("Sign = %q, %v; want error %v", tok, err, tc.want)
			}
		})
	}
}

// TestSignWireFormat checks the claim and header names clients rely on.
func TestSignWireFormat(t *testing.T) {
	s := mustSigner(t, "2026-11", genKeys(t).ec)
	c := Claims{
		Subject: "stay-1", Role: Guest, Property: "p1", Room: "101", Dept: "d", Floors: []int{1}, Shift: "late",
		Expires: time.Unix(2000000000, 0), IssuedAt: time.Unix(1900000000, 0), ID: "j1", KeyID: "ignored",
	}
	tok := mustSign(t, s, c)
	h, p, _, _ := splitToken(tok)
	var header, claims map[string]any
	for seg, dst := range map[string]*map[string]any{h: &header, p: &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	wantHeader := map[string]any{"alg": "ES256", "kid": "2026-11", "typ": "JWT"}
	wantClaims := map[string]any{
		"sub": "stay-1", "role": "guest", "property": "p1", "room": "101", "dept": "d", "floors": []any{1.0}, "shift": "late",
		"exp": 2e9, "iat": 1.9e9, "jti": "j1",
	}
	if !reflect.DeepEqual(header, wantHeader) {
		t.Errorf("header = %v, want %v", header, wantHeader)
	}
	if !reflect.DeepEqual(claims, wantClaims) {
		t.Errorf("claims = %v, want %v", claims, wantClaims)
	}
}

func TestRole(t *testing.T) {
	for r := Admin; r <= Service; r++ {
		got, err := ParseRole(r.String())
		if err != nil || got != r || !r.Valid() {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", r.String(), got, err, r)
		}
	}
	names := map[Role]string{Admin: "admin", FrontDesk: "front_desk", Housekeeping: "housekeeping",
		Maintenance: "maintenance", Concierge: "concierge", Guest: "guest", Service: "service", 0: "Role(0)", 8: "Role(8)"}
	for r, want := range names {
		if r.String() != want {
			t.Errorf("Role(%d).String() = %q, want %q", r, r.String(), want)
		}
	}
	for _, s := range []string{"", "Admin", "root", "guest "} {
		if r, err := ParseRole(s); !errors.Is(err, ErrUnknownRole) || r != 0 {
			t.Errorf("ParseRole(%q) = %v, %v; want ErrUnknownRole", s, r, err)
		}
	}
	if Role(0).Valid() || Role(8).Valid() {
		t.Error("Valid accepts a value that is not a role")
	}
}
