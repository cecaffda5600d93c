package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/api"
	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/auth"
)

// TestPing903qBasic: a server with a Ping903-style credentials file of
// hashed passwords (made by the real openssl passwd), and ping903q with
// ~/.ping903.cred and no token, answering the Basic challenge; -R picks
// the realm.
func TestPing903qBasic(t *testing.T) {
	out, err := exec.Command("openssl", "passwd", "-6", "-salt", "q1w2e3r4", "guessme").Output()
	if err != nil {
		netlab.Unavailable(t, fmt.Sprintf("openssl passwd: %v", err))
	}
	dir := t.TempDir()
	srvFile := filepath.Join(dir, "server.cred")
	writeFile(t, srvFile, "# the server's: hashes\n* ping903 alice "+strings.TrimSpace(string(out))+"\n", 0o600)
	b, err := auth.LoadBasicFile(srvFile, "ping903")
	if err != nil {
		t.Fatal(err)
	}
	url := monitorServerWith(t, func(d *api.Deps) { d.MonitorBasic = b })
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".ping903.cred"), "# ping903q's: passwords\n127.0.0.1 ping903 alice guessme\n", 0o600)
	env := map[string]string{"PINGAPI_URL": url, "HOME": home}
	run := func(args ...string) (string, string, int) {
		var o, e bytes.Buffer
		code := ping903q(t.Context(), args, func(k string) string { return env[k] }, &o, &e)
		return o.String(), e.String(), code
	}
	if o, e, code := run("192.0.2.1"); code != 0 || o != "192.0.2.1 is alive\n" {
		t.Errorf("Basic after the challenge: exit %d, %q %q", code, o, e)
	}
	if o, e, code := run("-R", "ping903", "-m", "192.0.2.7"); code != 0 || o != "web.test\n" {
		t.Errorf("-R ping903 -m: exit %d, %q %q", code, o, e)
	}
	if _, e, code := run("-R", "other", "192.0.2.1"); code != 3 || !strings.Contains(e, "refused") {
		t.Errorf("-R other (no credentials of that realm): exit %d, %q", code, e)
	}
	writeFile(t, filepath.Join(home, ".ping903.cred"), "127.0.0.1 ping903 alice wrong\n", 0o600)
	if _, e, code := run("192.0.2.1"); code != 3 || !strings.Contains(e, "refused") {
		t.Errorf("wrong password: exit %d, %q", code, e)
	}
}

// TestPing903qOpenNetwork: with MONITOR_OPEN_CIDRS covering loopback, the
// query tool needs no credentials at all, as with a real Ping903.
func TestPing903qOpenNetwork(t *testing.T) {
	url := monitorServerWith(t, func(d *api.Deps) {
		d.MonitorOpenCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	var o, e bytes.Buffer
	env := map[string]string{"PINGAPI_URL": url, "HOME": t.TempDir()}
	code := ping903q(t.Context(), []string{"-v", "192.0.2.1"}, func(k string) string { return env[k] }, &o, &e)
	if code != 0 || !strings.HasPrefix(o.String(), "192.0.2.1 is alive\n--- 192.0.2.1 ping statistics ---\n") {
		t.Errorf("exit %d, %q %q", code, o.String(), e.String())
	}
	o.Reset()
	code = check(t.Context(), "check_ping", false, []string{"-H", "192.0.2.1", "-w", "100,20%", "-c", "200,60%"}, func(k string) string { return env[k] }, &o, &e)
	if code != 0 || !strings.HasPrefix(o.String(), "PING OK - Packet loss = 0%") {
		t.Errorf("check_ping: exit %d, %q", code, o.String())
	}
}
