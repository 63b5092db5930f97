// Package seal encrypts what the cluster keeps at rest: message history
// and the store's records (room boards, service requests with guests'
// descriptions) are sealed with AES-256-GCM before they reach Redis, each
// tagged with the id of its key. Keys rotate: the first key of the ring
// seals, every key opens, and a key is retired by removing it once nothing
// it sealed is kept (history ages out after MESSAGE_RETENTION_HOURS).
package seal

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// Errors of sealing and opening.
var (
	ErrKeys      = errors.New("seal: bad key ring")
	ErrUnknownID = errors.New("seal: sealed with a key not in the ring")
	ErrCorrupt   = errors.New("seal: not a sealed record, or tampered with")
)

// magic starts every sealed record, so a plain record (written before
// sealing was turned on) is told apart and read as it is.
const magic = 0xB5

// ring is one loaded set of keys, immutable once made.
type ring struct {
	active string
	aeads  map[string]cipher.AEAD
}

// Keyring holds the keys; Seal and Open are safe for concurrent use, and
// Reload swaps a new ring in without stopping them.
type Keyring struct {
	path string // key file, re-read by Reload; empty for keys given inline
	// AllowPlain lets Open pass records that were never sealed (written
	// before sealing was turned on) through as they are. Off, such a
	// record is refused, so nobody can slip plain data in. Set it before use.
	AllowPlain bool

	mu  sync.Mutex // serialises Reload
	cur atomic.Pointer[ring]
}

// parseKeys reads a key ring: one key per line, "<id> <base64 of 32 bytes>"
// (or "<id>:<base64>"), blank lines and lines starting with '#' ignored.
// The first key seals. Ids are 1 to 32 characters of [A-Za-z0-9_.-].
func parseKeys(text []byte) (*ring, error) {
	r := &ring{aeads: make(map[string]cipher.AEAD)}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		id, b64, ok := strings.Cut(line, " ")
		if !ok {
			id, b64, ok = strings.Cut(line, ":")
		}
		b64 = strings.TrimSpace(b64)
		if !ok || !validID(id) {
			return nil, fmt.Errorf("%w: line %d: want \"<id> <base64 key>\"", ErrKeys, n)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("%w: key %q: want %d bytes in base64", ErrKeys, id, KeySize)
		}
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("%w: key id %q twice", ErrKeys, id)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		r.aeads[id] = aead
		if r.active == "" {
			r.active = id
		}
	}
	if r.active == "" {
		return nil, fmt.Errorf("%w: no key", ErrKeys)
	}
	return r, nil
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Load returns a Keyring from a key file (path) or, when path is empty,
// from inline text (an environment variable). Neither is ever logged.
func Load(path, inline string) (*Keyring, error) {
	k := &Keyring{path: path}
	text := []byte(inline)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKeys, err)
		}
		text = b
	}
	r, err := parseKeys(text)
	if err != nil {
		return nil, err
	}
	k.cur.Store(r)
	return k, nil
}

// Reload re-reads the key file; on any error the current keys stay.
func (k *Keyring) Reload() error {
	if k.path == "" {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b, err := os.ReadFile(k.path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeys, err)
	}
	r, err := parseKeys(b)
	if err != nil {
		return err
	}
	k.cur.Store(r)
	return nil
}

// Active returns the id of the key that seals, for logs.
func (k *Keyring) Active() string { return k.cur.Load().active }

// KeyIDs returns the ids of the keys in the ring.
func (k *Keyring) KeyIDs() []string {
	r := k.cur.Load()
	ids := make([]string, 0, len(r.aeads))
	for id := range r.aeads {
		ids = append(ids, id)
	}
	return ids
}

// Seal returns plain sealed with the active key: magic, id length, id,
// nonce, ciphertext and tag. aad binds the record to where it is kept (a
// channel, a table and key), so a sealed value copied elsewhere does not open.
func (k *Keyring) Seal(plain, aad []byte) []byte {
	r := k.cur.Load()
	aead := r.aeads[r.active]
	ns := aead.NonceSize()
	out := make([]byte, 0, 2+len(r.active)+ns+len(plain)+aead.Overhead())
	out = append(out, magic, byte(len(r.active)))
	out = append(out, r.active...)
	nonce := out[len(out) : len(out)+ns]
	_, _ = rand.Read(nonce)
	out = out[:len(out)+ns]
	return aead.Seal(out, nonce, plain, aad)
}

// Open returns the plain text of a sealed record; a record never sealed
// (it does not start with the magic byte) is returned as it is with
// AllowPlain, else refused.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) == 0 || sealed[0] != magic {
		if k.AllowPlain {
			return sealed, nil
		}
		return nil, ErrCorrupt
	}
	if len(sealed) < 2 || len(sealed) < 2+int(sealed[1]) {
		return nil, ErrCorrupt
	}
	id := string(sealed[2 : 2+int(sealed[1])])
	aead := k.cur.Load().aeads[id]
	if aead == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownID, id)
	}
	rest := sealed[2+len(id):]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrCorrupt
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}
