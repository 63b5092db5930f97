package cluster_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
)

// coordSuite is the behaviour every Coordinator must have; each test gets
// a new, empty coordinator from newCoord. Expiry is real time, short.
func coordSuite(t *testing.T, newCoord func(t *testing.T) cluster.Coordinator) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, c cluster.Coordinator)
	}{
		{"Presence", testPresence},
		{"PresenceExpires", testPresenceExpires},
		{"Lease", testLease},
		{"Deadlines", testDeadlines},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newCoord(t)) })
	}
}

func TestMemoryCoordinator(t *testing.T) {
	coordSuite(t, func(*testing.T) cluster.Coordinator { return cluster.NewMemoryCoordinator(nil) })
}

func presenceMap(t *testing.T, c cluster.Coordinator, group string) map[string]string {
	t.Helper()
	recs, err := c.Presence(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(recs))
	for _, r := range recs {
		out[r.Key] = string(r.Value)
	}
	return out
}

func testPresence(t *testing.T, c cluster.Coordinator) {
	ctx := context.Background()
	steps := []struct {
		op, group, key, value string
		want                  map[string]string // group's entries after the step
	}{
		{"set", "g1", "ann@a", "v1", map[string]string{"ann@a": "v1"}},
		{"set", "g1", "bob@b", "v2", map[string]string{"ann@a": "v1", "bob@b": "v2"}},
		{"set", "g1", "ann@a", "v3", map[string]string{"ann@a": "v3", "bob@b": "v2"}},
		{"set", "g2", "cy@a", "v4", map[string]string{"ann@a": "v3", "bob@b": "v2"}},
		{"remove", "g1", "ann@a", "", map[string]string{"bob@b": "v2"}},
		{"remove", "g1", "nobody", "", map[string]string{"bob@b": "v2"}},
	}
	for i, st := range steps {
		var err error
		if st.op == "set" {
			err = c.SetPresence(ctx, st.group, st.key, []byte(st.value), time.Minute)
		} else {
			err = c.RemovePresence(ctx, st.group, st.key)
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := presenceMap(t, c, "g1"); !mapsEqual(got, st.want) {
			t.Fatalf("step %d %s %s: g1 = %v, want %v", i, st.op, st.key, got, st.want)
		}
	}
	if got := presenceMap(t, c, "g2"); !mapsEqual(got, map[string]string{"cy@a": "v4"}) {
		t.Fatalf("g2 = %v", got)
	}
	if got := presenceMap(t, c, "none"); len(got) != 0 {
		t.Fatalf("empty group = %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// testPresenceExpires: an entry not refreshed within its ttl is gone; one
// refreshed stays.
func testPresenceExpires(t *testing.T, c cluster.Coordinator) {
	ctx := context.Background()
	const ttl = 400 * time.Millisecond
	for _, k := range []string{"stays", "goes"} {
		if err := c.SetPresence(ctx, "g", k, []byte(k), ttl); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(ttl / 2)
	if err := c.SetPresence(ctx, "g", "stays", []byte("again"), ttl); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl/2 + 100*time.Millisecond)
	if got := presenceMap(t, c, "g"); !mapsEqual(got, map[string]string{"stays": "again"}) {
		t.Fatalf("after the first ttl: %v", got)
	}
	time.Sleep(ttl)
	if got := presenceMap(t, c, "g"); len(got) != 0 {
		t.Fatalf("after the second ttl: %v", got)
	}
}

func testLease(t *testing.T, c cluster.Coordinator) {
	ctx := context.Background()
	const ttl = 400 * time.Millisecond
	steps := []struct {
		op, holder string
		want       bool
	}{
		{"take", "a", true},
		{"take", "b", false}, // held by a
		{"take", "a", true},  // a renews
		{"release", "b", false},
		{"take", "b", false}, // b's release did nothing
		{"release", "a", false},
		{"take", "b", true}, // free after a released
		{"expire", "", false},
		{"take", "a", true}, // b's lease ran out
	}
	for i, st := range steps {
		switch st.op {
		case "take":
			got, err := c.Lease(ctx, "sweep", st.holder, ttl)
			if err != nil || got != st.want {
				t.Fatalf("step %d: %s takes: %v, %v; want %v", i, st.holder, got, err, st.want)
			}
		case "release":
			if err := c.ReleaseLease(ctx, "sweep", st.holder); err != nil {
				t.Fatal(err)
			}
		case "expire":
			time.Sleep(ttl + 100*time.Millisecond)
		}
	}
	if ok, err := c.Lease(ctx, "other", "b", ttl); !ok || err != nil {
		t.Fatalf("another lease name: %v, %v", ok, err)
	}
}

func testDeadlines(t *testing.T, c cluster.Coordinator) {
	ctx := context.Background()
	base := time.Now().Truncate(time.Millisecond)
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	for k, s := range map[string]int{"r1": 3, "r2": 1, "r3": 2, "r4": 10} {
		if err := c.Schedule(ctx, k, at(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Schedule(ctx, "r4", at(2)); err != nil { // rescheduled earlier
		t.Fatal(err)
	}
	steps := []struct {
		op    string // due, claim, cancel
		key   string
		now   int
		retry int
		want  []string // due keys, or {"true"}/{"false"} for a claim
	}{
		{op: "due", now: 0, want: []string{}},
		{op: "due", now: 2, want: []string{"r2", "r3", "r4"}},
		{op: "claim", key: "r1", now: 2, retry: 30, want: []string{"false"}}, // not due yet
		{op: "claim", key: "r3", now: 2, retry: 30, want: []string{"true"}},
		{op: "claim", key: "r3", now: 2, retry: 30, want: []string{"false"}}, // claimed: pushed back
		{op: "due", now: 5, want: []string{"r2", "r4", "r1"}},
		{op: "cancel", key: "r2"},
		{op: "due", now: 5, want: []string{"r4", "r1"}},
		{op: "claim", key: "r2", now: 5, retry: 30, want: []string{"false"}}, // cancelled
		{op: "due", now: 30, want: []string{"r4", "r1", "r3"}},               // the claim's retry came due
		{op: "claim", key: "nope", now: 30, retry: 40, want: []string{"false"}},
	}
	for i, st := range steps {
		var got []string
		switch st.op {
		case "due":
			keys, err := c.Due(ctx, at(st.now), 10)
			if err != nil {
				t.Fatal(err)
			}
			got = append([]string{}, keys...)
		case "claim":
			ok, err := c.Claim(ctx, st.key, at(st.now), at(st.retry))
			if err != nil {
				t.Fatal(err)
			}
			got = []string{map[bool]string{true: "true", false: "false"}[ok]}
		case "cancel":
			if err := c.Cancel(ctx, st.key); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !slices.Equal(got, st.want) {
			t.Fatalf("step %d %s %s: %v, want %v", i, st.op, st.key, got, st.want)
		}
	}
	if keys, err := c.Due(ctx, at(30), 2); err != nil || len(keys) != 2 {
		t.Fatalf("limit 2: %v, %v", keys, err)
	}
}
