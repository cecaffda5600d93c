package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/auth"
)

// TestEsmondReadAccess: ARCHIVE_READ=token needs a bearer JWT with
// archive:read (or archive:write) or an archive key; public needs nothing.
func TestEsmondReadAccess(t *testing.T) {
	e := newEsmondEnv(t, func(d *Deps) { d.ArchiveReadPublic = false })
	const list = "/esmond/perfsonar/archive/"
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"none", nil, 401},
		{"archive key", []string{"Authorization", "Token " + e.key}, 200},
		{"archive key, lower-case scheme", []string{"Authorization", "token " + strings.ToUpper(e.key)}, 200},
		{"unknown key", []string{"Authorization", "Token " + strings.Repeat("0", 40)}, 401},
		{"malformed key", []string{"Authorization", "Token abc"}, 401},
		{"jwt with archive:read", bearer("reader"), 200},
		{"jwt without scope", []string{"Authorization", "Bearer noscope.x.y"}, 403},
		{"bad jwt", []string{"Authorization", "Bearer bad.x.y"}, 401},
		{"basic", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(http.MethodGet, list, "", tt.hdr...)
			wantStatus(t, w, tt.status)
			if tt.status == 401 && len(w.Header().Values("WWW-Authenticate")) == 0 {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	pub := newEsmondEnv(t, nil)
	wantStatus(t, pub.do(http.MethodGet, list, ""), 200)
	wantStatus(t, pub.do(http.MethodGet, "/esmond/perfsonar/", ""), 200)
}

// TestEsmondWriteAccess: writes need a live key, a JWT with
// archive:write, or a client address in ArchiveWriteCIDRs.
func TestEsmondWriteAccess(t *testing.T) {
	e := newEsmondEnv(t, nil)
	post := func(hdr ...string) int {
		w := e.do(http.MethodPost, "/esmond/perfsonar/archive/", pingMetadata("10.1.1.1", "10.1.1.2", "pingapi/ping"), append(hdr, "Content-Type", "application/json")...)
		wantStatus(t, w, w.Code)
		return w.Code
	}
	if got := post(); got != 401 {
		t.Errorf("no credentials: %d", got)
	}
	if got := post("Authorization", "Token "+e.key); got != 201 {
		t.Errorf("key: %d", got)
	}
	if got := post(bearer("reader")...); got != 403 {
		t.Errorf("jwt with archive:read only: %d", got)
	}
	w := newEsmondEnv(t, func(d *Deps) { d.Verifier = &fakeVerifier{scopes: []string{auth.ScopeArchiveWrite}} })
	if got := w.do(http.MethodPost, "/esmond/perfsonar/archive/", pingMetadata("10.1.1.1", "10.1.1.2", "t"), append(bearer("writer"), "Content-Type", "application/json")...); got.Code != 201 {
		t.Errorf("jwt with archive:write: %d %s", got.Code, got.Body)
	}
	// A revoked key is refused.
	if err := e.store.RevokeAPIKey(context.Background(), "pscheduler"); err != nil {
		t.Fatal(err)
	}
	if got := post("Authorization", "Token "+e.key); got != 401 {
		t.Errorf("revoked key: %d", got)
	}
	if !strings.Contains(e.logs.String(), `"sub":"key:pscheduler"`) {
		t.Error("the access log does not name the key that wrote")
	}
}

// TestEsmondWriteCIDRs: esmond's test_ip_auth. The client address is the
// TCP peer, or X-Forwarded-For only from a trusted proxy.
func TestEsmondWriteCIDRs(t *testing.T) {
	tests := []struct {
		name    string
		cidrs   []string
		proxies []string
		peer    string
		xff     string
		status  int
	}{
		{"peer allowed", []string{"127.0.0.0/8"}, nil, "127.0.0.1:5000", "", 201},
		{"peer not allowed", []string{"10.0.0.0/8"}, nil, "127.0.0.1:5000", "", 401},
		{"no cidrs", nil, nil, "127.0.0.1:5000", "", 401},
		{"forged X-Forwarded-For from an untrusted peer", []string{"10.0.0.0/8"}, nil, "127.0.0.1:5000", "10.1.1.1", 401},
		{"X-Forwarded-For from a trusted proxy", []string{"10.0.0.0/8"}, []string{"127.0.0.1"}, "127.0.0.1:5000", "10.1.1.1", 201},
		{"trusted proxy, client outside", []string{"127.0.0.0/8"}, []string{"127.0.0.1"}, "127.0.0.1:5000", "198.51.100.1", 401},
		{"IPv6 peer", []string{"::1/128"}, nil, "[::1]:5000", "", 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEsmondEnv(t, func(d *Deps) {
				for _, c := range tt.cidrs {
					d.ArchiveWriteCIDRs = append(d.ArchiveWriteCIDRs, netip.MustParsePrefix(c))
				}
				d.TrustedProxies = tt.proxies
			})
			req := httptest.NewRequest(http.MethodPost, "/esmond/perfsonar/archive/", strings.NewReader(pingMetadata("10.1.1.1", "10.1.1.2", "t")))
			req.RemoteAddr = tt.peer
			req.Header.Set("Content-Type", "application/json")
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, req)
			wantStatus(t, w, tt.status)
		})
	}
}

