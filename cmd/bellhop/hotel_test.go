package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/dispatch/auth"
)

const testSecret = "bellhop-test-secret-0123456789abcdef"

// frontDeskToken mints a front-desk token of property "grand", signed
// with testSecret.
func frontDeskToken(t *testing.T) string {
	t.Helper()
	return tokenFor(t, "fd-1", auth.FrontDesk, "")
}

// tokenFor mints a token of property "grand" for sub with role (room: a
// guest's room), signed with testSecret, valid for an hour.
func tokenFor(t *testing.T, sub string, role auth.Role, room string) string {
	t.Helper()
	signer, err := auth.NewSigner("dev", []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign(auth.Claims{Subject: sub, Role: role, Property: "grand", Room: room, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// apiCall sends one backend API request to the admin server at admin,
// with key (empty: none), and returns the status and body.
func apiCall(t *testing.T, admin, key, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// roomUpdate is the API body that sets room's status in property "grand".
func roomUpdate(room, status string) string {
	return `{"event":"ROOM_STATUS_UPDATE","property":"grand","payload":{"roomNumber":"` + room + `","status":"` + status + `"}}`
}

// readUntil reads frames until one contains want and returns it.
func (c *wsConn) readUntil(t *testing.T, want string) string {
	t.Helper()
	for {
		if _, msg := c.read(t); strings.Contains(string(msg), want) {
			return string(msg)
		}
	}
}

// TestHotelEndpoint starts the binary's app with a JWT secret and an API key
// and checks the wiring: the backend API seeds a room, a token in the query
// authenticates on WS_PATH, the subscriber gets the board, and the service's
// metrics are served.
func TestHotelEndpoint(t *testing.T) {
	a := startApp(t, testEnv("JWT_SECRET="+testSecret, "API_KEY=k1"))
	if code, body := apiCall(t, a.admin, "k1", "POST", "/api/v1/publish", roomUpdate("101", "DIRTY")); code != 200 {
		t.Fatalf("publish: %d %s", code, body)
	}
	if code, _ := a.get(t, "/api/v1/rooms?property=grand"); code != http.StatusUnauthorized {
		t.Fatalf("API without key: %d, want 401", code)
	}
	c := wsDial(t, a.srv.Addr().String(), "/ws?token="+frontDeskToken(t), nil)
	c.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"rooms"}`))
	for _, want := range []string{`"event":"AUTHENTICATED"`, `"roomNumber":"101"`} {
		_, msg := c.read(t)
		if !strings.Contains(string(msg), want) {
			t.Fatalf("got %s, want %s", msg, want)
		}
	}
	if _, body := a.get(t, "/metrics"); !strings.Contains(body, "bellhop_sessions 1") {
		t.Fatal("/metrics lacks the hotel service's metrics")
	}
}

// TestKeysReloadOnSIGHUP checks that reload re-reads JWT_KEYS_PATH and a
// broken key folder keeps the current keys.
func TestKeysReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k1.secret"), []byte("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, testEnv("JWT_KEYS_PATH="+dir))
	a.reload()
	if len(a.logs.records("token keys reloaded")) != 1 {
		t.Fatal("no reload log line")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.reload()
	if len(a.logs.records("token key reload failed; keeping the current keys")) != 1 {
		t.Fatal("a broken key folder was not reported")
	}
	if got := a.keys.KeyIDs(); len(got) != 1 || got[0] != "k1" {
		t.Fatalf("keys after a failed reload: %v", got)
	}
}

func TestBadKeysStopStartup(t *testing.T) {
	opts, err := loadConfig(nil, envOf(testEnv("JWT_SECRET=short")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newApp(opts, newLogger(os.Stderr, 8)); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("newApp with a short secret: %v, want an error naming JWT_SECRET", err)
	}
}

// TestJSClientFromNode runs the JavaScript client's Node example against
// this binary's app: it authenticates, subscribes, changes a room and sees
// its own change come back.
func TestJSClientFromNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	wsMod, err := filepath.Abs("../../tools/node_modules/ws/wrapper.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(wsMod); err != nil {
		t.Fatalf("Node package ws is not installed: run `make deps` (%v)", err)
	}
	a := startApp(t, testEnv("JWT_SECRET="+testSecret, "API_KEY=k1"))
	publishRoom(t, a, "101", "OCCUPIED")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "web/client/example-node.mjs")
	cmd.Env = append(os.Environ(), "BELLHOP_URL=ws://"+a.srv.Addr().String()+"/ws", "BELLHOP_TOKEN="+frontDeskToken(t),
		"WS_MODULE="+wsMod, "ROOM=101", "STATUS=DIRTY")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"who":"fd-1","rooms":1,`) || !strings.Contains(string(out), `"status":"DIRTY"`) {
		t.Fatalf("node example: %v\n%s", err, out)
	}
}
