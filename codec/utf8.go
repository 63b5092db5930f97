package codec

import (
	"encoding/binary"
	"unicode/utf8"
)

// UTF8 validates UTF-8 incrementally, across the fragments of a message. It
// fails as soon as a byte cannot start or continue a valid sequence (RFC 6455
// section 8.1 asks to fail fast), not only at the end of the message.
//
// The zero value is ready at the start of a text. It is the DFA of Bjoern
// Hoehrmann ("Flexible and Economical UTF-8 Decoder"), with an 8-byte ASCII
// fast path taken between sequences.
type UTF8 struct {
	state uint8 // utf8Accept between sequences, utf8Reject after an error
}

const (
	utf8Accept = 0
	utf8Reject = 12
)

// utf8Class maps a byte to its character class.
var utf8Class = [256]uint8{
	0x80: 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0x90: 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
	0xa0: 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	0xb0: 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	0xc0: 8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	0xd0: 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	0xe0: 10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3,
	0xf0: 11, 6, 6, 6, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
}

// utf8Trans maps state+class to the next state.
var utf8Trans = [108]uint8{
	0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72,
	12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
	12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12,
	12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
	12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12,
	12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
	12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
	12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
	12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
}

// Write feeds p and reports false as soon as the text so far cannot be a
// prefix of valid UTF-8. After false, the validator stays failed.
func (u *UTF8) Write(p []byte) bool {
	if u.state == utf8Accept && utf8.Valid(p) {
		return true // the common case, at the standard library's speed
	}
	s := u.state
	i := 0
	for i < len(p) {
		if s == utf8Accept {
			for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			for i < len(p) && p[i] < 0x80 {
				i++
			}
			if i == len(p) {
				break
			}
		}
		s = utf8Trans[s+utf8Class[p[i]]]
		if s == utf8Reject {
			u.state = s
			return false
		}
		i++
	}
	u.state = s
	return true
}

// Complete reports whether the text ends on a character boundary with no
// error, as a whole message must.
func (u *UTF8) Complete() bool { return u.state == utf8Accept }

// Reset prepares the validator for a new text.
func (u *UTF8) Reset() { u.state = utf8Accept }

// ValidUTF8 reports whether p is valid UTF-8.
func ValidUTF8(p []byte) bool {
	var u UTF8
	return u.Write(p) && u.Complete()
}
