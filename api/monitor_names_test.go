package api

import (
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/monitor"
)

// TestMonitorNamesCanonical: every write route validates a name with the one
// parser before anything is stored (a line break is a 400 in the envelope,
// not a 500 from the store), and PUT, POST, DELETE, lookups and the saved
// file share one canonical form, so the list is the same after a restart.
// Over real HTTP.
func TestMonitorNamesCanonical(t *testing.T) {
	store := monitor.NewStore(t.TempDir())
	e := newMonitorEnv(t, store, nil)
	base := e.listen(t)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		return call(t, base, method, path, text(body))
	}
	for _, p := range []string{"127.0.0.200%0A", "127.0.0.200%0D", "localhost%0A", "192.0.2.77%0Afoo", "a%00b"} {
		st, body := do("PUT", "/config/ip-list/"+p, "")
		if st != 400 {
			t.Errorf("PUT %s: status %d, want 400: %s", p, st, body)
			continue
		}
		if code, _, _ := monitorBody(t, body); code != CodeInvalidTarget {
			t.Errorf("PUT %s: code %q", p, code)
		}
	}
	if st, body := do("POST", "/config/ip-list", `["192.0.2.60","192.0.2.61\n"]`); st != 400 {
		t.Errorf("POST with a line break: %d %s", st, body)
	}

	steps := []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/config/ip-list/192.0.2.206%20", "", 201},
		{"PUT", "/config/ip-list/192.0.2.206", "", 403}, // the same host
		{"PUT", "/config/ip-list/192.0.2.205%09", "", 201},
		{"DELETE", "/config/ip-list/192.0.2.205", "", 200}, // deletable by its canonical name
		{"PUT", "/config/ip-list/H12.Test.", "", 201},
		{"PUT", "/config/ip-list/h12.test", "", 403},
		{"POST", "/config/ip-list", `[" 192.0.2.207 ", "H13.TEST"]`, 200},
		{"PUT", "/config/ip-list/192.0.2.207", "", 403},
		{"DELETE", "/config/ip-list/h13.test%20", "", 200},
		{"PUT", "/config/ip-list/2001:DB8::5", "", 201},
		{"DELETE", "/config/ip-list/2001:db8::5", "", 200},
	}
	for _, s := range steps {
		if st, body := do(s.method, s.path, s.body); st != s.status {
			t.Errorf("%s %s %s: status %d, want %d: %s", s.method, s.path, s.body, st, s.status, body)
		}
	}
	_, mut := e.srv.deps.Monitor.IPList()
	saved, err := store.Load()
	if err != nil || strings.Join(saved, ",") != strings.Join(mut, ",") {
		t.Fatalf("saved %q (%v), in memory %q: a restart would change the list", saved, err, mut)
	}
	want := "192.0.2.9,192.0.2.206,h12.test,192.0.2.207"
	if got := strings.Join(mut, ","); got != want {
		t.Errorf("mutable list %s, want %s", got, want)
	}
}
