package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// Example mints a token with an ES256 key and verifies it against a key
// folder holding the public key, as JWT_KEYS_PATH would name it.
func Example() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	dir, _ := os.MkdirTemp("", "keys")
	defer os.RemoveAll(dir)
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	_ = os.WriteFile(filepath.Join(dir, "2026-11.pem"), pub, 0o644)

	signer, _ := auth.NewSigner("2026-11", priv)
	token, _ := signer.Sign(auth.Claims{
		Subject:  "staff-1042",
		Role:     auth.Housekeeping,
		Property: "hotel-berlin-01",
		Floors:   []int{3, 4},
		Expires:  time.Now().Add(8 * time.Hour),
	})

	keys, err := auth.LoadKeySet("", dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := auth.NewVerifier(keys, auth.Config{})
	c, err := v.Verify(auth.TokenFromRequest("", "", []string{"bellhop.v1", "bearer." + token}))
	fmt.Println(c.Subject, c.Role, c.Property, c.Floors, c.KeyID, err)

	_, err = v.Verify(token[:len(token)-4] + "AAAA")
	fmt.Println(errors.Is(err, auth.ErrSignature))
	// Output:
	// staff-1042 housekeeping hotel-berlin-01 [3 4] 2026-11 <nil>
	// true
}
