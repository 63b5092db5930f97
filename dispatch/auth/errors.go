package auth

import (
	"errors"
	"fmt"
)

// Errors returned by Verifier.Verify. Each kind of rejection has its own
// sentinel so that the server can map it to a close code or an ERROR code with
// errors.Is; the returned error wraps the sentinel with a detail (which claim,
// which key id) that is safe to log but is not meant for the client.
var (
	// ErrNoToken reports an empty token: the client sent none.
	ErrNoToken = errors.New("auth: no token")

	// ErrMalformed reports a token that is not a compact JWS (three base64url
	// segments) with a JSON header and JSON claims that decode into claims of
	// the right types (a string sub, an integer list of floors, a number exp,
	// ...), or is longer than MaxTokenSize, or asks for a critical ("crit")
	// extension. jwt.Parser decodes the claims before it checks the
	// signature, so a claim of the wrong type is reported here even when the
	// signature is bad.
	ErrMalformed = errors.New("auth: malformed token")

	// ErrAlgorithm reports an "alg" other than HS256, ES256 and RS256 ("none"
	// included), or one that is not the algorithm of the key named by "kid".
	// The latter is the algorithm-confusion attack (an RSA public key used as
	// an HMAC secret); it is refused before any signature is computed.
	ErrAlgorithm = errors.New("auth: signing algorithm not allowed")

	// ErrUnknownKey reports a "kid" that is not in the key set, or a token
	// without "kid" when not exactly one key accepts its algorithm.
	ErrUnknownKey = errors.New("auth: unknown signing key")

	// ErrSignature reports a signature that does not verify with the key.
	ErrSignature = errors.New("auth: invalid signature")

	// ErrExpired reports a token whose "exp", plus the leeway, has passed.
	ErrExpired = errors.New("auth: token expired")

	// ErrNotYetValid reports a token whose "nbf" or "iat", minus the leeway,
	// is still in the future.
	ErrNotYetValid = errors.New("auth: token not valid yet")

	// ErrClaims is the base of the claim errors below; test for it to treat
	// them alike.
	ErrClaims = errors.New("auth: invalid claims")

	// ErrMissingClaim reports that a required claim ("sub", "role",
	// "property", "exp", or "room" for a guest) is absent, null or empty.
	ErrMissingClaim = fmt.Errorf("%w: missing claim", ErrClaims)

	// ErrUnknownRole reports a "role" that is not one of the seven roles.
	ErrUnknownRole = fmt.Errorf("%w: unknown role", ErrClaims)

	// ErrInvalidClaim reports a claim out of range: a string over
	// MaxClaimSize bytes, a floor beyond ±MaxFloor, more than MaxFloors
	// floors, or an exp, nbf or iat before 1970 or after 9999. A claim of the
	// wrong JSON type is ErrMalformed.
	ErrInvalidClaim = fmt.Errorf("%w: invalid claim", ErrClaims)
)

// Errors returned when loading or reloading keys and building signers.
var (
	// ErrNoKeys reports a key set that would hold no key at all: no secret
	// and no key path, or a key path that yields no key.
	ErrNoKeys = errors.New("auth: no keys")

	// ErrBadKey reports a key that cannot be used: unreadable PEM or JSON, a
	// private key where a public key belongs, an unsupported type or curve,
	// an RSA key under 2048 bits, an HMAC secret under MinSecretSize bytes,
	// an "alg" that does not fit the key, or a key id given twice.
	ErrBadKey = errors.New("auth: bad key")
)

// Pre-built detailed errors, so that rejecting a flood of bad tokens does not
// allocate an error per token, and so that what jwt says (its messages name
// Go types) never reaches a client.
var (
	errTooLong         = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenSize)
	errAlphabet        = fmt.Errorf("%w: a byte outside base64url and '.'", ErrMalformed)
	errSegments        = fmt.Errorf("%w: not three dot-separated segments", ErrMalformed)
	errHeaderJSON      = fmt.Errorf("%w: header is not a base64url JSON object", ErrMalformed)
	errClaimsJSON      = fmt.Errorf("%w: claims are not a base64url JSON object with claims of the right types", ErrMalformed)
	errSignatureBase64 = fmt.Errorf("%w: signature is not canonical base64url", ErrMalformed)
	errCrit            = fmt.Errorf("%w: critical header extension not supported", ErrMalformed)
	errKidType         = fmt.Errorf("%w: header kid is not a string", ErrMalformed)
	errNoAlg           = fmt.Errorf("%w: header alg absent or not a string", ErrAlgorithm)
	errAlgNotAllowed   = fmt.Errorf("%w: only HS256, ES256 and RS256 are accepted", ErrAlgorithm)
	errKeyAlg          = fmt.Errorf("%w: alg differs from the key's", ErrAlgorithm)
	errKid             = fmt.Errorf("%w: kid not in key set", ErrUnknownKey)
	errNoKid           = fmt.Errorf("%w: no kid and not exactly one key for the alg", ErrUnknownKey)

	errMissingSub      = fmt.Errorf("%w: sub", ErrMissingClaim)
	errMissingRole     = fmt.Errorf("%w: role", ErrMissingClaim)
	errMissingProperty = fmt.Errorf("%w: property", ErrMissingClaim)
	errMissingExp      = fmt.Errorf("%w: exp", ErrMissingClaim)
	errMissingRoom     = fmt.Errorf("%w: room (required for role guest)", ErrMissingClaim)
	errClaimTooLong    = fmt.Errorf("%w: string longer than %d bytes", ErrInvalidClaim, MaxClaimSize)
	errFloor           = fmt.Errorf("%w: floors must be integers in [%d, %d]", ErrInvalidClaim, -MaxFloor, MaxFloor)
	errFloorCount      = fmt.Errorf("%w: more than %d floors", ErrInvalidClaim, MaxFloors)
	errTime            = fmt.Errorf("%w: time outside 1970..9999", ErrInvalidClaim)
	errValidator       = fmt.Errorf("%w: refused by the claim validator", ErrInvalidClaim)
)
