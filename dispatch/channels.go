package dispatch

import (
	"encoding/binary"
	"hash/maphash"
	"strings"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// Channel names. Every channel belongs to one property, so a token for one
// hotel can never reach another's messages:
//
//	<property>:<namespace>   rooms, service, guests, housekeeping, maintenance, system
//	<property>:staff:<sub>   a staff member's assignments
//	<property>:room:<room>   a guest's room: its requests and notices
func nsChannel(property, namespace string) string { return property + ":" + namespace }

func staffChannel(property, subject string) string { return property + ":staff:" + subject }

func roomChannel(property, room string) string { return property + ":room:" + room }

// channelFor maps a subscription request to its channel, or "" when the
// caller's role may not subscribe to the namespace.
func channelFor(c *auth.Claims, namespace string) string {
	if !maySubscribe(c.Role, namespace) {
		return ""
	}
	if namespace != NSPersonal {
		return nsChannel(c.Property, namespace)
	}
	if c.Role == auth.Guest {
		return roomChannel(c.Property, c.Room)
	}
	return staffChannel(c.Property, c.Subject)
}

// validName accepts the ids clients put in channel names: properties,
// rooms, subjects. No separators, no spaces, bounded.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return !strings.ContainsAny(s, ": \t\r\n\x00")
}

var keySeed = maphash.MakeSeed()

// shardKey maps a string (a room, a request) to a dispatch shard key, so
// its events run in order on one worker.
func shardKey(parts ...string) uint64 {
	var h maphash.Hash
	h.SetSeed(keySeed)
	for _, p := range parts {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// Publications carry a small binary header before the client's JSON, so a
// node knows a message's priority and conflation key without parsing it:
//
//	byte 0     format version (1)
//	byte 1     priority (0 HIGH, 1 MEDIUM, 2 LOW)
//	bytes 2-9  conflation key, big endian (0: none)
//	bytes 10-  the envelope JSON, without messageId
const pubHeaderSize = 10

func appendPubHeader(dst []byte, prio Priority, conflate uint64) []byte {
	dst = append(dst, 1, byte(prio))
	return binary.BigEndian.AppendUint64(dst, conflate)
}

// splitPub reads a publication's header; ok is false for foreign data.
func splitPub(data []byte) (prio Priority, conflate uint64, env []byte, ok bool) {
	if len(data) < pubHeaderSize || data[0] != 1 || data[1] > byte(Low) {
		return Low, 0, nil, false
	}
	return Priority(data[1]), binary.BigEndian.Uint64(data[2:10]), data[pubHeaderSize:], true
}
