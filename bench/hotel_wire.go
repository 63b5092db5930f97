package bench

import (
	"strconv"
	"unicode/utf8"

	// The hotel endpoint's own codec: the event loops decode every
	// delivery with it, as the server does.
	json "github.com/goccy/go-json"
)

// Events and namespaces of the hotel protocol (docs/PROTOCOL.md), as the
// wire spells them. The harness keeps its own copy rather than importing
// the server's, so it checks the documented protocol.
const (
	evAuth              = "AUTH"
	evAuthenticated     = "AUTHENTICATED"
	evSubscribe         = "SUBSCRIBE"
	evSubscribed        = "SUBSCRIBED"
	evAck               = "ACK"
	evError             = "ERROR"
	evRoomStatus        = "ROOM_STATUS_UPDATE"
	evServiceRequest    = "SERVICE_REQUEST"
	evRequestUpdate     = "SERVICE_REQUEST_UPDATE"
	evCheckIn           = "GUEST_CHECKIN"
	evCheckOut          = "GUEST_CHECKOUT"
	evHousekeepingAlert = "HOUSEKEEPING_ALERT"
	evMaintenanceAlert  = "MAINTENANCE_ALERT"

	nsRooms        = "rooms"
	nsService      = "service"
	nsGuests       = "guests"
	nsHousekeeping = "housekeeping"
	nsMaintenance  = "maintenance"
	nsMe           = "me"
)

// Operations the harness sends, by the letter that starts their tags.
const (
	opRoom     byte = 'r' // ROOM_STATUS_UPDATE over WebSocket
	opCheckIn  byte = 'i' // GUEST_CHECKIN through the API
	opCheckOut byte = 'o' // GUEST_CHECKOUT through the API
	opRequest  byte = 's' // a guest's SERVICE_REQUEST
	opAccept   byte = 'a' // the assignee's accept of request <seq>
	opComplete byte = 'c' // the assignee's complete of request <seq>
	opAlert    byte = 'h' // a MEDIUM housekeeping or maintenance alert
	opLow      byte = 'l' // a LOW housekeeping alert of the flood
)

// hotelTagRun is the length of the run id in a tag.
const hotelTagRun = 8

// A tag names what an event is: op letter, the run's id (8 hex digits, so
// events of another run on the same property are told apart) and the
// sequence number of its entry in the sent-event table, e.g. "r5f2a91c042".
// It travels as the correlationId, which the server copies onto what it
// publishes, and as a request's description, which every update of the
// request carries.
func appendTag(dst []byte, op byte, run string, seq int64) []byte {
	dst = append(dst, op)
	dst = append(dst, run...)
	return strconv.AppendInt(dst, seq, 10)
}

// parseTag reads a tag of run; ok is false for anything else.
func parseTag(s, run string) (op byte, seq int64, ok bool) {
	if len(s) <= 1+hotelTagRun || s[1:1+hotelTagRun] != run {
		return 0, 0, false
	}
	seq, err := strconv.ParseInt(s[1+hotelTagRun:], 10, 64)
	if err != nil || seq < 0 {
		return 0, 0, false
	}
	return s[0], seq, true
}

// hotelEnvelope is the part of a server message the harness reads.
type hotelEnvelope struct {
	Event         string          `json:"event"`
	Namespace     string          `json:"namespace"`
	Payload       json.RawMessage `json:"payload"`
	CorrelationID string          `json:"correlationId"`
	Priority      string          `json:"priority"`
}

// hotelRequest is the part of a service request the harness reads.
type hotelRequest struct {
	ID          string `json:"requestId"`
	Description string `json:"description"`
	Status      string `json:"status"`
}

// hotelRequestChange is the payload of SERVICE_REQUEST_UPDATE.
type hotelRequestChange struct {
	Action  string       `json:"action"`
	Request hotelRequest `json:"request"`
}

