package web_test

import (
	"context"
	"io/fs"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/cmd/bellhop/web"
)

// TestEmbedded checks that the binary carries the board and the client.
func TestEmbedded(t *testing.T) {
	for _, tc := range []struct {
		fsys fs.FS
		name string
		want string
	}{
		{web.Board(), "index.html", `<script type="module" src="board.js">`},
		{web.Board(), "board.js", `from "/client/bellhop.js"`},
		{web.Board(), "board.css", ".room"},
		{web.Client(), "bellhop.js", "export class BellhopClient"},
		{web.Client(), "package.json", `"name": "@bellhop/client"`},
	} {
		b, err := fs.ReadFile(tc.fsys, tc.name)
		if err != nil || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %v, or lacks %q", tc.name, err, tc.want)
		}
	}
}

// TestClientUnderNode runs the client's unit tests (backoff, resume,
// token refresh) under Node's test runner.
func TestClientUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--test", "client/").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# fail 0") {
		t.Fatalf("node --test output:\n%s", out)
	}
}
