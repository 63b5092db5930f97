package engine

import (
	"reflect"
	"unsafe"

	"github.com/lesismal/llib/std/crypto/tls"
)

// llib keeps a TLS session's handshake state for the life of the
// connection: the ClientHello (parsed, and raw a second time), the
// handshake state and the buffer the handshake messages were read into.
// With today's ClientHellos (a post-quantum key share alone is 1.2 KB) that
// is about 4–5 KB per idle wss connection, more than everything else the
// connection holds. Nothing reads it once the handshake is done: a later
// handshake message (a key update) starts again from an empty buffer, and
// the handshake never runs twice. llib has no call to drop it, so
// releaseHandshake clears the references itself. The fields are looked up
// by name and type once; if a llib version lacks any of them, nothing is
// released (and TestReleaseHandshakeState fails).
var handshakeFields = findHandshakeFields()

// handshakeField is a pointer field of tls.Conn that releaseHandshake sets
// to nil.
type handshakeField struct {
	name   string
	offset uintptr
}

// handBuffer is the field holding the handshake message buffer; it is
// released only when it holds no unread bytes.
const handBuffer = "hand"

func findHandshakeFields() []handshakeField {
	t := reflect.TypeFor[tls.Conn]()
	var fields []handshakeField
	for _, name := range []string{"clientHello", "hs13", "hs", handBuffer} {
		f, ok := t.FieldByName(name)
		if !ok || f.Type.Kind() != reflect.Pointer {
			return nil // not the llib this was written for: release nothing
		}
		fields = append(fields, handshakeField{name: name, offset: f.Offset})
	}
	return fields
}

// releaseHandshake drops tc's handshake state. Call it on the connection's
// loop once the handshake is complete.
func releaseHandshake(tc *tls.Conn) {
	base := unsafe.Pointer(tc)
	for _, f := range handshakeFields {
		p := (*unsafe.Pointer)(unsafe.Add(base, f.offset))
		if f.name == handBuffer {
			if buf := (*[]byte)(*p); buf != nil && len(*buf) > 0 {
				continue // a handshake message is half read
			}
		}
		*p = nil
	}
}
