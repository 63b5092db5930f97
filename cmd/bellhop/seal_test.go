package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bellhop/bellhop/cluster/redistest"
	"github.com/bellhop/bellhop/codec"
)

func sealKey(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// TestEncryptionAtRest: with a key file, what Redis keeps (the guests
// channel's history, the room board) holds no guest name and no status in
// plain text, while clients get plain messages. The key rotates on SIGHUP
// without a restart: history sealed with the old key still replays.
func TestEncryptionAtRest(t *testing.T) {
	srv := redistest.Start(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte("k1 "+sealKey(1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, testEnv("JWT_SECRET="+testSecret, "API_KEY=k1", "REDIS_HOST="+host, "REDIS_PORT="+port,
		"ENCRYPTION_KEYS_PATH="+keyFile))
	if logs := a.logs.buf.String(); strings.Contains(logs, sealKey(1)) {
		t.Fatal("a key reached the log")
	}
	desk := wsDial(t, a.srv.Addr().String(), "/ws?token="+frontDeskToken(t), nil)
	desk.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"guests","correlationId":"sub"}`))
	desk.readUntil(t, `"correlationId":"sub"`)
	checkin := func(name string) string {
		code, body := apiCall(t, a.admin, "k1", "POST", "/api/v1/publish",
			`{"event":"GUEST_CHECKIN","property":"grand","payload":{"roomNumber":"101","guestName":"`+name+`"}}`)
		if code != http.StatusOK {
			t.Fatalf("check-in: %d %s", code, body)
		}
		return messageIDIn(t, desk.readUntil(t, name))
	}
	first := checkin("Ada Lovelace")
	publishRoom(t, a, "101", "OUT_OF_ORDER")
	for _, args := range [][]string{
		{"xrange", "bellhop:{grand:guests}:stream", "-", "+"},
		{"hgetall", "bellhop:{t:rooms:grand}"},
	} {
		raw, err := srv.Do(args...)
		if err != nil {
			t.Fatal(err)
		}
		if raw == "" || strings.Contains(raw, "Lovelace") || strings.Contains(raw, "OUT_OF_ORDER") {
			t.Fatalf("%v holds plain text: %q", args, raw)
		}
	}

	if err := os.WriteFile(keyFile, []byte("k2 "+sealKey(2)+"\nk1 "+sealKey(1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.reload()
	if recs := a.logs.records("encryption keys reloaded"); len(recs) != 1 || recs[0]["active_key"] != "k2" {
		t.Fatalf("reload log: %v", recs)
	}
	checkin("Grace Hopper")
	back := wsDial(t, a.srv.Addr().String(), "/ws?token="+frontDeskToken(t), nil)
	back.send(t, codec.OpText, []byte(`{"event":"SUBSCRIBE","namespace":"guests","correlationId":"sub","payload":{"since":"`+first+`"}}`))
	if sub := back.readUntil(t, `"correlationId":"sub"`); !strings.Contains(sub, `"recovered":true`) || !strings.Contains(sub, `"missed":1`) {
		t.Fatalf("resume across the rotation: %s", sub)
	}
	back.readUntil(t, "Grace Hopper")
	code, body := apiCall(t, a.admin, "k1", "GET", "/api/v1/rooms?property=grand", "")
	if code != http.StatusOK || !strings.Contains(body, "OUT_OF_ORDER") {
		t.Fatalf("board after the rotation: %d %s", code, body)
	}
}

// TestEncryptionKeyErrors: a wrong or missing key stops start-up with an
// error naming the setting, and never the key.
func TestEncryptionKeyErrors(t *testing.T) {
	for _, tc := range []struct{ name, env string }{
		{"missing_file", "ENCRYPTION_KEYS_PATH=" + filepath.Join(t.TempDir(), "none")},
		{"short_key", "ENCRYPTION_KEY=k1 " + base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))},
		{"no_id", "ENCRYPTION_KEY=" + sealKey(3)},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			opts, err := loadConfig(nil, envOf(testEnv("JWT_SECRET="+testSecret, tc.env)), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			_, err = newApp(opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil || !strings.Contains(err.Error(), "ENCRYPTION_KEY") || strings.Contains(err.Error(), sealKey(3)) {
				t.Fatalf("newApp: %v", err)
			}
		})
	}
}
