package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/tools/certgen"
)

// Tests of the binary's wiring: the app (engine plus admin server) started
// in-process on ephemeral loopback ports, certificate reload, and the built
// binary driven by signals.

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition still false after %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logBuffer collects JSON log lines; safe for the concurrent writes of the
// app's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log lines whose "msg" is msg, decoded.
func (b *logBuffer) records(msg string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return jsonRecords(b.buf.String(), msg)
}

// jsonRecords decodes the JSON lines of out whose message ("message" from
// the binary, "msg" from a test logger) is msg.
func jsonRecords(out, msg string) []map[string]any {
	var recs []map[string]any
	for line := range strings.SplitSeq(out, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && (rec["msg"] == msg || rec["message"] == msg) {
			recs = append(recs, rec)
		}
	}
	return recs
}

// testEnv is the environment of an app on ephemeral loopback ports with an
// echo endpoint, plus extra (KEY=value pairs).
func testEnv(extra ...string) map[string]string {
	env := map[string]string{
		"WS_HOST": "127.0.0.1", "WS_PORT": "0", "METRICS_HOST": "127.0.0.1", "METRICS_PORT": "0",
		"ECHO_PATH": "/echo", "EVENT_LOOPS": "1", "SHUTDOWN_TIMEOUT": "5s", "LOG_LEVEL": "debug",
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// testApp is an app started in-process and the address of its admin server.
type testApp struct {
	*app
	logs  *logBuffer
	admin string // host:port of /metrics, /healthz, /readyz; "" when disabled
}

// startApp builds and starts an app from env and shuts it down when the test
// ends (unless the test did).
func startApp(t *testing.T, env map[string]string) *testApp {
	t.Helper()
	opts, err := loadConfig(nil, envOf(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	a, err := newApp(opts, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if len(logs.records("stopped")) == 0 {
			_ = a.shutdown()
		}
	})
	ta := &testApp{app: a, logs: logs}
	if recs := logs.records("admin listening"); len(recs) == 1 {
		ta.admin, _ = recs[0]["addr"].(string)
	}
	return ta
}

// get fetches an admin path and returns the status and body.
func (a *testApp) get(t testing.TB, path string) (int, string) {
	t.Helper()
	return httpGet(t, "http://"+a.admin+path)
}

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// wsConn is a minimal WebSocket client: enough to upgrade, read server
// frames and answer a close.
type wsConn struct {
	net.Conn
	r *bufio.Reader
}

// wsDial upgrades on path at addr, over TLS when cfg is not nil.
func wsDial(t testing.TB, addr, path string, cfg *tls.Config) *wsConn {
	t.Helper()
	var conn net.Conn
	var err error
	if cfg != nil {
		conn, err = tls.Dial("tcp", addr, cfg)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	c, status := upgrade(t, conn, path)
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade on %s: status %d", path, status)
	}
	return c
}

// upgrade sends an upgrade request for path with extra header lines on
// conn (closed when the test ends) and returns the connection, positioned
// after the response head, and the status (0: no answer).
func upgrade(t testing.TB, conn net.Conn, path string, extra ...string) (*wsConn, int) {
	t.Helper()
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, strings.Join(append(extra, ""), "\r\n"))
	c := &wsConn{Conn: conn, r: bufio.NewReader(conn)}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return c, 0
	}
	return c, resp.StatusCode
}

// send writes one masked frame.
func (c *wsConn) send(t testing.TB, op codec.OpCode, payload []byte) {
	t.Helper()
	frame := codec.AppendClientFrame(nil, codec.Header{Fin: true, OpCode: op, Mask: [4]byte{7, 7, 7, 7}}, payload)
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
}

// read returns the next frame's opcode and payload.
func (c *wsConn) read(t testing.TB) (codec.OpCode, []byte) {
	t.Helper()
	op, p, err := c.frame()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return op, p
}

// frame reads the next frame; safe off the test's goroutine.
func (c *wsConn) frame() (codec.OpCode, []byte, error) {
	hdr := make([]byte, 2, codec.MaxHeaderSize)
	if _, err := io.ReadFull(c.r, hdr); err != nil {
		return 0, nil, err
	}
	switch hdr[1] & 0x7f {
	case 126:
		hdr = hdr[:4]
	case 127:
		hdr = hdr[:10]
	}
	if _, err := io.ReadFull(c.r, hdr[2:]); err != nil {
		return 0, nil, err
	}
	h, _, err := codec.ParseHeader(hdr)
	if err != nil {
		return 0, nil, err
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.r, p); err != nil {
		return 0, nil, err
	}
	return h.OpCode, p, nil
}

// echoes checks one round trip on the echo endpoint.
func (c *wsConn) echoes(t testing.TB, text string) {
	t.Helper()
	c.send(t, codec.OpText, []byte(text))
	if op, p := c.read(t); op != codec.OpText || string(p) != text {
		t.Fatalf("echo: op %d %q, want %q", op, p, text)
	}
}

func TestAppAdminEndpoints(t *testing.T) {
	a := startApp(t, testEnv())
	if a.admin == "" {
		t.Fatal(`no "admin listening" log line with the address`)
	}
	if code, body := a.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := a.get(t, "/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	c := wsDial(t, a.srv.Addr().String(), "/echo", nil)
	c.echoes(t, "hello")
	code, body := a.get(t, "/metrics")
	for _, want := range []string{"bellhop_connections_active 1", "bellhop_handshakes_total 1", "go_goroutines"} {
		if code != 200 || !strings.Contains(body, want+"\n") && !strings.Contains(body, want+" ") {
			t.Fatalf("/metrics (%d) lacks %q:\n%s", code, want, body)
		}
	}
	if code, _ := a.get(t, "/debug/pprof/"); code != http.StatusNotFound {
		t.Fatalf("/debug/pprof/ without ENABLE_PPROF: %d, want 404", code)
	}
	if code, _ := a.get(t, "/metrics"); code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	if recs := a.logs.records("listening"); len(recs) != 1 || recs[0]["scheme"] != "ws" || recs[0]["echo_path"] != "/echo" {
		t.Fatalf(`"listening" log: %v`, recs)
	}
}

func TestAppPprof(t *testing.T) {
	a := startApp(t, testEnv("ENABLE_PPROF=true"))
	if code, body := a.get(t, "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d", code)
	}
}

func TestAppMetricsDisabled(t *testing.T) {
	a := startApp(t, testEnv("ENABLE_METRICS=false"))
	if a.admin != "" || a.app.admin != nil {
		t.Fatalf("admin server started with ENABLE_METRICS=false at %q", a.admin)
	}
	c := wsDial(t, a.srv.Addr().String(), "/echo", nil)
	c.echoes(t, "served anyway")
	_ = c.Close()
	waitFor(t, 5*time.Second, func() bool { return a.srv.Connections() == 0 })
	if err := a.shutdown(); err != nil {
		t.Fatal(err)
	}
}

func TestAppReadyzDraining(t *testing.T) {
	a := startApp(t, testEnv("SHUTDOWN_TIMEOUT=30s"))
	c := wsDial(t, a.srv.Addr().String(), "/echo", nil)
	done := make(chan error, 1)
	go func() { done <- a.shutdown() }()
	if op, p := c.read(t); op != codec.OpClose || len(p) < 2 || codec.StatusCode(int(p[0])<<8|int(p[1])) != codec.CloseGoingAway {
		t.Fatalf("want close 1001, got op %d %q", op, p)
	}
	// The client has not answered: the server drains, the admin server
	// still runs and says so.
	if code, body := a.get(t, "/readyz"); code != http.StatusServiceUnavailable || body != "draining\n" {
		t.Fatalf("/readyz while draining: %d %q", code, body)
	}
	if code, _ := a.get(t, "/healthz"); code != 200 {
		t.Fatalf("/healthz while draining: %d", code)
	}
	c.send(t, codec.OpClose, codec.AppendClosePayload(nil, codec.CloseGoingAway, ""))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not return after the client answered")
	}
	if recs := a.logs.records("stopped"); len(recs) != 1 {
		t.Fatalf(`"stopped" log lines: %v`, recs)
	}
	if _, err := net.DialTimeout("tcp", a.admin, time.Second); err == nil {
		t.Fatal("admin server still listening after shutdown")
	}
}

func TestNewAppErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no_route", testEnv("ECHO_PATH="), "nothing to serve"},
		{"missing_cert", testEnv("SSL_ENABLED=true", "SSL_CERT_PATH="+filepath.Join(dir, "none.pem"), "SSL_KEY_PATH="+filepath.Join(dir, "none.key")), "SSL_CERT_PATH"},
		{"bad_cert", testEnv("SSL_ENABLED=true", "SSL_CERT_PATH="+garbage, "SSL_KEY_PATH="+garbage), "SSL_CERT_PATH"},
		{"bad_origin", testEnv("ALLOWED_ORIGINS=not an origin"), "origin"},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			opts, err := loadConfig(nil, envOf(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newApp(opts, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
				t.Fatalf("newApp: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestAppStartAdminPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	opts, err := loadConfig(nil, envOf(testEnv("METRICS_PORT="+port)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.start(); err == nil || !strings.Contains(err.Error(), "METRICS_PORT") {
		t.Fatalf("start with the admin port taken: %v, want an error naming METRICS_PORT", err)
	}
	// The WebSocket server started first and was stopped again.
	if _, err := net.DialTimeout("tcp", a.srv.Addr().String(), time.Second); err == nil {
		t.Fatal("WebSocket server still listening after a failed start")
	}
}

// writeCert writes a new self-signed certificate for localhost to certFile
// and keyFile and returns its serial number.
func writeCert(t *testing.T, certFile, keyFile string) (*big.Int, []byte) {
	t.Helper()
	certPEM, keyPEM, err := certgen.Generate([]string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(os.WriteFile(certFile, certPEM, 0o600), os.WriteFile(keyFile, keyPEM, 0o600)); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber, certPEM
}

// servedSerial makes a TLS handshake with addr and returns the serial of the
// certificate it presents, which must chain to one in roots.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func TestAppReloadCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, firstPEM := writeCert(t, certFile, keyFile)
	a := startApp(t, testEnv("SSL_ENABLED=true", "SSL_CERT_PATH="+certFile, "SSL_KEY_PATH="+keyFile))
	addr := a.srv.Addr().String()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(firstPEM)
	if got := servedSerial(t, addr, roots); got.Cmp(first) != 0 {
		t.Fatalf("serving serial %v, want %v", got, first)
	}
	old := wsDial(t, addr, "/echo", &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS13})

	second, secondPEM := writeCert(t, certFile, keyFile)
	roots.AppendCertsFromPEM(secondPEM)
	a.reload()
	if got := servedSerial(t, addr, roots); got.Cmp(second) != 0 || a.certs.Leaf().SerialNumber.Cmp(second) != 0 {
		t.Fatalf("after reload: serving serial %v, Leaf %v, want %v", got, a.certs.Leaf().SerialNumber, second)
	}
	if len(a.logs.records("certificate reloaded")) != 1 {
		t.Fatal(`no "certificate reloaded" log line`)
	}
	old.echoes(t, "connection opened before the reload is still up")

	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ngarbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.reload()
	if got := servedSerial(t, addr, roots); got.Cmp(second) != 0 {
		t.Fatalf("after a failed reload: serving serial %v, want the previous %v", got, second)
	}
	if len(a.logs.records("certificate reload failed; keeping the current one")) != 1 {
		t.Fatal("no log line for the failed reload")
	}
}

func TestAppReloadWithoutTLS(t *testing.T) {
	a := startApp(t, testEnv())
	a.reload()
	if len(a.logs.records("SIGHUP: nothing to reload")) != 1 {
		t.Fatal("reload without TLS did not say there is nothing to reload")
	}
}

// freePort returns a loopback port that was free a moment ago: the binary
// is given fixed ports because port 0 would hide the one it chose.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// buildBinary compiles this command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bellhop")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	t.Run("case=sigterm", func(t *testing.T) { testBinarySignals(t, bin) })
	t.Run("case=bad_config", func(t *testing.T) {
		out, err := runBinary(t, bin, []string{"WS_PORT=abc"})
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "bellhop: invalid environment variable WS_PORT") {
			t.Fatalf("exit %v, output %q", err, out)
		}
	})
	t.Run("case=help", func(t *testing.T) {
		out, err := runBinary(t, bin, nil, "-h")
		if err != nil || !strings.Contains(out, "env WS_PORT") {
			t.Fatalf("-h: %v, output %q", err, out)
		}
	})
}

