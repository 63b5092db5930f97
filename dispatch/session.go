package dispatch

import (
	"errors"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// session is one client's state. It is owned by the connection's event
// loop (stored with engine.Conn.SetData) and touched nowhere else; timers
// and workers reach it through Conn.AsyncDo.
type session struct {
	conn   *engine.Conn
	claims *auth.Claims             // nil until authenticated
	subs   map[string]*subscription // namespace -> its subscription, confirmed or being recovered
	timer  *time.Timer              // auth timeout, then token expiry
	bad    int                      // consecutive bad messages
	gen    uint64                   // last subscription generation handed out
	closed bool                     // OnClose ran
}

// errClosing reports that handling a message closed the connection: its
// answer (ERROR and close frame) is already queued, nothing more is sent.
var errClosing = errors.New("dispatch: connection closing")

// OnOpen implements engine.Handler: authenticate from the request when it
// carries a token, else give the client AuthTimeout to send AUTH.
func (s *Service) OnOpen(c *engine.Conn, req *handshake.Request) {
	ss := &session{conn: c, subs: make(map[string]*subscription)}
	c.SetData(ss)
	s.metrics.sessions.Inc()
	if tok := auth.TokenFromRequest(req.Query, req.Cookie, req.Offered); tok != "" {
		_ = s.authenticate(ss, tok, "")
		return
	}
	ss.timer = time.AfterFunc(s.cfg.AuthTimeout, func() {
		_ = c.AsyncDo(func(c *engine.Conn) {
			if ss := sessionOf(c); ss != nil && ss.claims == nil {
				s.sendError(ss, newError(CodeAuthRequired, "no AUTH within the auth timeout"), "")
				c.Close(CloseAuthRequired, "authentication timeout")
			}
		})
	})
}

func sessionOf(c *engine.Conn) *session {
	ss, _ := c.Data().(*session)
	return ss
}

// OnClose implements engine.Handler.
func (s *Service) OnClose(c *engine.Conn, _ codec.StatusCode) {
	ss := sessionOf(c)
	if ss == nil || ss.closed {
		return
	}
	ss.closed = true
	s.metrics.sessions.Dec()
	if ss.timer != nil {
		ss.timer.Stop()
	}
	for ns := range ss.subs {
		s.dropSubscription(ss, ns)
	}
	if ss.claims != nil {
		s.staff.leave(ss.claims, c)
		s.userLeft(ss.claims)
	}
}

func userKey(c *auth.Claims) string { return c.Property + "/" + c.Subject }

// userJoined counts an authenticated connection of c's subject; false when
// the subject already holds MaxConnsPerUser (a leaked token in a loop).
func (s *Service) userJoined(c *auth.Claims) bool {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	k := userKey(c)
	if s.users[k] >= s.cfg.MaxConnsPerUser {
		return false
	}
	s.users[k]++
	return true
}

func (s *Service) userLeft(c *auth.Claims) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	k := userKey(c)
	if s.users[k]--; s.users[k] <= 0 {
		delete(s.users, k)
	}
}

// OnMessage implements engine.Handler: decode the envelope once, check it
// and the sender's rights, then handle control events here and queue the
// rest for the workers.
func (s *Service) OnMessage(c *engine.Conn, op codec.OpCode, data []byte) {
	ss := sessionOf(c)
	if ss == nil || ss.closed {
		return
	}
	start := time.Now()
	var env Envelope
	if op != codec.OpText {
		s.reject(ss, newError(CodeBadMessage, "messages are JSON text frames"), "")
		return
	}
	if err := decodeEnvelope(data, &env, s.jsonLimits); err != nil {
		s.reject(ss, asError(err), "")
		return
	}
	if err := s.handle(ss, &env); err != nil {
		if !errors.Is(err, errClosing) {
			s.reject(ss, asError(err), env.CorrelationID)
		}
		return
	}
	ss.bad = 0
	s.metrics.received(env.Event, time.Since(start))
}

// handle routes one decoded envelope.
func (s *Service) handle(ss *session, env *Envelope) error {
	if env.Event == EventAuth {
		var p struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(env.Payload, &p); err != nil || p.Token == "" {
			return newError(CodeInvalidPayload, `AUTH needs {"token": "..."}`)
		}
		return s.authenticate(ss, p.Token, env.CorrelationID)
	}
	if ss.claims == nil {
		return newError(CodeAuthRequired, "send AUTH first")
	}
	if !s.cfg.Now().Before(ss.claims.Expires) {
		return newError(CodeTokenExpired, "token expired: send AUTH with a new one")
	}
	switch env.Event {
	case EventSubscribe:
		return s.subscribe(ss, env)
	case EventUnsubscribe:
		return s.unsubscribe(ss, env)
	case EventAck:
		s.metrics.acks.Inc()
		return nil
	}
	if _, known := eventIndex[env.Event]; !known {
		return newError(CodeUnknownEvent, "unknown event "+env.Event)
	}
	if !maySend(ss.claims.Role, env.Event) {
		return newError(CodeForbidden, "role "+ss.claims.Role.String()+" may not send "+env.Event)
	}
	return s.command(ss.conn, ss.claims, env)
}

// reject answers a bad message with an ERROR event and closes a client that
// sends too many in a row.
func (s *Service) reject(ss *session, e *Error, correlationID string) {
	s.sendError(ss, e, correlationID)
	ss.bad++
	if ss.bad >= s.cfg.MaxBadMessages {
		ss.conn.Violation()
		ss.conn.Close(CloseFlood, "too many bad messages")
	}
}

