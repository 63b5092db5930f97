package deflate

import (
	"fmt"
	"math/rand/v2"
)

// hotelJSON returns a realistic hotel event of exactly n bytes: a single
// ROOM_STATUS_UPDATE when small, else a ROOM_STATUS_SNAPSHOT listing rooms and
// ending in a hex paging cursor that fills the rest. Values vary with a fixed
// seed, so the output is the same on every run.
func hotelJSON(n int) []byte {
	const closing = `],"cursor":""}}`
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	out := fmt.Appendf(nil, `{"event":"ROOM_STATUS_SNAPSHOT","namespace":"rooms","id":"evt-%08x","ts":%d,"propertyId":"HTL-0042","payload":{"rooms":[`,
		rng.Uint32(), 1767225600000+rng.IntN(1e9))
	for i := 0; ; i++ {
		room := roomJSON(rng, i)
		if i > 0 {
			room = append([]byte{','}, room...)
		}
		if len(out)+len(room)+len(closing) > n {
			if i == 0 {
				return single(rng, n)
			}
			break
		}
		out = append(out, room...)
	}
	out = append(out, `],"cursor":"`...)
	for len(out)+3 < n {
		out = append(out, "0123456789abcdef"[rng.IntN(16)])
	}
	return append(out, `"}}`...)
}

var (
	statuses = []string{"CLEANED", "DIRTY", "INSPECTED", "OUT_OF_ORDER", "OCCUPIED", "VACANT"}
	staff    = []string{"maria.lopez", "john.smith", "aiko.tanaka", "li.wei", "fatima.khan", "olga.ivanova"}
	notes    = []string{"", "Extra towels requested", "Minibar restocked", "Late checkout approved", "Do not disturb until noon"}
)

// roomJSON is one room's status object.
func roomJSON(rng *rand.Rand, i int) []byte {
	return fmt.Appendf(nil, `{"roomNumber":"%d%02d","floor":%d,"status":"%s","previousStatus":"%s","updatedBy":"%s","updatedAt":"2026-01-%02dT%02d:%02d:%02dZ","priority":"%s","notes":"%s"}`,
		1+i/20, i%20+1, 1+i/20, statuses[rng.IntN(len(statuses))], statuses[rng.IntN(len(statuses))],
		staff[rng.IntN(len(staff))], 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60),
		[]string{"HIGH", "MEDIUM", "LOW"}[rng.IntN(3)], notes[rng.IntN(len(notes))])
}

// single is a ROOM_STATUS_UPDATE event padded (in its notes, with words
// picked at random) to n bytes, or longer when n is below its fixed part.
func single(rng *rand.Rand, n int) []byte {
	msg := fmt.Appendf(nil, `{"event":"ROOM_STATUS_UPDATE","namespace":"rooms","payload":{"roomNumber":"%d","status":"%s","notes":"`,
		100+rng.IntN(900), statuses[rng.IntN(len(statuses))])
	words := []string{"guest", "requested", "late", "checkout", "extra", "towels", "pillows", "minibar", "restocked",
		"VIP", "arrival", "at", "noon", "maintenance", "AC", "filter", "replaced", "by", "staff", "floor"}
	for len(msg)+3 < n {
		w := words[rng.IntN(len(words))] + " "
		msg = append(msg, w[:min(len(w), n-3-len(msg))]...)
	}
	return append(msg, `"}}`...)
}