// TestEsmondRoutesMisc: the answers beyond the happy path: no redirects,
// 400s with a detail, 404s, DELETE.
func TestEsmondRoutesMisc(t *testing.T) {
	e, key := dataEnv(t)
	a := "/esmond/perfsonar/archive/"
	tests := []struct {
		method, path, body string
		auth               bool
		status             int
	}{
		{"GET", "/esmond/perfsonar", "", false, 200},
		{"GET", a + key + "/throughput/base", "", false, 200},
		{"GET", a + key + "/throughput/base/", "", false, 200},
		{"GET", a + key + "/throughput/medians/86400", "", false, 400},
		{"GET", a + key + "/throughput/averages/day", "", false, 400},
		{"GET", a + key + "/no-such-event/base", "", false, 400},
		{"GET", a + key + "/packet-count-sent/base", "", false, 404},
		{"GET", a + key + "/throughput/averages/3600", "", false, 404},
		{"GET", a + strings.Repeat("0", 32) + "/", "", false, 404},
		{"GET", a + "not-a-key/throughput/base", "", false, 404},
		{"GET", a + "?limit=abc", "", false, 400},
		{"GET", a + key + "/throughput/base?time-start=x", "", false, 400},
		{"GET", a + "?format=xml", "", false, 400},
		{"GET", a + key + "/a/b/c/d", "", false, 404},
		{"POST", a + key + "/throughput/averages/86400", point(1, "1"), true, 400},
		{"POST", a + key + "/throughput/aggregations", point(1, "1"), true, 400},
		{"POST", a + key + "/throughput/base/3600", point(1, "1"), true, 400},
		{"POST", a + key + "/throughput/", point(1, "1"), true, 400},
		{"POST", a + key + "/throughput/base", point(1, "1"), false, 401},
		{"POST", a + key + "/packet-count-sent/base", point(1, "1"), true, 404},
		{"POST", a + strings.Repeat("0", 32) + "/throughput/base", point(1, "1"), true, 404},
		{"POST", a + key + "/throughput/base", `{"ts": "yesterday", "val": 1}`, true, 400},
		{"POST", a + key + "/throughput/base", ``, true, 400},
		{"PUT", a + key + "/", `{"data": [{"ts": "x", "val": []}]}`, true, 400},
		{"PUT", a + key + "/", `{"data": [{"ts": 1, "val": [{"event-type": "histogram-rtt", "val": {"1.0": 0.5}}]}]}`, true, 400},
		{"PUT", a + key + "/", `{"data": [{"ts": 1, "val": [{"event-type": "packet-count-sent", "val": 1}]}]}`, true, 404},
		{"PUT", a + key + "/", `{"data": []}`, true, 201},
		{"PATCH", a + key + "/", `{}`, true, 400},
		{"PATCH", a, `{}`, true, 400},
		{"OPTIONS", a, ``, false, 405},
		{"DELETE", a + key + "/", ``, false, 401},
		{"POST", a + key + "/", ``, true, 405},
	}
	for _, tt := range tests {
		var w *httptest.ResponseRecorder
		if tt.auth {
			w = e.write(tt.method, tt.path, tt.body)
		} else {
			w = e.do(tt.method, tt.path, tt.body, "Content-Type", "application/json")
		}
		if w.Code != tt.status {
			t.Errorf("%s %s: %d, want %d: %s", tt.method, tt.path, w.Code, tt.status, w.Body)
			continue
		}
		if loc := w.Header().Get("Location"); loc != "" {
			t.Errorf("%s %s: redirect to %s", tt.method, tt.path, loc)
		}
		wantStatus(t, w, tt.status)
	}
	// DELETE with a key removes the record and its data.
	wantStatus(t, e.write(http.MethodPost, a+key+"/throughput/base", point(1398965989, "5")), http.StatusCreated)
	wantStatus(t, e.write(http.MethodDelete, a+key, ""), http.StatusNoContent)
	wantStatus(t, e.do(http.MethodGet, a+key+"/", ""), http.StatusNotFound)
	wantStatus(t, e.write(http.MethodDelete, a+key+"/", ""), http.StatusNotFound)
}

// TestEsmondBulkAllOrNothing: one bad value, or one numeric point at an
// existing ts, and nothing of the document is stored.
func TestEsmondBulkAllOrNothing(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		doc := `{"data": [{"ts": 1398965989, "val": [{"event-type": "throughput", "val": 1}, {"event-type": "failures", "val": {"error": "x"}}]},
		  {"ts": 1398966989, "val": [{"event-type": "throughput", "val": "not a number"}]}]}`
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", doc), http.StatusBadRequest)
		for _, et := range []string{"throughput", "failures"} {
			if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/"+et+"/base"); len(got) != 0 {
				t.Errorf("%s: %d points stored from a refused document", et, len(got))
			}
		}
		wantStatus(t, e.write(http.MethodPost, "/esmond/perfsonar/archive/"+key+"/throughput/base", point(1398966989, "7")), http.StatusCreated)
		doc = strings.Replace(doc, `"not a number"`, "8", 1)
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", doc), http.StatusConflict)
		if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/throughput/base"); len(got) != 1 || string(got[0].Val) != "7.0" {
			t.Errorf("after a 409: %s", js(got))
		}
	})
}

