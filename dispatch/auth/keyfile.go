package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// Bounds on key files. Keys are small; a bigger file is a mistake.
const (
	maxKeyFileSize = 1 << 20 // bytes in one key file
	maxRSABits     = 8192    // larger keys would make each verification slow
	minRSABits     = 2048
)

// File name extensions read in a key folder.
const (
	extPEM    = ".pem"
	extSecret = ".secret"
	extJSON   = ".json"
)

// loadPath reads the keys of a key set file or folder.
func loadPath(path string) ([]*key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read keys: %w", err)
	}
	if fi.IsDir() {
		return loadDir(path)
	}
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeySetJSON(data, path)
}

// loadDir reads the *.pem, *.secret and *.json files of a folder. Names that
// start with a dot (such as the ..data links of a Kubernetes secret volume),
// folders and files with other extensions are skipped, so that a folder may
// hold private keys (*.key) or a README too.
func loadDir(dir string) ([]*key, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read keys: %w", err)
	}
	var keys []*key
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if strings.HasPrefix(name, ".") || (ext != extPEM && ext != extSecret && ext != extJSON) {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			continue // a dangling link or a folder is not a key
		}
		got, err := loadKeyFile(path, strings.TrimSuffix(name, ext), ext)
		if err != nil {
			return nil, err
		}
		keys = append(keys, got...)
	}
	return keys, nil
}

// loadKeyFile reads one file of a key folder; kid is its name without the
// extension.
func loadKeyFile(path, kid, ext string) ([]*key, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	var material any
	switch ext {
	case extJSON:
		return parseKeySetJSON(data, path)
	case extPEM:
		material, err = parsePublicPEM(data)
	default:
		material, err = decodeSecret(string(data))
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	k, err := newKey(kid, 0, material, path)
	if err != nil {
		return nil, err
	}
	return []*key{k}, nil
}

// readKeyFile reads a whole file of at most maxKeyFileSize bytes.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read keys: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read keys from %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrBadKey, path, maxKeyFileSize)
	}
	return data, nil
}

// jsonKeySet is the key set file: {"keys": [entry, ...]}.
type jsonKeySet struct {
	Keys []jsonKey `json:"keys"`
}

// jsonKey is one entry of a key set file: a kid and alg with exactly one of
// pem, secret or a JSON Web Key (RFC 7517: kty with its members).
type jsonKey struct {
	Kid    string `json:"kid"`    // key id; required
	Alg    string `json:"alg"`    // HS256, ES256 or RS256; derived from the key when empty
	Use    string `json:"use"`    // JWK "use": entries other than "" and "sig" are skipped
	PEM    string `json:"pem"`    // PEM public key (PKIX "PUBLIC KEY" or PKCS #1 "RSA PUBLIC KEY")
	Secret string `json:"secret"` // base64 HS256 secret
	Kty    string `json:"kty"`    // JWK key type: EC, RSA or oct
	Crv    string `json:"crv"`    // JWK EC curve: P-256
	X      string `json:"x"`      // JWK EC x, base64url
	Y      string `json:"y"`      // JWK EC y, base64url
	N      string `json:"n"`      // JWK RSA modulus, base64url
	E      string `json:"e"`      // JWK RSA exponent, base64url
	K      string `json:"k"`      // JWK oct secret, base64url
}

// parseKeySetJSON parses a key set file. Any bad entry fails the whole file.
func parseKeySetJSON(data []byte, source string) ([]*key, error) {
	var doc jsonKeySet
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s is not a key set (%v)", ErrBadKey, source, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s has data after the key set", ErrBadKey, source)
	}
	keys := make([]*key, 0, len(doc.Keys))
	for i, e := range doc.Keys {
		if e.Use != "" && e.Use != "sig" {
			continue
		}
		k, err := e.key(source)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// key turns the entry into a key.
func (e *jsonKey) key(source string) (*key, error) {
	var a alg
	if e.Alg != "" {
		if a = algOf(e.Alg); a == 0 {
			return nil, fmt.Errorf("%w: key %q in %s: alg %q not supported (HS256, ES256, RS256)", ErrBadKey, e.Kid, source, e.Alg)
		}
	}
	material, err := e.material()
	if err != nil {
		return nil, fmt.Errorf("key %q in %s: %w", e.Kid, source, err)
	}
	return newKey(e.Kid, a, material, source)
}

// material decodes the one key the entry holds.
func (e *jsonKey) material() (any, error) {
	n := 0
	for _, s := range []string{e.PEM, e.Secret, e.Kty} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: want exactly one of pem, secret and kty", ErrBadKey)
	}
	switch {
	case e.PEM != "":
		return parsePublicPEM([]byte(e.PEM))
	case e.Secret != "":
		return decodeSecret(e.Secret)
	}
	return e.jwk()
}

