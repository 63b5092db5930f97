package dispatch

import (
	"errors"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// session is one client's state. It is owned by the connection's event
// loop (stored with engine.Conn.SetData) and touched nowhere else; timers
// and workers reach it through Conn.AsyncDo.
type session struct {
	conn     *engine.Conn
	claims   *auth.Claims      // nil until authenticated
	subs     map[string]string // namespace -> channel, subscribed or being subscribed
	timer    *time.Timer       // auth timeout, then token expiry
	bad      int               // consecutive bad messages
	closed   bool              // OnClose ran
	subCount int               // subscriptions confirmed, for presence
}

// OnOpen implements engine.Handler: authenticate from the request when it
// carries a token, else give the client AuthTimeout to send AUTH.
func (s *Service) OnOpen(c *engine.Conn, req *handshake.Request) {
	ss := &session{conn: c, subs: make(map[string]string)}
	c.SetData(ss)
	s.metrics.sessions.Inc()
	if tok := auth.TokenFromRequest(req.Query, req.Cookie, req.Offered); tok != "" {
		if err := s.authenticate(ss, tok, ""); err != nil {
			return
		}
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
	for _, ch := range ss.subs {
		s.unsubscribeBroker(ch)
	}
	if ss.claims != nil {
		s.staff.leave(ss.claims, c)
	}
}

// OnMessage implements engine.Handler: decode the envelope once, check it
// and the sender's rights, then handle control events here and queue the
// rest for the workers.
func (s *Service) OnMessage(c *engine.Conn, op codec.OpCode, data []byte) {
	ss := sessionOf(c)
	if ss == nil {
		return
	}
	start := time.Now()
	var env Envelope
	if op != codec.OpText {
		s.reject(ss, newError(CodeBadMessage, "messages are JSON text frames"), "")
		return
	}
	if err := decodeEnvelope(data, &env); err != nil {
		s.reject(ss, asError(err), "")
		return
	}
	if err := s.handle(ss, &env); err != nil {
		s.reject(ss, asError(err), env.CorrelationID)
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
	if s.cfg.Now().After(ss.claims.Expires) {
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

// reply sends one event to one connection. Loop only.
func (s *Service) reply(c *engine.Conn, event, namespace string, payload any, prio Priority, correlationID string) {
	b, err := encode(event, namespace, payload, prio, correlationID, "server", s.cfg.Now())
	if err != nil {
		s.log.Error("cannot encode reply", "event", event, "err", err)
		return
	}
	c.Send(codec.OpText, b)
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
// not change who the connection is. Loop only.
func (s *Service) authenticate(ss *session, token, correlationID string) error {
	claims, err := s.verify.Verify(token)
	if err != nil {
		s.metrics.authFailed.Inc()
		code, closeCode := CodeAuthFailed, CloseAuthRequired
		if errors.Is(err, auth.ErrExpired) {
			code, closeCode = CodeTokenExpired, CloseTokenExpired
		}
		if ss.claims != nil && code == CodeAuthFailed {
			return newError(code, "token refused: "+err.Error())
		}
		s.sendError(ss, newError(code, "token refused: "+err.Error()), correlationID)
		ss.conn.Close(closeCode, "authentication failed")
		return err
	}
	if !validName(claims.Property) || (claims.Role == auth.Guest && !validName(claims.Room)) || !validName(claims.Subject) {
		s.sendError(ss, newError(CodeAuthFailed, "token names an invalid property, room or subject"), correlationID)
		ss.conn.Close(CloseAuthRequired, "authentication failed")
		return errors.New("dispatch: invalid names in token")
	}
	if old := ss.claims; old != nil && (old.Subject != claims.Subject || old.Property != claims.Property || old.Role != claims.Role) {
		return newError(CodeForbidden, "a new token must be for the same subject, role and property")
	}
	first := ss.claims == nil
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

// armExpiry closes the connection with 4002 when its token expires, unless
// a new AUTH arrives first. Loop only.
func (s *Service) armExpiry(ss *session) {
	if ss.timer != nil {
		ss.timer.Stop()
	}
	exp := ss.claims.Expires
	c := ss.conn
	ss.timer = time.AfterFunc(time.Until(exp), func() {
		_ = c.AsyncDo(func(c *engine.Conn) {
			if ss := sessionOf(c); ss != nil && ss.claims != nil && !s.cfg.Now().Before(ss.claims.Expires) {
				s.sendError(ss, newError(CodeTokenExpired, "token expired"), "")
				c.Close(CloseTokenExpired, "token expired")
			}
		})
	})
}

// subscribePayload is the payload of SUBSCRIBE.
type subscribePayload struct {
	Since string `json:"since"`
}

// subscribed is the payload of SUBSCRIBED.
type subscribed struct {
	Namespace string `json:"namespace"`
	Channel   string `json:"channel"`
	// Recovered tells a client that sent since whether it got exactly
	// what it missed; false means reload from the snapshot (or the ERP).
	Recovered bool `json:"recovered"`
	// Position is the messageId the snapshot and replay are consistent with.
	Position string     `json:"position,omitempty"`
	Missed   int        `json:"missed"`
	Snapshot *roomsView `json:"snapshot,omitempty"`
}

// subscribe checks the right to a namespace, then, on a worker, joins the
// broker channel and replays what the client missed. Loop only.
func (s *Service) subscribe(ss *session, env *Envelope) error {
	ch := channelFor(ss.claims, env.Namespace)
	if _, known := nsIndex[env.Namespace]; !known {
		return newError(CodeBadNamespace, "unknown namespace "+env.Namespace)
	}
	if ch == "" {
		return newError(CodeForbidden, "role "+ss.claims.Role.String()+" may not subscribe to "+env.Namespace)
	}
	var p subscribePayload
	if len(env.Payload) > 0 {
		if err := json.Unmarshal(env.Payload, &p); err != nil {
			return newError(CodeInvalidPayload, "SUBSCRIBE payload: "+err.Error())
		}
	}
	var since cluster.Position
	if p.Since != "" {
		pos, err := cluster.ParsePosition(p.Since)
		if err != nil {
			return newError(CodeInvalidPayload, "since is not a messageId")
		}
		since = pos
	}
	if _, dup := ss.subs[env.Namespace]; dup {
		ss.conn.Unsubscribe(ch) // re-subscribing: the replay below restarts delivery
	} else {
		ss.subs[env.Namespace] = ch
		s.subscribeBroker(ch)
	}
	c, ns, corr, claims := ss.conn, env.Namespace, env.CorrelationID, ss.claims
	return s.submit(shardKey(ch), High, func() { s.recoverInto(c, claims, ns, ch, since, corr) })
}

// recoverInto runs on a worker: it reads the history after since and the
// snapshot while the channel's deliveries are held, then has the loop send
// SUBSCRIBED, the missed messages and join the topic after them.
func (s *Service) recoverInto(c *engine.Conn, claims *auth.Claims, ns, ch string, since cluster.Position, corr string) {
	ctx, cancel := s.ctx()
	defer cancel()
	err := s.broker.Recover(ctx, ch, since, s.cfg.RecoveryLimit, func(res cluster.HistoryResult) {
		reply := subscribed{Namespace: ns, Channel: ch, Recovered: res.Recovered && !since.IsZero(), Missed: len(res.Publications)}
		if res.Top.Offset > 0 {
			reply.Position = res.Top.String()
		}
		if ns == NSRooms && !reply.Recovered {
			view, err := s.rooms.view(ctx, claims.Property)
			if err != nil {
				s.log.Error("cannot read the room board", "property", claims.Property, "err", err)
			} else {
				reply.Snapshot = &view
			}
		}
		missed := make([]*engine.Message, 0, len(res.Publications))
		for _, pub := range res.Publications {
			if m, ok := s.message(pub); ok {
				missed = append(missed, m)
			}
		}
		if res.Recovered || since.IsZero() {
			s.metrics.recovered.Inc()
		} else {
			s.metrics.notRecovered.Inc()
		}
		top := res.Top.Offset
		if err := c.AsyncDo(func(c *engine.Conn) {
			defer releaseAll(missed)
			ss := sessionOf(c)
			if ss == nil || ss.subs[ns] != ch {
				return // unsubscribed or closed meanwhile
			}
			s.reply(c, EventSubscribed, ns, reply, High, corr)
			for _, m := range missed {
				c.SendMessage(m)
			}
			c.SubscribeAfter(ch, top)
		}); err != nil {
			releaseAll(missed)
		}
	})
	if err != nil {
		s.log.Error("recovery failed", "channel", ch, "err", err)
		s.replyAsync(c, EventError, ns, errorPayload{Code: CodeUnavailable, Message: "subscription failed, retry"}, High, corr)
	}
}

func releaseAll(ms []*engine.Message) {
	for _, m := range ms {
		m.Release()
	}
}

// unsubscribe leaves a namespace. Loop only.
func (s *Service) unsubscribe(ss *session, env *Envelope) error {
	ch, ok := ss.subs[env.Namespace]
	if !ok {
		return newError(CodeBadNamespace, "not subscribed to "+env.Namespace)
	}
	delete(ss.subs, env.Namespace)
	ss.conn.Unsubscribe(ch)
	s.unsubscribeBroker(ch)
	s.reply(ss.conn, EventUnsubscribed, env.Namespace, struct{}{}, High, env.CorrelationID)
	return nil
}

// subscribeBroker and unsubscribeBroker keep this node's broker
// subscriptions counted, on the channel's worker so they stay in order.
func (s *Service) subscribeBroker(ch string) {
	_ = s.submit(shardKey(ch), High, func() {
		ctx, cancel := s.ctx()
		defer cancel()
		if err := s.broker.Subscribe(ctx, ch); err != nil {
			s.log.Error("broker subscribe failed", "channel", ch, "err", err)
		}
	})
}

func (s *Service) unsubscribeBroker(ch string) {
	_ = s.submit(shardKey(ch), High, func() {
		ctx, cancel := s.ctx()
		defer cancel()
		if err := s.broker.Unsubscribe(ctx, ch); err != nil {
			s.log.Error("broker unsubscribe failed", "channel", ch, "err", err)
		}
	})
}
