package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// entry builds one key set entry from JSON members.
func entry(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

func member(name, value string) string { return jsonString(name) + ":" + jsonString(value) }

func keySetDoc(entries ...string) string { return `{"keys":[` + strings.Join(entries, ",") + `]}` }

func TestLoadKeySetFile(t *testing.T) {
	k := genKeys(t)
	ecPEM, rsaPEM := publicPEM(t, &k.ec.PublicKey), publicPEM(t, &k.rsa.PublicKey)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	ecX, ecY := k.ec.X.FillBytes(make([]byte, 32)), k.ec.Y.FillBytes(make([]byte, 32))
	u := base64.RawURLEncoding.EncodeToString
	cases := []struct {
		name    string
		doc     string
		wantIDs []string
	}{
		{"pem=ES256", keySetDoc(entry(member("kid", "a"), member("alg", "ES256"), member("pem", ecPEM))), []string{"a"}},
		{"pem=RS256/alg=derived", keySetDoc(entry(member("kid", "a"), member("pem", rsaPEM))), []string{"a"}},
		{"pem=pkcs1", keySetDoc(entry(member("kid", "a"), member("pem", pkcs1))), []string{"a"}},
		{"secret=std", keySetDoc(entry(member("kid", "a"), member("secret", b64std(k.secret)))), []string{"a"}},
		{"secret=url-raw", keySetDoc(entry(member("kid", "a"), member("secret", u(k.secret2)))), []string{"a"}},
		{"jwk=EC", keySetDoc(entry(member("kid", "a"), member("kty", "EC"), member("crv", "P-256"), member("x", u(ecX)), member("y", u(ecY)), member("use", "sig"))), []string{"a"}},
		{"jwk=RSA", keySetDoc(entry(member("kid", "a"), member("kty", "RSA"), member("n", u(k.rsa.N.Bytes())), member("e", "AQAB"), member("alg", "RS256"))), []string{"a"}},
		{"jwk=oct", keySetDoc(entry(member("kid", "a"), member("kty", "oct"), member("k", u(k.secret)))), []string{"a"}},
		{"use=enc-skipped", keySetDoc(entry(member("kid", "a"), member("pem", ecPEM)), entry(member("kid", "b"), member("use", "enc"), member("kty", "RSA"))), []string{"a"}},
		{"keys=several", keySetDoc(entry(member("kid", "b"), member("pem", ecPEM)), entry(member("kid", "a"), member("pem", rsaPEM))), []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "keys.json", tc.doc)
			ks, err := LoadKeySet("", path)
			if err != nil {
				t.Fatalf("LoadKeySet: %v", err)
			}
			if got := ks.KeyIDs(); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("KeyIDs = %q, want %q", got, tc.wantIDs)
			}
		})
	}
}

// TestLoadKeySetJWKVerifies checks that JWK-loaded keys verify real tokens.
func TestLoadKeySetJWKVerifies(t *testing.T) {
	k := genKeys(t)
	u := base64.RawURLEncoding.EncodeToString
	doc := keySetDoc(
		entry(member("kid", "e"), member("kty", "EC"), member("crv", "P-256"), member("x", u(k.ec.X.FillBytes(make([]byte, 32)))), member("y", u(k.ec.Y.FillBytes(make([]byte, 32))))),
		entry(member("kid", "r"), member("kty", "RSA"), member("n", u(k.rsa.N.Bytes())), member("e", u(big.NewInt(int64(k.rsa.E)).Bytes()))),
		entry(member("kid", "o"), member("kty", "oct"), member("k", u(k.secret)+"==")),
	)
	ks, err := LoadKeySet("", writeFile(t, t.TempDir(), "jwks.json", doc))
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks)
	for kid, key := range map[string]any{"e": k.ec, "r": k.rsa, "o": k.secret} {
		if _, err := v.Verify(mustSign(t, mustSigner(t, kid, key), staffClaims())); err != nil {
			t.Errorf("kid %s: %v", kid, err)
		}
	}
}

