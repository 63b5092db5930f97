package auth

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Limits on claim values. They bound what one verified token can make the
// server hold per connection.
const (
	MaxClaimSize = 256 // bytes in a decoded string claim (sub, property, dept, room, jti)
	MaxFloors    = 256 // entries in "floors"
	MaxFloor     = 999 // largest |floor|; basements are negative
)

// maxUnix is 9999-12-31T23:59:59Z, the last second a NumericDate may name.
const maxUnix = 253402300799

// Claims is what a verified token says about its holder: everything the rest
// of the server needs, already validated. It is a plain value owned by its
// holder.
type Claims struct {
	Subject  string    // "sub": who holds the token (staff id, guest stay, backend name); required
	Role     Role      // "role"; required
	Property string    // "property": the hotel the token is valid for; required
	Dept     string    // "dept": a staff member's department, e.g. "housekeeping"; optional
	Floors   []int     // "floors": floors a staff member covers; nil if absent
	Shift    string    // "shift": a staff member's shift, as the ERP names it (e.g. "morning"); optional
	Room     string    // "room": a guest's room number; required for Guest, optional otherwise
	Expires  time.Time // "exp"; required for every role
	IssuedAt time.Time // "iat"; zero if absent
	ID       string    // "jti": the token's id, for revocation lists; optional
	KeyID    string    // id of the key that verified the token (the key set's, even if the token had no kid)
}

// validate checks the claims that do not depend on the clock. Verify and Sign
// share it, so that a signer cannot mint a token the verifier refuses.
func (c *Claims) validate() error {
	switch {
	case c.Subject == "":
		return errMissingSub
	case c.Role == 0:
		return errMissingRole
	case !c.Role.Valid():
		return ErrUnknownRole
	case c.Property == "":
		return errMissingProperty
	case c.Role == Guest && c.Room == "":
		return errMissingRoom
	case c.Expires.IsZero():
		return errMissingExp
	case outOfRange(c.Expires) || !c.IssuedAt.IsZero() && outOfRange(c.IssuedAt):
		return errTime
	}
	for _, s := range [...]string{c.Subject, c.Property, c.Dept, c.Shift, c.Room, c.ID} {
		if len(s) > MaxClaimSize {
			return errClaimTooLong
		}
	}
	return checkFloors(c.Floors)
}

// outOfRange reports whether t cannot be a NumericDate of this package.
func outOfRange(t time.Time) bool { return t.Unix() < 0 || t.Unix() > maxUnix }

// checkFloors checks the count and range of floors.
func checkFloors(floors []int) error {
	if len(floors) > MaxFloors {
		return errFloorCount
	}
	for _, f := range floors {
		if f < -MaxFloor || f > MaxFloor {
			return errFloor
		}
	}
	return nil
}

// signedClaims is the JSON form of Claims, the claim names clients rely on.
// Sign encodes it and Verify has jwt.Parser decode into it, with the rules of
// encoding/json: member names match case-insensitively and the last of a
// repeated member wins.
type signedClaims struct {
	jwt.RegisteredClaims        // sub, exp, nbf, iat, jti; iss and aud are read but not used
	Role                 string `json:"role"`
	Property             string `json:"property"`
	Dept                 string `json:"dept,omitempty"`
	Floors               []int  `json:"floors,omitempty"`
	Shift                string `json:"shift,omitempty"`
	Room                 string `json:"room,omitempty"`
}

// toSigned converts validated claims to their JSON form.
func toSigned(c Claims) signedClaims {
	sc := signedClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			ExpiresAt: jwt.NewNumericDate(c.Expires),
			ID:        c.ID,
		},
		Role:     c.Role.String(),
		Property: c.Property,
		Dept:     c.Dept,
		Floors:   c.Floors,
		Shift:    c.Shift,
		Room:     c.Room,
	}
	if !c.IssuedAt.IsZero() {
		sc.IssuedAt = jwt.NewNumericDate(c.IssuedAt)
	}
	return sc
}

// checkTimes refuses an exp, nbf or iat outside 1970..9999. Verify applies it
// before it uses the validator's verdict on them: jwt turns a NumericDate
// into a time.Time through an int64 conversion that is undefined for huge
// values, so a bound is needed for the comparisons to mean anything.
func (sc *signedClaims) checkTimes() error {
	for _, d := range [...]*jwt.NumericDate{sc.ExpiresAt, sc.NotBefore, sc.IssuedAt} {
		if d != nil && outOfRange(d.Time) {
			return errTime
		}
	}
	return nil
}

// claims converts decoded claims, whose exp jwt.Parser found present, to
// Claims of the key kid and validates them.
func (sc *signedClaims) claims(kid string) (Claims, error) {
	c := Claims{
		Subject:  sc.Subject,
		Property: sc.Property,
		Dept:     sc.Dept,
		Floors:   sc.Floors,
		Shift:    sc.Shift,
		Room:     sc.Room,
		Expires:  sc.ExpiresAt.UTC(),
		ID:       sc.ID,
		KeyID:    kid,
	}
	if sc.IssuedAt != nil {
		c.IssuedAt = sc.IssuedAt.UTC()
	}
	if sc.Role != "" {
		r, ok := roleOf(sc.Role)
		if !ok {
			return Claims{}, ErrUnknownRole
		}
		c.Role = r
	}
	if err := c.validate(); err != nil {
		return Claims{}, err
	}
	return c, nil
}
