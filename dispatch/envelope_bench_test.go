package dispatch

import (
	stdjson "encoding/json"
	"testing"
	"time"
)

// Messages of the envelope benchmarks: what clients send most.
var benchMessages = []struct {
	name string
	data []byte
}{
	{"ROOM_STATUS_UPDATE", []byte(`{"event":"ROOM_STATUS_UPDATE","namespace":"rooms","payload":{"roomNumber":"412","status":"CLEANED","version":7},"correlationId":"c-8f14e45f","priority":"HIGH"}`)},
	{"SUBSCRIBE", []byte(`{"event":"SUBSCRIBE","namespace":"rooms","payload":{"since":"5f2a91c0-1042"},"correlationId":"c-2"}`)},
	{"SERVICE_REQUEST", []byte(`{"event":"SERVICE_REQUEST","payload":{"type":"towels","roomNumber":"305","description":"Two bath towels and a bathrobe, please, before 9 pm."},"correlationId":"c-3","timestamp":"2026-11-25T10:00:00.000Z"}`)},
}

// BenchmarkDecodeEnvelope decodes one client message with goccy/go-json,
// as the service does, against encoding/json in the same run.
func BenchmarkDecodeEnvelope(b *testing.B) {
	for _, m := range benchMessages {
		b.Run("event="+m.name+"/impl=goccy", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.data)))
			for b.Loop() {
				var env Envelope
				if err := decodeEnvelope(m.data, &env, defaultJSONLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("event="+m.name+"/impl=stdlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.data)))
			for b.Loop() {
				var env Envelope
				if err := stdjson.Unmarshal(m.data, &env); err != nil {
					b.Fatal(err)
				}
				if err := env.check(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchChange is a room change as the server publishes it.
var benchChange = roomChange{
	Room: Room{Number: "412", Status: Cleaned, Floor: 4, Version: 8,
		UpdatedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), UpdatedBy: "hk-anna"},
	PreviousStatus: Cleaning,
}

// BenchmarkEncode encodes a room change for publication (payload, then
// envelope), with goccy/go-json as the service does and with encoding/json.
func BenchmarkEncode(b *testing.B) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	out, _ := encode(EventRoomStatusUpdate, NSRooms, benchChange, High, "c-8f14e45f", "hk-anna", now)
	b.Run("impl=goccy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(out)))
		for b.Loop() {
			if _, err := encode(EventRoomStatusUpdate, NSRooms, benchChange, High, "c-8f14e45f", "hk-anna", now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=stdlib", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(out)))
		for b.Loop() {
			payload, err := stdjson.Marshal(benchChange)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := stdjson.Marshal(&Envelope{Event: EventRoomStatusUpdate, Namespace: NSRooms, Payload: payload,
				Timestamp: timestamp(now), CorrelationID: "c-8f14e45f", Sender: "hk-anna", Priority: High.String()}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWithMessageID adds the broker's id to an encoded envelope, as
// each node does once per publication.
func BenchmarkWithMessageID(b *testing.B) {
	env, _ := encode(EventRoomStatusUpdate, NSRooms, benchChange, High, "c-8f14e45f", "hk-anna", time.Now())
	buf := make([]byte, 0, len(env)+32)
	b.ReportAllocs()
	b.SetBytes(int64(len(env)))
	for b.Loop() {
		buf = withMessageID(buf[:0], env, "5f2a91c0-1042")
	}
}
