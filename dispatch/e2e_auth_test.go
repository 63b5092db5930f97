package dispatch_test

import (
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// wrongKeySigner signs with a secret the server does not know, under the
// server's key id.
func wrongKeySigner(t testing.TB) *auth.Signer {
	t.Helper()
	s, err := auth.NewSigner(auth.SecretKeyID, []byte("another-secret-of-at-least-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenRefused presents valid, wrong-key and expired tokens in each of
// the ways a client can: query, AUTH event, bearer subprotocol and cookie.
func TestTokenRefused(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	claims := staff("fd-1", auth.FrontDesk)
	expired := claims
	expired.Expires = time.Now().Add(-time.Minute)
	wrongKey, err := wrongKeySigner(t).Sign(auth.Claims{Subject: "fd-1", Role: auth.FrontDesk, Property: testProperty,
		Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	otherKid, err := func() (string, error) {
		s, err := auth.NewSigner("other", []byte(testSecret))
		if err != nil {
			return "", err
		}
		return s.Sign(auth.Claims{Subject: "fd-1", Role: auth.FrontDesk, Property: testProperty, Expires: time.Now().Add(time.Hour)})
	}()
	if err != nil {
		t.Fatal(err)
	}
	tokens := []struct {
		name  string
		token string
		code  dispatch.Code // ERROR code, "" for accepted
		close ws.StatusCode // close code when refused
	}{
		{"valid", h.token(claims), "", 0},
		{"wrong_key", wrongKey, dispatch.CodeAuthFailed, ws.StatusCode(dispatch.CloseAuthRequired)},
		{"unknown_kid", otherKid, dispatch.CodeAuthFailed, ws.StatusCode(dispatch.CloseAuthRequired)},
		{"garbage", "not.a.token", dispatch.CodeAuthFailed, ws.StatusCode(dispatch.CloseAuthRequired)},
		{"expired", h.token(expired), dispatch.CodeTokenExpired, ws.StatusCode(dispatch.CloseTokenExpired)},
	}
	ways := []struct {
		name string
		dial func(h *harness, tok string) *client
	}{
		{"query", func(h *harness, tok string) *client { return h.dial(dialOptions{query: "token=" + tok}) }},
		{"subprotocol", func(h *harness, tok string) *client {
			return h.dial(dialOptions{protocols: []string{"bellhop.v1", auth.BearerProtocolPrefix + tok}})
		}},
		{"cookie", func(h *harness, tok string) *client { return h.dial(dialOptions{cookie: auth.CookieName + "=" + tok}) }},
		{"auth_event", func(h *harness, tok string) *client {
			c := h.dial(dialOptions{})
			c.sendEnv(map[string]any{"event": dispatch.EventAuth, "payload": map[string]string{"token": tok}, "correlationId": "auth-1"})
			return c
		}},
	}
	for _, way := range ways {
		for _, tok := range tokens {
			t.Run("via="+way.name+"/token="+tok.name, func(t *testing.T) {
				t.Parallel()
				c := way.dial(h.sub(t), tok.token)
				e := c.next(waitTimeout)
				if way.name == "auth_event" && e.CorrelationID != "auth-1" {
					t.Fatalf("answer %s lacks the AUTH's correlationId", e)
				}
				if tok.code == "" {
					var a struct {
						Sub, Role, Property string
						ExpiresAt           time.Time
					}
					e.decode(t, &a)
					if e.Event != dispatch.EventAuthenticated || a.Sub != "fd-1" || a.Role != "front_desk" || a.Property != testProperty {
						t.Fatalf("got %s, want AUTHENTICATED as fd-1", e)
					}
					c.subscribe(dispatch.NSRooms, "") // and the session works
					return
				}
				expectError(t, e, tok.code)
				c.expectClose(tok.close)
			})
		}
	}
}

// TestAuthTimeout checks that a client without a token is told to send AUTH
// and closed with 4001 after AuthTimeout; until then it stays open.
func TestAuthTimeout(t *testing.T) {
	t.Parallel()
	timeout := 300 * time.Millisecond
	h := start(t, options{dispatch: dispatch.Config{AuthTimeout: timeout}})
	began := time.Now()
	c := h.dial(dialOptions{})
	corr := c.send(dispatch.EventSubscribe, dispatch.NSRooms, nil)
	expectError(t, c.await(hasCorr(corr)), dispatch.CodeAuthRequired)
	e := c.next(waitTimeout)
	expectError(t, e, dispatch.CodeAuthRequired)
	c.expectClose(ws.StatusCode(dispatch.CloseAuthRequired))
	if d := time.Since(began); d < timeout {
		t.Fatalf("closed after %v, before the auth timeout %v", d, timeout)
	}

	// An AUTH in time stops the clock.
	ok := h.dial(dialOptions{})
	ok.sendEnv(map[string]any{"event": dispatch.EventAuth, "payload": map[string]string{"token": h.token(staff("fd-1", auth.FrontDesk))}})
	ok.await(isEvent(dispatch.EventAuthenticated))
	deadline := time.Now().Add(2 * timeout)
	for time.Now().Before(deadline) {
		ok.subscribe(dispatch.NSSystem, "") // round trips until well past the auth timeout
		time.Sleep(20 * time.Millisecond)   // pacing only: each round trip is the check
	}
	if ok.closed() != 0 {
		t.Fatalf("authenticated client closed with %d", ok.closed())
	}
	// A bad AUTH payload is an ordinary bad message.
	bad := h.dial(dialOptions{})
	expectError(t, bad.call(dispatch.EventAuth, "", map[string]int{"token": 1}), dispatch.CodeInvalidPayload)
	expectError(t, bad.call(dispatch.EventAuth, "", nil), dispatch.CodeInvalidPayload)
}

// TestTokenExpiryOnLiveConnection checks that a connection is closed with
// 4002 when its token expires, unless a new AUTH refreshed it first.
func TestTokenExpiryOnLiveConnection(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	// shortLived returns claims that expire at a second boundary (token
	// times are whole seconds) 1.5 to 2.5 s away.
	shortLived := func() auth.Claims {
		c := staff("fd-1", auth.FrontDesk)
		c.Expires = time.Now().Add(2500 * time.Millisecond).Truncate(time.Second)
		return c
	}

	t.Run("expires", func(t *testing.T) {
		t.Parallel()
		short := shortLived()
		exp := short.Expires
		c := h.sub(t).connect(short)
		c.subscribe(dispatch.NSRooms, "")
		e := c.await(isEvent(dispatch.EventError))
		expectError(t, e, dispatch.CodeTokenExpired)
		c.expectClose(ws.StatusCode(dispatch.CloseTokenExpired))
		if time.Now().Before(exp) {
			t.Fatalf("closed before the token's expiry %v", exp)
		}
	})
	t.Run("refreshed", func(t *testing.T) {
		t.Parallel()
		h := h.sub(t)
		short := shortLived()
		exp := short.Expires
		c := h.connect(short)
		long := staff("fd-1", auth.FrontDesk)
		long.Expires = time.Now().Add(time.Hour)
		if e := c.call(dispatch.EventAuth, "", map[string]string{"token": h.token(long)}); e.Event != dispatch.EventAuthenticated {
			t.Fatalf("refresh answered %s", e)
		}
		other := staff("fd-2", auth.FrontDesk)
		expectError(t, c.call(dispatch.EventAuth, "", map[string]string{"token": h.token(other)}), dispatch.CodeForbidden)
		expectError(t, c.call(dispatch.EventAuth, "", map[string]string{"token": "bad"}), dispatch.CodeAuthFailed)
		for time.Now().Before(exp.Add(500 * time.Millisecond)) {
			c.subscribe(dispatch.NSSystem, "") // round trips until past the first token's expiry
			time.Sleep(20 * time.Millisecond)  // pacing only: each round trip is the check
		}
		if c.closed() != 0 {
			t.Fatalf("refreshed connection closed with %d", c.closed())
		}
	})
}
