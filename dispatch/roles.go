package dispatch

import "github.com/bellhop/bellhop/dispatch/auth"

// eventBit and nsBit index the permission bit sets below.
type eventSet uint32
type nsSet uint16

var eventIndex = map[string]eventSet{
	EventRoomStatusUpdate:     1 << 0,
	EventServiceRequest:       1 << 1,
	EventServiceRequestUpdate: 1 << 2,
	EventGuestCheckIn:         1 << 3,
	EventGuestCheckOut:        1 << 4,
	EventHousekeepingAlert:    1 << 5,
	EventMaintenanceAlert:     1 << 6,
	EventSystemAlert:          1 << 7,
}

var nsIndex = map[string]nsSet{
	NSRooms:        1 << 0,
	NSService:      1 << 1,
	NSGuests:       1 << 2,
	NSHousekeeping: 1 << 3,
	NSMaintenance:  1 << 4,
	NSSystem:       1 << 5,
	NSPersonal:     1 << 6,
}

func events(names ...string) (s eventSet) {
	for _, n := range names {
		s |= eventIndex[n]
	}
	return s
}

func namespaces(names ...string) (s nsSet) {
	for _, n := range names {
		s |= nsIndex[n]
	}
	return s
}

// rolePerms is what one role may send and subscribe to.
type rolePerms struct {
	send      eventSet
	subscribe nsSet
}

// permissions is the one table of who may do what; docs/PROTOCOL.md shows
// it. Control events (AUTH, SUBSCRIBE, UNSUBSCRIBE, ACK) are open to every
// role. Finer rules live with the handlers: which room status transition a
// role may make, that a guest acts on their own room only, that only the
// assignee accepts a request.
var permissions = [...]rolePerms{
	auth.Admin: {
		send: events(EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
			EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert, EventSystemAlert),
		subscribe: namespaces(NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem, NSPersonal),
	},
	auth.FrontDesk: {
		send: events(EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
			EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert),
		subscribe: namespaces(NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem, NSPersonal),
	},
	auth.Housekeeping: {
		send:      events(EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventMaintenanceAlert),
		subscribe: namespaces(NSRooms, NSHousekeeping, NSSystem, NSPersonal),
	},
	auth.Maintenance: {
		send:      events(EventRoomStatusUpdate, EventServiceRequestUpdate, EventMaintenanceAlert),
		subscribe: namespaces(NSRooms, NSMaintenance, NSSystem, NSPersonal),
	},
	auth.Concierge: {
		send:      events(EventServiceRequest, EventServiceRequestUpdate),
		subscribe: namespaces(NSService, NSGuests, NSSystem, NSPersonal),
	},
	auth.Guest: {
		send:      events(EventServiceRequest, EventServiceRequestUpdate),
		subscribe: namespaces(NSPersonal, NSSystem),
	},
	auth.Service: {
		send: events(EventRoomStatusUpdate, EventServiceRequest, EventServiceRequestUpdate, EventGuestCheckIn,
			EventGuestCheckOut, EventHousekeepingAlert, EventMaintenanceAlert, EventSystemAlert),
		subscribe: namespaces(NSRooms, NSService, NSGuests, NSHousekeeping, NSMaintenance, NSSystem),
	},
}

// maySend reports whether role may send event.
func maySend(role auth.Role, event string) bool {
	return role.Valid() && permissions[role].send&eventIndex[event] != 0
}

// maySubscribe reports whether role may subscribe to namespace.
func maySubscribe(role auth.Role, namespace string) bool {
	return role.Valid() && permissions[role].subscribe&nsIndex[namespace] != 0
}
