package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestMonitorWritesUnderPolicy: PUT and POST admit only what the target
// policy allows (the monitor's own, the one /pingapi has), and report a
// resolver failure as /pingapi does. Over real HTTP.
func TestMonitorWritesUnderPolicy(t *testing.T) {
	e := newMonitorEnv(t, nil, nil) // the default policy: public addresses only
	base := e.listen(t)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		return call(t, base, method, path, text(body))
	}
	for _, tt := range []struct {
		name   string
		status int
		code   string
	}{
		{"127.0.0.3", 403, CodeTargetDenied},
		{"224.0.0.1", 403, CodeTargetDenied},
		{"255.255.255.255", 403, CodeTargetDenied},
		{"0.0.0.0", 403, CodeTargetDenied},
		{"::ffff:127.0.0.9", 403, CodeTargetDenied},
		{"169.254.169.254", 403, CodeTargetDenied},
		{"10.1.2.3", 403, CodeTargetDenied},
		{"loop.test", 403, CodeTargetDenied},
		{"fe80::1%25lo", 400, CodeInvalidTarget},
		{"servfail.test", 502, CodeResolveFailed},
		{"timeout.test", 504, CodeResolveTimeout},
		{"nowhere.test", 403, CodeUnresolvableHost},
	} {
		st, body := do("PUT", "/config/ip-list/"+tt.name, "")
		if st != tt.status {
			t.Errorf("PUT %s: %d, want %d: %s", tt.name, st, tt.status, body)
			continue
		}
		if code, _, _ := monitorBody(t, body); code != tt.code {
			t.Errorf("PUT %s: code %q, want %q", tt.name, code, tt.code)
		}
	}
	st, body := do("POST", "/config/ip-list", `["192.0.2.80","169.254.169.254","192.0.2.81"]`)
	if code, _, index := monitorBody(t, body); st != 403 || code != CodeTargetDenied || index != 2 {
		t.Errorf("POST with a denied element: %d %s", st, body)
	}
	st, body = do("POST", "/config/ip-list", `["192.0.2.80","timeout.test"]`)
	if code, _, index := monitorBody(t, body); st != 504 || code != CodeResolveTimeout || index != 2 {
		t.Errorf("POST with a resolver timeout: %d %s", st, body)
	}
	if _, mut := e.srv.deps.Monitor.IPList(); strings.Join(mut, ",") != "192.0.2.9" {
		t.Errorf("the mutable list changed: %q", mut)
	}
}

// TestMonitorErrorsThroughTheOneWriter: a monitor route's error carries what
// the one writer adds, here Retry-After on a resolver timeout (the second
// writer the monitor had dropped it).
func TestMonitorErrorsThroughTheOneWriter(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	base := e.listen(t)
	req, _ := http.NewRequest("PUT", base+"/config/ip-list/timeout.test", nil)
	req.Header.Set("Authorization", "Bearer "+token("a"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 504 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("PUT of a name whose lookup times out: %d, Retry-After %q; want 504 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
