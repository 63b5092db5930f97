package auth

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// with returns mapClaims() changed by f.
func with(f func(jwt.MapClaims)) jwt.MapClaims {
	c := mapClaims()
	f(c)
	return c
}

// hdr is a header with kid, for rawToken.
func hdr(kid string) map[string]any { return map[string]any{"kid": kid} }

func TestVerifyAccepts(t *testing.T) {
	k := genKeys(t)
	v := testVerifier(t, testKeySet(t))
	staff := staffClaims()
	wantStaff := func(kid string) Claims {
		c := staff
		c.KeyID = kid
		return c
	}
	guest := Claims{
		Subject: "stay-77", Role: Guest, Property: "hotel-berlin-01", Room: "412",
		Expires: testNow.Add(time.Hour), IssuedAt: testNow.Add(-time.Minute),
	}
	wantGuest := func(kid string, f func(*Claims)) Claims {
		c := guest
		c.KeyID = kid
		if f != nil {
			f(&c)
		}
		return c
	}
	exp := itoa(testNow.Unix() + 60)
	cases := []struct {
		name  string
		token string
		want  Claims
	}{
		{"alg=HS256", mustSign(t, mustSigner(t, "hs", k.secret), staff), wantStaff("hs")},
		{"alg=ES256", mustSign(t, mustSigner(t, "ec", k.ec), staff), wantStaff("ec")},
		{"alg=RS256", mustSign(t, mustSigner(t, "rsa", k.rsa), staff), wantStaff("rsa")},
		{"key=JWT_SECRET", mustSign(t, mustSigner(t, SecretKeyID, k.secret2), staff), wantStaff(SecretKeyID)},
		{"role=guest", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), mapClaims()), wantGuest("hs", nil)},
		{"kid=absent/alg=ES256", rawToken(t, jwt.SigningMethodES256, k.ec, nil, mapClaims()), wantGuest("ec", nil)},
		{"kid=absent/alg=RS256", rawToken(t, jwt.SigningMethodRS256, k.rsa, nil, mapClaims()), wantGuest("rsa", nil)},
		{"kid=empty", rawToken(t, jwt.SigningMethodES256, k.ec, hdr(""), mapClaims()), wantGuest("ec", nil)},
		{"kid=null", rawToken(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": jsonNull{}}, mapClaims()), wantGuest("ec", nil)},
		{"header=extra", rawToken(t, jwt.SigningMethodHS256, k.secret, map[string]any{"kid": "hs", "typ": "at+jwt", "jku": "https://evil.example/keys"}, mapClaims()), wantGuest("hs", nil)},
		// jwt.NumericDate keeps whole seconds (jwt.TimePrecision).
		{"exp=fraction", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), with(func(c jwt.MapClaims) {
			c["exp"] = float64(testNow.Unix()) + 60.5
		})), wantGuest("hs", func(c *Claims) { c.Expires = testNow.Add(60 * time.Second) })},
		// json.Number, which jwt.NumericDate decodes, takes a quoted number.
		{"exp=quoted-number", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), with(func(c jwt.MapClaims) {
			c["exp"] = itoa(testNow.Unix() + 60)
		})), wantGuest("hs", func(c *Claims) { c.Expires = testNow.Add(time.Minute) })},
		{"exp=in-leeway", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), with(func(c jwt.MapClaims) {
			c["exp"] = testNow.Add(-29 * time.Second).Unix()
		})), wantGuest("hs", func(c *Claims) { c.Expires = testNow.Add(-29 * time.Second) })},
		{"nbf=in-leeway", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), with(func(c jwt.MapClaims) {
			c["nbf"] = testNow.Add(29 * time.Second).Unix()
			c["iat"] = testNow.Add(29 * time.Second).Unix()
		})), wantGuest("hs", func(c *Claims) { c.IssuedAt = testNow.Add(29 * time.Second) })},
		{"claims=ignored", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), with(func(c jwt.MapClaims) {
			c["aud"] = []string{"bellhop"}
			c["iss"] = "pms"
			c["x"] = map[string]any{"deep": []any{1.5, true, nil, "s", map[string]any{}}}
			c["y"] = json.RawMessage(strings.Repeat("[", 500) + strings.Repeat("]", 500))
			c["dept"] = nil
		})), wantGuest("hs", nil)},
		{"header=x5c-ignored", rawToken(t, jwt.SigningMethodHS256, k.secret, map[string]any{"kid": "hs", "x5c": []string{strings.Repeat("A", 2000)}}, mapClaims()), wantGuest("hs", nil)},
		// encoding/json rules: the last of a repeated member wins, names match
		// case-insensitively, invalid UTF-8 becomes U+FFFD.
		{"json=repeated-last-wins", signJSON(t, `{"sub":"s","role":"guest","room":"1","property":"p","exp":`+exp+`,"r\u006fle":"admin"}`),
			Claims{Subject: "s", Role: Admin, Property: "p", Room: "1", Expires: testNow.Add(time.Minute), KeyID: "hs"}},
		{"json=case-insensitive", signJSON(t, `{"SUB":"s","Role":"admin","property":"p","exp":`+exp+`}`),
			Claims{Subject: "s", Role: Admin, Property: "p", Expires: testNow.Add(time.Minute), KeyID: "hs"}},
		{"json=invalid-utf8", signSegments(k.secret, b64url("{\"alg\":\"HS256\",\"kid\":\"hs\",\"x\":\"\xff\"}"),
			b64url("{\"sub\":\"\xc3\",\"role\":\"admin\",\"property\":\"p\",\"exp\":"+exp+"}")),
			Claims{Subject: "\ufffd", Role: Admin, Property: "p", Expires: testNow.Add(time.Minute), KeyID: "hs"}},
		{"role=service", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), jwt.MapClaims{
			"sub": "erp", "role": "service", "property": "p1", "exp": testNow.Add(24 * time.Hour).Unix(), "jti": "t-1",
		}), Claims{Subject: "erp", Role: Service, Property: "p1", Expires: testNow.Add(24 * time.Hour), ID: "t-1", KeyID: "hs"}},
		{"json=escapes", signJSON(t, `{"sub":"st\u00e4y\ud83d\ude00\n","r\u006fle":"gu\u0065st","property":"p\/1",`+
			`"\u0070\u0072\u006f\u0070\u0065\u0072\u0074\u0079\u0078":"long escaped name, not property",`+
			`"room":"\"4\\12\"","floors":[ -2 , 0 ],"exp":`+itoa(testNow.Unix()+60)+` }`),
			Claims{Subject: "stäy😀\n", Role: Guest, Property: "p/1", Room: `"4\12"`, Floors: []int{-2, 0},
				Expires: testNow.Add(time.Minute), KeyID: "hs"}},
		{"floors=empty", signJSON(t, `{"sub":"s","role":"admin","property":"p","floors":[],"exp":`+itoa(testNow.Unix()+60)+`}`),
			Claims{Subject: "s", Role: Admin, Property: "p", Floors: []int{}, Expires: testNow.Add(time.Minute), KeyID: "hs"}},
		{"shift", signJSON(t, `{"sub":"hk","role":"housekeeping","property":"p","shift":"morning","exp":`+itoa(testNow.Unix()+60)+`}`),
			Claims{Subject: "hk", Role: Housekeeping, Property: "p", Shift: "morning", Expires: testNow.Add(time.Minute), KeyID: "hs"}},
		{"alg=last-wins", signSegments(k.secret, b64url(`{"alg":"none","alg":"HS256","kid":"hs"}`), b64url(`{"sub":"s","role":"admin","property":"p","exp":`+exp+`}`)),
			Claims{Subject: "s", Role: Admin, Property: "p", Expires: testNow.Add(time.Minute), KeyID: "hs"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(tc.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("claims\ngot  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// jsonNull marshals as JSON null.
type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVerifyRejects(t *testing.T) {
	k := genKeys(t)
	v := testVerifier(t, testKeySet(t))
	hs := func(c jwt.MapClaims) string { return rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), c) }
	mod := func(f func(jwt.MapClaims)) string { return hs(with(f)) }
	good := hs(mapClaims())
	head, payload, sig, _ := splitToken(good)
	otherPayload := b64url(`{"sub":"stay-77","role":"admin","property":"hotel-berlin-01","exp":` + itoa(testNow.Unix()+60) + `}`)
	rsaPEM, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, mapClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	exp := itoa(testNow.Unix() + 60)
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"token=empty", "", ErrNoToken},
		{"token=one-segment", "abc", ErrMalformed},
		{"token=two-segments", head + "." + payload, ErrMalformed},
		{"token=four-segments", good + ".x", ErrMalformed},
		{"token=too-long", good + strings.Repeat("A", MaxTokenSize), ErrMalformed},
		{"header=bad-base64", "e!." + payload + "." + sig, ErrMalformed},
		{"header=padded", head + "=." + payload + "." + sig, ErrMalformed},
		{"header=newline", head[:4] + "\n" + head[4:] + "." + payload + "." + sig, ErrMalformed},
		{"header=array", signSegments(k.secret, b64url(`["HS256"]`), payload), ErrMalformed},
		{"header=not-json", signSegments(k.secret, b64url(`{"alg":"HS256",}`), payload), ErrMalformed},
		{"header=crit", rawToken(t, jwt.SigningMethodHS256, k.secret, map[string]any{"kid": "hs", "crit": []string{"exp"}}, mapClaims()), ErrMalformed},
		{"header=crit-null", signSegments(k.secret, b64url(`{"alg":"HS256","kid":"hs","crit":null}`), payload), ErrMalformed},
		{"header=alg-last-wins", signSegments(k.secret, b64url(`{"alg":"HS256","alg":"none","kid":"hs"}`), payload), ErrAlgorithm},
		{"header=kid-number", signSegments(k.secret, b64url(`{"alg":"HS256","kid":7}`), payload), ErrMalformed},
		{"alg=none", none, ErrAlgorithm},
		{"alg=absent", signSegments(k.secret, b64url(`{"kid":"hs"}`), payload), ErrAlgorithm},
		{"alg=null", signSegments(k.secret, b64url(`{"alg":null,"kid":"hs"}`), payload), ErrAlgorithm},
		{"alg=lowercase", signSegments(k.secret, b64url(`{"alg":"hs256","kid":"hs"}`), payload), ErrAlgorithm},
		{"alg=HS512", rawToken(t, jwt.SigningMethodHS512, k.secret, hdr("hs"), mapClaims()), ErrAlgorithm},
		{"alg=PS256", rawToken(t, jwt.SigningMethodPS256, k.rsa, hdr("rsa"), mapClaims()), ErrAlgorithm},
		{"alg=HS256/key=rsa-public-der", rawToken(t, jwt.SigningMethodHS256, rsaPEM, hdr("rsa"), mapClaims()), ErrAlgorithm},
		{"alg=HS256/key=rsa-public-pem", rawToken(t, jwt.SigningMethodHS256, []byte(publicPEM(t, &k.rsa.PublicKey)), hdr("rsa"), mapClaims()), ErrAlgorithm},
		{"alg=HS256/key=ec-public-pem", rawToken(t, jwt.SigningMethodHS256, []byte(publicPEM(t, &k.ec.PublicKey)), hdr("ec"), mapClaims()), ErrAlgorithm},
		{"alg=ES256/kid=hs", rawToken(t, jwt.SigningMethodES256, k.ec, hdr("hs"), mapClaims()), ErrAlgorithm},
		{"kid=unknown", rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("2025-01"), mapClaims()), ErrUnknownKey},
		{"kid=absent/alg=HS256-ambiguous", rawToken(t, jwt.SigningMethodHS256, k.secret, nil, mapClaims()), ErrUnknownKey},
		{"sig=other-secret", rawToken(t, jwt.SigningMethodHS256, k.secret2, hdr("hs"), mapClaims()), ErrSignature},
		{"sig=other-ec-key", rawToken(t, jwt.SigningMethodES256, k.ec2, hdr("ec"), mapClaims()), ErrSignature},
		{"sig=payload-swapped", head + "." + otherPayload + "." + sig, ErrSignature},
		{"sig=rsa-payload-swapped", swapPayload(rawToken(t, jwt.SigningMethodRS256, k.rsa, hdr("rsa"), mapClaims()), otherPayload), ErrSignature},
		{"sig=empty", head + "." + payload + ".", ErrSignature},
		{"sig=truncated", good[:len(good)-3], ErrSignature},
		{"sig=bad-base64", head + "." + payload + "." + sig[:len(sig)-1] + "*", ErrMalformed},
		{"sig=newline", head + "." + payload + "." + sig[:8] + "\r\n" + sig[8:], ErrMalformed},
		{"sig=non-canonical", head + "." + payload + "." + sig[:len(sig)-1] + flipLowBit(sig[len(sig)-1:]), ErrMalformed},
		{"sig=length-1-mod-4", head + "." + payload + "." + sig + "AA", ErrMalformed},
		{"sig=too-long", head + "." + payload + "." + strings.Repeat("A", 1400), ErrSignature},
		{"payload=bad-base64", signSegments(k.secret, head, "e30*"), ErrMalformed},
		{"payload=not-json", signJSON(t, `{"sub":`), ErrMalformed},
		{"payload=trailing", signJSON(t, `{"sub":"s"} {}`), ErrMalformed},
		{"payload=array", signJSON(t, `[]`), ErrMalformed},
		{"payload=wrong-type/sig=bad", head + "." + b64url(`{"sub":42}`) + "." + sig, ErrMalformed},
		{"exp=past", mod(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() }), ErrExpired},
		{"exp=past-leeway", mod(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-DefaultLeeway).Unix() }), ErrExpired},
		{"nbf=future", mod(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(31 * time.Second).Unix() }), ErrNotYetValid},
		{"iat=future", mod(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Hour).Unix() }), ErrNotYetValid},
		{"exp=absent", mod(func(c jwt.MapClaims) { delete(c, "exp") }), ErrMissingClaim},
		{"exp=null", mod(func(c jwt.MapClaims) { c["exp"] = nil }), ErrMissingClaim},
		{"sub=absent", mod(func(c jwt.MapClaims) { delete(c, "sub") }), ErrMissingClaim},
		{"property=absent", mod(func(c jwt.MapClaims) { delete(c, "property") }), ErrMissingClaim},
		{"property=empty", mod(func(c jwt.MapClaims) { c["property"] = "" }), ErrMissingClaim},
		{"property=null", mod(func(c jwt.MapClaims) { c["property"] = nil }), ErrMissingClaim},
		{"room=absent/role=guest", mod(func(c jwt.MapClaims) { delete(c, "room") }), ErrMissingClaim},
		{"role=absent", mod(func(c jwt.MapClaims) { delete(c, "role") }), ErrMissingClaim},
		{"role=empty", mod(func(c jwt.MapClaims) { c["role"] = "" }), ErrMissingClaim},
		{"role=unknown", mod(func(c jwt.MapClaims) { c["role"] = "superuser" }), ErrUnknownRole},
		{"role=uppercase", mod(func(c jwt.MapClaims) { c["role"] = "Admin" }), ErrUnknownRole},
		{"role=long", mod(func(c jwt.MapClaims) { c["role"] = strings.Repeat("a", 100) }), ErrUnknownRole},
		{"role=number", mod(func(c jwt.MapClaims) { c["role"] = 1 }), ErrMalformed},
		{"sub=number", mod(func(c jwt.MapClaims) { c["sub"] = 42 }), ErrMalformed},
		{"sub=too-long", mod(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("s", MaxClaimSize+1) }), ErrInvalidClaim},
		{"room=too-long-escaped", mod(func(c jwt.MapClaims) { c["room"] = strings.Repeat("\x01", MaxClaimSize+1) }), ErrInvalidClaim},
		{"floors=string", mod(func(c jwt.MapClaims) { c["floors"] = "3,4" }), ErrMalformed},
		{"floors=fraction", mod(func(c jwt.MapClaims) { c["floors"] = []any{3.5} }), ErrMalformed},
		{"floors=range", mod(func(c jwt.MapClaims) { c["floors"] = []int{1000} }), ErrInvalidClaim},
		{"floors=nested", mod(func(c jwt.MapClaims) { c["floors"] = []any{[]int{3}} }), ErrMalformed},
		{"floors=too-many", mod(func(c jwt.MapClaims) { c["floors"] = make([]int, MaxFloors+1) }), ErrInvalidClaim},
		{"exp=string", mod(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), ErrMalformed},
		{"exp=negative", mod(func(c jwt.MapClaims) { c["exp"] = -1 }), ErrInvalidClaim},
		{"exp=year-10000", mod(func(c jwt.MapClaims) { c["exp"] = 1e20 }), ErrInvalidClaim},
		{"exp=overflow", signJSON(t, `{"sub":"s","role":"admin","property":"p","exp":1e400}`), ErrMalformed},
		{"exp=bool", mod(func(c jwt.MapClaims) { c["exp"] = true }), ErrMalformed},
		{"nbf=year-10000", mod(func(c jwt.MapClaims) { c["nbf"] = 1e20 }), ErrInvalidClaim},
		{"iat=negative", mod(func(c jwt.MapClaims) { c["iat"] = -5 }), ErrInvalidClaim},
		{"aud=number", mod(func(c jwt.MapClaims) { c["aud"] = 7 }), ErrMalformed},
		{"iss=number", mod(func(c jwt.MapClaims) { c["iss"] = 7 }), ErrMalformed},
		{"exp=last-null", signJSON(t, `{"sub":"s","role":"admin","property":"p","exp":`+exp+`,"exp":null}`), ErrMissingClaim},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(got, Claims{}) {
				t.Errorf("claims on error = %#v, want zero", got)
			}
			if !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// flipLowBit returns the base64url character c with its lowest bit flipped.