// hotelErrorPayload is the payload of ERROR.
type hotelErrorPayload struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// The builders below append one client message. Values the server or the
// user chose go through appendJSONString; the harness's own (room numbers,
// statuses, types) are plain ASCII.

func appendAuth(dst []byte, token string) []byte {
	dst = append(dst, `{"event":"AUTH","payload":{"token":`...)
	dst = appendJSONString(dst, token)
	return append(dst, "}}"...)
}

func appendSubscribe(dst []byte, ns string) []byte {
	dst = append(dst, `{"event":"SUBSCRIBE","namespace":"`...)
	dst = append(dst, ns...)
	return append(dst, `"}`...)
}

// appendHead starts a command: event, correlation id and, when set,
// priority; the payload follows.
func appendHead(dst []byte, event string, tag []byte, prio string) []byte {
	dst = append(dst, `{"event":"`...)
	dst = append(dst, event...)
	dst = append(dst, `","correlationId":"`...)
	dst = append(dst, tag...)
	if prio != "" {
		dst = append(dst, `","priority":"`...)
		dst = append(dst, prio...)
	}
	return append(dst, `","payload":`...)
}

func appendRoomUpdate(dst, tag []byte, room string, to roomStatus) []byte {
	dst = appendHead(dst, evRoomStatus, tag, "")
	dst = append(dst, `{"roomNumber":"`...)
	dst = append(dst, room...)
	dst = append(dst, `","status":"`...)
	dst = append(dst, to.String()...)
	return append(dst, `"}}`...)
}

// appendServiceRequest asks for typ; the tag goes in the description too,
// since the server publishes a request's updates without correlation id.
func appendServiceRequest(dst, tag []byte, typ string) []byte {
	dst = appendHead(dst, evServiceRequest, tag, "")
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","description":"`...)
	dst = append(dst, tag...)
	return append(dst, `"}}`...)
}

func appendRequestAction(dst, tag []byte, requestID, action string) []byte {
	dst = appendHead(dst, evRequestUpdate, tag, "")
	dst = append(dst, `{"requestId":`...)
	dst = appendJSONString(dst, requestID)
	dst = append(dst, `,"action":"`...)
	dst = append(dst, action...)
	return append(dst, `"}}`...)
}

func appendAlert(dst, tag []byte, event, prio, room, severity, message string) []byte {
	dst = appendHead(dst, event, tag, prio)
	dst = append(dst, `{"message":"`...)
	dst = append(dst, message...)
	dst = append(dst, `","severity":"`...)
	dst = append(dst, severity...)
	dst = append(dst, `","roomNumber":"`...)
	dst = append(dst, room...)
	return append(dst, `"}}`...)
}

// appendAPIGuest is the backend API body of a check-in or check-out: the
// envelope plus the property it is for.
func appendAPIGuest(dst, tag []byte, event, property, room string) []byte {
	dst = appendHead(dst, event, tag, "")
	dst = append(dst, `{"roomNumber":"`...)
	dst = append(dst, room...)
	dst = append(dst, `","guestName":"Guest `...)
	dst = append(dst, room...)
	dst = append(dst, `","guestId":"`...)
	dst = append(dst, tag...)
	dst = append(dst, `"},"property":`...)
	dst = appendJSONString(dst, property)
	return append(dst, '}')
}

// appendAPISeed is the backend API body that puts a room on the board.
func appendAPISeed(dst []byte, property string, r *hotelRoom) []byte {
	dst = append(dst, `{"event":"ROOM_STATUS_UPDATE","property":`...)
	dst = appendJSONString(dst, property)
	dst = append(dst, `,"payload":{"roomNumber":"`...)
	dst = append(dst, r.number...)
	dst = append(dst, `","status":"`...)
	dst = append(dst, r.status.String()...)
	dst = append(dst, `","floor":`...)
	dst = strconv.AppendInt(dst, int64(r.floor), 10)
	return append(dst, `,"note":"bellhop-bench seed"}}`...)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return append(dst, '"')
}
