package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 5, 9, 30, 0, 0, time.UTC)

// testKeys are generated once per test binary: RSA generation is slow.
type testKeys struct {
	ec, ec2 *ecdsa.PrivateKey
	rsa     *rsa.PrivateKey
	secret  []byte
	secret2 []byte
}

var (
	keysOnce sync.Once
	keysVal  testKeys
)

func genKeys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		if keysVal.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if keysVal.ec2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if keysVal.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		keysVal.secret = []byte("0123456789abcdef0123456789abcdef")
		keysVal.secret2 = []byte("fedcba9876543210fedcba9876543210-second")
	})
	return keysVal
}

// publicPEM encodes the PKIX public key of priv.
func publicPEM(tb testing.TB, pub any) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// privatePEM encodes priv as PKCS #8.
func privatePEM(tb testing.TB, priv any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// staffClaims are valid claims of a housekeeper at testNow.
func staffClaims() Claims {
	return Claims{
		Subject:  "staff-1042",
		Role:     Housekeeping,
		Property: "hotel-berlin-01",
		Dept:     "housekeeping",
		Floors:   []int{3, 4},
		Expires:  testNow.Add(8 * time.Hour),
		IssuedAt: testNow.Add(-time.Minute),
	}
}

// mustSigner builds a signer or fails the test.
func mustSigner(tb testing.TB, kid string, key any) *Signer {
	tb.Helper()
	s, err := NewSigner(kid, key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// mustSign signs c or fails the test.
func mustSign(tb testing.TB, s *Signer, c Claims) string {
	tb.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// rawToken signs arbitrary claims and header members with jwt directly, to
// build tokens that Signer refuses to make. A nil kid leaves kid out.
func rawToken(tb testing.TB, m jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	tb.Helper()
	t := jwt.NewWithClaims(m, claims)
	for k, v := range header {
		if v == nil {
			delete(t.Header, k)
			continue
		}
		t.Header[k] = v
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// mapClaims are valid claims of a guest at testNow, as a map to modify.
func mapClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub":      "stay-77",
		"role":     "guest",
		"property": "hotel-berlin-01",
		"room":     "412",
		"exp":      testNow.Add(time.Hour).Unix(),
		"iat":      testNow.Add(-time.Minute).Unix(),
	}
}

// testKeySet writes a key set file with ES256 "ec", RS256 "rsa" and HS256
// "hs" keys and loads it, with JWT_SECRET = keys.secret2 as "dev".
func testKeySet(tb testing.TB) *KeySet {
	tb.Helper()
	k := genKeys(tb)
	doc := `{"keys":[` +
		`{"kid":"ec","alg":"ES256","pem":` + jsonString(publicPEM(tb, &k.ec.PublicKey)) + `},` +
		`{"kid":"rsa","pem":` + jsonString(publicPEM(tb, &k.rsa.PublicKey)) + `},` +
		`{"kid":"hs","alg":"HS256","secret":"` + b64std(k.secret) + `"}]}`
	path := writeFile(tb, tb.TempDir(), "keys.json", doc)
	ks, err := LoadKeySet(string(k.secret2), path)
	if err != nil {
		tb.Fatal(err)
	}
	return ks
}

func jsonString(s string) string {
	b := []byte{'"'}
	for _, c := range []byte(s) {
		switch c {
		case '\n':
			b = append(b, '\\', 'n')
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

func testVerifier(tb testing.TB, ks *KeySet) *Verifier {
	tb.Helper()
	v, err := NewVerifier(ks, Config{Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// b64url encodes a segment.
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signSegments signs already encoded header and payload segments with HS256,
// to build tokens with exact bytes that jwt would never produce.
func signSegments(secret []byte, head, payload string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(head + "." + payload))
	return head + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// signJSON signs the exact JSON header and payload with HS256 under kid "hs".
func signJSON(tb testing.TB, payload string) string {
	tb.Helper()
	return signSegments(genKeys(tb).secret, b64url(`{"alg":"HS256","kid":"hs"}`), b64url(payload))
}

// splitToken cuts a token into its three segments.
func splitToken(token string) (head, payload, sig string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}
