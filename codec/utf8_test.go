package codec

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

func TestUTF8MatchesStdlib(t *testing.T) {
	cases := []string{"", "a", "héllo", "日本語", "😀", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82", "\xc0\xaf", "\xf0\x9f\x98", "aaaaaaaaaaaaaaaa\xff", "abcdefgh😀abcdefgh"}
	for _, s := range cases {
		if got, want := ValidUTF8([]byte(s)), utf8.ValidString(s); got != want {
			t.Errorf("%q: got %v, want %v", s, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'a', 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0}
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(12))
		for j := range b {
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		if got, want := ValidUTF8(b), utf8.Valid(b); got != want {
			t.Fatalf("%x: got %v, want %v", b, got, want)
		}
		// Any split point must give the same answer, and a prefix that
		// cannot be completed must fail before the end.
		var u UTF8
		cut := r.IntN(len(b) + 1)
		ok := u.Write(b[:cut]) && u.Write(b[cut:]) && u.Complete()
		if ok != utf8.Valid(b) {
			t.Fatalf("%x split at %d: got %v", b, cut, ok)
		}
	}
}

func TestUTF8Reset(t *testing.T) {
	var u UTF8
	if u.Write([]byte{0xff}) {
		t.Fatal("0xff accepted")
	}
	if u.Write([]byte("a")) {
		t.Fatal("validator recovered without Reset")
	}
	u.Reset()
	if !u.Write([]byte("a")) || !u.Complete() {
		t.Fatal("Reset did not clear the error")
	}
}
