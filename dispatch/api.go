package dispatch

import (
	"context"
	"crypto/subtle"
	"io"
	"net/http"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/dispatch/auth"
)

// The backend API lets the hotel's ERP and PMS publish events with the
// same validation and routing as a client (as role service), and read the
// room board. It is mounted on the admin port and needs the X-API-Key
// header.

// Limits of the API.
const (
	maxAPIBody       = 64 << 10
	apiTimeout       = 10 * time.Second
	idempotencyTTL   = 24 * time.Hour
	maxIdempotencies = 100000
)

// publishRequest is the body of POST /api/v1/publish: an envelope plus the
// property it is for.
type publishRequest struct {
	Envelope
	Property       string `json:"property"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// apiAnswer is the body of every API answer.
type apiAnswer struct {
	OK        bool   `json:"ok"`
	Event     string `json:"event,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	Data      any    `json:"data,omitempty"`
	Error     *Error `json:"error,omitempty"`
	Replayed  bool   `json:"replayed,omitempty"`
	Queued    bool   `json:"queued,omitempty"` // accepted while Redis is unreachable: delivered on this node, the rest follows (HTTP 202)
}

// MarshalJSON shows an Error as {code, message}.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorPayload{Code: e.Code, Message: e.Message})
}

// API returns the HTTP handler of the backend API, checking apiKey.
// An empty apiKey disables the API (every call gets 503).
func (s *Service) API(apiKey string) http.Handler {
	a := &api{svc: s, key: []byte(apiKey), idem: newIdempotency(maxIdempotencies, idempotencyTTL)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/publish", a.publish)
	mux.HandleFunc("GET /api/v1/rooms", a.rooms)
	mux.HandleFunc("GET /api/v1/requests", a.requests)
	mux.HandleFunc("GET /api/v1/staff", a.staff)
	return a.authorize(mux)
}

type api struct {
	svc  *Service
	key  []byte
	idem *idempotency
}

func (a *api) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(a.key) == 0 {
			writeJSON(w, http.StatusServiceUnavailable, apiAnswer{Error: newError(CodeUnavailable, "API_KEY not configured")})
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-API-Key")), a.key) != 1 {
			writeJSON(w, http.StatusUnauthorized, apiAnswer{Error: newError(CodeAuthFailed, "missing or wrong X-API-Key")})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publish applies an event as role service for the body's property.
func (a *api) publish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiAnswer{Error: newError(CodeBadMessage, "body over 64 KiB")})
		return
	}
	var req publishRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiAnswer{Error: newError(CodeBadMessage, "body is not an envelope with an event")})
		return
	}
	if err := req.check(); err != nil {
		writeJSON(w, http.StatusBadRequest, apiAnswer{Error: asError(err)})
		return
	}
	if !validName(req.Property) {
		writeJSON(w, http.StatusBadRequest, apiAnswer{Error: newError(CodeInvalidPayload, "property required")})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = req.IdempotencyKey
	}
	if len(key) > 200 {
		writeJSON(w, http.StatusBadRequest, apiAnswer{Error: newError(CodeInvalidPayload, "idempotency key over 200 bytes")})
		return
	}
	if key == "" {
		status, ans := a.apply(&req, "")
		writeJSON(w, status, ans)
		return
	}
	status, ans, replayed := a.idem.do(req.Property+"\x00"+key, func() (int, apiAnswer) { return a.apply(&req, key) })
	ans.Replayed = replayed
	writeJSON(w, status, ans)
}

