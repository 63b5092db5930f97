package dispatch_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// TestSlowConsumerClosed floods a namespace with alerts while one
// subscriber never reads: it is closed with 4008 once its backlog passes
// MaxOutbound, while a subscriber that reads gets every alert in order and
// the sender is never slowed down.
func TestSlowConsumerClosed(t *testing.T) {
	t.Parallel()
	h := start(t, options{engine: engine.Config{MaxOutbound: 64 << 10}})
	slow := h.dial(dialOptions{query: "token=" + h.token(staff("hk-slow", auth.Housekeeping)), noReader: true})
	slow.sendEnv(map[string]any{"event": dispatch.EventSubscribe, "namespace": dispatch.NSHousekeeping})
	fast := h.connect(staff("hk-fast", auth.Housekeeping))
	fast.subscribe(dispatch.NSHousekeeping, "")
	sender := h.connect(staff("fd-1", auth.FrontDesk))
	// The slow client's SUBSCRIBED is queued once the fast one's is: both
	// went through the same worker, in order.
	waitFor(t, waitTimeout, "two housekeeping subscriptions", func() bool {
		return h.metric(`bellhop_recoveries_total{recovered="true"}`) == 2
	})

	pad := strings.Repeat("x", 1900)
	sent := 0
	for h.metric("bellhop_slow_consumers_total") == 0 {
		if sent >= 6000 {
			t.Fatalf("no slow consumer after %d alerts of 2 KB", sent)
		}
		var last string
		for range 50 {
			last = sender.send(dispatch.EventHousekeepingAlert, "", map[string]string{"message": strconv.Itoa(sent) + " " + pad})
			sent++
		}
		expectAck(t, sender.await(isReply(last)), dispatch.EventHousekeepingAlert) // one batch in flight at a time
	}
	for i := range sent {
		e := fast.await(isEvent(dispatch.EventHousekeepingAlert))
		var a struct{ Message string }
		e.decode(t, &a)
		if n, _, _ := strings.Cut(a.Message, " "); n != strconv.Itoa(i) {
			t.Fatalf("fast reader: alert %q, want %d", n, i)
		}
	}
	fast.subscribe(dispatch.NSSystem, "") // both others still served
	sender.subscribe(dispatch.NSSystem, "")

	code, err := readAll(slow)
	if code != engine.CloseSlowConsumer {
		t.Fatalf("slow consumer got close %d (%v), want %d", code, err, engine.CloseSlowConsumer)
	}
	waitFor(t, waitTimeout, "the slow consumer to be gone", func() bool { return h.srv.Connections() == 2 })
	t.Logf("slow consumer closed after %d alerts", sent)
}
