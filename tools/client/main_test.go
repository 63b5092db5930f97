package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

const secret = "client-test-secret-0123456789abcdef"

// startHotel runs the hotel service on a loopback port and returns its URL.
func startHotel(t *testing.T) string {
	t.Helper()
	keys, err := auth.LoadKeySet(secret, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(keys, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dispatch.New(dispatch.Config{Verifier: v, Store: cluster.NewMemoryStore(), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	broker := cluster.NewMemoryBroker(cluster.MemoryConfig{}, svc.Deliver)
	srv, err := engine.New(engine.Config{Addr: "127.0.0.1:0", Loops: 1, Routes: map[string]engine.Handler{"/ws": svc}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(srv, broker)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Close()
		_ = svc.Close(t.Context())
		_ = broker.Close()
	})
	return "ws://" + srv.Addr().String() + "/ws"
}

func token(t *testing.T, role auth.Role) string {
	s, err := auth.NewSigner("dev", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(auth.Claims{Subject: "op-1", Role: role, Property: "grand", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClientSubscribesSendsAndPrints(t *testing.T) {
	url := startHotel(t)
	stdin := strings.NewReader("not json\n" +
		`{"event":"ROOM_STATUS_UPDATE","payload":{"roomNumber":"101","status":"DIRTY"},"correlationId":"c-1"}` + "\n")
	var out, errOut bytes.Buffer
	err := run([]string{"-url", url, "-token", token(t, auth.Admin), "-subscribe", "rooms", "-linger", "700ms"}, stdin, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{`"event":"AUTHENTICATED"`, `"event":"SUBSCRIBED"`, `"event":"ACK"`, `"status":"DIRTY"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "not JSON, not sent") {
		t.Errorf("a bad line was not reported: %q", errOut.String())
	}
}

func TestClientReportsRefusedToken(t *testing.T) {
	url := startHotel(t)
	var out, errOut bytes.Buffer
	err := run([]string{"-url", url, "-token", "garbage"}, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "4001") {
		t.Fatalf("run with a bad token: %v, want a 4001 close", err)
	}
}

func TestClientBadURL(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-url", "ws://127.0.0.1:1/ws"}, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("connecting to a closed port succeeded")
	}
	if err := run([]string{"-bogus"}, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}
