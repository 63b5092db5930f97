package auth

import (
	"fmt"
	"strconv"
)

// Role is what a token's holder is: a kind of staff member, a guest or a
// backend. The zero Role is no role at all, so a Claims value that was not
// filled by Verify never passes for an admin.
type Role uint8

// Roles, in the order of the "role" claim values they stand for.
const (
	Admin        Role = iota + 1 // "admin": hotel administrator, everything on the property
	FrontDesk                    // "front_desk": reception, check-in and check-out
	Housekeeping                 // "housekeeping": room cleaning staff
	Maintenance                  // "maintenance": technical staff
	Concierge                    // "concierge": guest services
	Guest                        // "guest": a guest, bound to one room
	Service                      // "service": a backend (PMS, ERP) acting for the property
)

// roleNames are the claim values, indexed by Role.
var roleNames = [...]string{
	Admin:        "admin",
	FrontDesk:    "front_desk",
	Housekeeping: "housekeeping",
	Maintenance:  "maintenance",
	Concierge:    "concierge",
	Guest:        "guest",
	Service:      "service",
}

// String returns the claim value of r, such as "front_desk", or "Role(N)"
// for a value that is not a role.
func (r Role) String() string {
	if r.Valid() {
		return roleNames[r]
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Valid reports whether r is one of the seven roles.
func (r Role) Valid() bool { return r >= Admin && r <= Service }

// ParseRole returns the Role whose claim value is s. Matching is exact (the
// values are lower case), as for every other claim.
func ParseRole(s string) (Role, error) {
	if r, ok := roleOf(s); ok {
		return r, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownRole, s)
}

// roleOf maps a claim value to its Role.
func roleOf(s string) (Role, bool) {
	switch s {
	case "admin":
		return Admin, true
	case "front_desk":
		return FrontDesk, true
	case "housekeeping":
		return Housekeeping, true
	case "maintenance":
		return Maintenance, true
	case "concierge":
		return Concierge, true
	case "guest":
		return Guest, true
	case "service":
		return Service, true
	}
	return 0, false
}
