package handshake

import (
	"net/url"
	"testing"
)

func TestQueryValue(t *testing.T) {
	cases := []struct {
		query, key, want string
	}{
		{"token=abc", "token", "abc"},
		{"a=1&token=abc&token=def", "token", "abc"},
		{"token", "token", ""},
		{"token=", "token", ""},
		{"", "token", ""},
		{"tokens=1&token=2", "token", "2"},
		{"x=1&&token=2&", "token", "2"},
		{"token=a%20b+c", "token", "a b c"},
		{"to%6Ben=v", "token", "v"},
		{"to+ken=v", "to ken", "v"},
		{"token=bad%zz&token=good", "token", "good"},
		{"tok%zzen=1&token=2", "token", "2"},
		{"token=1;x=2&token=3", "token", "3"},
		{"token=%", "token", ""},
		{"token=%4", "token", ""},
		{"%", "%", ""},
		{"t=%41", "t", "A"},
		{"tok=1", "token", ""},
		{"tokenx=1", "token", ""},
	}
	for _, tc := range cases {
		r := Request{Query: tc.query}
		if got := r.QueryValue(tc.key); got != tc.want {
			t.Errorf("QueryValue(%q) in %q = %q, want %q", tc.key, tc.query, got, tc.want)
		}
		if want := url.Values(mustParseQuery(tc.query)).Get(tc.key); want != tc.want {
			t.Errorf("case %q/%q disagrees with url.ParseQuery: %q", tc.query, tc.key, want)
		}
	}
}

// mustParseQuery is url.ParseQuery without the error, which only reports
// skipped pairs.
func mustParseQuery(q string) url.Values {
	v, _ := url.ParseQuery(q)
	return v
}

func TestQueryValueNoAlloc(t *testing.T) {
	r := Request{Query: "a=1&b=two&token=eyJhbGciOiJIUzI1NiJ9.e30.sig"}
	var got string
	allocs := testing.AllocsPerRun(100, func() { got = r.QueryValue("token") })
	if allocs != 0 || got != "eyJhbGciOiJIUzI1NiJ9.e30.sig" {
		t.Fatalf("QueryValue = %q with %v allocs, want 0", got, allocs)
	}
}
