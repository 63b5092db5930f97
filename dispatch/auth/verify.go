package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verification limits and defaults.
const (
	// MaxTokenSize is the longest token Verify reads, in bytes. An RS256
	// token with 4096-bit key and every claim at its limit stays far below.
	MaxTokenSize = 8 << 10

	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat when
	// Config.Leeway is zero.
	DefaultLeeway = 30 * time.Second

	// MaxLeeway is the largest Config.Leeway accepted.
	MaxLeeway = 5 * time.Minute
)

// validMethods are the JOSE algorithms the parser lets through to the
// Keyfunc, which then requires the one of the key the token names.
var validMethods = []string{algHS256.String(), algES256.String(), algRS256.String()}

// Config configures a Verifier. The zero value is ready to use.
type Config struct {
	// Leeway is the clock skew tolerated on exp, nbf and iat. Zero means
	// DefaultLeeway; a negative value means none. At most MaxLeeway.
	Leeway time.Duration

	// Now is the clock. Nil means time.Now; tests set a fixed time.
	Now func() time.Time
}

// Verifier checks tokens against a KeySet. It is safe for concurrent use:
// its parser is configured once and only read afterwards.
type Verifier struct {
	keys   *KeySet     // shared with whoever calls Reload
	parser *jwt.Parser // immutable after NewVerifier
}

// NewVerifier returns a Verifier that checks tokens against keys, which it
// reads anew for each token, so that a Reload applies at once.
func NewVerifier(keys *KeySet, cfg Config) (*Verifier, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil key set", ErrNoKeys)
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	case cfg.Leeway > MaxLeeway:
		return nil, fmt.Errorf("auth: leeway %v over the maximum %v", cfg.Leeway, MaxLeeway)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(validMethods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	return &Verifier{keys: keys, parser: p}, nil
}

// Verify checks a compact JWS token and returns its claims. The size and
// alphabet of the token are checked first (ErrNoToken, ErrMalformed); then
// jwt.Parser decodes header and claims (ErrMalformed), checks the algorithm
// (ErrAlgorithm), finds the key through the Keyfunc (ErrMalformed for a
// "crit" header, ErrUnknownKey, ErrAlgorithm), checks the signature
// (ErrSignature) and exp (ErrMissingClaim, ErrExpired), nbf and iat
// (ErrNotYetValid). Last come the hotel claims (ErrMissingClaim,
// ErrUnknownRole, ErrInvalidClaim).
func (v *Verifier) Verify(token string) (Claims, error) {
	if err := checkToken(token); err != nil {
		return Claims{}, err
	}
	t := v.keys.cur.Load() // one key generation for the whole token
	var k *key
	var keyErr error
	var sc signedClaims
	tok, err := v.parser.ParseWithClaims(token, &sc, func(tok *jwt.Token) (any, error) {
		k, keyErr = t.keyFor(tok)
		if keyErr != nil {
			return nil, keyErr
		}
		return k.verify, nil
	})
	switch {
	case keyErr != nil:
		return Claims{}, keyErr
	case err != nil && !errors.Is(err, jwt.ErrTokenInvalidClaims):
		return Claims{}, parseError(tok, err)
	}
	// The signature holds and the claims decoded; err is the validator's.
	if terr := sc.checkTimes(); terr != nil {
		return Claims{}, terr
	}
	if err != nil {
		return Claims{}, validationError(err)
	}
	return sc.claims(k.id)
}

// checkToken applies the limits checked before parsing: a token of at most
// MaxTokenSize bytes, made of the base64url alphabet and dots only.
// encoding/base64 skips '\r' and '\n' even in strict mode, so without the
// alphabet check a token could be altered (newlines in its signature) and
// still verify; with it and jwt.WithStrictDecoding a token has exactly one
// encoding.
func checkToken(token string) error {
	switch {
	case token == "":
		return ErrNoToken
	case len(token) > MaxTokenSize:
		return errTooLong
	}
	for i := range len(token) {
		if !isTokenByte(token[i]) {
			return errAlphabet
		}
	}
	return nil
}

// isTokenByte reports whether c may appear in a compact JWS.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// keyFor is the Keyfunc of Verify. It runs once the parser has decoded the
// token and found its alg among validMethods. It refuses what the parser
// leaves to its caller: a "crit" header (RFC 7515 section 4.1.11:
// extensions we do not know must fail) and a kid that is not a string. The
// parser never follows jku, jwk, x5u or x5c, and neither does this.
func (t *keyTable) keyFor(tok *jwt.Token) (*key, error) {
	if _, ok := tok.Header["crit"]; ok {
		return nil, errCrit
	}
	var kid string
	switch v := tok.Header["kid"].(type) {
	case string:
		kid = v
	case nil: // absent or null
	default:
		return nil, errKidType
	}
	return t.lookup(kid, algOf(tok.Method.Alg()))
}

// parseError maps an error that jwt.Parser met before claim validation,
// other than one of keyFor, to this package's errors. tok is what the parser
// returned with the error: nil when the token is not three segments.
func parseError(tok *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return malformedError(tok)
	case tok.Method == nil || algOf(tok.Method.Alg()) == 0:
		// jwt.ErrTokenUnverifiable (alg absent or unknown to jwt) or
		// jwt.ErrTokenSignatureInvalid (alg not in validMethods).
		if _, ok := tok.Header["alg"].(string); !ok {
			return errNoAlg
		}
		return errAlgNotAllowed
	}
	return ErrSignature // jwt.ErrTokenSignatureInvalid, the only one left
}

// malformedError tells which part of the token jwt could not decode, from
// how far the parser got: it fills Header, then the claims, then Method,
// then decodes the signature.
func malformedError(tok *jwt.Token) error {
	switch {
	case tok == nil:
		return errSegments
	case tok.Header == nil:
		return errHeaderJSON
	case tok.Method == nil:
		return errClaimsJSON
	}
	return errSignatureBase64
}

// validationError maps the error of jwt's claim validator. It may join
// several; the order of the cases sets which one is reported.
func validationError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing): // only exp is required
		return errMissingExp
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	}
	return errValidator
}
