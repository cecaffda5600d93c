package api

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/wire"
)

// decodeEnvelope returns the error envelope of a 4xx/5xx body, failing the
// test when it is not one.
func decodeEnvelope(t testing.TB, body []byte) errorDetail {
	t.Helper()
	var b struct {
		Error *errorDetail `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error == nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("not an error envelope: %q (%v)", body, err)
	}
	return *b.Error
}

func TestStatuses(t *testing.T) {
	big := `{"ip":"example.com","c":5,"pad":"` + strings.Repeat("x", 5000) + `"}`
	ctJSON := []string{"Content-Type", "application/json"}
	auth := bearer("alice")
	h := func(extra ...[]string) []string {
		var out []string
		for _, e := range extra {
			out = append(out, e...)
		}
		return out
	}
	tests := []struct {
		name           string
		method, target string
		body           string
		hdr            []string
		mod            func(*Deps)
		status         int
		code           string
	}{
		{"get ok", "GET", "/pingapi/192.0.2.1?c=3", "", auth, nil, 200, ""},
		{"get hostname", "GET", "/pingapi/example.com", "", auth, nil, 200, ""},
		{"get ipv6 literal", "GET", "/pingapi/2001:db8::1?c=1", "", auth, nil, 200, ""},
		{"get c=0", "GET", "/pingapi/192.0.2.1?c=0", "", auth, nil, 422, CodeOutOfRange},
		{"get c=60", "GET", "/pingapi/192.0.2.1?c=60", "", auth, nil, 422, CodeOutOfRange},
		{"get c=-1", "GET", "/pingapi/192.0.2.1?c=-1", "", auth, nil, 422, CodeOutOfRange},
		{"get c huge", "GET", "/pingapi/192.0.2.1?c=99999999999999999999999", "", auth, nil, 422, CodeOutOfRange},
		{"get c=abc", "GET", "/pingapi/192.0.2.1?c=abc", "", auth, nil, 400, CodeInvalidParameter},
		{"get c=1.5", "GET", "/pingapi/192.0.2.1?c=1.5", "", auth, nil, 400, CodeInvalidParameter},
		{"get c empty", "GET", "/pingapi/192.0.2.1?c=", "", auth, nil, 400, CodeInvalidParameter},
		{"get family=5", "GET", "/pingapi/192.0.2.1?family=5", "", auth, nil, 400, CodeInvalidParameter},
		{"get family mismatch", "GET", "/pingapi/192.0.2.1?family=6", "", auth, nil, 400, CodeInvalidTarget},
		{"get packets=maybe", "GET", "/pingapi/192.0.2.1?packets=maybe", "", auth, nil, 400, CodeInvalidParameter},
		{"get stream=maybe", "GET", "/pingapi/192.0.2.1?stream=maybe", "", auth, nil, 400, CodeInvalidParameter},
		{"get invalid target", "GET", "/pingapi/a_b!", "", auth, nil, 400, CodeInvalidTarget},
		{"get shell injection", "GET", "/pingapi/1.1.1.1;reboot", "", auth, nil, 400, CodeInvalidTarget},
		{"get loopback denied", "GET", "/pingapi/127.0.0.1", "", auth, nil, 403, CodeTargetDenied},
		{"get multicast denied", "GET", "/pingapi/224.0.0.1", "", auth, nil, 403, CodeTargetDenied},
		{"get resolved denied", "GET", "/pingapi/private.test", "", auth, nil, 403, CodeTargetDenied},
		{"get unresolvable", "GET", "/pingapi/nxdomain.test", "", auth, nil, 422, CodeUnresolvable},
		{"get resolve timeout", "GET", "/pingapi/timeout.test", "", auth, nil, 504, CodeResolveTimeout},
		{"get resolve deadline", "GET", "/pingapi/slow.test", "", auth,
			func(d *Deps) { d.ResolveTimeout = time.Nanosecond }, 504, CodeResolveTimeout},
		{"get resolve failed", "GET", "/pingapi/servfail.test", "", auth, nil, 502, CodeResolveFailed},
		{"get name with an allowed address", "GET", "/pingapi/mixed.test", "", auth, nil, 200, ""},
		{"get name with only denied addresses", "GET", "/pingapi/denied.test", "", auth, nil, 403, CodeTargetDenied},
		{"get query with a semicolon", "GET", "/pingapi/192.0.2.1?c=1;family=6", "", auth, nil, 400, CodeInvalidParameter},
		{"get query with a bad escape", "GET", "/pingapi/192.0.2.1?c=1&%zz=1", "", auth, nil, 400, CodeInvalidParameter},
		{"get mapped literal family=4", "GET", "/pingapi/::ffff:192.0.2.1?family=4&c=1", "", auth, nil, 200, ""},
		{"get pinger error", "GET", "/pingapi/192.0.2.1", "", auth,
			func(d *Deps) { d.Pinger = &fakePinger{ready: true, err: errors.New("no socket")} }, 503, CodeProbeUnavailable},
		{"get no pinger", "GET", "/pingapi/192.0.2.1", "", auth, func(d *Deps) { d.Pinger = nil }, 503, CodeProbeUnavailable},
		{"get pinger panics", "GET", "/pingapi/192.0.2.1", "", auth,
			func(d *Deps) { d.Pinger = &fakePinger{panicky: true} }, 500, CodeInternal},
		{"get no target", "GET", "/pingapi/", "", auth, nil, 405, CodeMethodNotAllowed},

		{"no token", "GET", "/pingapi/192.0.2.1", "", nil, nil, 401, CodeMissingToken},
		{"bad token", "GET", "/pingapi/192.0.2.1", "", []string{"Authorization", "Bearer forged.x.y"}, nil, 401, CodeInvalidToken},
		{"basic scheme", "GET", "/pingapi/192.0.2.1", "", []string{"Authorization", "Basic YTpi"}, nil, 401, CodeInvalidToken},
		{"bearer empty", "GET", "/pingapi/192.0.2.1", "", []string{"Authorization", "Bearer "}, nil, 401, CodeInvalidToken},
		{"token in query", "GET", "/pingapi/192.0.2.1?access_token=good.alice.sig", "", nil, nil, 401, CodeTokenInQuery},
		{"token in query with header", "GET", "/pingapi/192.0.2.1?token=x", "", auth, nil, 401, CodeTokenInQuery},
		{"keys unavailable", "GET", "/pingapi/192.0.2.1", "", []string{"Authorization", "Bearer nokeys.x.y"}, nil, 503, CodeKeysUnavailable},
		{"no verifier", "GET", "/pingapi/192.0.2.1", "", auth, func(d *Deps) { d.Verifier = nil }, 503, CodeKeysUnavailable},
		{"missing scope", "GET", "/pingapi/192.0.2.1", "", auth, func(d *Deps) { d.RequiredScope = "ping:run" }, 403, CodeInsufficientScope},
		{"has scope", "GET", "/pingapi/192.0.2.1", "", auth, func(d *Deps) {
			d.RequiredScope = "ping:run"
			d.Verifier = &fakeVerifier{scopes: []string{"other", "ping:run"}}
		}, 200, ""},

		{"post ok number", "POST", "/pingapi", `{"ip":"192.0.2.1","c":2}`, h(auth, ctJSON), nil, 200, ""},
		{"post ok string c", "POST", "/pingapi", `{"ip":"example.com","c":"5"}`, h(auth, ctJSON), nil, 200, ""},
		{"post trailing slash", "POST", "/pingapi/", `{"ip":"example.com","c":"5"}`, h(auth, ctJSON), nil, 200, ""},
		{"post default c", "POST", "/pingapi", `{"ip":"example.com"}`, h(auth, ctJSON), nil, 200, ""},
		{"post null c", "POST", "/pingapi", `{"ip":"example.com","c":null}`, h(auth, ctJSON), nil, 200, ""},
		{"post charset", "POST", "/pingapi", `{"ip":"example.com"}`, h(auth, []string{"Content-Type", "application/json; charset=utf-8"}), nil, 200, ""},
		{"post family string", "POST", "/pingapi", `{"ip":"v6.example","family":"6"}`, h(auth, ctJSON), nil, 200, ""},
		{"post c string abc", "POST", "/pingapi", `{"ip":"example.com","c":"abc"}`, h(auth, ctJSON), nil, 400, CodeInvalidParameter},
		{"post c bool", "POST", "/pingapi", `{"ip":"example.com","c":true}`, h(auth, ctJSON), nil, 400, CodeInvalidJSON},
		{"post c 0", "POST", "/pingapi", `{"ip":"example.com","c":0}`, h(auth, ctJSON), nil, 422, CodeOutOfRange},
		{"post c \"60\"", "POST", "/pingapi", `{"ip":"example.com","c":"60"}`, h(auth, ctJSON), nil, 422, CodeOutOfRange},
		{"post c 5.5", "POST", "/pingapi", `{"ip":"example.com","c":5.5}`, h(auth, ctJSON), nil, 400, CodeInvalidParameter},
		{"post no ip", "POST", "/pingapi", `{"c":5}`, h(auth, ctJSON), nil, 400, CodeInvalidTarget},
		{"post ip number", "POST", "/pingapi", `{"ip":5}`, h(auth, ctJSON), nil, 400, CodeInvalidJSON},
		{"post array", "POST", "/pingapi", `[1,2]`, h(auth, ctJSON), nil, 400, CodeInvalidJSON},
		{"post bad json", "POST", "/pingapi", `{"ip":`, h(auth, ctJSON), nil, 400, CodeInvalidJSON},
		{"post empty body", "POST", "/pingapi", ``, h(auth, ctJSON), nil, 400, CodeInvalidJSON},
		{"post two objects", "POST", "/pingapi", `{"ip":"example.com"}{}`, h(auth, ctJSON), nil, 400, CodeInvalidJSON},
		{"post no content type", "POST", "/pingapi", `{"ip":"example.com"}`, auth, nil, 415, CodeUnsupportedMedia},
		{"post text/plain", "POST", "/pingapi", `{"ip":"example.com"}`, h(auth, []string{"Content-Type", "text/plain"}), nil, 415, CodeUnsupportedMedia},
		{"post too large", "POST", "/pingapi", big, h(auth, ctJSON), nil, 413, CodeBodyTooLarge},
		{"post denied", "POST", "/pingapi", `{"ip":"::1"}`, h(auth, ctJSON), nil, 403, CodeTargetDenied},
		{"post unauthenticated", "POST", "/pingapi", `{"ip":"example.com"}`, ctJSON, nil, 401, CodeMissingToken},
		{"post malformed query", "POST", "/pingapi?packets=1;stream=1", `{"ip":"example.com"}`, h(auth, ctJSON), nil, 400, CodeInvalidParameter},
		{"post family mismatch", "POST", "/pingapi", `{"ip":"2001:db8::1","family":4}`, h(auth, ctJSON), nil, 400, CodeInvalidTarget},

		{"unknown route", "GET", "/nope", "", nil, nil, 404, CodeNotFound},
		{"wrong method", "PUT", "/pingapi", "", auth, nil, 405, CodeMethodNotAllowed},
		{"delete healthz", "DELETE", "/healthz", "", nil, nil, 405, CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mod)
			w := e.do(tt.method, tt.target, tt.body, tt.hdr...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status < 400 {
				var m wire.Measurement
				if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.CountRequested == 0 || m.IP == "" {
					t.Fatalf("bad measurement %s (%v)", w.Body, err)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if got := decodeEnvelope(t, w.Body.Bytes()); got.Code != tt.code {
				t.Errorf("code %q (%s), want %q", got.Code, got.Message, tt.code)
			}
			switch tt.status {
			case 401:
				if v := w.Header().Get("WWW-Authenticate"); !strings.Contains(v, `Bearer realm="pingapi", error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q", v)
				}
			case 405:
				if w.Header().Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			case 503, 429:
				if w.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			}
			if tt.code == CodeInsufficientScope {
				if v := w.Header().Get("WWW-Authenticate"); v != `Bearer realm="pingapi", error="insufficient_scope", scope="ping:run"` {
					t.Errorf("WWW-Authenticate %q", v)
				}
			}
		})
	}
}