// apply runs one event through the same checks and handlers as a client's.
func (a *api) apply(req *publishRequest, key string) (int, apiAnswer) {
	claims := &auth.Claims{Subject: "api", Role: auth.Service, Property: req.Property, Expires: time.Now().Add(time.Hour)}
	if _, known := eventIndex[req.Event]; !known {
		return http.StatusBadRequest, apiAnswer{Error: newError(CodeUnknownEvent, "unknown event "+req.Event)}
	}
	if !maySend(claims.Role, req.Event) {
		return http.StatusForbidden, apiAnswer{Error: newError(CodeForbidden, "role service may not send "+req.Event)}
	}
	type result struct {
		res ackPayload
		err error
	}
	done := make(chan result, 1)
	o := &origin{claims: claims, corr: req.CorrelationID, idem: key, done: func(res ackPayload, err error) { done <- result{res, err} }}
	if err := a.svc.commandFrom(o, &req.Envelope); err != nil {
		return statusOf(err), apiAnswer{Error: asError(err)}
	}
	select {
	case r := <-done:
		if r.err != nil {
			return statusOf(r.err), apiAnswer{Error: asError(r.err)}
		}
		status := http.StatusOK
		if r.res.Queued {
			status = http.StatusAccepted
		}
		return status, apiAnswer{OK: true, Event: r.res.Event, MessageID: r.res.MessageID, Data: r.res.Data, Queued: r.res.Queued}
	case <-time.After(apiTimeout):
		return http.StatusGatewayTimeout, apiAnswer{Error: newError(CodeUnavailable, "no answer in time; the event may still be applied")}
	}
}

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	switch asError(err).Code {
	case CodeBadMessage, CodeInvalidPayload, CodeUnknownEvent, CodeBadNamespace:
		return http.StatusBadRequest
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeIllegalTransition, CodeVersionConflict:
		return http.StatusConflict
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeOverloaded, CodeUnavailable, CodeNoStaff:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (a *api) rooms(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, "room board unavailable", func(ctx context.Context, p string) (any, error) {
		return a.svc.rooms.view(ctx, p)
	})
}

func (a *api) requests(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all") == "true"
	a.read(w, r, "request store unavailable", func(ctx context.Context, p string) (any, error) {
		return a.svc.reqs.list(ctx, p, all)
	})
}

func (a *api) staff(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, "", func(ctx context.Context, p string) (any, error) { return a.svc.roster(ctx, p) })
}

// read answers a GET for one property (the "property" query parameter)
// with what get returns, or 503 with unavailable when it fails.
func (a *api) read(w http.ResponseWriter, r *http.Request, unavailable string, get func(context.Context, string) (any, error)) {
	p := r.URL.Query().Get("property")
	if !validName(p) {
		writeJSON(w, http.StatusBadRequest, apiAnswer{Error: newError(CodeInvalidPayload, "property required")})
		return
	}
	ctx, cancel := a.svc.ctx()
	defer cancel()
	v, err := get(ctx, p)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, apiAnswer{Error: newError(CodeUnavailable, unavailable)})
		return
	}
	writeJSON(w, http.StatusOK, apiAnswer{OK: true, Data: v})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"ok":false}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// idempotency remembers API answers by key, so a retried call returns the
// first answer instead of applying the event twice. A call that is still
// running makes its duplicates wait for it. Bounded by count and age.
type idempotency struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	calls map[string]*idemCall
	order []string // keys, oldest first, for eviction
}

type idemCall struct {
	done   chan struct{}
	status int
	ans    apiAnswer
	at     time.Time
}

func newIdempotency(max int, ttl time.Duration) *idempotency {
	return &idempotency{max: max, ttl: ttl, calls: make(map[string]*idemCall)}
}

// do runs fn once per key within the TTL; replayed reports a remembered answer.
func (m *idempotency) do(key string, fn func() (int, apiAnswer)) (int, apiAnswer, bool) {
	m.mu.Lock()
	if c, ok := m.calls[key]; ok && time.Since(c.at) < m.ttl {
		m.mu.Unlock()
		<-c.done
		return c.status, c.ans, true
	}
	c := &idemCall{done: make(chan struct{}), at: time.Now()}
	m.calls[key] = c
	m.order = append(m.order, key)
	m.evict()
	m.mu.Unlock()
	c.status, c.ans = fn()
	if c.status >= 500 { // a failure that may pass on retry is not remembered
		m.mu.Lock()
		delete(m.calls, key)
		m.mu.Unlock()
	}
	close(c.done)
	return c.status, c.ans, false
}

// evict drops expired and excess entries, oldest first. A call still
// running keeps its waiters; only its key is forgotten. Caller holds m.mu.
func (m *idempotency) evict() {
	for len(m.order) > 0 {
		k := m.order[0]
		if c, ok := m.calls[k]; ok && len(m.order) <= m.max && time.Since(c.at) < m.ttl {
			return
		}
		delete(m.calls, k)
		m.order[0] = ""
		m.order = m.order[1:]
	}
}
