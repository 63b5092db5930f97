// Package auth verifies the JSON Web Tokens (RFC 7519) that hotel staff,
// guests and backends present, and mints them for tools and tests.
//
// It owns the key set and the rules of what a valid token is. It does not
// know about connections: the server finds the token with TokenFromRequest
// (or in an AUTH event), calls Verifier.Verify and maps the sentinel errors
// of errors.go to close codes and ERROR codes.
//
// # Tokens
//
// A token is a compact JWS signed with HS256, ES256 or RS256; every other
// "alg", "none" included, is refused. The header names the key in "kid".
// The claims are:
//
//	sub       string      who holds the token                        required
//	role      string      admin, front_desk, housekeeping,           required
//	                      maintenance, concierge, guest or service
//	property  string      hotel id the token is valid for            required
//	dept      string      staff department, e.g. "housekeeping"      optional
//	floors    [int]       floors a staff member covers               optional
//	room      string      a guest's room number                      required for guest
//	exp       NumericDate expiry                                     required
//	nbf, iat  NumericDate not before, issued at                      optional
//	jti       string      token id, for revocation lists             optional
//
// Every role needs exp, service included: a token that never expires can
// only be revoked by removing its key, so backends get tokens with a long
// exp and renew them instead. exp, nbf and iat are checked with a leeway for
// clock skew (DefaultLeeway, 30 s); an iat in the future counts as not yet
// valid. exp, nbf and iat must lie within 1970..9999 and are kept in whole
// seconds (a fraction is dropped). A null claim counts as absent. Other
// claims (custom ones, and iss and aud, which must still be a string and a
// string or list of strings) are ignored.
//
// # Parsing
//
// Parsing and the registered-claim checks are github.com/golang-jwt/jwt/v5's:
// Verify runs jwt.Parser.ParseWithClaims with the three algorithms, exp
// required, iat checked, the leeway, the Config clock and strict base64url,
// and a Keyfunc that picks the key by kid and refuses a "crit" header and an
// alg that is not the key's. This package adds only what jwt leaves to its
// caller: the size and alphabet of the token before parsing, the key set and
// its rules, the hotel claims and their limits, and the mapping of jwt's
// errors to the sentinels of errors.go. Some consequences of jwt decoding
// with encoding/json, which the tests pin down:
//
//   - Member names match case-insensitively ("Role" sets role) and the last of
//     a repeated member wins, in the header ("alg") as in the claims.
//   - Invalid UTF-8 in a string becomes U+FFFD instead of being refused.
//   - A NumericDate may be written as a quoted number ("exp":"1767225600").
//   - The claims are decoded before the signature is checked, so a claim of
//     the wrong JSON type is ErrMalformed whatever the signature.
//
// Only the holder of a key can sign such a token, so none of this lets a
// client forge claims; a party that re-reads tokens with another JSON parser
// must not rely on names being unique. jwt never fetches keys from the
// header (jku, jwk, x5u, x5c), and neither does this package.
//
// # Keys
//
// A KeySet holds the verification keys, each with a key id and exactly one
// algorithm, fixed by the key: ES256 for an EC P-256 public key, RS256 for an
// RSA public key of 2048 to 8192 bits, HS256 for a secret of at least 32
// bytes. A token is verified with the key its "kid" names, and only if its
// "alg" is that key's algorithm, so an RSA public key can never be used as an
// HMAC secret. A token without "kid" is accepted only when exactly one key
// has its algorithm.
//
// JWT_SECRET (development) becomes the HS256 key "dev" (SecretKeyID); its
// bytes are the secret as given. JWT_KEYS_PATH names a key set file or a
// folder. A key set file is JSON:
//
//	{"keys": [
//	  {"kid": "2026-11", "alg": "ES256", "pem": "-----BEGIN PUBLIC KEY-----\n..."},
//	  {"kid": "erp", "secret": "base64 of at least 32 bytes"},
//	  {"kid": "idp-1", "kty": "RSA", "n": "...", "e": "AQAB", "use": "sig"}
//	]}
//
// Each entry has a kid and one of: "pem", a PEM public key (PKIX "PUBLIC
// KEY", or PKCS #1 "RSA PUBLIC KEY"); "secret", an HS256 secret in base64
// (standard or URL alphabet, padding optional); or the members of a JSON Web
// Key (RFC 7517: kty "EC" with crv "P-256", x and y; kty "RSA" with n and e;
// kty "oct" with k), so that an identity provider's JWKS document can be used
// as it is. "alg" is optional and, when present, must fit the key. Entries
// whose "use" is neither absent nor "sig" are skipped.
//
// In a folder, each <kid>.pem file is a PEM public key, each <kid>.secret
// file a base64 HS256 secret and each *.json file a key set file. Names
// starting with a dot, folders and other files (such as private keys kept as
// <kid>.key) are ignored, so a Kubernetes secret volume works as mounted.
//
// A key id given twice, a bad entry or file, a private key where a public
// key belongs, or a path that yields no key fails the whole load. Reload
// (on SIGHUP) re-reads the path and swaps in the new set atomically, or keeps
// the current one and returns the error. To rotate keys, add the new key,
// reload, sign new tokens with it, and remove the old key once its tokens
// have expired; tokens of a removed key fail with ErrUnknownKey.
//
// # Finding the token
//
// TokenFromRequest looks, in order, for a subprotocol "bearer.<token>" or
// "access_token.<token>" offered next to the real subprotocol (which the
// server selects; the token one must never be echoed), the query parameter
// "token", then the cookie "bellhop_token".
//
// # Concurrency and cost
//
// KeySet, Verifier and Signer are safe for concurrent use. Verify does not
// lock: it loads the current key generation atomically, once per token. A
// token is verified once per connection, so simplicity wins over speed: an
// HS256 verification costs about 7 µs and 56 allocations, nearly all in
// jwt's maps and encoding/json; ES256 and RS256 cost what their signature
// check costs.
//
//	keys, err := auth.LoadKeySet(os.Getenv("JWT_SECRET"), os.Getenv("JWT_KEYS_PATH"))
//	v, err := auth.NewVerifier(keys, auth.Config{})
//	claims, err := v.Verify(auth.TokenFromRequest(req.Query, req.Cookie, req.Offered))
//	if errors.Is(err, auth.ErrExpired) { close with the "token expired" code }
package auth
