package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/config"
)

// archiveRun runs `pingapi archive ...` on the archive under dir, with an
// empty environment and no .env file.
func archiveRun(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	empty := filepath.Join(dir, "empty.env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args = append(args, "--data-dir", dir, "--env-file", empty)
	code = archiveCmd(args, config.LookupFunc(func(string) (string, bool) { return "", false }), &out, &errb)
	return code, out.String(), errb.String()
}

var keyLine = regexp.MustCompile(`^[0-9a-f]{40}$`)

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestArchiveKeyCommands(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := archiveRun(t, dir, "key", "create", "pscheduler")
	if code != 0 || !keyLine.MatchString(lastLine(out)) {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	key := lastLine(out)
	if code, _, errs := archiveRun(t, dir, "key", "create", "pscheduler"); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("second create: %d %q", code, errs)
	}
	if code, out, _ := archiveRun(t, dir, "key", "create", "--data-dir", dir, "graphs"); code != 0 || !keyLine.MatchString(lastLine(out)) {
		t.Errorf("create with a flag before NAME: %d %q", code, out)
	}
	code, out, _ = archiveRun(t, dir, "key", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^pscheduler\s+\S+\s+active$`).MatchString(out) || !strings.Contains(out, "graphs") {
		t.Errorf("list: %d\n%s", code, out)
	}
	if strings.Contains(out, key) {
		t.Error("list shows a key")
	}
	if code, _, _ := archiveRun(t, dir, "key", "revoke", "pscheduler"); code != 0 {
		t.Errorf("revoke: %d", code)
	}
	if _, out, _ := archiveRun(t, dir, "key", "list"); !regexp.MustCompile(`(?m)^pscheduler\s+\S+\s+revoked `).MatchString(out) {
		t.Errorf("list after revoke:\n%s", out)
	}
	if code, _, errs := archiveRun(t, dir, "key", "revoke", "nobody"); code != 1 || !strings.Contains(errs, "no key named") {
		t.Errorf("revoke unknown: %d %q", code, errs)
	}
	for _, args := range [][]string{{}, {"key"}, {"key", "create"}, {"key", "rotate", "x"}, {"key", "list", "extra"}, {"key", "create", "a b"}, {"nokey"}} {
		if code, _, _ := archiveRun(t, dir, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	// The key file is the archive serve uses.
	if _, err := os.Stat(filepath.Join(dir, "archive.db")); err != nil {
		t.Error(err)
	}
}

// TestArchiveKeyWithServerRunning: a key created while serve runs lets a
// writer in at once, and a revoked one is refused at once.
func TestArchiveKeyWithServerRunning(t *testing.T) {
	dir := t.TempDir()
	base, _, _, _ := startServeIn(t, dir, time.Second)
	code, out, errs := archiveRun(t, dir, "key", "create", "pscheduler")
	if code != 0 {
		t.Fatalf("create while serving: %d %s", code, errs)
	}
	key := lastLine(out)
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, base+"/esmond/perfsonar/archive/", strings.NewReader(
			`{"subject-type":"point-to-point","source":"127.0.0.1","destination":"127.0.0.2","measurement-agent":"127.0.0.1","tool-name":"t","event-types":[{"event-type":"throughput"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(); got != http.StatusCreated {
		t.Fatalf("POST with the new key: %d", got)
	}
	if code, _, errs := archiveRun(t, dir, "key", "revoke", "pscheduler"); code != 0 {
		t.Fatalf("revoke while serving: %s", errs)
	}
	if got := post(); got != http.StatusUnauthorized {
		t.Errorf("POST with the revoked key: %d", got)
	}
}