// FuzzEsmondRequest: whatever the method, path, query and body, the esmond
// API over a real SQLite archive never answers 5xx, and every error is
// {"detail": ...} with Content-Type application/json.
func FuzzEsmondRequest(f *testing.F) {
	for _, s := range [][4]string{
		{"GET", "", "source=lbl-pt1.es.net&limit=2", ""},
		{"POST", "", "", seedDelayMetadata},
		{"PUT", "KEY/", "", seedPingBulk},
		{"POST", "KEY/histogram-rtt/base", "", `{"ts":"1","val":{"1.0":1}}`},
		{"GET", "KEY/histogram-rtt/statistics/0", "time-range=abc", ""},
		{"GET", "KEY/packet-loss-rate-bidir/aggregations/3600", "time-start=0&time-end=99999999999", ""},
		{"PATCH", "KEY", "", "{}"},
		{"DELETE", "KEY/", "", ""},
		{"GET", "%zz/..//", "offset=-1", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	e := newEsmondEnv(f, func(d *Deps) { d.Logger = slog.New(slog.DiscardHandler) })
	key := e.register(f, seedDelayMetadata)
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		switch method {
		case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD":
		default:
			return
		}
		u := "/esmond/perfsonar/archive/" + strings.ReplaceAll(path, "KEY", key)
		if query != "" {
			u += "?" + query
		}
		req, err := http.NewRequest(method, "http://pingapi.test"+u, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Token "+e.key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, u, w.Code, w.Body)
		}
		if w.Code >= 400 && method != "HEAD" {
			if ct := w.Header().Get("Content-Type"); ct != "application/json" || !strings.HasPrefix(w.Body.String(), `{"detail":`) {
				t.Fatalf("%s %s: %d %q %s", method, u, w.Code, ct, w.Body)
			}
		}
	})
}

// TestEsmondAbsoluteURLs: the absolute URLs follow the scheme the client
// used: X-Forwarded-Proto counts only from a trusted proxy.
func TestEsmondAbsoluteURLs(t *testing.T) {
	tests := []struct {
		proxies []string
		proto   string
		want    string
	}{
		{nil, "", "http://archive.test/esmond/perfsonar/archive/"},
		{nil, "https", "http://archive.test/esmond/perfsonar/archive/"},
		{[]string{"192.0.2.0/24"}, "https", "https://archive.test/esmond/perfsonar/archive/"},
		{[]string{"192.0.2.1"}, "https", "https://archive.test/esmond/perfsonar/archive/"},
		{[]string{"198.51.100.1"}, "https", "http://archive.test/esmond/perfsonar/archive/"},
		{[]string{"192.0.2.0/24"}, "gopher", "http://archive.test/esmond/perfsonar/archive/"},
	}
	for _, tt := range tests {
		e := newEsmondEnv(t, func(d *Deps) { d.TrustedProxies = tt.proxies })
		req := httptest.NewRequest(http.MethodGet, "http://archive.test/esmond/perfsonar/", nil) // peer 192.0.2.1
		if tt.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		w := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(w, req)
		if got := decodeJSON[map[string]string](t, wantStatus(t, w, 200))["archive"]; got != tt.want {
			t.Errorf("proxies %v, X-Forwarded-Proto %q: %s, want %s", tt.proxies, tt.proto, got, tt.want)
		}
	}
}

// TestEsmondErrorDetails: the details name what is wrong.
func TestEsmondErrorDetails(t *testing.T) {
	e, key := dataEnv(t)
	nokey := strings.Repeat("0", 32)
	detail := func(w *httptest.ResponseRecorder) string {
		return decodeJSON[map[string]string](t, w.Body.String())["detail"]
	}
	wantStatus(t, e.write(http.MethodPost, "/esmond/perfsonar/archive/"+key+"/throughput/base", point(60, "1")), http.StatusCreated)
	for _, tt := range []struct {
		w    *httptest.ResponseRecorder
		want string
	}{
		{e.write(http.MethodPost, "/esmond/perfsonar/archive/"+key+"/throughput/base", point(60, "1")), "throughput already has a value at ts 60"},
		{e.write(http.MethodPost, "/esmond/perfsonar/archive/"+nokey+"/throughput/base", point(60, "1")), "no metadata " + nokey},
		{e.do(http.MethodGet, "/esmond/perfsonar/archive/"+nokey+"/", ""), "no metadata " + nokey},
		{e.write(http.MethodDelete, "/esmond/perfsonar/archive/"+nokey+"/", ""), "no metadata " + nokey},
		{e.write(http.MethodPost, "/esmond/perfsonar/archive/"+key+"/packet-count-sent/base", point(60, "1")), `event type "packet-count-sent" is not registered in metadata ` + key},
	} {
		if got := detail(tt.w); got != tt.want {
			t.Errorf("detail %q, want %q", got, tt.want)
		}
	}
}