// errorPayload is the payload of an ERROR event.
type errorPayload struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (s *Service) sendError(ss *session, e *Error, correlationID string) {
	s.metrics.errorSent(e.Code)
	s.reply(ss.conn, EventError, "", errorPayload{Code: e.Code, Message: e.Message}, High, correlationID)
}

// reply sends one event to one connection, at its priority: a slow
// client's SUBSCRIBED (HIGH) must not fall behind the replay it announces.
// Loop only.
func (s *Service) reply(c *engine.Conn, event, namespace string, payload any, prio Priority, correlationID string) {
	b, err := encode(event, namespace, payload, prio, correlationID, "server", s.cfg.Now())
	if err != nil {
		s.log.Error("cannot encode reply", "event", event, "err", err)
		return
	}
	m := s.srv.NewMessage(codec.OpText, b)
	m.Priority = engine.Priority(prio)
	c.SendMessage(m) // takes its own reference
	m.Release()
}

// replyAsync sends one event to a connection from any goroutine.
func (s *Service) replyAsync(c *engine.Conn, event, namespace string, payload any, prio Priority, correlationID string) {
	b, err := encode(event, namespace, payload, prio, correlationID, "server", s.cfg.Now())
	if err != nil {
		s.log.Error("cannot encode reply", "event", event, "err", err)
		return
	}
	m := s.srv.NewMessage(codec.OpText, b)
	m.Priority = engine.Priority(prio)
	if err := c.AsyncSend(m); err != nil {
		m.Release()
	}
}

// authenticated is the payload of AUTHENTICATED.
type authenticated struct {
	Subject  string    `json:"sub"`
	Role     string    `json:"role"`
	Property string    `json:"property"`
	Room     string    `json:"room,omitempty"`
	Expires  time.Time `json:"expiresAt"`
}

// authenticate verifies a token (from the request or an AUTH event) and
// binds its claims to the session. A later AUTH refreshes the token; it may
// not change who the connection is. A refused first token (any refused
// token, when expired) closes the connection and returns errClosing; other
// failures return an *Error and leave it open. Loop only.
func (s *Service) authenticate(ss *session, token, correlationID string) error {
	claims, err := s.verify.Verify(token)
	if err != nil {
		s.metrics.authFailed.Inc()
		if !errors.Is(err, auth.ErrExpired) {
			ss.conn.Violation() // forged or foreign tokens are how credentials get guessed
		}
		code, closeCode := CodeAuthFailed, CloseAuthRequired
		if errors.Is(err, auth.ErrExpired) {
			code, closeCode = CodeTokenExpired, CloseTokenExpired
		}
		if ss.claims != nil && code == CodeAuthFailed {
			return newError(code, "token refused: "+err.Error())
		}
		return s.closeSession(ss, newError(code, "token refused: "+err.Error()), correlationID, closeCode)
	}
	if !validName(claims.Property) || (claims.Role == auth.Guest && !validName(claims.Room)) || !validName(claims.Subject) {
		e := newError(CodeAuthFailed, "token names an invalid property, room or subject")
		if ss.claims != nil {
			return e
		}
		return s.closeSession(ss, e, correlationID, CloseAuthRequired)
	}
	if old := ss.claims; old != nil && (old.Subject != claims.Subject || old.Property != claims.Property ||
		old.Role != claims.Role || old.Room != claims.Room) {
		return newError(CodeForbidden, "a new token must be for the same subject, role, property and room")
	}
	first := ss.claims == nil
	if first && !s.userJoined(&claims) {
		e := newError(CodeForbidden, "too many connections for "+claims.Subject)
		s.sendError(ss, e, correlationID)
		ss.conn.Close(CloseFlood, e.Message)
		return errClosing
	}
	ss.claims = &claims
	s.armExpiry(ss)
	if first {
		s.staff.join(&claims, ss.conn)
		s.metrics.authOK.Inc()
	}
	s.reply(ss.conn, EventAuthenticated, "", authenticated{
		Subject: claims.Subject, Role: claims.Role.String(), Property: claims.Property, Room: claims.Room,
		Expires: claims.Expires,
	}, High, correlationID)
	return nil
}

// closeSession sends e and closes the connection with code. Loop only.
func (s *Service) closeSession(ss *session, e *Error, correlationID string, code codec.StatusCode) error {
	s.sendError(ss, e, correlationID)
	ss.conn.Close(code, e.Message)
	return errClosing
}

// armExpiry closes the connection with 4002 when its token expires, unless
// a new AUTH arrives first. Loop only.
func (s *Service) armExpiry(ss *session) {
	if ss.timer != nil {
		ss.timer.Stop()
	}
	claims := ss.claims
	c := ss.conn
	ss.timer = time.AfterFunc(time.Until(claims.Expires), func() {
		_ = c.AsyncDo(func(c *engine.Conn) {
			// A refresh replaced the claims (and stopped this timer, unless
			// it had fired already): only the current token's expiry counts.
			if ss := sessionOf(c); ss != nil && ss.claims == claims {
				s.sendError(ss, newError(CodeTokenExpired, "token expired"), "")
				c.Close(CloseTokenExpired, "token expired")
			}
		})
	})
}