// jwk decodes a JSON Web Key (RFC 7518 section 6).
func (e *jsonKey) jwk() (any, error) {
	switch e.Kty {
	case "EC":
		if e.Crv != "P-256" {
			return nil, fmt.Errorf("%w: EC curve %q, want P-256", ErrBadKey, e.Crv)
		}
		x, errX := decodeJWKInt(e.X, 32)
		y, errY := decodeJWKInt(e.Y, 32)
		if errX != nil || errY != nil {
			return nil, fmt.Errorf("%w: EC x and y must be 32-byte base64url values", ErrBadKey)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		return pub, nil
	case "RSA":
		return jwkRSA(e.N, e.E)
	case "oct":
		k, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e.K, "="))
		if err != nil {
			return nil, fmt.Errorf("%w: oct k is not base64url", ErrBadKey)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: kty %q not supported (EC, RSA, oct)", ErrBadKey, e.Kty)
}

// jwkRSA builds an RSA public key from JWK n and e.
func jwkRSA(n, e string) (any, error) {
	nb, errN := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	eb, errE := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if errN != nil || errE != nil || len(nb) == 0 || len(eb) == 0 || len(eb) > 4 {
		return nil, fmt.Errorf("%w: RSA n and e must be base64url, e at most 4 bytes", ErrBadKey)
	}
	exp := new(big.Int).SetBytes(eb).Int64()
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp)}, nil
}

// decodeJWKInt decodes a fixed-size base64url coordinate.
func decodeJWKInt(s string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) != size {
		return nil, ErrBadKey
	}
	return b, nil
}

// parsePublicPEM parses one PEM public key: PKIX ("PUBLIC KEY") or PKCS #1
// ("RSA PUBLIC KEY"). A private key is refused, since the verifier has no use
// for it and should never hold one.
func parsePublicPEM(data []byte) (any, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrBadKey)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, fmt.Errorf("%w: more than one PEM block", ErrBadKey)
	}
	var pub any
	var err error
	switch {
	case block.Type == "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case strings.HasSuffix(block.Type, "PRIVATE KEY"):
		return nil, fmt.Errorf("%w: PEM holds a private key; give the public key", ErrBadKey)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a public key", ErrBadKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return pub, nil
}

// decodeSecret decodes a base64 HS256 secret (standard or URL alphabet,
// padded or not; surrounding whitespace such as a final newline is ignored).
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: secret is not base64", ErrBadKey)
}

// checkECKey accepts P-256 keys only: ES256 is ECDSA on P-256.
func checkECKey(k *ecdsa.PublicKey) error {
	if k.Curve != elliptic.P256() {
		return fmt.Errorf("%w: EC curve %s, ES256 needs P-256", ErrBadKey, k.Curve.Params().Name)
	}
	return nil
}

// checkRSAKey accepts moduli of minRSABits to maxRSABits and an odd public
// exponent of at least 3.
func checkRSAKey(k *rsa.PublicKey) error {
	if k.N == nil || k.N.BitLen() < minRSABits || k.N.BitLen() > maxRSABits {
		bits := 0
		if k.N != nil {
			bits = k.N.BitLen()
		}
		return fmt.Errorf("%w: RSA key of %d bits, need %d to %d", ErrBadKey, bits, minRSABits, maxRSABits)
	}
	if k.E < 3 || k.E%2 == 0 {
		return fmt.Errorf("%w: RSA exponent %d", ErrBadKey, k.E)
	}
	return nil
}
