package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/monitor"
)

// TestHardeningE2E replays issue 12's attacks against the real binary,
// `pingapi serve` in dev mode on loopback, with TARGET_DENY=127.0.0.0/16
// (dev mode allows the rest of 127.0.0.0/8: only loopback is probed), a
// small MONITOR_MAX_HOSTS and MONITOR_MAX_BODY, and a configuration file
// that lists a denied host; then kills it with SIGKILL and reads the
// mutable list back.
func TestHardeningE2E(t *testing.T) {
	home := t.TempDir()
	conf := filepath.Join(t.TempDir(), "ping903.conf")
	writeFile(t, conf, "probe-interval 30\nip-list <<EOF\n127.1.0.1\n127.0.0.3\nEOF\n", 0o600)
	p := startE2EWith(t, []string{"HOME=" + home, "TARGET_DENY=127.0.0.0/16", "MONITOR_MAX_HOSTS=50", "MONITOR_MAX_BODY=65536"},
		"--config", conf)

	// The denied host of the configuration is reported at start, with its line.
	if !p.waitLog("host=127.0.0.3 at="+conf+":4", 10*time.Second) {
		t.Errorf("the denied configured host is not reported with its line:\n%s", p.log())
	}

	// `pingapi token` from another directory, without --data-dir: the
	// server's key, and it says so.
	cmd := exec.Command(p.bin, "token")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pingapi token: %v: %s", err, stderr.String())
	}
	tok := strings.TrimSpace(string(out))
	if !strings.Contains(stderr.String(), filepath.Join(p.dataDir, "dev-signing-key.pem")) {
		t.Errorf("pingapi token does not say it used the server's key: %q", stderr.String())
	}

	type want struct {
		method, path, body string
		status             int
		code               string
	}
	for _, w := range []want{
		{"GET", "/pingapi/127.0.0.3?c=1", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/127.0.0.3", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/::ffff:127.0.0.9", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/224.0.0.1", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/255.255.255.255", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/0.0.0.0", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/169.254.169.254", "", 403, "target_denied"},
		{"PUT", "/config/ip-list/fe80::1%25lo", "", 400, "invalid_target"},
		{"PUT", "/config/ip-list/127.1.0.200%0A", "", 400, "invalid_target"},
		{"PUT", "/config/ip-list/localhost%0A", "", 400, "invalid_target"},
		{"PUT", "/config/ip-list/127.1.0.206%20", "", 201, ""},
		{"PUT", "/config/ip-list/127.1.0.206", "", 403, "already_monitored"},
		{"PUT", "/config/ip-list/127.1.0.205%09", "", 201, ""},
		{"DELETE", "/config/ip-list/127.1.0.205", "", 200, ""},
		{"PUT", "/config/ip-list/127.0.0.1%2F", "", 404, "not_found"},
		{"GET", "/host/?select=", "", 404, "not_found"},
		{"GET", "/host?x=%zz", "", 400, "invalid_parameter"},
		{"POST", "/config/ip-list", addressesJSON(100), 413, "too_many_hosts"},
		{"POST", "/config/ip-list", `["` + strings.Repeat("a", 70000) + `"]`, 413, "body_too_large"},
		{"POST", "/config/ip-list", `["127.1.0.10","127.1.0.11"]`, 200, ""},
	} {
		resp := p.do(t, w.method, w.path, tok, w.body)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var env struct{ Error struct{ Code string } }
		json.Unmarshal(b, &env)
		if resp.StatusCode != w.status || env.Error.Code != w.code {
			t.Errorf("%s %s: %d %s, want %d %s", w.method, w.path, resp.StatusCode, b, w.status, w.code)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		resp := p.do(t, "HEAD", path, "", "")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("HEAD %s: %d", path, resp.StatusCode)
		}
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /%%zz HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, _ := io.ReadAll(bufio.NewReader(conn))
	conn.Close()
	if !strings.HasPrefix(string(raw), "HTTP/1.1 400") || !strings.Contains(string(raw), `"code":"bad_request"`) {
		t.Errorf("GET /%%zz: %q", raw)
	}

	// kill -9: every acknowledged change is on disk, in its canonical form.
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.exited <- nil // for the cleanup
	got, err := monitor.NewStore(p.dataDir).Load()
	if want := []string{"127.1.0.206", "127.1.0.10", "127.1.0.11"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("mutable list after kill -9: %q %v, want %q", got, err, want)
	}
}

func addressesJSON(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("127.1.1.%d", i+1)
	}
	b, _ := json.Marshal(names)
	return string(b)
}
