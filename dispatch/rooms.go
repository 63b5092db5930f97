package dispatch

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// RoomStatus is where a room is in its cycle.
type RoomStatus string

// Room statuses.
const (
	Available     RoomStatus = "AVAILABLE"
	Occupied      RoomStatus = "OCCUPIED"
	Dirty         RoomStatus = "DIRTY"
	Cleaning      RoomStatus = "CLEANING"
	Cleaned       RoomStatus = "CLEANED"
	Inspected     RoomStatus = "INSPECTED"
	OutOfOrder    RoomStatus = "OUT_OF_ORDER"
	InMaintenance RoomStatus = "MAINTENANCE"
)

type roleSet uint16

func roles(rs ...auth.Role) (s roleSet) {
	for _, r := range rs {
		s |= 1 << r
	}
	return s
}

var (
	fd = auth.FrontDesk
	hk = auth.Housekeeping
	mt = auth.Maintenance
)

// transitions is the room status state machine: for each status, the
// statuses it may move to and who may move it there. Admins and backends
// (role service) may set any status, to correct mistakes and to seed the
// board; docs/PROTOCOL.md shows this table.
var transitions = map[RoomStatus]map[RoomStatus]roleSet{
	Available:     {Occupied: roles(fd), Dirty: roles(fd, hk), InMaintenance: roles(fd, mt), OutOfOrder: roles(fd, mt)},
	Occupied:      {Dirty: roles(fd, hk), InMaintenance: roles(fd, mt)},
	Dirty:         {Cleaning: roles(hk), InMaintenance: roles(fd, mt), OutOfOrder: roles(fd, mt)},
	Cleaning:      {Cleaned: roles(hk), Dirty: roles(hk), InMaintenance: roles(hk, mt)},
	Cleaned:       {Inspected: roles(fd), Dirty: roles(fd), Occupied: roles(fd)},
	Inspected:     {Available: roles(fd), Occupied: roles(fd), Dirty: roles(fd)},
	InMaintenance: {Dirty: roles(fd, mt), OutOfOrder: roles(fd, mt)},
	OutOfOrder:    {InMaintenance: roles(fd, mt), Dirty: roles(fd, mt)},
}

// mayTransition reports whether role may move a room from one status to another.
func mayTransition(role auth.Role, from, to RoomStatus) bool {
	if _, known := transitions[to]; !known {
		return false
	}
	if role == auth.Admin || role == auth.Service {
		return true
	}
	return transitions[from][to]&(1<<role) != 0
}

// Room is a room's state on the board.
type Room struct {
	Number    string     `json:"roomNumber"`
	Status    RoomStatus `json:"status"`
	Floor     int        `json:"floor"`
	Version   uint64     `json:"version"`
	UpdatedAt time.Time  `json:"updatedAt"`
	UpdatedBy string     `json:"updatedBy,omitempty"`
}

// roomUpdate is the payload of ROOM_STATUS_UPDATE from a client; Version,
// when set, makes the change conditional on the room's current version.
type roomUpdate struct {
	RoomNumber string     `json:"roomNumber"`
	Status     RoomStatus `json:"status"`
	Version    uint64     `json:"version,omitempty"`
	Floor      *int       `json:"floor,omitempty"`
	Note       string     `json:"note,omitempty"`
}

// roomChange is the payload of ROOM_STATUS_UPDATE sent to subscribers.
type roomChange struct {
	Room
	PreviousStatus RoomStatus `json:"previousStatus,omitempty"`
	Note           string     `json:"note,omitempty"`
}

// roomsView is a board snapshot: every room and the position it is
// consistent with.
type roomsView struct {
	Property string `json:"property"`
	Rooms    []Room `json:"rooms"`
}

// roomBoard applies room status changes. Changes of one room run on one
// worker (keyed by property and room), in order.
type roomBoard struct{ svc *Service }

func roomsTable(property string) string { return "rooms:" + property }

// floorOf guesses a room's floor from its number: "412" is on floor 4.
func floorOf(number string) int {
	n, err := strconv.Atoi(number)
	if err != nil || n < 100 {
		return 0
	}
	return n / 100
}

// command checks a ROOM_STATUS_UPDATE and queues it.
func (b *roomBoard) command(o *origin, env *Envelope) error {
	var u roomUpdate
	if err := json.Unmarshal(env.Payload, &u); err != nil || !validName(u.RoomNumber) || u.Status == "" {
		return newError(CodeInvalidPayload, `ROOM_STATUS_UPDATE needs {"roomNumber": "101", "status": "CLEANED"}`)
	}
	if _, known := transitions[u.Status]; !known {
		return newError(CodeInvalidPayload, "unknown status "+string(u.Status))
	}
	if len(u.Note) > 500 {
		return newError(CodeInvalidPayload, "note longer than 500 bytes")
	}
	p := o.claims.Property
	return b.svc.submit(shardKey(p, "room", u.RoomNumber), High, func() {
		start := time.Now()
		res, err := b.apply(o, &u)
		b.svc.metrics.processed(EventRoomStatusUpdate, High, time.Since(start))
		o.finish(b.svc, EventRoomStatusUpdate, res, err)
	})
}

