package seal_test

import (
	"testing"

	"github.com/bellhop/bellhop/cluster/seal"
)

// FuzzLoad: any key text loads or fails with ErrKeys; never panics.
func FuzzLoad(f *testing.F) {
	f.Add("k1 " + key(1))
	f.Add("k2:" + key(2) + "\nk1 " + key(1))
	f.Add("# c\n\nk1 AAAA")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := seal.Load("", text)
		if err == nil && k.Active() == "" {
			t.Fatal("a ring without an active key")
		}
	})
}

// FuzzOpen: any record opens only if it is a sealed record of the ring for
// that associated data; never panics.
func FuzzOpen(f *testing.F) {
	k, _ := seal.Load("", "k1 "+key(1))
	f.Add(k.Seal([]byte("hello"), []byte("a")), []byte("a"))
	f.Add([]byte{0xB5, 2, 'k', '1'}, []byte("a"))
	f.Add([]byte("plain"), []byte(""))
	f.Fuzz(func(t *testing.T, rec, aad []byte) {
		plain, err := k.Open(rec, aad)
		if err == nil {
			again, err := k.Open(k.Seal(plain, aad), aad)
			if err != nil || string(again) != string(plain) {
				t.Fatalf("round trip of %q: %q, %v", plain, again, err)
			}
		}
	})
}
