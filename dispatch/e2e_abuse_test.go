package dispatch_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// TestConnectionsPerUser: one subject may hold MaxConnsPerUser connections
// on a node; the next is refused (ERROR, close 4029) and one closing makes
// room again. Another subject is not affected.
func TestConnectionsPerUser(t *testing.T) {
	t.Parallel()
	h := start(t, options{dispatch: dispatch.Config{MaxConnsPerUser: 2}})
	first := h.connect(staff("hk-1", auth.Housekeeping))
	h.connect(staff("hk-1", auth.Housekeeping))
	third := h.dial(dialOptions{query: "token=" + h.token(staff("hk-1", auth.Housekeeping))})
	e := third.await(isEvent(dispatch.EventError))
	if !strings.Contains(string(e.Payload), "too many connections") {
		t.Fatalf("third connection: %s", e.Payload)
	}
	third.expectClose(ws.StatusCode(dispatch.CloseFlood))
	h.connect(staff("hk-2", auth.Housekeeping))
	first.close()
	waitFor(t, 5*time.Second, "room for hk-1 again", func() bool {
		c := h.dial(dialOptions{query: "token=" + h.token(staff("hk-1", auth.Housekeeping))})
		ok := c.await(func(e envelope) bool {
			return e.Event == dispatch.EventAuthenticated || e.Event == dispatch.EventError
		}).Event == dispatch.EventAuthenticated
		c.close()
		return ok
	})
}

// TestDeepAndLongMessages: a message nested too deep or with an over-long
// string is answered BAD_MESSAGE and the connection stays usable.
func TestDeepAndLongMessages(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	c := h.connect(staff("fd-1", auth.FrontDesk))
	for _, msg := range []string{
		`{"event":"SUBSCRIBE","correlationId":"d","payload":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		`{"event":"SUBSCRIBE","correlationId":"d","payload":{"namespace":"` + strings.Repeat("r", 20000) + `"}}`,
	} {
		c.sendRaw(ws.OpText, msg)
		expectError(t, c.await(isEvent(dispatch.EventError)), dispatch.CodeBadMessage)
	}
	if sub := c.subscribe(dispatch.NSRooms, ""); sub.Namespace != dispatch.NSRooms {
		t.Fatalf("connection unusable after bad messages: %+v", sub)
	}
}