func TestLoadKeySetErrors(t *testing.T) {
	k := genKeys(t)
	ecPEM := publicPEM(t, &k.ec.PublicKey)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}))
	cases := []struct {
		name string
		doc  string
		want error  // nil: any error
		msg  string // substring of the error
	}{
		{"doc=not-json", `{"keys":`, ErrBadKey, "not a key set"},
		{"doc=trailing", keySetDoc() + `{}`, ErrBadKey, "data after"},
		{"doc=empty", keySetDoc(), ErrNoKeys, ""},
		{"kid=missing", keySetDoc(entry(member("pem", ecPEM))), ErrBadKey, "empty key id"},
		{"kid=twice", keySetDoc(entry(member("kid", "a"), member("pem", ecPEM)), entry(member("kid", "a"), member("secret", b64std(k.secret)))), ErrBadKey, `key id "a"`},
		{"alg=unknown", keySetDoc(entry(member("kid", "a"), member("alg", "ES384"), member("pem", ecPEM))), ErrBadKey, "not supported"},
		{"alg=mismatch", keySetDoc(entry(member("kid", "a"), member("alg", "HS256"), member("pem", ecPEM))), ErrBadKey, "does not fit"},
		{"material=none", keySetDoc(entry(member("kid", "a"))), ErrBadKey, "exactly one"},
		{"material=two", keySetDoc(entry(member("kid", "a"), member("pem", ecPEM), member("secret", b64std(k.secret)))), ErrBadKey, "exactly one"},
		{"pem=garbage", keySetDoc(entry(member("kid", "a"), member("pem", "hello"))), ErrBadKey, "no PEM block"},
		{"pem=two-blocks", keySetDoc(entry(member("kid", "a"), member("pem", ecPEM+ecPEM))), ErrBadKey, "more than one"},
		{"pem=private", keySetDoc(entry(member("kid", "a"), member("pem", string(privatePEM(t, k.ec))))), ErrBadKey, "private key"},
		{"pem=certificate", keySetDoc(entry(member("kid", "a"), member("pem", cert))), ErrBadKey, "not a public key"},
		{"pem=bad-der", keySetDoc(entry(member("kid", "a"), member("pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}}))))), ErrBadKey, ""},
		{"rsa=1024", keySetDoc(entry(member("kid", "a"), member("pem", publicPEM(t, &small.PublicKey)))), ErrBadKey, "1024 bits"},
		{"ec=P-384", keySetDoc(entry(member("kid", "a"), member("pem", publicPEM(t, &p384.PublicKey)))), ErrBadKey, "P-384"},
		{"ed25519", keySetDoc(entry(member("kid", "a"), member("pem", ed25519PEM(t)))), ErrBadKey, "unsupported key type"},
		{"secret=short", keySetDoc(entry(member("kid", "a"), member("secret", b64std([]byte("short"))))), ErrBadKey, "at least 32"},
		{"secret=not-base64", keySetDoc(entry(member("kid", "a"), member("secret", "!!!"))), ErrBadKey, "not base64"},
		{"jwk=kty", keySetDoc(entry(member("kid", "a"), member("kty", "OKP"))), ErrBadKey, "kty"},
		{"jwk=EC-curve", keySetDoc(entry(member("kid", "a"), member("kty", "EC"), member("crv", "P-521"))), ErrBadKey, "P-256"},
		{"jwk=EC-short-x", keySetDoc(entry(member("kid", "a"), member("kty", "EC"), member("crv", "P-256"), member("x", "AQAB"), member("y", "AQAB"))), ErrBadKey, "32-byte"},
		{"jwk=EC-off-curve", keySetDoc(entry(member("kid", "a"), member("kty", "EC"), member("crv", "P-256"), member("x", strings.Repeat("A", 43)), member("y", strings.Repeat("A", 42)+"E"))), ErrBadKey, ""},
		{"jwk=RSA-bad-e", keySetDoc(entry(member("kid", "a"), member("kty", "RSA"), member("n", "AQAB"), member("e", "AQABAQAB"))), ErrBadKey, "at most 4"},
		{"jwk=RSA-even-e", keySetDoc(entry(member("kid", "a"), member("kty", "RSA"), member("n", base64.RawURLEncoding.EncodeToString(k.rsa.N.Bytes())), member("e", "AQAA"))), ErrBadKey, "exponent"},
		{"jwk=oct-bad", keySetDoc(entry(member("kid", "a"), member("kty", "oct"), member("k", "*"))), ErrBadKey, "base64url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "keys.json", tc.doc)
			ks, err := LoadKeySet("", path)
			if err == nil || ks != nil {
				t.Fatalf("LoadKeySet = %v, %v; want an error", ks, err)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func ed25519PEM(t *testing.T) string {
	t.Helper()
	// The PKIX DER of an all-zero Ed25519 public key: a valid key type that
	// this package does not accept.
	der := append([]byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}, make([]byte, 32)...)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestLoadKeySetSources(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeySet("", ""); !errors.Is(err, ErrNoKeys) {
		t.Errorf("no secret, no path: err = %v, want ErrNoKeys", err)
	}
	if _, err := LoadKeySet("too short", ""); !errors.Is(err, ErrBadKey) {
		t.Errorf("short JWT_SECRET: err = %v, want ErrBadKey", err)
	}
	if _, err := LoadKeySet("", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "cannot read keys") {
		t.Errorf("missing path: err = %v", err)
	}
	if _, err := LoadKeySet(string(genKeys(t).secret), dir); !errors.Is(err, ErrNoKeys) {
		t.Errorf("empty folder: err = %v, want ErrNoKeys", err)
	}
	big := writeFile(t, dir, "big.json", strings.Repeat(" ", maxKeyFileSize+1))
	if _, err := LoadKeySet("", big); !errors.Is(err, ErrBadKey) {
		t.Errorf("oversized file: err = %v, want ErrBadKey", err)
	}
	ks, err := LoadKeySet(string(genKeys(t).secret), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ks.KeyIDs(); !slices.Equal(got, []string{SecretKeyID}) {
		t.Errorf("KeyIDs = %q, want [dev]", got)
	}
	if err := ks.Reload(); err != nil {
		t.Errorf("Reload without path: %v", err)
	}
}

// TestLoadKeySetFolder loads a folder laid out as a Kubernetes secret volume.
func TestLoadKeySetFolder(t *testing.T) {
	k := genKeys(t)
	dir := t.TempDir()
	writeFile(t, dir, "2026-11.pem", publicPEM(t, &k.ec.PublicKey))
	writeFile(t, dir, "legacy.pem", publicPEM(t, &k.rsa.PublicKey))
	writeFile(t, dir, "erp.secret", b64std(k.secret)+"\n")
	writeFile(t, dir, "more.json", keySetDoc(entry(member("kid", "j"), member("pem", publicPEM(t, &k.ec2.PublicKey)))))
	writeFile(t, dir, "2026-11.key", string(privatePEM(t, k.ec))) // ignored
	writeFile(t, dir, "README", "ignored")
	writeFile(t, dir, ".hidden.pem", "ignored")
	if err := os.Mkdir(filepath.Join(dir, "..2026_11_05"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.pem"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.pem")); err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeySet("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ks.KeyIDs(), []string{"2026-11", "erp", "j", "legacy"}; !slices.Equal(got, want) {
		t.Errorf("KeyIDs = %q, want %q", got, want)
	}
	v := testVerifier(t, ks)
	for kid, key := range map[string]any{"2026-11": k.ec, "legacy": k.rsa, "erp": k.secret, "j": k.ec2} {
		if _, err := v.Verify(mustSign(t, mustSigner(t, kid, key), staffClaims())); err != nil {
			t.Errorf("kid %s: %v", kid, err)
		}
	}
}

func TestLoadKeySetFolderErrors(t *testing.T) {
	k := genKeys(t)
	cases := []struct {
		name, file, content, msg string
	}{
		{"pem=private", "a.pem", string(privatePEM(t, k.ec)), "private key"},
		{"secret=short", "a.secret", b64std([]byte("short")), "at least 32"},
		{"secret=garbage", "a.secret", "%%%", "not base64"},
		{"json=bad", "a.json", "{", "not a key set"},
		{"kid=twice", "dev.secret", b64std(k.secret), `key id "dev"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, tc.file, tc.content)
			_, err := LoadKeySet(string(k.secret2), dir)
			if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %v, want ErrBadKey containing %q", err, tc.msg)
			}
			if !strings.Contains(err.Error(), path) && tc.name != "kid=twice" {
				t.Errorf("error %v does not name the file %s", err, path)
			}
		})
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "locked.pem"), []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 { // root reads anything
		if _, err := LoadKeySet("", dir); err == nil {
			t.Error("unreadable file: no error")
		}
	}
}

// TestKeyRotation runs a rotation through a folder: two kids valid at once,
// the old one removed on Reload, its tokens then refused; a bad reload keeps
// the keys in force.
func TestKeyRotation(t *testing.T) {
	k := genKeys(t)
	dir := t.TempDir()
	oldPath := writeFile(t, dir, "old.pem", publicPEM(t, &k.rsa.PublicKey))
	ks, err := LoadKeySet("", dir)
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks)
	oldTok := mustSign(t, mustSigner(t, "old", k.rsa), staffClaims())
	newTok := mustSign(t, mustSigner(t, "new", k.ec), staffClaims())
	check := func(step string, tok string, want error) {
		t.Helper()
		if _, err := v.Verify(tok); !errors.Is(err, want) {
			t.Errorf("%s: Verify error = %v, want %v", step, err, want)
		}
	}
	check("before", oldTok, nil)
	check("before", newTok, ErrUnknownKey)

	writeFile(t, dir, "new.pem", publicPEM(t, &k.ec.PublicKey))
	if err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	check("both", oldTok, nil)
	check("both", newTok, nil)

	if err := os.Remove(oldPath); err != nil {
		t.Fatal(err)
	}
	if err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	check("after", oldTok, ErrUnknownKey)
	check("after", newTok, nil)

	bad := writeFile(t, dir, "broken.pem", "not a key")
	if err := ks.Reload(); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "keeping the current") {
		t.Errorf("bad reload: err = %v", err)
	}
	check("after bad reload", newTok, nil)
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "new.pem")); err != nil {
		t.Fatal(err)
	}
	if err := ks.Reload(); !errors.Is(err, ErrNoKeys) {
		t.Errorf("empty reload: err = %v, want ErrNoKeys", err)
	}
	check("after empty reload", newTok, nil)
	if got := ks.KeyIDs(); !slices.Equal(got, []string{"new"}) {
		t.Errorf("KeyIDs = %q, want [new]", got)
	}
}

// TestReloadFile rotates through a key set file rewritten in place.
func TestReloadFile(t *testing.T) {
	k := genKeys(t)
	dir := t.TempDir()
	a := entry(member("kid", "a"), member("pem", publicPEM(t, &k.ec.PublicKey)))
	b := entry(member("kid", "b"), member("secret", b64std(k.secret)))
	path := writeFile(t, dir, "keys.json", keySetDoc(a, b))
	ks, err := LoadKeySet(string(k.secret2), path)
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks)
	aTok := mustSign(t, mustSigner(t, "a", k.ec), staffClaims())
	bTok := mustSign(t, mustSigner(t, "b", k.secret), staffClaims())
	devTok := mustSign(t, mustSigner(t, SecretKeyID, k.secret2), staffClaims())
	for _, tok := range []string{aTok, bTok, devTok} {
		if _, err := v.Verify(tok); err != nil {
			t.Fatalf("before reload: %v", err)
		}
	}
	writeFile(t, dir, "keys.json", keySetDoc(b))
	if err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(aTok); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("removed key: err = %v, want ErrUnknownKey", err)
	}
	for _, tok := range []string{bTok, devTok} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("kept key: %v", err)
		}
	}
	// The env secret stays in every generation; a file may not reuse its id.
	writeFile(t, dir, "keys.json", keySetDoc(entry(member("kid", SecretKeyID), member("secret", b64std(k.secret)))))
	if err := ks.Reload(); !errors.Is(err, ErrBadKey) {
		t.Errorf("duplicate dev key: err = %v, want ErrBadKey", err)
	}
}

// TestReloadConcurrent verifies tokens while keys are reloaded, for the race
// detector: every Verify sees a whole generation.
func TestReloadConcurrent(t *testing.T) {
	k := genKeys(t)
	dir := t.TempDir()
	writeFile(t, dir, "a.secret", b64std(k.secret))
	ks, err := LoadKeySet("", dir)
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks)
	tok := mustSign(t, mustSigner(t, "a", k.secret), staffClaims())
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for range 300 {
				if _, err := v.Verify(tok); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			if i%2 == 0 {
				writeFile(t, dir, "b.secret", b64std(k.secret2))
			} else if err := os.Remove(filepath.Join(dir, "b.secret")); err != nil {
				errs <- err
				return
			}
			if err := ks.Reload(); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestKidlessNeedsOneKey checks the rule for tokens without kid.
func TestKidlessNeedsOneKey(t *testing.T) {
	k := genKeys(t)
	ks, err := LoadKeySet(string(k.secret), "")
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks)
	tok := rawToken(t, jwt.SigningMethodHS256, k.secret, nil, mapClaims())
	c, err := v.Verify(tok)
	if err != nil || c.KeyID != SecretKeyID {
		t.Fatalf("only key: claims %+v, err %v; want KeyID dev", c, err)
	}
	es := rawToken(t, jwt.SigningMethodES256, k.ec, nil, mapClaims())
	if _, err := v.Verify(es); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("no ES256 key: err = %v, want ErrUnknownKey", err)
	}
}
