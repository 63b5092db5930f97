package dispatch

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	json "github.com/goccy/go-json"
)

// FuzzDecodeEnvelope feeds the envelope decoder arbitrary client text. It
// must never panic; an envelope it accepts must pass its own limits,
// re-encode, and decode again to the same fields.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, seed := range []string{
		`{"event":"AUTH","payload":{"token":"eyJhbGciOiJIUzI1NiJ9.e30.sig"}}`,
		`{"event":"SUBSCRIBE","namespace":"rooms","payload":{"since":"5f2a91c0-42"},"correlationId":"c-1"}`,
		`{"event":"ROOM_STATUS_UPDATE","payload":{"roomNumber":"101","status":"CLEANED","version":3},"priority":"HIGH"}`,
		`{"event":"SERVICE_REQUEST","payload":{"type":"towels","description":"two, \"fluffy\" \u00e9"}}`,
		`{"event":"X","payload":null}`,
		`{"event":"X","payload":[1,2,{"a":[]}],"extra":{"k":"v"}}`,
		`{"EVENT":"X","Namespace":"rooms"}`,
		`{"event":"X","event":"Y"}`,
		`{"event":"\ud83d\ude00"}`,
		`{"event":"X","payload":"str"}  `,
		`{"event":1}`,
		`[]`,
		`null`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var env Envelope
		if err := decodeEnvelope(data, &env, defaultJSONLimits); err != nil {
			if asError(err).Code != CodeBadMessage {
				t.Fatalf("refused with %v, want BAD_MESSAGE", err)
			}
			return
		}
		if !utf8.Valid(data) {
			return // the engine never hands invalid UTF-8 text to the service
		}
		if env.check() != nil {
			t.Fatalf("accepted %+v fails its own check", env)
		}
		again, err := json.Marshal(&env)
		if err != nil {
			t.Fatalf("cannot re-encode %+v: %v", env, err)
		}
		var back Envelope
		if err := decodeEnvelope(again, &back, defaultJSONLimits); err != nil {
			t.Fatalf("re-encoded %s refused: %v", again, err)
		}
		if !sameEnvelope(env, back) {
			t.Fatalf("round trip changed the envelope:\n in  %+v\n out %+v\n via %s", env, back, again)
		}
	})
}

// sameEnvelope compares two envelopes, payloads as JSON values: the
// encoder may escape differently ("&" as "\u0026") or drop spaces.
func sameEnvelope(a, b Envelope) bool {
	return a.Event == b.Event && a.Namespace == b.Namespace && a.Timestamp == b.Timestamp &&
		a.MessageID == b.MessageID && a.CorrelationID == b.CorrelationID && a.Sender == b.Sender &&
		a.Priority == b.Priority && sameJSON(a.Payload, b.Payload)
}

func sameJSON(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	va, ea := jsonValue(a)
	vb, eb := jsonValue(b)
	return ea == nil && eb == nil && reflect.DeepEqual(va, vb)
}

func jsonValue(p []byte) (any, error) {
	d := stdjson.NewDecoder(bytes.NewReader(p))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}
