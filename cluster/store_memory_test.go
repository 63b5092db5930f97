package cluster_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/bellhop/bellhop/cluster"
)

// storeSuite is the behaviour every Store must have; each test gets a new,
// empty store from newStore.
func storeSuite(t *testing.T, newStore func(t *testing.T) cluster.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s cluster.Store)
	}{
		{"CAS", testStoreCAS},
		{"List", testStoreList},
		{"ConcurrentCAS", testStoreConcurrentCAS},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func TestMemoryStore(t *testing.T) {
	storeSuite(t, func(*testing.T) cluster.Store { return cluster.NewMemoryStore() })
}

// testStoreCAS walks one key through the compare-and-set rules, each
// step with the version it expects and what must happen.
func testStoreCAS(t *testing.T, s cluster.Store) {
	ctx := context.Background()
	steps := []struct {
		name    string
		op      string // put, delete
		expect  uint64
		value   string
		version uint64 // resulting version for put; 0 when it must fail
		current uint64 // for a conflict: the current version it reports
		err     error
	}{
		{"create", "put", 0, "v1", 1, 0, nil},
		{"create_again", "put", 0, "x", 0, 1, cluster.ErrConflict},
		{"update", "put", 1, "v2", 2, 0, nil},
		{"stale_update", "put", 1, "x", 0, 2, cluster.ErrConflict},
		{"future_version", "put", 9, "x", 0, 2, cluster.ErrConflict},
		{"update_again", "put", 2, "v3", 3, 0, nil},
		{"stale_delete", "delete", 2, "", 0, 3, cluster.ErrConflict},
		{"delete", "delete", 3, "", 0, 0, nil},
		{"delete_missing", "delete", 0, "", 0, 0, cluster.ErrNotFound},
		{"update_missing", "put", 3, "x", 0, 0, cluster.ErrConflict},
		{"recreate", "put", 0, "v4", 1, 0, nil},
		{"delete_any", "delete", 0, "", 0, 0, nil},
	}
	for _, st := range steps {
		var err error
		switch st.op {
		case "put":
			var r cluster.Record
			r, err = s.Put(ctx, "t", "k", []byte(st.value), st.expect)
			if err == nil && (r.Version != st.version || string(r.Value) != st.value || r.Key != "k") {
				t.Fatalf("%s: put gave %+v, want version %d", st.name, r, st.version)
			}
		case "delete":
			err = s.Delete(ctx, "t", "k", st.expect)
		}
		if !errors.Is(err, st.err) || (st.err == nil) != (err == nil) {
			t.Fatalf("%s: err %v, want %v", st.name, err, st.err)
		}
		var ce *cluster.ConflictError
		if errors.As(err, &ce) && ce.Current.Version != st.current {
			t.Fatalf("%s: conflict reports version %d, want %d", st.name, ce.Current.Version, st.current)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("%s: empty error message", st.name)
		}
	}
	if _, err := s.Get(ctx, "t", "k"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	if _, err := s.Get(ctx, "nowhere", "k"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Get of a missing table: %v", err)
	}
}

// testStoreList checks List returns every record of one table only.
func testStoreList(t *testing.T, s cluster.Store) {
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.Put(ctx, "rooms", strconv.Itoa(i), []byte("r"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(ctx, "other", "x", []byte("o"), 0); err != nil {
		t.Fatal(err)
	}
	recs, err := s.List(ctx, "rooms")
	if err != nil || len(recs) != 5 {
		t.Fatalf("List: %d records (%v), want 5", len(recs), err)
	}
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"0", "1", "2", "3", "4"}) {
		t.Fatalf("keys %v", keys)
	}
	if recs, err := s.List(ctx, "empty"); err != nil || len(recs) != 0 {
		t.Fatalf("List of a missing table: %v %v", recs, err)
	}
}

// testStoreConcurrentCAS has goroutines increment one counter with
// read, compare-and-set and retry: no increment may be lost.
func testStoreConcurrentCAS(t *testing.T, s cluster.Store) {
	ctx := context.Background()
	if _, err := s.Put(ctx, "c", "n", []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					r, err := s.Get(ctx, "c", "n")
					if err != nil {
						errs <- err
						return
					}
					n, _ := strconv.Atoi(string(r.Value))
					_, err = s.Put(ctx, "c", "n", []byte(strconv.Itoa(n+1)), r.Version)
					if err == nil {
						break
					}
					if !errors.Is(err, cluster.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, _ := s.Get(ctx, "c", "n")
	if string(r.Value) != strconv.Itoa(workers*each) || r.Version != workers*each+1 {
		t.Fatalf("counter %s at version %d, want %d at %d", r.Value, r.Version, workers*each, workers*each+1)
	}
}