// runBinary runs bin to completion with env added and returns its output.
func runBinary(t *testing.T, bin string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// testBinarySignals runs the binary, checks it serves, reloads on SIGHUP,
// and exits 0 with a "stopped" log line on SIGTERM.
func testBinarySignals(t *testing.T, bin string) {
	wsPort, adminPort := freePort(t), freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ECHO_PATH=/echo", "WS_HOST=127.0.0.1", "WS_PORT="+wsPort,
		"METRICS_HOST=127.0.0.1", "METRICS_PORT="+adminPort, "EVENT_LOOPS=1")
	var stderr logBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	waitFor(t, 10*time.Second, func() bool {
		c := &http.Client{Timeout: time.Second}
		resp, err := c.Get("http://127.0.0.1:" + adminPort + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	c := wsDial(t, "127.0.0.1:"+wsPort, "/echo", nil)
	c.echoes(t, "from the binary")
	_ = c.Close()

	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return len(stderr.records("SIGHUP: nothing to reload")) == 1 })
	if code, _ := httpGet(t, "http://127.0.0.1:"+adminPort+"/readyz"); code != 200 {
		t.Fatalf("/readyz after SIGHUP: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, stderr.buf.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("binary still running 20s after SIGTERM")
	}
	stopped := stderr.records("stopped")
	if len(stopped) != 1 || stopped[0]["err"] != nil {
		t.Fatalf(`want one "stopped" log line without err, log:\n%s`, stderr.buf.String())
	}
	if down := stderr.records("shutting down"); len(down) != 1 || down[0]["signal"] != "terminated" {
		t.Fatalf(`"shutting down" log lines: %v`, down)
	}
}

func TestLoggerSpecFormat(t *testing.T) {
	var b strings.Builder
	log := newLogger(&b, slog.LevelInfo)
	log.Info("room status updated", "event", "room_status_update", "correlationId", "c-1",
		"metadata", map[string]any{"roomNumber": "101", "newStatus": "CLEANED", "priority": "HIGH"})
	log.Debug("hidden")
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(b.String())), &rec); err != nil {
		t.Fatalf("not one JSON line: %q", b.String())
	}
	for _, k := range []string{"timestamp", "level", "message", "event", "correlationId", "metadata"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("missing %q in %v", k, rec)
		}
	}
	if rec["level"] != "info" || rec["message"] != "room status updated" {
		t.Fatalf("level %v message %v", rec["level"], rec["message"])
	}
	if _, err := time.Parse(time.RFC3339Nano, rec["timestamp"].(string)); err != nil {
		t.Fatalf("timestamp %v: %v", rec["timestamp"], err)
	}
}
