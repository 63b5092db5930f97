package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures Verify per algorithm, with a bare
// jwt.Parser.ParseWithClaims of the same HS256 token, same options and a
// fixed key as the baseline (impl=jwt-bare): the difference is what Verify
// adds (alphabet check, key lookup, claim conversion and validation).
func BenchmarkVerify(b *testing.B) {
	k := genKeys(b)
	ks := testKeySet(b)
	v := testVerifier(b, ks)
	c := staffClaims()
	for _, tc := range []struct {
		alg string
		s   *Signer
	}{
		{"HS256", mustSigner(b, "hs", k.secret)},
		{"ES256", mustSigner(b, "ec", k.ec)},
		{"RS256", mustSigner(b, "rsa", k.rsa)},
	} {
		tok := mustSign(b, tc.s, c)
		b.Run("alg="+tc.alg+"/impl=bellhop", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tok)))
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	tok := mustSign(b, mustSigner(b, "hs", k.secret), c)
	p := jwt.NewParser(jwt.WithValidMethods(validMethods), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(DefaultLeeway), jwt.WithTimeFunc(func() time.Time { return testNow }), jwt.WithStrictDecoding())
	keyFunc := func(*jwt.Token) (any, error) { return k.secret, nil }
	b.Run("alg=HS256/impl=jwt-bare", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tok)))
		for b.Loop() {
			var sc signedClaims
			if _, err := p.ParseWithClaims(tok, &sc, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyParallel runs HS256 verification on every core against one
// shared KeySet, as the server's workers do.
func BenchmarkVerifyParallel(b *testing.B) {
	v := testVerifier(b, testKeySet(b))
	tok := mustSign(b, mustSigner(b, "hs", genKeys(b).secret), staffClaims())
	b.Run("alg=HS256", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tok)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkVerifyReject measures the cost of refusing bad tokens, which an
// attacker can send at will.
func BenchmarkVerifyReject(b *testing.B) {
	k := genKeys(b)
	v := testVerifier(b, testKeySet(b))
	good := mustSign(b, mustSigner(b, "hs", k.secret), staffClaims())
	h, p, _, _ := splitToken(good)
	expired := staffClaims()
	expired.Expires = testNow.Add(-time.Hour)
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"garbage", "not a token", ErrMalformed},
		{"alg=none", "eyJhbGciOiJub25lIn0." + p + ".", ErrAlgorithm},
		{"kid=unknown", rawToken(b, jwt.SigningMethodHS256, k.secret, hdr("nope"), mapClaims()), ErrUnknownKey},
		{"signature=bad", h + "." + p + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ErrSignature},
		{"exp=past", mustSign(b, mustSigner(b, "hs", k.secret), expired), ErrExpired},
	} {
		b.Run("case="+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.token)))
			for b.Loop() {
				if _, err := v.Verify(tc.token); !errors.Is(err, tc.want) {
					b.Fatal(err)
				}
			}
		})
	}
}
