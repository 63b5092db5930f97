package seal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/clustertest"
	"github.com/bellhop/bellhop/cluster/seal"
)

func key(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, seal.KeySize))
}

func TestParseKeys(t *testing.T) {
	cases := []struct {
		name, text, active string
		ok                 bool
	}{
		{"one", "k1 " + key(1), "k1", true},
		{"colon_and_comments", "# rotated 2026-11\n\nk2:" + key(2) + "\nk1 " + key(1) + "\n", "k2", true},
		{"empty", "# nothing\n", "", false},
		{"short_key", "k1 " + base64.StdEncoding.EncodeToString([]byte("short")), "", false},
		{"not_base64", "k1 !!!", "", false},
		{"no_key", "k1", "", false},
		{"bad_id", "k/1 " + key(1), "", false},
		{"long_id", strings.Repeat("k", 33) + " " + key(1), "", false},
		{"duplicate", "k1 " + key(1) + "\nk1 " + key(2), "", false},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			k, err := seal.Load("", tc.text)
			if tc.ok != (err == nil) {
				t.Fatalf("Load: %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, seal.ErrKeys) || strings.Contains(err.Error(), key(1)) {
					t.Fatalf("error %v: want ErrKeys, without the key", err)
				}
				return
			}
			if k.Active() != tc.active {
				t.Fatalf("active %q, want %q", k.Active(), tc.active)
			}
		})
	}
	if _, err := seal.Load(filepath.Join(t.TempDir(), "missing"), ""); !errors.Is(err, seal.ErrKeys) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestRotation: a record sealed with k1 still opens after k2 became the
// active key; records sealed since use k2; once k1 is retired its records
// no longer open, with an error that names the key id.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("k1 " + key(1))
	k, err := seal.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("grand:rooms")
	old := k.Seal([]byte("room 101 DIRTY"), aad)
	write("k2 " + key(2) + "\nk1 " + key(1))
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	fresh := k.Seal([]byte("room 101 CLEANED"), aad)
	if !bytes.Contains(fresh[:4], []byte("k2")) || !bytes.Contains(old[:4], []byte("k1")) {
		t.Fatalf("key ids not in the records: %q %q", old[:4], fresh[:4])
	}
	for _, rec := range [][]byte{old, fresh} {
		if _, err := k.Open(rec, aad); err != nil {
			t.Fatalf("open after rotation: %v", err)
		}
	}
	write("broken")
	if err := k.Reload(); err == nil || k.Active() != "k2" {
		t.Fatalf("a broken key file replaced the ring: %v, active %s", err, k.Active())
	}
	write("k2 " + key(2))
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(old, aad); !errors.Is(err, seal.ErrUnknownID) || !strings.Contains(err.Error(), "k1") {
		t.Fatalf("record of a retired key: %v", err)
	}
}

// TestOpenRefuses: tampering, another place's associated data, garbage
// and plain records are refused (plain ones pass only with AllowPlain).
func TestOpenRefuses(t *testing.T) {
	k, err := seal.Load("", "k1 "+key(1))
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("grand:rooms")
	good := k.Seal([]byte("secret guest note"), aad)
	if bytes.Contains(good, []byte("secret")) {
		t.Fatal("sealed record holds the plain text")
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name   string
		rec    []byte
		aad    string
		plain  bool // AllowPlain
		err    error
		result string
	}{
		{"good", good, "grand:rooms", false, nil, "secret guest note"},
		{"tampered", flipped, "grand:rooms", false, seal.ErrCorrupt, ""},
		{"moved", good, "annex:rooms", false, seal.ErrCorrupt, ""},
		{"truncated", good[:10], "grand:rooms", false, seal.ErrCorrupt, ""},
		{"header_only", good[:2], "grand:rooms", false, seal.ErrCorrupt, ""},
		{"id_past_end", []byte{0xB5, 40, 'k'}, "grand:rooms", false, seal.ErrCorrupt, ""},
		{"plain_refused", []byte("plain"), "grand:rooms", false, seal.ErrCorrupt, ""},
		{"plain_allowed", []byte("plain"), "grand:rooms", true, nil, "plain"},
		{"empty_refused", nil, "grand:rooms", false, seal.ErrCorrupt, ""},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			k.AllowPlain = tc.plain
			got, err := k.Open(tc.rec, []byte(tc.aad))
			if !errors.Is(err, tc.err) || (err == nil && string(got) != tc.result) {
				t.Fatalf("Open: %q, %v; want %q, %v", got, err, tc.result, tc.err)
			}
		})
	}
}

