package api

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzMonitorPostIPList: whatever the body, POST /config/ip-list answers
// 200 or a 4xx in the monitor error format, never a 5xx.
func FuzzMonitorPostIPList(f *testing.F) {
	for _, s := range []string{`["192.0.2.1"]`, `{"ip-list":["h1.test"],"mode":"replace"}`, `{"ip-list":[1]}`,
		`[`, `null`, `{"mode":"append"}`, `["a b"]`, `{"ip-list":null}`, `[""]`} {
		f.Add(s)
	}
	e := newMonitorEnv(f, nil, nil)
	f.Fuzz(func(t *testing.T, body string) {
		w := e.do("POST", "/config/ip-list", body, append(bearer("a"), "Content-Type", "application/json")...)
		if w.Code == http.StatusOK {
			return
		}
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		var b monitorErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Message == "" || b.Error.Code == "" {
			t.Fatalf("error body for %q: %s", body, w.Body)
		}
	})
}
