package api

import (
	"bufio"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// accessLines returns the access-log records written so far.
func accessLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["msg"] == "http request" {
			out = append(out, m)
		}
	}
	return out
}

// X-Forwarded-For is believed only from TRUSTED_PROXIES.
func TestTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		remote  string
		xff     string
		want    string
	}{
		{"no proxy trusted, forged header ignored", nil, "198.51.100.7:4000", "203.0.113.9", "198.51.100.7"},
		{"trusted proxy", []string{"10.0.0.0/8"}, "10.1.2.3:4000", "203.0.113.9", "203.0.113.9"},
		{"trusted chain, forged leftmost ignored", []string{"10.0.0.0/8"}, "10.1.2.3:4000", "1.2.3.4, 203.0.113.9", "203.0.113.9"},
		{"untrusted peer", []string{"10.0.0.0/8"}, "198.51.100.7:4000", "203.0.113.9", "198.51.100.7"},
		{"single address", []string{"127.0.0.1"}, "127.0.0.1:4000", "203.0.113.9", "203.0.113.9"},
		{"invalid list trusts none", []string{"not-a-cidr"}, "10.1.2.3:4000", "203.0.113.9", "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(d *Deps) { d.TrustedProxies = tt.trusted })
			req := httptest.NewRequest("GET", "/healthz", nil)
			req.RemoteAddr = tt.remote
			req.Header.Set("X-Forwarded-For", tt.xff)
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, req)
			lines := accessLines(t, e.logs.String())
			if w.Code != 200 || len(lines) != 1 {
				t.Fatalf("status %d, %d access lines", w.Code, len(lines))
			}
			if got := lines[0]["client_ip"]; got != tt.want {
				t.Errorf("client_ip %v, want %s", got, tt.want)
			}
		})
	}
}

func TestDepsValidate(t *testing.T) {
	for _, tt := range []struct {
		d  Deps
		ok bool
	}{
		{Deps{}, true},
		{Deps{TrustedProxies: []string{"10.0.0.0/8", "::1", "172.18.0.2"}}, true},
		{Deps{TrustedProxies: []string{"10.0.0.0/33"}}, false},
		{Deps{TrustedProxies: []string{"nginx"}}, false},
		{Deps{MaxConcurrent: -1}, false},
	} {
		if err := tt.d.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v", tt.d, err)
		}
	}
}

// The access log carries method, route template, status, duration,
// client_ip and the JWT sub.
func TestAccessLog(t *testing.T) {
	e := newEnv(t, nil)
	e.do("GET", "/pingapi/192.0.2.1?c=1", "", bearer("alice")...)
	e.do("GET", "/no/such/route", "")
	lines := accessLines(t, e.logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d access lines", len(lines))
	}
	first := lines[0]
	for k, v := range map[string]any{"method": "GET", "route": "/pingapi/:target", "status": 200.0, "sub": "alice", "client_ip": "192.0.2.1"} {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["duration"]; !ok {
		t.Error("no duration")
	}
	if lines[1]["route"] != unmatchedRoute || lines[1]["status"] != 404.0 {
		t.Errorf("unmatched: %v", lines[1])
	}
}

func TestHealthAndReadiness(t *testing.T) {
	tests := []struct {
		name        string
		mod         func(*Deps)
		status      int
		probe, auth string
	}{
		{"ready", nil, 200, "ok", "ok"},
		{"no socket", func(d *Deps) { d.Pinger = &fakePinger{} }, 503, "no ICMP socket open", "ok"},
		{"no keys", func(d *Deps) { d.Verifier = &fakeVerifier{notReady: true} }, 503, "ok", "signing keys not loaded"},
		{"nothing", func(d *Deps) { d.Pinger, d.Verifier = nil, nil }, 503, "no ICMP socket open", "signing keys not loaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mod)
			if w := e.do("GET", "/healthz", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"ok"`) {
				t.Errorf("healthz %d %s", w.Code, w.Body)
			}
			w := e.do("GET", "/readyz", "")
			if w.Code != tt.status {
				t.Fatalf("readyz %d: %s", w.Code, w.Body)
			}
			var body struct {
				Checks map[string]string `json:"checks"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Checks["probe"] != tt.probe || body.Checks["auth"] != tt.auth {
				t.Errorf("checks %v", body.Checks)
			}
			if tt.status == 503 {
				d := decodeEnvelope(t, w.Body.Bytes())
				if d.Code != CodeNotReady || w.Header().Get("Retry-After") == "" {
					t.Errorf("envelope %+v, Retry-After %q", d, w.Header().Get("Retry-After"))
				}
			}
		})
	}
}

// HTTPServer carries timeouts that fit the longest stream.
func TestHTTPServerTimeouts(t *testing.T) {
	s := newEnv(t, nil).srv.HTTPServer("127.0.0.1:0")
	if s.ReadHeaderTimeout == 0 || s.IdleTimeout == 0 {
		t.Error("missing header or idle timeout")
	}
	if min := MaxCount*EchoInterval + DefaultEchoTimeout + DefaultResolveTimeout; s.WriteTimeout <= min {
		t.Errorf("WriteTimeout %v does not fit a %v measurement", s.WriteTimeout, min)
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc…"},
		{"a\"b\n", 10, `a\"b\n`},
		{"\xff\xfe", 10, `\xff\xfe`},
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// New changes no process-wide state: Gin's mode is main's to set
// (UseReleaseMode), not a side effect of building a router.
func TestNewKeepsGinMode(t *testing.T) {
	before := gin.Mode()
	New(Deps{})
	if got := gin.Mode(); got != before {
		t.Errorf("gin mode %q after New, was %q", got, before)
	}
}
