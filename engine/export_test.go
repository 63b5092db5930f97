package engine

import (
	"unsafe"

	"github.com/lesismal/llib/std/crypto/tls"
)

// Hooks for the external tests of tlsrelease.go.

// ReleaseHandshake is releaseHandshake.
var ReleaseHandshake = releaseHandshake

// HandshakeState reports, for each llib field releaseHandshake clears,
// whether tc still holds it; nil when the fields were not found.
func HandshakeState(tc *tls.Conn) map[string]bool {
	if len(handshakeFields) == 0 {
		return nil
	}
	held := make(map[string]bool, len(handshakeFields))
	for _, f := range handshakeFields {
		held[f.name] = *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(tc), f.offset)) != nil
	}
	return held
}

// SetHandBuffer sets tc's handshake message buffer, as llib leaves it
// between messages.
func SetHandBuffer(tc *tls.Conn, b []byte) {
	for _, f := range handshakeFields {
		if f.name == handBuffer {
			*(**[]byte)(unsafe.Add(unsafe.Pointer(tc), f.offset)) = &b
		}
	}
}

// WriteFrames has c's loop write frames in one writev, as a flush of a
// long batch does.
func WriteFrames(c *Conn, frames [][]byte) error {
	return c.AsyncDo(func(c *Conn) { c.loop.writev(c, frames) })
}
