package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/engine"
)

// Interop tests drive the echo endpoint with an independent client, Node's
// `ws` package, through tools/interop/echo-client.mjs: text and binary
// messages from 0 B to 1 MiB over ws and wss, with and without
// permessage-deflate.

// echoClientResult is the JSON line echo-client.mjs prints.
type echoClientResult struct {
	OK         bool   `json:"ok"`
	Messages   int    `json:"messages"`
	Deflate    bool   `json:"deflate"`
	Negotiated string `json:"negotiated"`
	Error      string `json:"error"`
}

// echoClientMessages is how many round trips echo-client.mjs makes: text and
// binary for each of its 9 sizes.
const echoClientMessages = 18

// nodeEchoClient returns the node binary and the echo client script. A
// missing piece fails the test: `make deps` installs them, and the interop
// tests are part of conformance.
func nodeEchoClient(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found in PATH: install Node.js and run `make deps`")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(root, "tools", "interop", "echo-client.mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("echo client missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "node_modules", "ws", "package.json")); err != nil {
		t.Fatalf("Node package ws is not installed in tools/node_modules: run `make deps` (%v)", err)
	}
	return node, script
}

func TestInteropNodeWS(t *testing.T) {
	t.Parallel()
	node, script := nodeEchoClient(t)
	certPEM, _ := testCert()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"ws", "wss"} {
		t.Run("scheme="+scheme, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, withTLS(t, engine.Config{Deflate: true}, scheme == "wss"))
			t.Cleanup(func() { // after both clients, before the server stops
				waitFor(t, 5*time.Second, func() bool { return srv.Connections() == 0 })
				if n := metric(t, srv, `bellhop_close_codes_total{code="1000"}`); n != 2 {
					t.Errorf("%v connections closed with 1000, want both clients", n)
				}
			})
			for _, deflate := range []bool{false, true} {
				t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
					t.Parallel()
					args := []string{script, scheme + "://127.0.0.1:" + srv.Port() + "/echo", "--timeout", "60000"}
					if deflate {
						args = append(args, "--deflate")
					}
					if scheme == "wss" {
						args = append(args, "--ca", caFile)
					}
					checkEchoClient(t, runEchoClient(t, node, args), deflate)
				})
			}
		})
	}
}

// checkEchoClient checks the summary of one echo client run.
func checkEchoClient(t *testing.T, res echoClientResult, deflate bool) {
	t.Helper()
	if !res.OK || res.Messages != echoClientMessages || res.Deflate != deflate {
		t.Fatalf("echo client: %+v", res)
	}
	if !deflate {
		if res.Negotiated != "" {
			t.Fatalf("negotiated %q without an offer", res.Negotiated)
		}
		return
	}
	if !strings.HasPrefix(res.Negotiated, "permessage-deflate") ||
		!strings.Contains(res.Negotiated, "server_no_context_takeover") ||
		!strings.Contains(res.Negotiated, "client_no_context_takeover") {
		t.Fatalf("negotiated %q, want permessage-deflate with no context takeover both ways", res.Negotiated)
	}
}

// runEchoClient runs the Node client and parses the JSON line it prints.
func runEchoClient(t *testing.T, node string, args []string) echoClientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	line := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	var res echoClientResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("echo client (%v): cannot parse %q: %v; stderr: %s", runErr, line, err, stderr.String())
	}
	if runErr != nil || !res.OK {
		t.Fatalf("echo client failed (%v): %s; stderr: %s", runErr, res.Error, stderr.String())
	}
	return res
}
