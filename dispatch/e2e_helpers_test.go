package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// The end-to-end tests run the real server: the engine on a loopback port
// with the service on /ws, the in-memory broker and store, and the backend
// API behind httptest. Clients are real WebSocket connections whose reader
// goroutine queues every envelope the server sends.

const (
	testSecret   = "bellhop-test-secret-of-32-bytes-or-more"
	testProperty = "grand"
	testAPIKey   = "test-key"
	waitTimeout  = 5 * time.Second
)

// harness is one running server and what the tests need to reach it.
type harness struct {
	t      testing.TB
	srv    *engine.Server
	svc    *dispatch.Service
	broker *cluster.MemoryBroker
	store  *cluster.MemoryStore
	api    *httptest.Server
	signer *auth.Signer
	url    string // ws://127.0.0.1:port/ws
}

// options vary a harness; zero fields take the test defaults.
type options struct {
	engine   engine.Config
	dispatch dispatch.Config
	broker   cluster.MemoryConfig
	logger   *slog.Logger
	wrap     func(*cluster.MemoryBroker) cluster.Broker // the broker the service uses; nil for the memory broker
}

// start runs a server for the test and stops it when the test ends.
func start(t testing.TB, o options) *harness {
	t.Helper()
	keys, err := auth.LoadKeySet(testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(keys, auth.Config{Leeway: -1})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewSigner(auth.SecretKeyID, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, signer: signer, store: cluster.NewMemoryStore()}
	dcfg := o.dispatch
	dcfg.Verifier, dcfg.Store = verifier, h.store
	if dcfg.Workers == 0 {
		dcfg.Workers = 2
	}
	if dcfg.AuthTimeout == 0 {
		dcfg.AuthTimeout = 2 * time.Second
	}
	dcfg.Logger = o.logger
	h.svc, err = dispatch.New(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	h.broker = cluster.NewMemoryBroker(o.broker, h.svc.Deliver)
	ecfg := o.engine
	ecfg.Addr = "127.0.0.1:0"
	if ecfg.Loops == 0 {
		ecfg.Loops = 2
	}
	ecfg.Protocols = []string{"bellhop.v1"}
	ecfg.Routes = map[string]engine.Handler{"/ws": h.svc}
	h.srv, err = engine.New(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	var b cluster.Broker = h.broker
	if o.wrap != nil {
		b = o.wrap(h.broker)
	}
	h.svc.Start(h.srv, b)
	if err := h.srv.Start(); err != nil {
		t.Fatal(err)
	}
	h.api = httptest.NewServer(h.svc.API(testAPIKey))
	h.url = "ws://" + h.srv.Addr().String() + "/ws"
	t.Cleanup(h.stop)
	return h
}

// sub returns the harness for a subtest: what it creates and every failure
// it reports belong to t.
func (h *harness) sub(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func (h *harness) stop() {
	h.api.Close()
	_ = h.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.svc.Close(ctx); err != nil {
		h.t.Errorf("service close: %v", err)
	}
	if err := h.broker.Close(); err != nil {
		h.t.Errorf("broker close: %v", err)
	}
}

// token mints a token for c, filling the property and a one-hour expiry.
func (h *harness) token(c auth.Claims) string {
	h.t.Helper()
	if c.Property == "" {
		c.Property = testProperty
	}
	if c.Expires.IsZero() {
		c.Expires = time.Now().Add(time.Hour)
	}
	tok, err := h.signer.Sign(c)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func staff(sub string, role auth.Role, floors ...int) auth.Claims {
	return auth.Claims{Subject: sub, Role: role, Floors: floors}
}

func guest(sub, room string) auth.Claims {
	return auth.Claims{Subject: sub, Role: auth.Guest, Room: room}
}

// connect dials with the token in the query and waits for AUTHENTICATED.
func (h *harness) connect(c auth.Claims) *client {
	h.t.Helper()
	cl := h.dial(dialOptions{query: "token=" + h.token(c)})
	cl.await(isEvent(dispatch.EventAuthenticated))
	return cl
}

// dialOptions say how a client presents itself.
type dialOptions struct {
	query     string   // raw query string
	protocols []string // offered subprotocols
	cookie    string   // Cookie header
	noReader  bool     // do not read: a slow consumer
}

// dial opens a WebSocket connection to the service.
func (h *harness) dial(o dialOptions) *client {
	h.t.Helper()
	d := ws.Dialer{Protocols: o.protocols, Timeout: waitTimeout}
	if o.cookie != "" {
		d.Header = ws.HandshakeHeaderHTTP(http.Header{"Cookie": {o.cookie}})
	}
	u := h.url
	if o.query != "" {
		u += "?" + o.query
	}
	conn, br, _, err := d.Dial(context.Background(), u)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	c := &client{t: h.t, conn: conn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.r = conn
	if br != nil {
		c.r = br
	}
	h.t.Cleanup(c.close)
	if !o.noReader {
		c.startReader()
	}
	return c
}

// Payloads as the protocol documents them, decoded independently of the
// server's types.

type errorPayload struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type ackPayload struct {
	Event     string          `json:"event"`
	MessageID string          `json:"messageId"`
	Data      json.RawMessage `json:"data"`
}

type room struct {
	RoomNumber     string `json:"roomNumber"`
	Status         string `json:"status"`
	Floor          int    `json:"floor"`
	Version        uint64 `json:"version"`
	UpdatedBy      string `json:"updatedBy"`
	PreviousStatus string `json:"previousStatus"`
	Note           string `json:"note"`
}

type board struct {
	Property string `json:"property"`
	Rooms    []room `json:"rooms"`
}

func (b board) room(number string) (room, bool) {
	for _, r := range b.Rooms {
		if r.RoomNumber == number {
			return r, true
		}
	}
	return room{}, false
}

type subscribedPayload struct {
	Namespace string           `json:"namespace"`
	Channel   string           `json:"channel"`
	Recovered bool             `json:"recovered"`
	Position  string           `json:"position"`
	Missed    int              `json:"missed"`
	Snapshot  *board           `json:"snapshot"`
	Requests  []serviceRequest `json:"requests"`
}

type serviceRequest struct {
	ID         string   `json:"requestId"`
	RoomNumber string   `json:"roomNumber"`
	Type       string   `json:"type"`
	Department string   `json:"department"`
	Status     string   `json:"status"`
	Assignee   string   `json:"assignee"`
	Tried      []string `json:"tried"`
	Attempt    int      `json:"attempt"`
	Version    uint64   `json:"version"`
	CreatedBy  string   `json:"createdBy"`
}

type requestChange struct {
	Action  string         `json:"action"`
	Request serviceRequest `json:"request"`
	Note    string         `json:"note"`
}

// apiAnswer is the body of every API answer.
type apiAnswer struct {
	OK        bool            `json:"ok"`
	Event     string          `json:"event"`
	MessageID string          `json:"messageId"`
	Data      json.RawMessage `json:"data"`
	Error     *errorPayload   `json:"error"`
	Replayed  bool            `json:"replayed"`
}

// apiDo sends a request to the backend API with the test key. Safe from
// any goroutine.
func (h *harness) apiDo(method, path string, body any, header ...string) (int, apiAnswer, error) {
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return 0, apiAnswer{}, err
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.api.URL+path, rd)
	if err != nil {
		return 0, apiAnswer{}, err
	}
	req.Header.Set("X-API-Key", testAPIKey)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.api.Client().Do(req)
	if err != nil {
		return 0, apiAnswer{}, err
	}
	defer resp.Body.Close()
	var ans apiAnswer
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &ans); err != nil {
		return resp.StatusCode, ans, fmt.Errorf("%s %s: status %d, body %q: %w", method, path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, ans, nil
}

// apiCall is apiDo for the test goroutine: it fails the test on errors.
func (h *harness) apiCall(method, path string, body any, header ...string) (int, apiAnswer) {
	h.t.Helper()
	status, ans, err := h.apiDo(method, path, body, header...)
	if err != nil {
		h.t.Fatal(err)
	}
	return status, ans
}

// tryPublish posts an event for the test property as role service and
// reports an error unless it is applied. Safe from any goroutine.
func (h *harness) tryPublish(event string, payload any, header ...string) (apiAnswer, error) {
	status, ans, err := h.apiDo("POST", "/api/v1/publish",
		map[string]any{"event": event, "property": testProperty, "payload": payload}, header...)
	if err == nil && (status != http.StatusOK || !ans.OK) {
		err = fmt.Errorf("publish %s: status %d, %+v", event, status, ans.Error)
	}
	return ans, err
}

// publish is tryPublish for the test goroutine.
func (h *harness) publish(event string, payload any, header ...string) apiAnswer {
	h.t.Helper()
	ans, err := h.tryPublish(event, payload, header...)
	if err != nil {
		h.t.Fatal(err)
	}
	return ans
}

// setRoom sets a room's status through the API (role service may set any).
func (h *harness) setRoom(number, status string) apiAnswer {
	h.t.Helper()
	return h.publish(dispatch.EventRoomStatusUpdate, map[string]string{"roomNumber": number, "status": status})
}

// board reads the room board through the API.
func (h *harness) board() board {
	h.t.Helper()
	status, ans := h.apiCall("GET", "/api/v1/rooms?property="+testProperty, nil)
	if status != http.StatusOK {
		h.t.Fatalf("GET rooms: status %d %+v", status, ans.Error)
	}
	var b board
	if err := json.Unmarshal(ans.Data, &b); err != nil {
		h.t.Fatal(err)
	}
	return b
}

// metric reads one value of the engine's or the service's metrics.
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	var buf bytes.Buffer
	h.srv.Metrics().WritePrometheus(&buf)
	h.svc.Metrics().WritePrometheus(&buf)
	for _, line := range strings.Split(buf.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				h.t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// offsetOf returns the offset of a messageId.
func offsetOf(t testing.TB, id string) uint64 {
	t.Helper()
	pos, err := cluster.ParsePosition(id)
	if err != nil {
		t.Fatalf("messageId %q: %v", id, err)
	}
	return pos.Offset
}
