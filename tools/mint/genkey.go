package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// rsaBits is the size of generated RSA keys: the RS256 minimum, which keeps
// verification cheapest.
const rsaBits = 2048

// hsSecretSize is the number of random bytes of a generated HS256 secret.
const hsSecretSize = 32

// checkGenKey validates the -gen-key flags.
func checkGenKey(o options, stderr io.Writer) error {
	switch o.genKey {
	case "es256", "rs256", "hs256":
	default:
		return usage(stderr, "-gen-key must be es256, rs256 or hs256, got %q", o.genKey)
	}
	if o.out == "" {
		return usage(stderr, "-gen-key needs -out PATH")
	}
	return nil
}

// keyEntry is one entry of a key set file, as the server reads it.
type keyEntry struct {
	Kid    string `json:"kid"`
	Alg    string `json:"alg"`
	PEM    string `json:"pem,omitempty"`
	Secret string `json:"secret,omitempty"`
}

// genKey creates a key, writes its files and prints its key set entry.
func genKey(o options, stdout io.Writer) error {
	kid := orDefault(o.kid, filepath.Base(o.out))
	paths := []string{o.out + ".key", o.out + ".pem"}
	if o.genKey == "hs256" {
		paths = []string{o.out + ".secret"}
	}
	for _, p := range paths { // check all first, so no half pair is left behind
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("mint: %s exists; not overwriting a key", p)
		}
	}
	var entry keyEntry
	var err error
	if o.genKey == "hs256" {
		entry, err = genSecret(o.out, kid)
	} else {
		entry, err = genPair(o.genKey, o.out, kid)
	}
	if err != nil {
		return err
	}
	line, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("mint: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}

// genSecret writes <out>.secret with a random base64 HS256 secret.
func genSecret(out, kid string) (keyEntry, error) {
	secret := make([]byte, hsSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return keyEntry{}, fmt.Errorf("mint: %w", err)
	}
	text := base64.StdEncoding.EncodeToString(secret)
	if err := writeNew(out+".secret", []byte(text+"\n"), 0o600); err != nil {
		return keyEntry{}, err
	}
	return keyEntry{Kid: kid, Alg: "HS256", Secret: text}, nil
}

// genPair writes <out>.key (PKCS #8 private key) and <out>.pem (PKIX public
// key) for an ES256 or RS256 key.
func genPair(kind, out, kid string) (keyEntry, error) {
	priv, pub, alg, err := newKeyPair(kind)
	if err != nil {
		return keyEntry{}, fmt.Errorf("mint: cannot generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return keyEntry{}, fmt.Errorf("mint: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return keyEntry{}, fmt.Errorf("mint: %w", err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := writeNew(out+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return keyEntry{}, err
	}
	if err := writeNew(out+".pem", pubPEM, 0o644); err != nil {
		return keyEntry{}, err
	}
	return keyEntry{Kid: kid, Alg: alg, PEM: string(pubPEM)}, nil
}

// newKeyPair generates an ES256 (P-256) or RS256 (rsaBits) key.
func newKeyPair(kind string) (priv, pub any, alg string, err error) {
	if kind == "es256" {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, "", err
		}
		return k, &k.PublicKey, "ES256", nil
	}
	k, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, nil, "", err
	}
	return k, &k.PublicKey, "RS256", nil
}

// writeNew creates path with data and mode, refusing to replace a file: a
// lost private key cannot be recovered.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("mint: cannot create key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("mint: cannot write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mint: cannot write %s: %w", path, err)
	}
	return nil
}
