package pqueue

import "fmt"

// Priority is the urgency of a queued item. Smaller values are more urgent:
// High drains before Medium, Medium before Low (see the package doc for the
// exact rule and its starvation bound). The zero value is High.
type Priority uint8

// Priorities, most urgent first. Their names on the wire are the spec's
// "HIGH", "MEDIUM" and "LOW".
const (
	High Priority = iota
	Medium
	Low

	// NumPriorities is the number of priorities; valid values are below it.
	NumPriorities = 3
)

var priorityNames = [NumPriorities]string{"HIGH", "MEDIUM", "LOW"}

// String returns the wire name ("HIGH", "MEDIUM", "LOW"), which is also the
// label value for metrics; an invalid value prints as "Priority(n)".
func (p Priority) String() string {
	if p.Valid() {
		return priorityNames[p]
	}
	return fmt.Sprintf("Priority(%d)", uint8(p))
}

// Valid reports whether p is High, Medium or Low.
func (p Priority) Valid() bool { return p < NumPriorities }

// ParsePriority maps the wire names "HIGH", "MEDIUM" and "LOW" (exactly, as
// the protocol spells them) to their Priority. Anything else is an error
// wrapping ErrPriority.
func ParsePriority(s string) (Priority, error) {
	for i, name := range priorityNames {
		if s == name {
			return Priority(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want HIGH, MEDIUM or LOW)", ErrPriority, s)
}

// MarshalText implements encoding.TextMarshaler, so a Priority encodes as
// its wire name in JSON.
func (p Priority) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("%w %d", ErrPriority, uint8(p))
	}
	return []byte(priorityNames[p]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParsePriority.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
