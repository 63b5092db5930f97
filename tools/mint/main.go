// Command mint issues bellhop tokens for operators and tests, and creates
// signing keys.
//
// Mint a token (printed on stdout, followed by a newline):
//
//	go run ./tools/mint -key keys/2026-11.key -sub staff-1042 -role housekeeping \
//	        -property hotel-berlin-01 -dept housekeeping -floors 3,4 -ttl 8h
//	JWT_SECRET=... go run ./tools/mint -sub stay-77 -role guest -property hotel-berlin-01 -room 412
//
// The key is a PEM private key (-key FILE, ES256 or RS256 by its type) or an
// HS256 secret: a .secret file given to -key, the raw -secret value, or else
// the JWT_SECRET environment variable, read as the server reads it. -kid
// defaults to the key file's name without extension, or to "dev" (the
// server's id for JWT_SECRET) for a raw secret. -alg is derived from the key;
// when given it must match.
//
// Create a key pair:
//
//	go run ./tools/mint -gen-key es256 -out keys/2026-11
//
// writes keys/2026-11.key (the private key, mode 0600) and keys/2026-11.pem
// (the public key; a JWT_KEYS_PATH folder takes it as it is) and prints the
// key set file entry for it. -gen-key hs256 writes keys/2026-11.secret
// (mode 0600) instead. Existing files are never overwritten.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// errUsage reports a bad command line; the reason is already on stderr.
var errUsage = errors.New("mint: bad usage")

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	}
}

// run parses args and either mints a token or generates a key, writing the
// result to stdout.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if opts.genKey != "" {
		return genKey(opts, stdout)
	}
	return mint(opts, stdout, getenv)
}

// options are the parsed command-line flags.
type options struct {
	keyPath, secret, kid, alg string
	claims                    auth.Claims
	ttl                       time.Duration
	genKey, out               string
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var role, floors string
	fs := newFlagSet(stderr, &o, &role, &floors)
	if err := fs.Parse(args); err != nil {
		return o, errUsage
	}
	if fs.NArg() != 0 {
		return o, usage(stderr, "unexpected arguments: %q", fs.Args())
	}
	if o.genKey != "" {
		return o, checkGenKey(o, stderr)
	}
	if o.ttl <= 0 {
		return o, usage(stderr, "-ttl must be positive, got %v", o.ttl)
	}
	if o.keyPath != "" && o.secret != "" {
		return o, usage(stderr, "give -key or -secret, not both")
	}
	var err error
	if o.claims.Role, err = auth.ParseRole(role); err != nil {
		return o, usage(stderr, "-role: %v", err)
	}
	if o.claims.Floors, err = parseFloors(floors); err != nil {
		return o, usage(stderr, "-floors: %v", err)
	}
	return o, nil
}

// usage prints a usage error and returns errUsage.
func usage(stderr io.Writer, format string, args ...any) error {
	fmt.Fprintf(stderr, "mint: "+format+"\n", args...)
	return errUsage
}

// parseFloors parses "3,4" (spaces allowed) into floor numbers.
func parseFloors(s string) ([]int, error) {
	var floors []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("floor %q is not an integer", f)
		}
		floors = append(floors, n)
	}
	return floors, nil
}

// mint signs the claims of opts and prints the token.
func mint(o options, stdout io.Writer, getenv func(string) string) error {
	signer, err := loadSigner(o, getenv)
	if err != nil {
		return err
	}
	if o.alg != "" && !strings.EqualFold(o.alg, signer.Alg()) {
		return fmt.Errorf("mint: -alg %s does not fit the key, which is %s", o.alg, signer.Alg())
	}
	now := time.Now()
	c := o.claims
	c.IssuedAt, c.Expires = now, now.Add(o.ttl)
	token, err := signer.Sign(c)
	if err != nil {
		return fmt.Errorf("mint: %w", err)
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

// loadSigner builds the signer from -key, -secret or JWT_SECRET.
func loadSigner(o options, getenv func(string) string) (*auth.Signer, error) {
	if o.keyPath == "" {
		secret := o.secret
		if secret == "" {
			secret = getenv("JWT_SECRET")
		}
		if secret == "" {
			return nil, errors.New("mint: no key: give -key FILE, -secret or JWT_SECRET")
		}
		return auth.NewSigner(orDefault(o.kid, auth.SecretKeyID), []byte(secret))
	}
	data, err := os.ReadFile(o.keyPath)
	if err != nil {
		return nil, fmt.Errorf("mint: cannot read key: %w", err)
	}
	base := filepath.Base(o.keyPath)
	kid := orDefault(o.kid, strings.TrimSuffix(base, filepath.Ext(base)))
	s, err := auth.ParseSigner(kid, data)
	if err != nil {
		return nil, fmt.Errorf("mint: %s: %w", o.keyPath, err)
	}
	return s, nil
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
