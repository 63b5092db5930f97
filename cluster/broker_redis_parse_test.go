package cluster

import "testing"

// TestParsePublished checks the pub/sub message format, "<epoch> <offset>
// <ms> <origin> <data>", where data may hold spaces.
func TestParsePublished(t *testing.T) {
	cases := []struct {
		in           string
		ok           bool
		epoch        string
		off          uint64
		origin, data string
	}{
		{"e1 7 1700000000000 - hello world", true, "e1", 7, "-", "hello world"},
		{"e1 7 1700000000000 qab12 ", true, "e1", 7, "qab12", ""},
		{"e1 7 1700000000000 -", false, "", 0, "", ""},   // no data field
		{"e1 0 1700000000000 - x", false, "", 0, "", ""}, // offsets start at 1
		{" 7 1700000000000 - x", false, "", 0, "", ""},   // no epoch
		{"e1 7 soon - x", false, "", 0, "", ""},
		{"e1 7 1700000000000  x", false, "", 0, "", ""}, // empty origin
		{"", false, "", 0, "", ""},
	}
	for _, tc := range cases {
		p, data, err := parsePublished(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (p.Epoch != tc.epoch || p.Offset != tc.off || p.origin != tc.origin || data != tc.data)) {
			t.Errorf("parsePublished(%q) = %+v, %q, %v", tc.in, p, data, err)
		}
	}
}

// FuzzParsePublished: any message parses or fails; a parsed one has an
// epoch, an offset of at least 1 and an origin.
func FuzzParsePublished(f *testing.F) {
	f.Add("e1 7 1700000000000 - hello world")
	f.Add("e1 7 1700000000000 qab12 ")
	f.Fuzz(func(t *testing.T, msg string) {
		p, _, err := parsePublished(msg)
		if err == nil && (p.Epoch == "" || p.Offset == 0 || p.origin == "") {
			t.Fatalf("%q parsed to %+v", msg, p)
		}
	})
}
