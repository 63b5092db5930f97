package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bellhop/bellhop/cluster/redistest"
)

// browser starts headless Chromium (Debian's, installed by make deps) and
// returns a context for its first tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make deps`")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 860))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// signIn opens the board at url in tab and signs in through the
// development login as sub with role, waiting until the connection is open.
func signIn(t *testing.T, tab context.Context, url, role, sub string) {
	t.Helper()
	err := chromedp.Do(tab,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`#dev-login`)),
		chromedp.SetValue(chromedp.CSS(`#dev-login select[name=role]`), role),
		chromedp.SetValue(chromedp.CSS(`#dev-login input[name=sub]`), sub),
		chromedp.Click(chromedp.CSS(`#dev-login button`)),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="open"]`)),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", sub, err)
	}
}

// waitVisibleWithin waits at most d for sel to be visible in tab and
// returns how long it took.
func waitVisibleWithin(t *testing.T, tab context.Context, d time.Duration, sel, what string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("%s: not shown within %v (%v)", what, d, err)
	}
	return time.Since(start)
}

// TestBoardInBrowser drives the operations board in headless Chromium
// against real nodes on a real Redis: it loads, negotiates
// permessage-deflate, shows a room change made through the backend API
// within a second, shows the front desk a housekeeper's change made in
// another tab, survives its node's restart by reconnecting and resuming
// without missing the changes made meanwhile (through another node), and
// tells the user when history was lost (Redis restarted empty). A
// screenshot is kept in results/board.png.
func TestBoardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	wsPort, adminPort := freePort(t), freePort(t)
	env := func(extra ...string) map[string]string {
		return testEnv(append([]string{"JWT_SECRET=" + testSecret, "API_KEY=k1", "REDIS_HOST=" + host, "REDIS_PORT=" + port,
			"DEV_LOGIN=true", "LOG_LEVEL=warn"}, extra...)...)
	}
	nodeA := startApp(t, env("WS_PORT="+wsPort, "METRICS_PORT="+adminPort))
	nodeB := startApp(t, env())
	statuses := []string{"AVAILABLE", "OCCUPIED", "OCCUPIED", "DIRTY", "INSPECTED", "OCCUPIED", "CLEANED", "AVAILABLE"}
	for floor := 1; floor <= 3; floor++ {
		for n := 1; n <= 8; n++ {
			room := strconv.Itoa(floor*100 + n)
			st := statuses[(floor+n)%len(statuses)]
			if room == "101" || room == "102" || room == "201" || room == "202" {
				st = "AVAILABLE"
			}
			publishRoom(t, nodeA, room, st)
		}
	}
	url := "http://127.0.0.1:" + adminPort + "/board/"

	desk := browser(t)
	signIn(t, desk, url, "front_desk", "fd-1")
	waitVisibleWithin(t, desk, 5*time.Second, `.room[data-room="202"][data-status="AVAILABLE"]`, "the seeded board")
	ext, err := chromedp.Run(desk, chromedp.Text(chromedp.CSS(`#extensions`)))
	if err != nil || !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("extensions %q (%v): permessage-deflate not negotiated", ext, err)
	}

	// A change through the backend API is on the board within a second.
	publishRoom(t, nodeB, "101", "OCCUPIED")
	took := waitVisibleWithin(t, desk, time.Second, `.room[data-room="101"][data-status="OCCUPIED"]`, "an API change")
	t.Logf("API change shown after %v", took)

	// A housekeeper, in another tab, cleans room 102; the front desk sees it.
	hk, cancelHK := chromedp.NewContext(desk)
	defer cancelHK()
	signIn(t, hk, url, "housekeeping", "hk-anna")
	publishRoom(t, nodeB, "102", "DIRTY")
	waitVisibleWithin(t, hk, 5*time.Second, `.room[data-room="102"][data-status="DIRTY"]`, "room 102 dirty at the housekeeper")
	for _, st := range []string{"CLEANING", "CLEANED"} {
		err := chromedp.Do(hk,
			chromedp.SetValue(chromedp.CSS(`#room-form input[name=room]`), "102"),
			chromedp.SetValue(chromedp.CSS(`#room-form select[name=status]`), st),
			chromedp.Click(chromedp.CSS(`#room-form button`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		waitVisibleWithin(t, desk, 5*time.Second, `.room[data-room="102"][data-status="`+st+`"]`, "the housekeeper's "+st)
	}

	// Node A restarts; two rooms change through node B meanwhile; the page
	// reconnects to node A and resumes with exactly those changes.
	if err := nodeA.shutdown(); err != nil {
		t.Fatal(err)
	}
	waitVisibleWithin(t, desk, 5*time.Second, `#conn[data-state="reconnecting"]`, "the reconnecting state")
	publishRoom(t, nodeB, "201", "MAINTENANCE")
	publishRoom(t, nodeB, "202", "OUT_OF_ORDER")
	nodeA = startApp(t, env("WS_PORT="+wsPort, "METRICS_PORT="+adminPort))
	waitVisibleWithin(t, desk, 20*time.Second, `#conn[data-state="open"]`, "the reconnected state")
	waitVisibleWithin(t, desk, 5*time.Second, `.room[data-room="201"][data-status="MAINTENANCE"]`, "a change made while away")
	waitVisibleWithin(t, desk, 5*time.Second, `.room[data-room="202"][data-status="OUT_OF_ORDER"]`, "the second change made while away")
	resyncHidden, err := chromedp.Run(desk, chromedp.Evaluate[bool](`document.querySelector("#resync").hidden`))
	if err != nil || !resyncHidden {
		t.Fatalf("resumed with a resync (hidden=%v, %v): want an exact recovery", resyncHidden, err)
	}
	// The queue and the alert feed fill live: a request (assigned to the
	// housekeeper on shift, once her tab is back too) and an alert, both
	// through the backend API.
	waitVisibleWithin(t, hk, 20*time.Second, `#conn[data-state="open"]`, "the housekeeper's reconnection")
	for _, body := range []string{
		`{"event":"SERVICE_REQUEST","property":"grand","payload":{"type":"towels","roomNumber":"305","description":"two bath towels"}}`,
		`{"event":"SERVICE_REQUEST","property":"grand","payload":{"type":"plumbing","roomNumber":"207"}}`,
		`{"event":"HOUSEKEEPING_ALERT","property":"grand","payload":{"message":"Floor 3 linen cart empty","severity":"warning"}}`,
		`{"event":"SYSTEM_ALERT","property":"grand","payload":{"message":"Fire drill at 15:00","severity":"critical"}}`,
	} {
		if code, resp := apiCall(t, nodeA.admin, "k1", "POST", "/api/v1/publish", body); code != http.StatusOK {
			t.Fatalf("publish: %d %s", code, resp)
		}
	}
	waitVisibleWithin(t, desk, 5*time.Second, `tr[data-state="ASSIGNED"]`, "the assigned request")
	waitVisibleWithin(t, desk, 5*time.Second, `tr[data-state="ESCALATED"]`, "the escalated request")
	waitVisibleWithin(t, desk, 5*time.Second, `#alerts li[data-severity="critical"]`, "the critical alert")
	waitVisibleWithin(t, hk, 5*time.Second, `tr[data-state="ASSIGNED"] button[data-action="accept"]`, "the housekeeper's accept button")
	shot(t, desk)
	// "high only" hides the MEDIUM housekeeping alert, keeps the HIGH one.
	if err := chromedp.Do(desk, chromedp.SetValue(chromedp.CSS(`#alert-filter`), "HIGH")); err != nil {
		t.Fatal(err)
	}
	visible, err := chromedp.Run(desk, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#alerts li")].filter(li => getComputedStyle(li).display !== "none").map(li => li.dataset.priority)`))
	if err != nil || len(visible) != 1 || visible[0] != "HIGH" {
		t.Fatalf("high-only alerts: %v (%v)", visible, err)
	}
	if err := chromedp.Do(hk, chromedp.Click(chromedp.CSS(`tr[data-state="ASSIGNED"] button[data-action="accept"]`))); err != nil {
		t.Fatal(err)
	}
	waitVisibleWithin(t, desk, 5*time.Second, `tr[data-state="ACCEPTED"]`, "the accepted request at the front desk")

	// Redis comes back empty: the history is gone, the page is told and
	// reloads its board (empty now), then goes on with new changes.
	srv.Kill()
	srv.Restart()
	waitVisibleWithin(t, desk, 30*time.Second, `#resync[data-count]`, "the lost-history notice")
	waitFor(t, 15*time.Second, func() bool {
		code, _ := apiCall(t, nodeA.admin, "k1", "POST", "/api/v1/publish", roomUpdate("301", "DIRTY"))
		return code == http.StatusOK
	})
	waitVisibleWithin(t, desk, 10*time.Second, `.room[data-room="301"][data-status="DIRTY"]`, "a change after the history was lost")
}

// shot keeps a screenshot of tab in results/board.png.
func shot(t *testing.T, tab context.Context) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "..", "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "board.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
