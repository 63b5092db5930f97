package auth

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyErrors are the sentinels every Verify error must wrap one of.
var verifyErrors = []error{ErrNoToken, ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrNotYetValid, ErrClaims}

// checkVerifyResult holds for any Verify outcome: an error wraps exactly one
// sentinel and comes with zero claims; success comes with valid claims of a
// key in the set.
func checkVerifyResult(t *testing.T, ks *KeySet, c Claims, err error) {
	t.Helper()
	if err != nil {
		n := 0
		for _, s := range verifyErrors {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %v wraps %d sentinels, want 1", err, n)
		}
		if c.Role != 0 || c.Subject != "" || c.KeyID != "" {
			t.Fatalf("claims %+v returned with error %v", c, err)
		}
		return
	}
	if verr := c.validate(); verr != nil {
		t.Fatalf("accepted claims %+v fail validation: %v", c, verr)
	}
	if !slices.Contains(ks.KeyIDs(), c.KeyID) {
		t.Fatalf("KeyID %q not in the key set", c.KeyID)
	}
}

// FuzzVerify feeds arbitrary strings to Verify: it must never panic and must
// answer with exactly one sentinel error or with valid claims.
func FuzzVerify(f *testing.F) {
	k := genKeys(f)
	ks := testKeySet(f)
	v := testVerifier(f, ks)
	f.Add(mustSign(f, mustSigner(f, "hs", k.secret), staffClaims()))
	f.Add(mustSign(f, mustSigner(f, "ec", k.ec), staffClaims()))
	f.Add(mustSign(f, mustSigner(f, "rsa", k.rsa), staffClaims()))
	f.Add(rawToken(f, jwt.SigningMethodHS256, k.secret, nil, mapClaims()))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		checkVerifyResult(t, ks, c, err)
		c2, err2 := v.Verify(token)
		if (err == nil) != (err2 == nil) || c.Subject != c2.Subject {
			t.Fatalf("Verify is not deterministic: %v then %v", err, err2)
		}
	})
}

// FuzzVerifyClaims signs arbitrary payloads with a valid HS256 header, so
// that claim decoding and validation are reached, and checks what Verify
// accepts against encoding/json decoding the payload into a plain mirror of
// the claims.
func FuzzVerifyClaims(f *testing.F) {
	k := genKeys(f)
	ks := testKeySet(f)
	v := testVerifier(f, ks)
	exp := itoa(testNow.Unix() + 60)
	f.Add([]byte(`{"sub":"s","role":"guest","room":"1","property":"p","exp":` + exp + `}`))
	f.Add([]byte(`{"sub":"s","r\u006fle":"admin","property":"p","floors":[1,-2],"dept":"d","jti":"j","iat":1,"nbf":1,"exp":` + exp + `.5}`))
	f.Add([]byte(`{"sub":"\ud83d\ude00","role":"service","property":"p","x":{"y":[true,null]},"exp":` + exp + `}`))
	f.Add([]byte(`{"SUB":"s","role":"admin","Role":"service","property":"p","exp":"` + exp + `"}`))
	f.Add([]byte(`{"sub":1}`))
	f.Add([]byte(`{"exp":1e400}`))
	f.Add([]byte(`[]`))
	head := b64url(`{"alg":"HS256","kid":"hs"}`)
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := v.Verify(signSegments(k.secret, head, b64url(string(payload))))
		checkVerifyResult(t, ks, c, err)
		if err != nil {
			return
		}
		var m mirrorClaims
		if jerr := json.Unmarshal(payload, &m); jerr != nil {
			t.Fatalf("accepted %q, encoding/json says %v", payload, jerr)
		}
		checkMirror(t, payload, c, &m)
	})
}

// mirrorClaims decodes a payload as plainly as encoding/json can, for
// comparison with what Verify returns.
type mirrorClaims struct {
	Sub      string      `json:"sub"`
	Role     string      `json:"role"`
	Property string      `json:"property"`
	Dept     string      `json:"dept"`
	Room     string      `json:"room"`
	Jti      string      `json:"jti"`
	Floors   []int       `json:"floors"`
	Exp      json.Number `json:"exp"`
}

// checkMirror compares accepted claims with the mirror's decoding.
func checkMirror(t *testing.T, payload []byte, c Claims, m *mirrorClaims) {
	t.Helper()
	got := []string{c.Subject, c.Role.String(), c.Property, c.Dept, c.Room, c.ID}
	want := []string{m.Sub, m.Role, m.Property, m.Dept, m.Room, m.Jti}
	if !slices.Equal(got, want) || !slices.Equal(c.Floors, m.Floors) {
		t.Fatalf("%q: claims %q %v, encoding/json says %q %v", payload, got, c.Floors, want, m.Floors)
	}
	exp, err := m.Exp.Float64()
	if err != nil || c.Expires.Unix() != int64(exp) || c.Expires.Location() != time.UTC {
		t.Fatalf("%q: exp %v, encoding/json says %v (%v)", payload, c.Expires, m.Exp, err)
	}
}