// TestStore: values reach the inner store sealed, come back plain, and a
// conflict's current record is opened.
func TestStore(t *testing.T) {
	k, _ := seal.Load("", "k1 "+key(1))
	inner := cluster.NewMemoryStore()
	s := &seal.Store{Store: inner, Keys: k}
	ctx := context.Background()
	rec, err := s.Put(ctx, "requests:grand", "r1", []byte(`{"description":"extra pillows"}`), 0)
	if err != nil || string(rec.Value) != `{"description":"extra pillows"}` {
		t.Fatalf("Put: %+v, %v", rec, err)
	}
	raw, _ := inner.Get(ctx, "requests:grand", "r1")
	if bytes.Contains(raw.Value, []byte("pillows")) {
		t.Fatal("the inner store holds the plain text")
	}
	if got, err := s.Get(ctx, "requests:grand", "r1"); err != nil || string(got.Value) != `{"description":"extra pillows"}` {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	list, err := s.List(ctx, "requests:grand")
	if err != nil || len(list) != 1 || !bytes.Contains(list[0].Value, []byte("pillows")) {
		t.Fatalf("List: %+v, %v", list, err)
	}
	var ce *cluster.ConflictError
	if _, err := s.Put(ctx, "requests:grand", "r1", []byte("x"), 0); !errors.As(err, &ce) || !bytes.Contains(ce.Current.Value, []byte("pillows")) {
		t.Fatalf("conflict: %v", err)
	}
	if err := s.Delete(ctx, "requests:grand", "r1", 99); !errors.As(err, &ce) || !bytes.Contains(ce.Current.Value, []byte("pillows")) {
		t.Fatalf("delete conflict: %v", err)
	}
	if _, err := s.Get(ctx, "requests:grand", "nope"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	// A value moved to another key does not open.
	if _, err := inner.Put(ctx, "requests:grand", "r2", raw.Value, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "requests:grand", "r2"); !errors.Is(err, seal.ErrCorrupt) {
		t.Fatalf("moved record: %v", err)
	}
	if _, err := s.List(ctx, "requests:grand"); !errors.Is(err, seal.ErrCorrupt) {
		t.Fatalf("list with a moved record: %v", err)
	}
}

// TestBrokerSuite runs the broker behaviour suite through the sealing
// wrappers, and checks that the history underneath is sealed.
func TestBrokerSuite(t *testing.T) {
	k, _ := seal.Load("", "k1 "+key(1))
	clustertest.RunBrokerSuite(t, func(t *testing.T, h cluster.Handler) cluster.Broker {
		inner := cluster.NewMemoryBroker(cluster.MemoryConfig{MaxHistory: clustertest.MaxHistory}, seal.Handler(k, h, nil))
		t.Cleanup(func() { _ = inner.Close() })
		return &seal.Broker{Broker: inner, Keys: k}
	})
}

func TestBrokerSealsHistory(t *testing.T) {
	k, _ := seal.Load("", "k1 "+key(1))
	var bad []error
	got := make(chan cluster.Publication, 4)
	inner := cluster.NewMemoryBroker(cluster.MemoryConfig{}, seal.Handler(k, func(p cluster.Publication) { got <- p },
		func(_ cluster.Publication, err error) { bad = append(bad, err) }))
	defer inner.Close()
	b := &seal.Broker{Broker: inner, Keys: k}
	ctx := context.Background()
	if err := b.Subscribe(ctx, "grand:guests"); err != nil {
		t.Fatal(err)
	}
	p, err := b.Publish(ctx, "grand:guests", []byte("Ada Lovelace checked in"), cluster.PublishOptions{})
	if err != nil || string(p.Data) != "Ada Lovelace checked in" {
		t.Fatalf("Publish: %+v, %v", p, err)
	}
	if d := <-got; string(d.Data) != "Ada Lovelace checked in" {
		t.Fatalf("delivered %q", d.Data)
	}
	_ = inner.Recover(ctx, "grand:guests", cluster.Position{Epoch: p.Epoch, Offset: 0}, 0, func(res cluster.HistoryResult) {
		if len(res.Publications) != 1 || bytes.Contains(res.Publications[0].Data, []byte("Ada")) {
			t.Errorf("history underneath: %+v", res.Publications)
		}
	})
	// A publication that does not open (sealed by someone else's key) is
	// reported, not delivered, and fails a recovery over it.
	other, _ := seal.Load("", "k9 "+key(9))
	if _, err := inner.Publish(ctx, "grand:guests", other.Seal([]byte("x"), []byte("grand:guests")), cluster.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || !errors.Is(bad[0], seal.ErrUnknownID) {
		t.Fatalf("bad deliveries: %v", bad)
	}
	err = b.Recover(ctx, "grand:guests", p.Position, 0, func(cluster.HistoryResult) { t.Error("fn called") })
	if !errors.Is(err, seal.ErrUnknownID) {
		t.Fatalf("Recover over a foreign record: %v", err)
	}
}

// BenchmarkSealOpen measures sealing and opening a typical 256-byte event:
// the cost encryption at rest adds per publish and per delivered message
// (once per node, not per subscriber).
func BenchmarkSealOpen(b *testing.B) {
	k, _ := seal.Load("", "k1 "+key(1))
	plain := bytes.Repeat([]byte("x"), 256)
	aad := []byte("grand:rooms")
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := k.Open(k.Seal(plain, aad), aad); err != nil {
			b.Fatal(err)
		}
	}
}
