package engine_test

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/engine"
)

// validUTF8 are texts of Autobahn 6.2-6.23 that must be echoed: every
// encoding length and the boundaries of each range.
var validUTF8 = []struct{ name, text string }{
	{"greek", "κόσμε"},
	{"mixed", "Hello-µ@ßöäüàá-UTF-8!!"},
	{"boundary=U+0000", "\x00"},
	{"boundary=U+007F", "\x7f"},
	{"boundary=U+0080", "\u0080"},
	{"boundary=U+07FF", "\u07ff"},
	{"boundary=U+0800", "\u0800"},
	{"boundary=U+D7FF", "\ud7ff"},
	{"boundary=U+E000", "\ue000"},
	{"boundary=U+FFFD", "\ufffd"},
	{"boundary=U+FFFF", "\uffff"},
	{"boundary=U+10000", "\U00010000"},
	{"boundary=U+10FFFF", "\U0010ffff"},
	{"noncharacters", "\ufdd0\ufffe\U0001fffe\U0010fffe"},
	{"emoji", "hotel \U0001f3e8 room \U0001f6ce\ufe0f"},
}

// invalidUTF8 are byte sequences of Autobahn 6.3-6.21 that are not UTF-8:
// overlong forms, surrogates, code points past U+10FFFF, stray or missing
// continuation bytes, impossible bytes, and a message cut inside a
// character.
var invalidUTF8 = []struct {
	name string
	text string
}{
	{"greek-with-surrogate", "κόσμε\xed\xa0\x80edited"},
	{"overlong-2", "\xc0\xaf"},
	{"overlong-3", "\xe0\x80\xaf"},
	{"overlong-4", "\xf0\x80\x80\xaf"},
	{"overlong-5", "\xf8\x80\x80\x80\xaf"},
	{"overlong-6", "\xfc\x80\x80\x80\x80\xaf"},
	{"overlong-max-2", "\xc1\xbf"},
	{"overlong-max-3", "\xe0\x9f\xbf"},
	{"overlong-max-4", "\xf0\x8f\xbf\xbf"},
	{"overlong-nul", "\xc0\x80"},
	{"surrogate=D800", "\xed\xa0\x80"},
	{"surrogate=DB7F", "\xed\xad\xbf"},
	{"surrogate=DB80", "\xed\xae\x80"},
	{"surrogate=DBFF", "\xed\xaf\xbf"},
	{"surrogate=DC00", "\xed\xb0\x80"},
	{"surrogate=DF80", "\xed\xbe\x80"},
	{"surrogate=DFFF", "\xed\xbf\xbf"},
	{"surrogate-pair", "\xed\xa0\x80\xed\xb0\x80"},
	{"over=U+110000", "\xf4\x90\x80\x80"},
	{"over=U+1FFFFF", "\xf7\xbf\xbf\xbf"},
	{"over=5-bytes", "\xf8\x88\x80\x80\x80"},
	{"over=6-bytes", "\xfc\x84\x80\x80\x80\x80"},
	{"lone-continuation=80", "\x80"},
	{"lone-continuation=BF", "\xbf"},
	{"continuations", "\x80\xbf\x80\xbf"},
	{"start-then-space=C0", "\xc0 "},
	{"start-then-space=E0", "\xe0 "},
	{"start-then-space=F0", "\xf0 "},
	{"impossible=FE", "\xfe"},
	{"impossible=FF", "\xff"},
	{"impossible=FEFEFFFF", "\xfe\xfe\xff\xff"},
	{"truncated-2", "ok\xc2"},
	{"truncated-3", "ok\xe2\x82"},
	{"truncated-4", "ok\xf0\x9f\x8f"},
	{"truncated-3-first", "ok\xe0"},
	{"missing-continuation", "\xe2\x82ok"},
}

// TestConformanceUTF8 covers Autobahn 6.x: valid text is echoed whole or in
// fragments split anywhere, even inside a character; invalid text fails the
// connection with 1007, as soon as the fragment holding the fault arrives.
func TestConformanceUTF8(t *testing.T) {
	forEachTransport(t, engine.Config{}, func(t *testing.T, w *wire) {
		t.Run("valid", func(t *testing.T) { utf8Valid(t, w) })
		w.runAll(t, utf8InvalidCases())
		t.Run("fail-fast", func(t *testing.T) { utf8FailFast(t, w) })
	})
}

// utf8Valid echoes each valid text whole, split at every byte position into
// two fragments, and one byte per fragment. Each text's messages go out in
// one write and their echoes are read after.
func utf8Valid(t *testing.T, w *wire) {
	c := w.connect(t)
	for _, v := range validUTF8 {
		if !utf8.ValidString(v.text) {
			t.Fatalf("%s: test text is not valid UTF-8", v.name)
		}
		p := []byte(v.text)
		out := joinBytes(textFrame(v.text), fragmented(codec.OpText, 0, p, len(p)))
		for i := 1; i < len(p); i++ {
			out = append(out, joinBytes(fr(false, 0, codec.OpText, p[:i]), fr(true, 0, codec.OpContinuation, p[i:]))...)
		}
		c.write(out)
		for range 1 + max(len(p), 1) {
			expectReply(c, textEcho(v.text))
		}
	}
	closeClean(c)
}

// utf8InvalidCases sends each invalid text whole, one byte per fragment,
// and as the last fragment after a valid one; each must fail with 1007.
func utf8InvalidCases() []wireCase {
	var xs []wireCase
	for _, v := range invalidUTF8 {
		if utf8.ValidString(v.text) {
			panic(v.name + ": test text is valid UTF-8")
		}
		p := []byte(v.text)
		xs = append(xs,
			wireCase{name: v.name, send: textFrame(v.text), close: codec.CloseInvalidPayload},
			wireCase{name: v.name + "/bytewise-fragments", send: fragmented(codec.OpText, 0, p, len(p)), close: codec.CloseInvalidPayload},
			wireCase{name: v.name + "/after-valid", send: joinBytes(fr(false, 0, codec.OpText, []byte("valid ")), fr(true, 0, codec.OpContinuation, p)),
				close: codec.CloseInvalidPayload},
		)
	}
	return xs
}

// utf8FailFast checks RFC 6455 section 8.1's fail-fast rule: a first
// fragment that cannot start valid UTF-8 gets 1007 at once, before the
// client sends the rest of the message (it never does here).
func utf8FailFast(t *testing.T, w *wire) {
	for _, p := range []string{"κόσμε\xed\xa0\x80", "\xc0\xaf", "ok\xf4\x90", "\xff rest", "\x80"} {
		t.Run(fmt.Sprintf("prefix=%q", p), func(t *testing.T) {
			c := w.connect(t)
			c.write(fr(false, 0, codec.OpText, []byte(p)))
			expectCloseOnly(c, codec.CloseInvalidPayload)
			w.alive(t)
		})
	}
	t.Run("invalid-in-middle-fragment", func(t *testing.T) {
		c := w.connect(t)
		c.write(fr(false, 0, codec.OpText, []byte("fine so far ")))
		c.write(fr(false, 0, codec.OpContinuation, []byte("then \xed\xbf\xbf")))
		expectCloseOnly(c, codec.CloseInvalidPayload)
		w.alive(t)
	})
	t.Run("binary-is-not-checked", func(t *testing.T) {
		c := w.connect(t)
		c.echoes(codec.OpBinary, []byte("\xed\xa0\x80\xff"))
		closeClean(c)
	})
}