// apply runs on the room's worker: compare-and-set the room, then publish
// the change to the rooms namespace and the room's own channel.
func (b *roomBoard) apply(o *origin, u *roomUpdate) (ackPayload, error) {
	s := b.svc
	p := o.claims.Property
	ctx, cancel := s.ctx()
	defer cancel()
	for attempt := 0; attempt < 3; attempt++ {
		cur, err := b.get(ctx, p, u.RoomNumber)
		exists := err == nil
		if err != nil && !errors.Is(err, cluster.ErrNotFound) {
			return ackPayload{}, newError(CodeUnavailable, "room board unavailable")
		}
		if !exists && o.claims.Role != auth.Admin && o.claims.Role != auth.Service {
			return ackPayload{}, newError(CodeNotFound, "room "+u.RoomNumber+" is not on the board")
		}
		if exists && !mayTransition(o.claims.Role, cur.Status, u.Status) {
			return ackPayload{}, newError(CodeIllegalTransition,
				"role "+o.claims.Role.String()+" may not move room "+u.RoomNumber+" from "+string(cur.Status)+" to "+string(u.Status))
		}
		if u.Version != 0 && u.Version != cur.Version {
			return ackPayload{}, newError(CodeVersionConflict, "room "+u.RoomNumber+" is at version "+strconv.FormatUint(cur.Version, 10))
		}
		next := Room{Number: u.RoomNumber, Status: u.Status, Floor: cur.Floor, UpdatedAt: s.cfg.Now().UTC(), UpdatedBy: o.claims.Subject}
		if !exists {
			next.Floor = floorOf(u.RoomNumber)
			if err := b.addProperty(ctx, p); err != nil {
				return ackPayload{}, err
			}
		}
		if u.Floor != nil {
			next.Floor = *u.Floor
		}
		next.Version = cur.Version + 1
		val, _ := json.Marshal(&next)
		if _, err := s.store.Put(ctx, roomsTable(p), u.RoomNumber, val, cur.Version); err != nil {
			if errors.Is(err, cluster.ErrConflict) {
				continue // another node changed it meanwhile: re-read and re-check
			}
			return ackPayload{}, newError(CodeUnavailable, "room board unavailable")
		}
		change := roomChange{Room: next, PreviousStatus: cur.Status, Note: u.Note}
		key := shardKey(p, "room", u.RoomNumber)
		pub, err := s.publish(nsChannel(p, NSRooms), EventRoomStatusUpdate, NSRooms, change, High, key, o.corr, o.claims.Subject, o.idem)
		if err != nil {
			return ackPayload{}, err
		}
		_, _ = s.publish(roomChannel(p, u.RoomNumber), EventRoomStatusUpdate, NSPersonal, change, High, key, o.corr, o.claims.Subject, "")
		s.log.Info("room status updated", "event", "room_status_update", "correlationId", o.corr,
			"metadata", map[string]any{"property": p, "roomNumber": u.RoomNumber, "newStatus": u.Status,
				"previousStatus": cur.Status, "version": next.Version, "priority": "HIGH", "by": o.claims.Subject})
		return ackPayload{Event: EventRoomStatusUpdate, MessageID: pub.Position.String(), Data: change}, nil
	}
	return ackPayload{}, newError(CodeVersionConflict, "room "+u.RoomNumber+" keeps changing; retry")
}

// get reads one room; a missing room is the zero Room and ErrNotFound.
func (b *roomBoard) get(ctx context.Context, property, number string) (Room, error) {
	rec, err := b.svc.store.Get(ctx, roomsTable(property), number)
	if err != nil {
		return Room{}, err
	}
	var r Room
	if err := json.Unmarshal(rec.Value, &r); err != nil {
		return Room{}, err
	}
	r.Version = rec.Version
	return r, nil
}

// addProperty records a property, so global alerts reach it.
func (b *roomBoard) addProperty(ctx context.Context, property string) error {
	_, err := b.svc.store.Put(ctx, "properties", property, []byte(`{}`), 0)
	if err != nil && !errors.Is(err, cluster.ErrConflict) {
		return newError(CodeUnavailable, "store unavailable")
	}
	return nil
}

// view reads a property's whole board, sorted by room number.
func (b *roomBoard) view(ctx context.Context, property string) (roomsView, error) {
	recs, err := b.svc.store.List(ctx, roomsTable(property))
	if err != nil {
		return roomsView{}, err
	}
	v := roomsView{Property: property, Rooms: make([]Room, 0, len(recs))}
	for _, rec := range recs {
		var r Room
		if json.Unmarshal(rec.Value, &r) == nil {
			r.Version = rec.Version
			v.Rooms = append(v.Rooms, r)
		}
	}
	sort.Slice(v.Rooms, func(i, j int) bool { return v.Rooms[i].Number < v.Rooms[j].Number })
	return v, nil
}