// The probe request carries c, the one-second interval and the echo
// timeout; the summary keeps the original's fields and semantics.
func TestMeasurementDocument(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.Pinger = &fakePinger{ready: true, rtts: []time.Duration{10 * time.Millisecond, -1, 30 * time.Millisecond}}
	})
	w := e.do("GET", "/pingapi/example.com?c=4&packets=true", "", bearer("a")...)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	reqs := e.pinger.requests()
	if len(reqs) != 1 || reqs[0].Count != 4 || reqs[0].Interval != time.Second || reqs[0].Timeout != DefaultEchoTimeout ||
		reqs[0].Target.String() != "192.0.2.10" {
		t.Fatalf("probe requests %+v", reqs)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ip_host": "example.com", "ip": "192.0.2.10", "family": 4.0, "count_requested": 4.0,
		"count_sent": 4.0, "count_received": 2.0, "packet_loss": 50.0, "rtt_min": 10.0, "rtt_max": 30.0, "rtt_mean": 20.0,
		"date_time": "20261122070000"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if p, _ := m["packets"].([]any); len(p) != 4 {
		t.Errorf("packets %v", m["packets"])
	}
}

// A target that never answers is a result, not an error.
func TestNoReplyIs200(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.Pinger = &fakePinger{ready: true} })
	w := e.do("GET", "/pingapi/192.0.2.1?c=3", "", bearer("a")...)
	var m wire.Measurement
	if err := json.Unmarshal(w.Body.Bytes(), &m); w.Code != 200 || err != nil {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if m.PacketLoss != 100 || m.CountReceived != 0 || m.RTTMean != nil || m.Jitter != nil {
		t.Errorf("got %+v", m)
	}
	if !strings.Contains(e.srv.metricsText(t), `pingapi_measurements_total{result="no_reply"} 1`) {
		t.Error("no_reply not counted")
	}
}

