package auth

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// SecretKeyID is the key id of the HS256 key made from the secret given to
// LoadKeySet (JWT_SECRET). Tokens may name it in "kid" or, when it is the
// only HS256 key, leave "kid" out.
const SecretKeyID = "dev"

// MinSecretSize is the least number of bytes of an HS256 secret: RFC 7518
// section 3.2 requires a key at least as long as the hash output.
const MinSecretSize = 32

// alg is a signing algorithm this package accepts. Each key has exactly one,
// fixed when it is loaded; a token's "alg" must equal it.
type alg uint8

const (
	algHS256 alg = iota + 1
	algES256
	algRS256
	numAlgs
)

// algNames are the JOSE names, indexed by alg.
var algNames = [numAlgs]string{algHS256: "HS256", algES256: "ES256", algRS256: "RS256"}

// algMethods are the jwt signing methods, indexed by alg. Signer uses them;
// Verify lets jwt.Parser pick the method by the token's alg and then
// requires it to be the key's.
var algMethods = [numAlgs]jwt.SigningMethod{
	algHS256: jwt.SigningMethodHS256,
	algES256: jwt.SigningMethodES256,
	algRS256: jwt.SigningMethodRS256,
}

func (a alg) String() string { return algNames[a] }

// algOf returns the alg named s, or 0 when s is not HS256, ES256 or RS256
// ("none" and every other JOSE algorithm included).
func algOf(s string) alg {
	switch s {
	case "HS256":
		return algHS256
	case "ES256":
		return algES256
	case "RS256":
		return algRS256
	}
	return 0
}

// key is one verification key. It is immutable once loaded.
type key struct {
	id     string // "kid"
	alg    alg    // the only algorithm the key verifies
	verify any    // *ecdsa.PublicKey, *rsa.PublicKey or []byte (HMAC secret)
	source string // where it was loaded from, for error messages
}

// newKey checks that material suits a (0: any) and returns the key.
// Material is a public key or an HMAC secret, never a private key.
func newKey(id string, a alg, material any, source string) (*key, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty key id in %s", ErrBadKey, source)
	}
	derived, err := keyAlg(material)
	if err != nil {
		return nil, fmt.Errorf("key %q in %s: %w", id, source, err)
	}
	if a != 0 && a != derived {
		return nil, fmt.Errorf("%w: key %q in %s: alg %s does not fit a %s key", ErrBadKey, id, source, a, derived)
	}
	return &key{id: id, alg: derived, verify: material, source: source}, nil
}

// keyAlg returns the algorithm a key material serves, after checking that it
// is fit for it.
func keyAlg(material any) (alg, error) {
	switch m := material.(type) {
	case *ecdsa.PublicKey:
		return algES256, checkECKey(m)
	case *rsa.PublicKey:
		return algRS256, checkRSAKey(m)
	case []byte:
		if len(m) < MinSecretSize {
			return 0, fmt.Errorf("%w: HS256 secret of %d bytes, need at least %d", ErrBadKey, len(m), MinSecretSize)
		}
		return algHS256, nil
	}
	return 0, fmt.Errorf("%w: unsupported key type %T", ErrBadKey, material)
}

// keyTable is one immutable generation of the key set.
type keyTable struct {
	byID map[string]*key
	sole [numAlgs]*key // the only key of each alg, nil if none or several
}

// newKeyTable indexes keys, refusing a key id given twice.
func newKeyTable(keys []*key) (*keyTable, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	t := &keyTable{byID: make(map[string]*key, len(keys))}
	var count [numAlgs]int
	for _, k := range keys {
		if prev, ok := t.byID[k.id]; ok {
			return nil, fmt.Errorf("%w: key id %q in both %s and %s", ErrBadKey, k.id, prev.source, k.source)
		}
		t.byID[k.id] = k
		count[k.alg]++
		t.sole[k.alg] = k
	}
	for a, n := range count {
		if n != 1 {
			t.sole[a] = nil
		}
	}
	return t, nil
}

// KeySet is the set of keys tokens are verified with: the HS256 secret from
// JWT_SECRET (fixed for the process) plus the keys read from JWT_KEYS_PATH
// (re-read by Reload). Several keys are valid at once, so keys can rotate:
// new tokens carry the new kid while old ones verify until they expire or
// their key is removed.
//
// A KeySet is safe for concurrent use. Verify reads the current generation
// with one atomic load; Reload builds the next one aside and swaps it in
// whole, so a verification sees either the old set or the new one.
type KeySet struct {
	secret []byte                   // HMAC secret from JWT_SECRET; nil if none
	path   string                   // file or folder of keys; "" if none
	mu     sync.Mutex               // serializes Reload
	cur    atomic.Pointer[keyTable] // current generation, never nil after LoadKeySet
}

// LoadKeySet builds a key set from secret (the value of JWT_SECRET; "" for
// none), which becomes the HS256 key SecretKeyID, and from the keys at
// keysPath (the value of JWT_KEYS_PATH; "" for none): a JSON key set file or
// a folder, in the formats the package documentation describes. At least one
// key must result.
func LoadKeySet(secret, keysPath string) (*KeySet, error) {
	ks := &KeySet{path: keysPath}
	if secret != "" {
		ks.secret = []byte(secret)
	}
	t, err := ks.load()
	if err != nil {
		return nil, err
	}
	ks.cur.Store(t)
	return ks, nil
}

// Reload re-reads the key path (on SIGHUP, say) and swaps the new set in. On
// any error, including a path that now yields no key, the current set stays
// in force and the error says why. Without a key path it does nothing.
func (ks *KeySet) Reload() error {
	if ks.path == "" {
		return nil
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	t, err := ks.load()
	if err != nil {
		return fmt.Errorf("cannot reload keys, keeping the current ones: %w", err)
	}
	ks.cur.Store(t)
	return nil
}

// KeyIDs returns the ids of the keys in force, sorted, for logs.
func (ks *KeySet) KeyIDs() []string {
	return slices.Sorted(maps.Keys(ks.cur.Load().byID))
}

// load reads every key source into a new table.
func (ks *KeySet) load() (*keyTable, error) {
	var keys []*key
	if ks.secret != nil {
		k, err := newKey(SecretKeyID, algHS256, ks.secret, "JWT_SECRET")
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if ks.path != "" {
		fileKeys, err := loadPath(ks.path)
		if err != nil {
			return nil, err
		}
		if len(fileKeys) == 0 {
			return nil, fmt.Errorf("%w in %s", ErrNoKeys, ks.path)
		}
		keys = append(keys, fileKeys...)
	}
	return newKeyTable(keys)
}

// lookup returns the key a token with this kid ("" if absent) and alg must
// verify with. The alg must be the key's, so that a key is only ever used
// with its own algorithm (an RSA public key never as an HMAC secret).
func (t *keyTable) lookup(kid string, a alg) (*key, error) {
	if kid == "" {
		if k := t.sole[a]; k != nil {
			return k, nil
		}
		return nil, errNoKid
	}
	k, ok := t.byID[kid]
	if !ok {
		return nil, fmt.Errorf("%w: %q", errKid, truncate(kid, 64))
	}
	if k.alg != a {
		return nil, fmt.Errorf("%w: token says %s, key %q is %s", errKeyAlg, a, k.id, k.alg)
	}
	return k, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
