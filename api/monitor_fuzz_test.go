package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/monitor"
)

// FuzzMonitorRecordJSON: any attr parameter either is refused or yields
// valid JSON objects holding only known members, whatever the name.
func FuzzMonitorRecordJSON(f *testing.F) {
	for _, s := range []string{"", "name,alive", "jitter", "name,,alive", "colour", " name ", "name,name"} {
		f.Add(s, "192.0.2.1", true)
	}
	f.Add("name", "a\"b\\c\x00\u2028<>&", false)
	f.Add("name,status", "\xe2\x80", true)
	f.Fuzz(func(t *testing.T, attr, name string, valid bool) {
		set, bad := parseAttrs(attr)
		if bad != "" {
			return
		}
		r := monitor.Record{Name: name, Validity: valid, Status: monitor.StatusValid, Avg: 1.5, Loss: 10}
		b := appendRecord(nil, &r, set)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", b, err)
		}
		q, _ := json.Marshal(name)
		var want string
		json.Unmarshal(q, &want)
		if n, ok := m["name"]; ok && n != want {
			t.Fatalf("name %q came back as %q", name, n)
		}
		for k := range m {
			if !strings.Contains(","+strings.Join(attrNames(), ",")+",", ","+k+",") {
				t.Fatalf("unknown member %q", k)
			}
		}
	})
}

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
