package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseAPIURL(t *testing.T) {
	cases := []struct {
		in, want string
		err      error
	}{
		{"http://127.0.0.1:9090/api", "http://127.0.0.1:9090/api", nil},
		{"http://localhost:9090/api/", "http://localhost:9090/api", nil},
		{"http://127.0.0.9/api", "http://127.0.0.9/api", nil},
		{"http://10.0.0.1:9090/api", "", ErrNotLoopback},
		{"http://example.com/api", "", ErrNotLoopback},
		{"https://127.0.0.1:9090/api", "", ErrBadURL},
		{"http://127.0.0.1:9090/api?x=1", "", ErrBadURL},
		{"http://u:p@127.0.0.1:9090/api", "", ErrBadURL},
		{"127.0.0.1:9090", "", ErrBadURL},
	}
	for _, c := range cases {
		got, err := parseAPIURL(c.in)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("parseAPIURL(%q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
		}
	}
}

// fakeAPI answers the backend API's publish with what answer returns.
func fakeAPI(t *testing.T, answer func(body string) (int, string)) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/api/v1/publish" || r.Header.Get("X-API-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"ok":false,"error":{"code":"AUTH_FAILED","message":"wrong key"}}`)
			return
		}
		status, body := answer(string(b))
		if status == http.StatusFound {
			w.Header().Set("Location", "http://10.0.0.1/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s.URL + "/api"
}

func TestHotelAPIPublish(t *testing.T) {
	base := fakeAPI(t, func(body string) (int, string) {
		switch {
		case strings.Contains(body, "conflict"):
			return http.StatusConflict, `{"ok":false,"error":{"code":"ILLEGAL_TRANSITION","message":"no"}}`
		case strings.Contains(body, "garbage"):
			return http.StatusInternalServerError, "<html>oops</html>"
		case strings.Contains(body, "redirect"):
			return http.StatusFound, ""
		}
		return http.StatusOK, `{"ok":true,"event":"X"}`
	})
	cases := []struct {
		key, body string
		status    int
		err       string
	}{
		{"k", "fine", 200, ""},
		{"wrong", "fine", 401, "AUTH_FAILED"},
		{"k", "conflict", 409, "ILLEGAL_TRANSITION"},
		{"k", "garbage", 500, "not a JSON answer"},
		{"k", "redirect", 302, "status 302"},
	}
	for _, c := range cases {
		a, err := newHotelAPI(base, c.key, 2)
		if err != nil {
			t.Fatal(err)
		}
		status, err := a.publish(context.Background(), []byte(c.body))
		if status != c.status || (c.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s with key %s: status %d, err %v; want %d, %q", c.body, c.key, status, err, c.status, c.err)
		}
		a.stop()
	}
	if _, err := newHotelAPI("http://10.1.2.3:9090/api", "k", 1); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("remote API accepted: %v", err)
	}
}

func TestHotelAPISeed(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	var inflight, most atomic.Int32
	base := fakeAPI(t, func(body string) (int, string) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		seen[body]++
		mu.Unlock()
		return http.StatusOK, `{"ok":true}`
	})
	h := HotelConfig{Rooms: 45, APIWorkers: 3}.withDefaults()
	plan := newHotelPlan(h)
	a, err := newHotelAPI(base, "k", h.APIWorkers)
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop()
	if err := a.seed(context.Background(), "grand", plan); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 45 || most.Load() > 3 {
		t.Fatalf("%d distinct rooms seeded, %d calls at once; want 45, at most 3", len(seen), most.Load())
	}
	for body, n := range seen {
		if n != 1 || !strings.Contains(body, `"property":"grand"`) {
			t.Fatalf("seeded %d times: %s", n, body)
		}
	}
	a2, _ := newHotelAPI(base, "wrong", 2)
	defer a2.stop()
	if err := a2.seed(context.Background(), "grand", plan); err == nil || !strings.Contains(err.Error(), "refused the key") {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestHotelSeedError(t *testing.T) {
	cases := []struct {
		status int
		err    error
		want   string
	}{
		{0, errTest, "cannot reach the backend API"},
		{401, errTest, "refused the key"},
		{503, errTest, "off or elsewhere"},
		{404, errTest, "off or elsewhere"},
		{409, errTest, "cannot seed"},
		{0, context.Canceled, "cannot seed"},
	}
	for _, c := range cases {
		if err := seedError(c.status, c.err); !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("seedError(%d) = %v, want %q", c.status, err, c.want)
		}
	}
}

// TestHotelAPIWorkers checks the measurement's pool: calls run with their
// before hook, a full queue refuses, stop cuts short what is left.
func TestHotelAPIWorkers(t *testing.T) {
	release := make(chan struct{})
	base := fakeAPI(t, func(body string) (int, string) {
		if body == "slow" {
			<-release
		}
		return http.StatusOK, `{"ok":true}`
	})
	defer close(release)
	a, err := newHotelAPI(base, "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	a.start()
	var mu sync.Mutex
	var outcomes []string
	job := func(body string) hotelAPIJob {
		var before bool
		return hotelAPIJob{
			body:   []byte(body),
			before: func() { before = true },
			done: func(status int, err error) {
				mu.Lock()
				outcomes = append(outcomes, fmt.Sprintf("%s:%d:%v:%v", body, status, before, errors.Is(err, context.Canceled)))
				mu.Unlock()
			},
		}
	}
	if !a.submit(job("fast")) {
		t.Fatal("empty queue refused")
	}
	waitFor(t, 5*time.Second, "the fast call", func() bool { mu.Lock(); defer mu.Unlock(); return len(outcomes) == 1 })
	a.submit(job("slow")) // holds the only worker
	full := false
	for range hotelAPIQueue + 2 {
		if !a.submit(job("queued")) {
			full = true
			break
		}
	}
	if !full {
		t.Fatal("the queue took more than its bound")
	}
	a.stop()
	a.stop()
	mu.Lock()
	defer mu.Unlock()
	if outcomes[0] != "fast:200:true:false" || outcomes[1] != "slow:0:true:true" || len(outcomes) != hotelAPIQueue+2 {
		t.Fatalf("outcomes %v...: want the fast one done, the slow one and the queued ones cut short", outcomes[:2])
	}
}
