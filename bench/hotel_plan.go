package bench

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// roomStatus is a room's status on the board, as far as the workload moves
// it (it never takes rooms out of order).
type roomStatus uint8

const (
	roomAvailable roomStatus = iota
	roomOccupied
	roomDirty
	roomCleaning
	roomCleaned
	roomInspected
	numRoomStatuses
)

var roomStatusNames = [numRoomStatuses]string{"AVAILABLE", "OCCUPIED", "DIRTY", "CLEANING", "CLEANED", "INSPECTED"}

func (s roomStatus) String() string { return roomStatusNames[s] }

// initialStatuses weighs the board's statuses at the start, in percent: a
// morning with most rooms occupied and housekeeping at work.
var initialStatuses = [numRoomStatuses]int{
	roomAvailable: 15, roomOccupied: 55, roomDirty: 15, roomCleaning: 5, roomCleaned: 5, roomInspected: 5,
}

// hotelRoomsPerFloor numbers rooms 101-120, 201-220...: the server reads a
// room's floor from its number.
const hotelRoomsPerFloor = 20

// staffShares splits the staff into departments, in percent of the staff,
// as a full-service hotel does: housekeeping is most of it. Front desk
// connections are counted apart (HotelConfig.FrontDesk). Housekeeping and
// maintenance cover floors; the concierge desk is in the lobby.
var staffShares = []struct {
	role    auth.Role
	prefix  string
	percent int
	floors  bool
}{
	{auth.Housekeeping, "hk", 65, true},
	{auth.Maintenance, "mt", 20, true},
	{auth.Concierge, "cc", 15, false},
}

// hotelRequestTypes are the service requests guests make, by the
// department the server routes them to, weighted in percent.
var hotelRequestTypes = []struct {
	role   auth.Role
	weight int
	types  []string
}{
	{auth.Housekeeping, 50, []string{"towels", "amenities", "cleaning", "turndown", "laundry"}},
	{auth.Concierge, 25, []string{"room_service", "transport", "reservation", "luggage"}},
	{auth.Maintenance, 20, []string{"repair", "plumbing", "hvac", "electrical"}},
	{auth.FrontDesk, 5, []string{"wake_up", "billing"}},
}

// hotelRoom is one room of the plan.
type hotelRoom struct {
	number string
	floor  int
	status roomStatus // at the start of the run
	guests []int32    // indexes in hotelPlan.ids of the room's guest devices
}

// hotelIdentity is who one connection authenticates as.
type hotelIdentity struct {
	sub    string
	role   auth.Role
	room   int32 // a guest's room, index in hotelPlan.rooms; -1 for staff
	floors []int // floors a staff member covers; nil for the lobby
	token  string
}

// hotelPlan is the cast of one run: the rooms, their starting statuses and
// who connects as whom. newHotelPlan makes it from the configuration and
// the seed alone, so a seed always gives the same hotel; mint adds the
// tokens. It is read-only once the run starts.
type hotelPlan struct {
	rooms  []hotelRoom
	floors int
	ids    []hotelIdentity // connect order: front desk, staff by department, guests
}

func newHotelPlan(h HotelConfig) *hotelPlan {
	rng := rand.New(rand.NewPCG(h.Seed, 0x686f74656c))
	p := &hotelPlan{floors: (h.Rooms + hotelRoomsPerFloor - 1) / hotelRoomsPerFloor}
	p.rooms = make([]hotelRoom, h.Rooms)
	for i := range p.rooms {
		floor := i/hotelRoomsPerFloor + 1
		p.rooms[i] = hotelRoom{
			number: strconv.Itoa(floor*100 + i%hotelRoomsPerFloor + 1),
			floor:  floor,
			status: roomStatus(pickWeighted(rng, initialStatuses[:])),
		}
	}
	for i := range h.FrontDesk {
		p.ids = append(p.ids, hotelIdentity{sub: fmt.Sprintf("fd-%d", i+1), role: auth.FrontDesk, room: -1})
	}
	for d, n := range staffSplit(h.Staff) {
		s := staffShares[d]
		for i := range n {
			id := hotelIdentity{sub: fmt.Sprintf("%s-%03d", s.prefix, i+1), role: s.role, room: -1}
			if s.floors {
				id.floors = coverFloors(i, n, p.floors)
			}
			p.ids = append(p.ids, id)
		}
	}
	// Guests fill the rooms in a seeded order, round after round, so every
	// room has its share of devices give or take one.
	order := rng.Perm(h.Rooms)
	for g := range h.Guests {
		ri := order[g%h.Rooms]
		room := &p.rooms[ri]
		room.guests = append(room.guests, int32(len(p.ids)))
		p.ids = append(p.ids, hotelIdentity{
			sub:  fmt.Sprintf("guest-%s-%d", room.number, len(room.guests)),
			role: auth.Guest, room: int32(ri),
		})
	}
	return p
}