// A literal that the policy denies is refused before any lookup, and an
// invalid request (target, parameters, a literal of the other family than
// asked) before admission and anything else.
func TestPolicyBeforeResolve(t *testing.T) {
	called := 0
	e := newEnv(t, func(d *Deps) {
		d.Resolver = countingResolver{&called}
	})
	for _, p := range []string{"/pingapi/127.0.0.1", "/pingapi/bad_name", "/pingapi/192.0.2.1?c=0",
		"/pingapi/192.0.2.1?family=6", "/pingapi/::ffff:192.0.2.1?family=6", "/pingapi/2001:db8::1?family=4"} {
		w := e.do("GET", p, "", bearer("a")...)
		if w.Code < 400 {
			t.Fatalf("%s: %d", p, w.Code)
		}
		if h := w.Header().Get("RateLimit-Limit"); h != "" {
			t.Errorf("%s: admitted (RateLimit-Limit %s) before it was refused", p, h)
		}
	}
	if called != 0 {
		t.Errorf("resolver called %d times", called)
	}
}

// A hostname is measured at the first of its addresses that the policy
// allows; when it allows none, the denial names the host and the reason.
func TestResolvedAddressPolicy(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do("GET", "/pingapi/mixed.test?c=1", "", bearer("a")...)
	if w.Code != 200 {
		t.Fatalf("mixed.test: status %d: %s", w.Code, w.Body)
	}
	if reqs := e.pinger.requests(); len(reqs) != 1 || reqs[0].Target.String() != "192.0.2.11" {
		t.Fatalf("measured %+v, want 192.0.2.11 (the allowed IPv4 address)", reqs)
	}
	w = e.do("GET", "/pingapi/mixed.test?c=1&family=6", "", bearer("a")...)
	if reqs := e.pinger.requests(); w.Code != 200 || len(reqs) != 2 || reqs[1].Target.String() != "2001:db8::11" {
		t.Fatalf("family=6: status %d, measured %+v", w.Code, reqs)
	}
	w = e.do("GET", "/pingapi/denied.test?c=1", "", bearer("a")...)
	d := decodeEnvelope(t, w.Body.Bytes())
	if w.Code != 403 || d.Code != CodeTargetDenied || !strings.Contains(d.Message, "denied.test") || !strings.Contains(d.Message, "private") {
		t.Fatalf("denied.test: status %d %+v", w.Code, d)
	}
}

