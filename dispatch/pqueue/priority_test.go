package pqueue

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestPriorityNames(t *testing.T) {
	cases := []struct {
		p    Priority
		name string
	}{
		{High, "HIGH"},
		{Medium, "MEDIUM"},
		{Low, "LOW"},
	}
	for _, c := range cases {
		t.Run("prio="+c.name, func(t *testing.T) {
			requireEqual(t, "String", c.p.String(), c.name)
			got, err := ParsePriority(c.name)
			if err != nil {
				t.Fatal(err)
			}
			requireEqual(t, "ParsePriority", got, c.p)
			b, err := c.p.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			requireEqual(t, "MarshalText", string(b), c.name)
			var back Priority
			if err := back.UnmarshalText(b); err != nil {
				t.Fatal(err)
			}
			requireEqual(t, "UnmarshalText", back, c.p)
		})
	}
}

func TestParsePriorityRejects(t *testing.T) {
	for _, s := range []string{"", "high", "Low", "URGENT", " HIGH", "HIGH\x00", "0"} {
		p, err := ParsePriority(s)
		if !errors.Is(err, ErrPriority) {
			t.Errorf("ParsePriority(%q) = %v, %v; want ErrPriority", s, p, err)
		}
		var u Priority = Low
		if err := u.UnmarshalText([]byte(s)); !errors.Is(err, ErrPriority) || u != Low {
			t.Errorf("UnmarshalText(%q) = %v and left %v; want ErrPriority and Low", s, err, u)
		}
	}
}

func TestPriorityInvalid(t *testing.T) {
	bad := Priority(NumPriorities)
	requireEqual(t, "Valid", bad.Valid(), false)
	requireEqual(t, "String", bad.String(), "Priority(3)")
	if _, err := bad.MarshalText(); !errors.Is(err, ErrPriority) {
		t.Fatalf("MarshalText of %d: got %v, want ErrPriority", bad, err)
	}
}

func TestPriorityJSON(t *testing.T) {
	type envelope struct {
		Priority Priority `json:"priority"`
	}
	b, err := json.Marshal(envelope{Priority: Medium})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "json", string(b), `{"priority":"MEDIUM"}`)
	var e envelope
	if err := json.Unmarshal([]byte(`{"priority":"LOW"}`), &e); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "decoded", e.Priority, Low)
	if err := json.Unmarshal([]byte(`{"priority":"SOON"}`), &e); !errors.Is(err, ErrPriority) {
		t.Fatalf("decode SOON: got %v, want ErrPriority", err)
	}
}