// staffSplit divides n staff (at least one per department) by
// staffShares, rounding by largest remainder.
func staffSplit(n int) []int {
	out := make([]int, len(staffShares))
	rems := make([]int, len(staffShares)) // indexes, by remainder
	left := n
	for i, s := range staffShares {
		out[i] = n * s.percent / 100
		left -= out[i]
		rems[i] = i
	}
	slices.SortStableFunc(rems, func(a, b int) int {
		return cmp.Compare(n*staffShares[b].percent%100, n*staffShares[a].percent%100)
	})
	for k := 0; left > 0; k++ {
		out[rems[k%len(rems)]]++
		left--
	}
	for i := range out {
		for out[i] == 0 {
			out[slices.Index(out, slices.Max(out))]--
			out[i]++
		}
	}
	return out
}

// coverFloors returns the floors staff member i of n covers: with fewer
// staff than floors each covers every n-th floor, else several share one.
func coverFloors(i, n, floors int) []int {
	if n >= floors {
		return []int{i%floors + 1}
	}
	var out []int
	for f := i; f < floors; f += n {
		out = append(out, f+1)
	}
	return out
}

// pickWeighted returns an index of weights, drawn in proportion to them.
func pickWeighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := rng.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// mint signs every identity's token with the server's JWT secret, valid
// until exp.
func (p *hotelPlan) mint(h HotelConfig, exp time.Time) error {
	tokens, err := signTokens(h, exp, len(p.ids), func(i int) auth.Claims {
		id := &p.ids[i]
		c := auth.Claims{Subject: id.sub, Role: id.role, Floors: id.floors}
		if id.role == auth.Guest {
			c.Room = p.rooms[id.room].number
		}
		return c
	})
	for i := range tokens {
		p.ids[i].token = tokens[i]
	}
	return err
}

// signTokens signs n tokens with the server's JWT secret (h.JWTSecret),
// for h.Property, valid until exp; claims(i) gives the i-th holder's
// subject, role and the like.
func signTokens(h HotelConfig, exp time.Time, n int, claims func(i int) auth.Claims) ([]string, error) {
	s, err := auth.NewSigner(auth.SecretKeyID, []byte(h.JWTSecret))
	if err != nil {
		return nil, fmt.Errorf("%w: JWT secret: %v", ErrBadConfig, err)
	}
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		c := claims(i)
		c.Property, c.Expires, c.IssuedAt = h.Property, exp, now
		if out[i], err = s.Sign(c); err != nil {
			return nil, fmt.Errorf("%w: cannot sign a token for %s: %v", ErrBadConfig, c.Subject, err)
		}
	}
	return out, nil
}

// hotelNamespaces returns what a role subscribes to: everything its work needs
// ("me" carries a staff member's assignments and a guest's room).
func hotelNamespaces(r auth.Role) []string {
	switch r {
	case auth.FrontDesk:
		return []string{nsRooms, nsService, nsGuests, nsHousekeeping, nsMaintenance, nsMe}
	case auth.Housekeeping:
		return []string{nsRooms, nsHousekeeping, nsMe}
	case auth.Maintenance:
		return []string{nsRooms, nsMaintenance, nsMe}
	case auth.Concierge:
		return []string{nsService, nsGuests, nsMe}
	}
	return []string{nsMe}
}