// The Authorization header is one header parsed by auth.BearerToken (the
// Bearer scheme, one space, a compact JWS of at most auth.MaxTokenBytes);
// the verifier judges the token itself.
func TestAuthorizationHeader(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []string
		status int
		code   string
	}{
		{"ok", []string{"Bearer " + token("a")}, 200, ""},
		{"scheme any case", []string{"bEARER " + token("a")}, 200, ""},
		{"empty", []string{""}, 401, CodeMissingToken},
		{"two headers", []string{"Bearer " + token("a"), "Bearer " + token("b")}, 401, CodeInvalidToken},
		{"rejected by the verifier", []string{"Bearer abc"}, 401, CodeInvalidToken},
		{"not token68", []string{"Bearer a,b"}, 401, CodeInvalidToken},
		{"basic", []string{"Basic YTpi"}, 401, CodeInvalidToken},
		{"two spaces", []string{"Bearer  " + token("a")}, 401, CodeInvalidToken},
		{"padding", []string{"Bearer " + token("a") + "=="}, 401, CodeInvalidToken},
		{"two segments", []string{"Bearer good.a"}, 401, CodeInvalidToken},
		{"largest token", []string{"Bearer " + token(strings.Repeat("a", auth.MaxTokenBytes-len(token(""))))}, 200, ""},
		{"token over MaxTokenBytes", []string{"Bearer " + token(strings.Repeat("a", auth.MaxTokenBytes))}, 401, CodeInvalidToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			req := httptest.NewRequest("GET", "/pingapi/192.0.2.1?c=1", nil)
			for _, v := range tt.values {
				req.Header.Add("Authorization", v)
			}
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if tt.code != "" {
				if d := decodeEnvelope(t, w.Body.Bytes()); d.Code != tt.code {
					t.Errorf("code %q", d.Code)
				}
			}
		})
	}
}

// A body without Content-Length is cut by http.MaxBytesReader.
func TestBodyLimitWithoutLength(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"ip":"192.0.2.1","pad":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	req := httptest.NewRequest("POST", "/pingapi", strings.NewReader(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token("a"))
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if d := decodeEnvelope(t, w.Body.Bytes()); w.Code != 413 || d.Code != CodeBodyTooLarge {
		t.Fatalf("status %d %+v", w.Code, d)
	}
}
