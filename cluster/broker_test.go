package cluster_test

import (
	"errors"
	"testing"

	"github.com/bellhop/bellhop/cluster"
)

// TestPosition checks messageIds: their format, parsing and round trip.
func TestPosition(t *testing.T) {
	cases := []struct {
		id   string
		want cluster.Position
		ok   bool
	}{
		{"5f2a91c0-42", cluster.Position{Epoch: "5f2a91c0", Offset: 42}, true},
		{"e-1", cluster.Position{Epoch: "e", Offset: 1}, true},
		{"a-b-7", cluster.Position{}, false}, // epochs have no '-'
		{"e-18446744073709551615", cluster.Position{Epoch: "e", Offset: 1<<64 - 1}, true},
		{"", cluster.Position{}, false},
		{"42", cluster.Position{}, false},
		{"-42", cluster.Position{}, false},
		{"e-", cluster.Position{}, false},
		{"e-0", cluster.Position{}, false},
		{"e--1", cluster.Position{}, false},
		{"e-1x", cluster.Position{}, false},
		{"e-18446744073709551616", cluster.Position{}, false},
	}
	for _, tc := range cases {
		got, err := cluster.ParsePosition(tc.id)
		if tc.ok != (err == nil) || got != tc.want {
			t.Fatalf("ParsePosition(%q) = %#v, %v; want %#v, ok %v", tc.id, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, cluster.ErrBadPosition) {
			t.Fatalf("ParsePosition(%q): %v does not wrap ErrBadPosition", tc.id, err)
		}
		if tc.ok && got.String() != tc.id {
			t.Fatalf("%#v.String() = %q, want %q", got, got.String(), tc.id)
		}
	}
	if !(cluster.Position{}).IsZero() || (cluster.Position{Offset: 1}).IsZero() || (cluster.Position{Epoch: "e"}).IsZero() {
		t.Fatal("IsZero wrong")
	}
}
