package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// runOK runs the command and returns its stdout.
func runOK(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(args, &stdout, &stderr, getenv); err != nil {
		t.Fatalf("run %q: %v (stderr %q)", args, err, stderr.String())
	}
	return stdout.String()
}

// verify checks token against keys and returns its claims.
func verify(t *testing.T, ks *auth.KeySet, token string) auth.Claims {
	t.Helper()
	v, err := auth.NewVerifier(ks, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(strings.TrimSuffix(token, "\n"))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

// TestGenKeyThenMint creates each kind of key, loads the public half the way
// the server does (as a folder and as a key set file built from the printed
// entry), mints a token with the private half and verifies it.
func TestGenKeyThenMint(t *testing.T) {
	for _, kind := range []string{"es256", "rs256", "hs256"} {
		t.Run("kind="+kind, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "2026-11")
			line := runOK(t, env(nil), "-gen-key", kind, "-out", out)
			var entry map[string]string
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("entry %q: %v", line, err)
			}
			if entry["kid"] != "2026-11" || entry["alg"] != strings.ToUpper(kind) {
				t.Errorf("entry = %v", entry)
			}
			privPath := out + ".key"
			if kind == "hs256" {
				privPath = out + ".secret"
			}
			if fi, err := os.Stat(privPath); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("private file %s: mode %v, err %v; want 0600", privPath, fi.Mode().Perm(), err)
			}
			fromDir, err := auth.LoadKeySet("", dir)
			if err != nil {
				t.Fatalf("load folder: %v", err)
			}
			file := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(file, []byte(`{"keys":[`+line+`]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			fromFile, err := auth.LoadKeySet("", file)
			if err != nil {
				t.Fatalf("load entry: %v", err)
			}
			tok := runOK(t, env(nil), "-key", privPath, "-sub", "staff-9", "-role", "maintenance",
				"-property", "hotel-1", "-dept", "maintenance", "-floors", "-1, 0,12", "-ttl", "2h", "-jti", "t9")
			for _, ks := range []*auth.KeySet{fromDir, fromFile} {
				c := verify(t, ks, tok)
				if c.Subject != "staff-9" || c.Role != auth.Maintenance || c.Property != "hotel-1" || c.Dept != "maintenance" ||
					!slices.Equal(c.Floors, []int{-1, 0, 12}) || c.ID != "t9" || c.KeyID != "2026-11" {
					t.Errorf("claims = %+v", c)
				}
				if d := time.Until(c.Expires); d < 119*time.Minute || d > 2*time.Hour {
					t.Errorf("expires in %v, want about 2h", d)
				}
			}
		})
	}
}

func TestMintWithSecret(t *testing.T) {
	ks, err := auth.LoadKeySet(testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	guest := []string{"-sub", "stay-77", "-role", "guest", "-property", "hotel-1", "-room", "412"}
	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
	}{
		{"secret=flag", env(nil), append([]string{"-secret", testSecret, "-alg", "hs256"}, guest...)},
		{"secret=env", env(map[string]string{"JWT_SECRET": testSecret}), guest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := verify(t, ks, runOK(t, tc.getenv, tc.args...))
			if c.Role != auth.Guest || c.Room != "412" || c.KeyID != auth.SecretKeyID {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	keyOut := filepath.Join(dir, "k")
	runOK(t, env(nil), "-gen-key", "es256", "-out", keyOut)
	staff := []string{"-secret", testSecret, "-sub", "s", "-role", "admin", "-property", "p"}
	cases := []struct {
		name    string
		args    []string
		getenv  func(string) string
		wantErr error  // checked with errors.Is when set
		wantMsg string // substring of the error or stderr
	}{
		{"flag=unknown", []string{"-nope"}, nil, errUsage, "flag provided but not defined"},
		{"args=extra", append(staff, "extra"), nil, errUsage, "unexpected arguments"},
		{"role=missing", []string{"-secret", testSecret, "-sub", "s", "-property", "p"}, nil, errUsage, "unknown role"},
		{"role=bad", []string{"-role", "boss"}, nil, errUsage, `"boss"`},
		{"floors=bad", append(staff, "-floors", "3,x"), nil, errUsage, `floor "x"`},
		{"ttl=zero", append(staff, "-ttl", "0s"), nil, errUsage, "-ttl must be positive"},
		{"key=both", append(staff, "-key", keyOut+".key"), nil, errUsage, "not both"},
		{"key=none", []string{"-sub", "s", "-role", "admin", "-property", "p"}, nil, nil, "no key"},
		{"key=missing-file", []string{"-key", filepath.Join(dir, "nope.key"), "-sub", "s", "-role", "admin", "-property", "p"}, nil, nil, "cannot read key"},
		{"key=public", []string{"-key", keyOut + ".pem", "-sub", "s", "-role", "admin", "-property", "p"}, nil, auth.ErrBadKey, "not a private key"},
		{"secret=short", []string{"-secret", "short", "-sub", "s", "-role", "admin", "-property", "p"}, nil, auth.ErrBadKey, "at least 32"},
		{"alg=mismatch", append(staff, "-alg", "RS256"), nil, nil, "does not fit the key"},
		{"claims=guest-no-room", []string{"-secret", testSecret, "-sub", "s", "-role", "guest", "-property", "p"}, nil, auth.ErrMissingClaim, "room"},
		{"claims=no-property", []string{"-secret", testSecret, "-sub", "s", "-role", "admin"}, nil, auth.ErrMissingClaim, "property"},
		{"gen-key=kind", []string{"-gen-key", "ed25519", "-out", keyOut}, nil, errUsage, "es256, rs256 or hs256"},
		{"gen-key=no-out", []string{"-gen-key", "es256"}, nil, errUsage, "needs -out"},
		{"gen-key=exists", []string{"-gen-key", "rs256", "-out", keyOut}, nil, nil, "exists; not overwriting"},
		{"gen-key=unwritable", []string{"-gen-key", "hs256", "-out", filepath.Join(dir, "no-dir", "k")}, nil, nil, "cannot create key file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv := tc.getenv
			if getenv == nil {
				getenv = env(nil)
			}
			var stdout, stderr bytes.Buffer
			err := run(tc.args, &stdout, &stderr, getenv)
			if err == nil {
				t.Fatalf("run succeeded (stdout %q), want an error", stdout.String())
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if msg := err.Error() + stderr.String(); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q and stderr %q lack %q", err, stderr.String(), tc.wantMsg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q on error, want nothing", stdout.String())
			}
		})
	}
	// The existing pair was left alone.
	if _, err := os.Stat(keyOut + ".key"); err != nil {
		t.Errorf("existing key: %v", err)
	}
}

func TestParseFloors(t *testing.T) {
	f := func(in string, want []int) {
		t.Helper()
		got, err := parseFloors(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseFloors(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	f("", nil)
	f("3", []int{3})
	f(" 3 , 4,", []int{3, 4})
	f("-2,0", []int{-2, 0})
}
