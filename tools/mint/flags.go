package main

import (
	"flag"
	"io"
	"time"
)

// defaultTTL is the lifetime of a minted token: one shift.
const defaultTTL = 8 * time.Hour

// newFlagSet declares the flags into o; role and floors are parsed after.
func newFlagSet(stderr io.Writer, o *options, role, floors *string) *flag.FlagSet {
	fs := flag.NewFlagSet("mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.keyPath, "key", "", "private key file: PEM (ES256, RS256) or base64 HS256 `.secret` file")
	fs.StringVar(&o.secret, "secret", "", "HS256 secret as JWT_SECRET gives it (visible in ps; prefer JWT_SECRET)")
	fs.StringVar(&o.kid, "kid", "", "key id for the token header (default: key file name without extension, or \"dev\" for a secret)")
	fs.StringVar(&o.alg, "alg", "", "expected algorithm (HS256, ES256, RS256); derived from the key")
	fs.StringVar(&o.claims.Subject, "sub", "", "subject: staff id, guest stay or backend name (required)")
	fs.StringVar(role, "role", "", "admin, front_desk, housekeeping, maintenance, concierge, guest or service (required)")
	fs.StringVar(&o.claims.Property, "property", "", "hotel id (required)")
	fs.StringVar(&o.claims.Dept, "dept", "", "staff department")
	fs.StringVar(floors, "floors", "", "comma-separated floors a staff member covers, e.g. 3,4")
	fs.StringVar(&o.claims.Room, "room", "", "guest room number (required for role guest)")
	fs.StringVar(&o.claims.ID, "jti", "", "token id, for revocation lists")
	fs.DurationVar(&o.ttl, "ttl", defaultTTL, "token lifetime")
	fs.StringVar(&o.genKey, "gen-key", "", "instead of minting, create a key: es256, rs256 or hs256")
	fs.StringVar(&o.out, "out", "", "with -gen-key: path prefix of the files to write (<out>.key and <out>.pem, or <out>.secret)")
	return fs
}
