package dispatch

import (
	"slices"
	"strings"
	"testing"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// documentedTransitions is the room status table of docs/PROTOCOL.md:
// "FROM>TO" and the roles that may make the move. Admin and service may
// make any move and are checked apart.
var documentedTransitions = map[string][]auth.Role{
	"AVAILABLE>OCCUPIED":       {auth.FrontDesk},
	"AVAILABLE>DIRTY":          {auth.FrontDesk, auth.Housekeeping},
	"AVAILABLE>MAINTENANCE":    {auth.FrontDesk, auth.Maintenance},
	"AVAILABLE>OUT_OF_ORDER":   {auth.FrontDesk, auth.Maintenance},
	"OCCUPIED>DIRTY":           {auth.FrontDesk, auth.Housekeeping},
	"OCCUPIED>MAINTENANCE":     {auth.FrontDesk, auth.Maintenance},
	"DIRTY>CLEANING":           {auth.Housekeeping},
	"DIRTY>MAINTENANCE":        {auth.FrontDesk, auth.Maintenance},
	"DIRTY>OUT_OF_ORDER":       {auth.FrontDesk, auth.Maintenance},
	"CLEANING>CLEANED":         {auth.Housekeeping},
	"CLEANING>DIRTY":           {auth.Housekeeping},
	"CLEANING>MAINTENANCE":     {auth.Housekeeping, auth.Maintenance},
	"CLEANED>INSPECTED":        {auth.FrontDesk},
	"CLEANED>DIRTY":            {auth.FrontDesk},
	"CLEANED>OCCUPIED":         {auth.FrontDesk},
	"INSPECTED>AVAILABLE":      {auth.FrontDesk},
	"INSPECTED>OCCUPIED":       {auth.FrontDesk},
	"INSPECTED>DIRTY":          {auth.FrontDesk},
	"MAINTENANCE>DIRTY":        {auth.FrontDesk, auth.Maintenance},
	"MAINTENANCE>OUT_OF_ORDER": {auth.FrontDesk, auth.Maintenance},
	"OUT_OF_ORDER>MAINTENANCE": {auth.FrontDesk, auth.Maintenance},
	"OUT_OF_ORDER>DIRTY":       {auth.FrontDesk, auth.Maintenance},
}

var allStatuses = []RoomStatus{Available, Occupied, Dirty, Cleaning, Cleaned, Inspected, InMaintenance, OutOfOrder}

// TestTransitionTable checks every role against every move between the
// statuses, unknown statuses included.
func TestTransitionTable(t *testing.T) {
	statuses := append(slices.Clone(allStatuses), "", "SPARKLING", "available")
	for role := auth.Admin; role <= auth.Service; role++ {
		for _, from := range statuses {
			for _, to := range statuses {
				want := slices.Contains(documentedTransitions[string(from)+">"+string(to)], role)
				known := slices.Contains(allStatuses, to)
				if role == auth.Admin || role == auth.Service {
					want = known // any move to a real status, to correct mistakes and seed the board
				}
				if got := mayTransition(role, from, to); got != want {
					t.Errorf("mayTransition(%s, %q, %q) = %v, want %v", role, from, to, got, want)
				}
			}
		}
	}
	for move := range documentedTransitions {
		from, to, _ := strings.Cut(move, ">")
		if _, ok := transitions[RoomStatus(from)][RoomStatus(to)]; !ok {
			t.Errorf("documented move %s missing from the table", move)
		}
	}
}

// TestFloorOf checks the floor guessed from a room number.
func TestFloorOf(t *testing.T) {
	f := func(number string, want int) {
		t.Helper()
		if got := floorOf(number); got != want {
			t.Errorf("floorOf(%q) = %d, want %d", number, got, want)
		}
	}
	f("101", 1)
	f("412", 4)
	f("1204", 12)
	f("99", 0)
	f("7", 0)
	f("B12", 0)
	f("", 0)
	f("-101", 0)
}
