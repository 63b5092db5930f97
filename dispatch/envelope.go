package dispatch

import (
	"bytes"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/dispatch/pqueue"
)

// Event names, as the spec and its clients spell them.
const (
	EventAuth                 = "AUTH"
	EventAuthenticated        = "AUTHENTICATED"
	EventSubscribe            = "SUBSCRIBE"
	EventSubscribed           = "SUBSCRIBED"
	EventUnsubscribe          = "UNSUBSCRIBE"
	EventUnsubscribed         = "UNSUBSCRIBED"
	EventAck                  = "ACK"
	EventError                = "ERROR"
	EventRoomStatusUpdate     = "ROOM_STATUS_UPDATE"
	EventServiceRequest       = "SERVICE_REQUEST"
	EventServiceRequestUpdate = "SERVICE_REQUEST_UPDATE"
	EventGuestCheckIn         = "GUEST_CHECKIN"
	EventGuestCheckOut        = "GUEST_CHECKOUT"
	EventHousekeepingAlert    = "HOUSEKEEPING_ALERT"
	EventMaintenanceAlert     = "MAINTENANCE_ALERT"
	EventSystemAlert          = "SYSTEM_ALERT"
)

// Namespace names, as clients use them.
const (
	NSRooms        = "rooms"
	NSService      = "service"
	NSGuests       = "guests"
	NSHousekeeping = "housekeeping"
	NSMaintenance  = "maintenance"
	NSSystem       = "system"
	NSPersonal     = "me" // the caller's own channel: a staff member's assignments, a guest's room
)

// Priority is an event's priority: it orders the dispatch queues and a slow
// client's waiting messages. HIGH, MEDIUM and LOW on the wire.
type Priority = pqueue.Priority

// Priorities, highest first.
const (
	High   = pqueue.High
	Medium = pqueue.Medium
	Low    = pqueue.Low
)

// Envelope is the spec's message format, both ways. Payload stays raw
// until the event's handler decodes it into its own type.
type Envelope struct {
	Event         string          `json:"event"`
	Namespace     string          `json:"namespace,omitempty"`
	Payload       json.RawMessage `json:"payload,omitempty"`
	Timestamp     string          `json:"timestamp,omitempty"`
	MessageID     string          `json:"messageId,omitempty"`
	CorrelationID string          `json:"correlationId,omitempty"`
	Sender        string          `json:"sender,omitempty"`
	Priority      string          `json:"priority,omitempty"`
}

// timestamp formats t as the envelope's timestamp (RFC 3339, UTC, ms).
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// encode marshals an outgoing envelope with payload v.
func encode(event, namespace string, v any, prio Priority, correlationID, sender string, now time.Time) ([]byte, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(&Envelope{
		Event:         event,
		Namespace:     namespace,
		Payload:       payload,
		Timestamp:     timestamp(now),
		CorrelationID: correlationID,
		Sender:        sender,
		Priority:      prio.String(),
	})
}

// withMessageID returns env (a JSON object) with "messageId" first. The
// broker assigns ids after the message is encoded; this is how each node
// adds it once per publication.
func withMessageID(dst, env []byte, id string) []byte {
	dst = append(dst, `{"messageId":`...)
	dst = strconv.AppendQuote(dst, id)
	body := bytes.TrimPrefix(env, []byte("{"))
	if len(bytes.TrimSpace(body)) > 1 { // not an empty object
		dst = append(dst, ',')
	}
	return append(dst, body...)
}

// decodeEnvelope decodes a client message. It is the one place client JSON
// enters the service, so it is fuzzed.
func decodeEnvelope(data []byte, env *Envelope, lim jsonLimits) error {
	if err := lim.check(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, env); err != nil {
		return newError(CodeBadMessage, "not a JSON envelope with an event")
	}
	return env.check()
}

// check applies the limits every envelope from outside must meet, from a
// client or the backend API.
func (env *Envelope) check() error {
	if env.Event == "" {
		return newError(CodeBadMessage, "not a JSON envelope with an event")
	}
	if len(env.Event) > 64 || len(env.Namespace) > 64 || len(env.CorrelationID) > 128 || len(env.Priority) > 16 {
		return newError(CodeBadMessage, "envelope field too long")
	}
	if env.Priority != "" {
		if _, ok := parsePriority(env.Priority, Medium); !ok {
			return newError(CodeBadMessage, "priority must be HIGH, MEDIUM or LOW")
		}
	}
	return nil
}

// jsonLimits bound the shape of client JSON before it is decoded: nesting
// (a deep document costs the decoder stack and time) and string length
// (every field the service keeps is short; a megabyte string is abuse).
type jsonLimits struct {
	depth  int // most nested objects and arrays
	string int // longest string, in bytes as sent (escapes count)
}

// check scans data once, outside strings counting nesting, inside them
// their length. Malformed JSON is left to the decoder.
func (lim jsonLimits) check(data []byte) error {
	depth, inString, escaped, start := 0, false, false, 0
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if i-start > lim.string {
					return newError(CodeBadMessage, "a string in the message is longer than "+strconv.Itoa(lim.string)+" bytes")
				}
			}
			continue
		}
		switch c {
		case '"':
			inString, start = true, i+1
		case '{', '[':
			if depth++; depth > lim.depth {
				return newError(CodeBadMessage, "message nested deeper than "+strconv.Itoa(lim.depth)+" levels")
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