func flipLowBit(c string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.Index(alphabet, c)
	return alphabet[i^1 : i^1+1]
}

// swapPayload replaces the payload segment of token.
func swapPayload(token, payload string) string {
	h, _, s, _ := splitToken(token)
	return h + "." + payload + "." + s
}

// TestVerifyErrorsDistinct checks that the rejection sentinels are told apart:
// a server maps each to its own code.
func TestVerifyErrorsDistinct(t *testing.T) {
	all := []error{ErrNoToken, ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrNotYetValid, ErrClaims, ErrNoKeys, ErrBadKey}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = true", a, b)
			}
		}
	}
	for _, sub := range []error{ErrMissingClaim, ErrUnknownRole, ErrInvalidClaim} {
		if !errors.Is(sub, ErrClaims) {
			t.Errorf("%v does not wrap ErrClaims", sub)
		}
	}
}

func TestVerifyLeeway(t *testing.T) {
	k := genKeys(t)
	ks := testKeySet(t)
	s := mustSigner(t, "hs", k.secret)
	at := func(d time.Duration) func() time.Time { return func() time.Time { return testNow.Add(d) } }
	c := staffClaims()
	c.IssuedAt = time.Time{}
	tok := mustSign(t, s, c) // expires at testNow+8h
	nbfTok := rawToken(t, jwt.SigningMethodHS256, k.secret, hdr("hs"), with(func(m jwt.MapClaims) {
		m["nbf"] = testNow.Unix()
	}))
	cases := []struct {
		name   string
		leeway time.Duration
		now    func() time.Time
		token  string
		want   error
	}{
		{"leeway=default/skew=29s", 0, at(8*time.Hour + 29*time.Second), tok, nil},
		{"leeway=default/skew=30s", 0, at(8*time.Hour + 30*time.Second), tok, ErrExpired},
		{"leeway=none/skew=0", -1, at(8 * time.Hour), tok, ErrExpired},
		{"leeway=none/skew=-1s", -1, at(8*time.Hour - time.Second), tok, nil},
		{"leeway=2m/skew=119s", 2 * time.Minute, at(8*time.Hour + 119*time.Second), tok, nil},
		{"leeway=2m/nbf=early-119s", 2 * time.Minute, at(-119 * time.Second), nbfTok, nil},
		{"leeway=2m/nbf=early-121s", 2 * time.Minute, at(-121 * time.Second), nbfTok, ErrNotYetValid},
		{"leeway=none/nbf=early-1s", -1, at(-time.Second), nbfTok, ErrNotYetValid},
		{"leeway=none/nbf=now", -1, at(0), nbfTok, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(ks, Config{Leeway: tc.leeway, Now: tc.now})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewVerifierConfig(t *testing.T) {
	ks := testKeySet(t)
	if _, err := NewVerifier(nil, Config{}); !errors.Is(err, ErrNoKeys) {
		t.Errorf("nil key set: err = %v, want ErrNoKeys", err)
	}
	if _, err := NewVerifier(ks, Config{Leeway: MaxLeeway + 1}); err == nil || !strings.Contains(err.Error(), "leeway") {
		t.Errorf("leeway over max: err = %v, want a leeway error", err)
	}
	v, err := NewVerifier(ks, Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The defaults are the real clock and DefaultLeeway.
	s := mustSigner(t, "hs", genKeys(t).secret)
	for _, tc := range []struct {
		exp  time.Duration // from now
		want error
	}{
		{time.Hour, nil},
		{-DefaultLeeway / 3, nil},
		{-DefaultLeeway - 5*time.Second, ErrExpired},
	} {
		c := staffClaims()
		c.Expires, c.IssuedAt = time.Now().Add(tc.exp), time.Now().Add(-time.Hour)
		if _, err := v.Verify(mustSign(t, s, c)); !errors.Is(err, tc.want) {
			t.Errorf("exp now%+v: Verify error = %v, want %v", tc.exp, err, tc.want)
		}
	}
}

// TestVerifyErrorNamesKid checks that an unknown kid appears in the error,
// quoted and truncated, for the operator's logs.
func TestVerifyErrorNamesKid(t *testing.T) {
	k := genKeys(t)
	v := testVerifier(t, testKeySet(t))
	long := strings.Repeat("k", 100) + "\n"
	for _, kid := range []string{"2025-01", long} {
		_, err := v.Verify(rawToken(t, jwt.SigningMethodHS256, k.secret, hdr(kid), mapClaims()))
		want := `"` + kid + `"`
		if len(kid) > 64 {
			want = `"` + kid[:64] + `"`
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("kid %q: error %v does not contain %s", kid, err, want)
		}
	}
}
