package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"
)

// Backend API limits.
const (
	hotelAPITimeout = 15 * time.Second // per call; the server answers 504 after 10 s
	hotelAPIQueue   = 64               // calls waiting per worker before the generator skips
	hotelAPIWait    = 5 * time.Second  // how long seeding waits for the API to answer at all
	maxAPIAnswer    = 64 << 10
)

// hotelAPI calls the server's backend API (POST <base>/v1/publish with
// X-API-Key) over kept-alive loopback connections. Seeding calls publish
// directly; during the measurement a bounded pool of workers, owned by the
// hotelAPI from start until stop, takes calls from a bounded queue so that
// the generator never waits for HTTP.
type hotelAPI struct {
	publishURL string
	key        string
	client     *http.Client
	workers    int

	jobs    chan hotelAPIJob // nil until start
	ctx     context.Context  // cancelled by stop: calls in flight end
	cancel  context.CancelFunc
	wg      sync.WaitGroup // workers running
	stopped atomic.Bool
}

// hotelAPIJob is one call of the measurement. before runs right before the
// request is sent (it stamps the send time); done gets the outcome: status
// 0 when the server could not be reached.
type hotelAPIJob struct {
	body   []byte
	before func()
	done   func(status int, err error)
}

// hotelAPIAnswer is the part of an API answer the harness reads.
type hotelAPIAnswer struct {
	OK    bool               `json:"ok"`
	Error *hotelErrorPayload `json:"error"`
}

// newHotelAPI checks that base is an http:// URL on loopback and builds a
// client for it with at most workers connections.
func newHotelAPI(base, key string, workers int) (*hotelAPI, error) {
	u, err := parseAPIURL(base)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &hotelAPI{
		publishURL: u + "/v1/publish",
		key:        key,
		workers:    workers,
		client: &http.Client{
			Transport: tr,
			Timeout:   hotelAPITimeout,
			// A redirect could lead off loopback: take the answer as it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ctx: ctx, cancel: cancel,
	}, nil
}

// parseAPIURL returns base without a trailing slash after checking that it
// is http://host[:port]/path with host on 127.0.0.0/8 (or localhost).
func parseAPIURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: API URL %q: want http://host:port/path on loopback", ErrBadURL, base)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if err := CheckLoopbackAddr(net.JoinHostPort(u.Hostname(), port)); err != nil {
		return "", fmt.Errorf("API URL %q: %w", base, err)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// publish posts one event. It returns the HTTP status (0 when the server
// could not be reached) and an error unless the server applied the event.
func (a *hotelAPI) publish(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.publishURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", a.key)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backend API %s: %w", a.publishURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer))
	_, _ = io.Copy(io.Discard, resp.Body) // the rest, so the connection is reused
	if err != nil {
		return resp.StatusCode, fmt.Errorf("backend API %s: reading the answer: %w", a.publishURL, err)
	}
	var ans hotelAPIAnswer
	if json.Unmarshal(raw, &ans) != nil {
		return resp.StatusCode, fmt.Errorf("%w: backend API %s: status %d, not a JSON answer: %.100q", ErrHotel, a.publishURL, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK || !ans.OK {
		code, msg := "", ""
		if ans.Error != nil {
			code, msg = ans.Error.Code, ans.Error.Message
		}
		return resp.StatusCode, fmt.Errorf("%w: backend API status %d %s: %s", ErrHotel, resp.StatusCode, code, msg)
	}
	return resp.StatusCode, nil
}

// seed puts every room of the plan on the board with its starting status
// and floor (as role service, which may set any status), a.workers calls
// at a time. The first failure stops it.
func (a *hotelAPI) seed(ctx context.Context, property string, plan *hotelPlan) error {
	// A server the harness just started may open its admin port a moment
	// after the WebSocket port: the first call is retried while nothing
	// answers.
	first := appendAPISeed(nil, property, &plan.rooms[0])
	for deadline := time.Now().Add(hotelAPIWait); ; {
		status, err := a.publish(ctx, first)
		if err == nil {
			break
		}
		if status != 0 || time.Now().After(deadline) || !sleepCtx(ctx, 50*time.Millisecond) {
			return seedError(status, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	next.Store(1)
	var once sync.Once
	var failed error
	var wg sync.WaitGroup
	for range min(a.workers, len(plan.rooms)) {
		wg.Go(func() {
			var body []byte
			for i := next.Add(1) - 1; i < int64(len(plan.rooms)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				body = appendAPISeed(body[:0], property, &plan.rooms[i])
				if status, err := a.publish(ctx, body); err != nil {
					once.Do(func() { failed = seedError(status, err); cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if failed == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return failed
}

// seedError says what a failure to seed most likely means.
func seedError(status int, err error) error {
	switch {
	case status == 0 && !errors.Is(err, context.Canceled):
		return fmt.Errorf("cannot reach the backend API (is the API URL the server's admin address with /api?): %w", err)
	case status == http.StatusUnauthorized:
		return fmt.Errorf("the backend API refused the key (is it the server's API_KEY?): %w", err)
	case status == http.StatusServiceUnavailable || status == http.StatusNotFound:
		return fmt.Errorf("the backend API is off or elsewhere (does the server have API_KEY set and the hotel endpoint on?): %w", err)
	}
	return fmt.Errorf("cannot seed the room board: %w", err)
}

// start runs the workers of the measurement.
func (a *hotelAPI) start() {
	a.jobs = make(chan hotelAPIJob, a.workers*hotelAPIQueue)
	for range a.workers {
		a.wg.Go(func() {
			for j := range a.jobs {
				j.before()
				status, err := a.publish(a.ctx, j.body)
				j.done(status, err)
			}
		})
	}
}

// submit queues a call without waiting; false means the queue is full.
// Generator only, between start and stop.
func (a *hotelAPI) submit(j hotelAPIJob) bool {
	select {
	case a.jobs <- j:
		return true
	default:
		return false
	}
}

// stop cancels the calls still queued or in flight (their done gets the
// context's error), waits for the workers and closes the idle connections.
// The generator must have stopped. Safe to call more than once.
func (a *hotelAPI) stop() {
	if !a.stopped.CompareAndSwap(false, true) {
		return
	}
	if a.jobs != nil {
		close(a.jobs)
	}
	a.cancel()
	a.wg.Wait()
	a.client.CloseIdleConnections()
}
