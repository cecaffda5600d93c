//go:build esmondclient

package api

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEsmondPythonClient runs the esmond client session of docs/ARCHIVE.md
// (esmond's own Python client: MetadataPost, EventTypePost,
// EventTypeBulkPost, ApiConnect and its paging) against the API on a real
// SQLite archive, and compares its output with the one the document shows.
// esmond's code is not part of this repository and CI cannot fetch it, so
// the test is behind the esmondclient build tag rather than a skip: run it
// with -tags esmondclient and ESMOND_CLIENT_DIR set to a checkout of
// github.com/perfsonar/esmond (python3-requests and python3-dateutil
// installed); without the variable it fails.
func TestEsmondPythonClient(t *testing.T) {
	dir := os.Getenv("ESMOND_CLIENT_DIR")
	if dir == "" {
		t.Fatal("set ESMOND_CLIENT_DIR to a checkout of github.com/perfsonar/esmond to run esmond's client")
	}
	if _, err := os.Stat(filepath.Join(dir, "esmond", "api", "client", "perfsonar", "post.py")); err != nil {
		t.Fatalf("ESMOND_CLIENT_DIR: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "ARCHIVE.md"))
	if err != nil {
		t.Fatal(err)
	}
	script := regexp.MustCompile(`(?s)python3 - "\$URL" "\$KEY" <<'EOF'\n(.*?)\nEOF\n`).FindSubmatch(doc)
	output := regexp.MustCompile("(?s)It prints, on an empty archive:\n\n```\n(.*?)```").FindSubmatch(doc)
	if script == nil || output == nil {
		t.Fatal("docs/ARCHIVE.md no longer has the client session and its output")
	}
	e := newEsmondEnv(t, nil)
	srv := httptest.NewServer(e.srv.Handler())
	defer srv.Close()
	cmd := exec.Command("python3", "-", srv.URL, e.key)
	cmd.Stdin = strings.NewReader(string(script[1]))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("esmond's client: %v\n%s\n%s", err, out, stderr)
	}
	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	want := strings.Split(strings.TrimRight(string(output[1]), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, the document shows %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		// "..." ends a line the document shortens.
		w, short := strings.CutSuffix(want[i], "...}]")
		if got[i] != want[i] && !(short && strings.HasPrefix(got[i], w)) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}
