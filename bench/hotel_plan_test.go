package bench

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bellhop/bellhop/dispatch/auth"
)

func TestStaffSplit(t *testing.T) {
	cases := []struct {
		n    int
		want []int // housekeeping, maintenance, concierge
	}{
		{3, []int{1, 1, 1}},
		{4, []int{2, 1, 1}},
		{6, []int{4, 1, 1}},
		{10, []int{7, 2, 1}},
		{100, []int{65, 20, 15}},
		{150, []int{98, 30, 22}},
		{1001, []int{651, 200, 150}},
	}
	for _, c := range cases {
		got := staffSplit(c.n)
		if !slices.Equal(got, c.want) {
			t.Errorf("staffSplit(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	for n := 3; n < 500; n++ {
		got := staffSplit(n)
		if got[0]+got[1]+got[2] != n || slices.Min(got) < 1 || got[0] < got[1] || got[1] < got[2] && n >= 20 {
			t.Fatalf("staffSplit(%d) = %v: want all %d, one each at least, housekeeping the most", n, got, n)
		}
	}
}

func TestCoverFloors(t *testing.T) {
	cases := []struct {
		i, n, floors int
		want         []int
	}{
		{0, 2, 5, []int{1, 3, 5}},
		{1, 2, 5, []int{2, 4}},
		{0, 1, 3, []int{1, 2, 3}},
		{7, 10, 5, []int{3}},
		{4, 5, 5, []int{5}},
	}
	for _, c := range cases {
		if got := coverFloors(c.i, c.n, c.floors); !slices.Equal(got, c.want) {
			t.Errorf("coverFloors(%d, %d, %d) = %v, want %v", c.i, c.n, c.floors, got, c.want)
		}
	}
}

// TestHotelPlanCast checks the cast of the default hotel: who connects in
// which role, which floors staff cover, how guests spread over rooms.
func TestHotelPlanCast(t *testing.T) {
	h := HotelConfig{Seed: 1}.withDefaults()
	p := newHotelPlan(h)
	if len(p.rooms) != 300 || p.floors != 15 || len(p.ids) != 4+150+2000 {
		t.Fatalf("%d rooms on %d floors, %d identities; want 300, 15, 2154", len(p.rooms), p.floors, len(p.ids))
	}
	roles := map[auth.Role]int{}
	covered := map[auth.Role]map[int]bool{auth.Housekeeping: {}, auth.Maintenance: {}}
	subs := map[string]bool{}
	for i, id := range p.ids {
		roles[id.role]++
		if subs[id.sub] {
			t.Fatalf("subject %s twice", id.sub)
		}
		subs[id.sub] = true
		switch {
		case i < 4 && id.role != auth.FrontDesk, i >= 154 && id.role != auth.Guest:
			t.Fatalf("identity %d is %v: want front desk first, guests last", i, id.role)
		case id.role == auth.Guest && (id.room < 0 || !slices.Contains(p.rooms[id.room].guests, int32(i))):
			t.Fatalf("guest %s room %d does not list it", id.sub, id.room)
		case id.role != auth.Guest && id.room != -1:
			t.Fatalf("staff %s has room %d", id.sub, id.room)
		case (id.role == auth.Concierge || id.role == auth.FrontDesk) && id.floors != nil:
			t.Fatalf("%s works in the lobby, not on floors %v", id.sub, id.floors)
		}
		for _, f := range id.floors {
			covered[id.role][f] = true
		}
	}
	want := map[auth.Role]int{auth.FrontDesk: 4, auth.Housekeeping: 98, auth.Maintenance: 30, auth.Concierge: 22, auth.Guest: 2000}
	for r, n := range want {
		if roles[r] != n {
			t.Errorf("%d %v, want %d", roles[r], r, n)
		}
	}
	for r, floors := range covered {
		if len(floors) != p.floors {
			t.Errorf("%v covers %d of %d floors", r, len(floors), p.floors)
		}
	}
	numbers := map[string]bool{}
	var byStatus [numRoomStatuses]int
	for _, r := range p.rooms {
		if n := len(r.guests); n < 6 || n > 7 {
			t.Errorf("room %s has %d guests, want 2000/300 give or take one", r.number, n)
		}
		n, _ := strconv.Atoi(r.number)
		if numbers[r.number] || n/100 != r.floor || n%100 < 1 || n%100 > hotelRoomsPerFloor {
			t.Errorf("room %s on floor %d: number taken or off its floor", r.number, r.floor)
		}
		numbers[r.number] = true
		byStatus[r.status]++
	}
	for s, pct := range initialStatuses {
		if got := byStatus[s] * 100 / len(p.rooms); got < pct-8 || got > pct+8 {
			t.Errorf("%d%% of rooms %v at the start, want about %d%%", got, roomStatus(s), pct)
		}
	}
}

func TestHotelPlanDeterministic(t *testing.T) {
	h := HotelConfig{Rooms: 40, Staff: 12, Guests: 90, FrontDesk: 2, Seed: 42}.withDefaults()
	a, b := newHotelPlan(h), newHotelPlan(h)
	h.Seed = 43
	c := newHotelPlan(h)
	same := func(x, y *hotelPlan) bool {
		for i := range x.rooms {
			if x.rooms[i].status != y.rooms[i].status || !slices.Equal(x.rooms[i].guests, y.rooms[i].guests) {
				return false
			}
		}
		return slices.EqualFunc(x.ids, y.ids, func(p, q hotelIdentity) bool {
			return p.sub == q.sub && p.role == q.role && p.room == q.room && slices.Equal(p.floors, q.floors)
		})
	}
	if !same(a, b) {
		t.Fatal("one seed gave two plans")
	}
	if same(a, c) {
		t.Fatal("seeds 42 and 43 gave the same plan")
	}
}

func TestHotelPlanMint(t *testing.T) {
	h := HotelConfig{Rooms: 3, Staff: 3, Guests: 4, FrontDesk: 1, Property: "grand"}.withDefaults()
	p := newHotelPlan(h)
	if err := p.mint(h, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadKeySet(h.JWTSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(keys, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range p.ids {
		c, err := v.Verify(id.token)
		if err != nil {
			t.Fatalf("%s: %v", id.sub, err)
		}
		room := ""
		if id.role == auth.Guest {
			room = p.rooms[id.room].number
		}
		if c.Subject != id.sub || c.Role != id.role || c.Property != "grand" || c.Room != room || !slices.Equal(c.Floors, id.floors) {
			t.Fatalf("%s: claims %+v", id.sub, c)
		}
	}
	h.JWTSecret = "short"
	if err := p.mint(h, time.Now().Add(time.Hour)); err == nil {
		t.Fatal("minted with a 5-byte secret")
	}
}

func TestHotelNamespaces(t *testing.T) {
	for _, r := range []auth.Role{auth.FrontDesk, auth.Housekeeping, auth.Maintenance, auth.Concierge, auth.Guest} {
		ns := hotelNamespaces(r)
		if !slices.Contains(ns, nsMe) {
			t.Errorf("%v does not subscribe to me: %v", r, ns)
		}
	}
	if ns := hotelNamespaces(auth.Housekeeping); !slices.Contains(ns, nsRooms) || slices.Contains(ns, nsService) {
		t.Errorf("housekeeping subscribes to %v", ns)
	}
}

func TestHotelConfigValidate(t *testing.T) {
	ok := HotelConfig{}.withDefaults()
	cases := []struct {
		name string
		edit func(*HotelConfig)
		d    time.Duration
	}{
		{"rooms", func(h *HotelConfig) { h.Rooms = maxHotelRooms + 1 }, time.Second},
		{"staff", func(h *HotelConfig) { h.Staff = 2 }, time.Second},
		{"guests", func(h *HotelConfig) { h.Guests = -1 }, time.Second},
		{"front desk", func(h *HotelConfig) { h.FrontDesk = -1 }, time.Second},
		{"delays", func(h *HotelConfig) { h.AcceptDelay = -time.Second }, time.Second},
		{"workers", func(h *HotelConfig) { h.APIWorkers = 1000 }, time.Second},
		{"secret", func(h *HotelConfig) { h.JWTSecret = "short" }, time.Second},
		{"property", func(h *HotelConfig) { h.Property = "a:b" }, time.Second},
		{"negative rate", func(h *HotelConfig) { h.Mix = &HotelMix{Low: -1} }, time.Second},
		{"too many events", func(h *HotelConfig) { h.Mix = &HotelMix{Low: 1e6} }, time.Hour},
	}
	if err := ok.validate(time.Minute); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range cases {
		h := ok
		c.edit(&h)
		if err := h.validate(c.d); err == nil {
			t.Errorf("%s: accepted %+v", c.name, h)
		}
	}
}
