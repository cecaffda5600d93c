package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/wire"
)

// monitorResolve resolves "hN.test" to 192.0.2.N and "loop.test" to
// 127.0.0.5; "servfail.test" is a resolver failure, "timeout.test" a
// resolver timeout; everything else does not exist.
func monitorResolve(ctx context.Context, name string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a, nil
	}
	switch name {
	case "loop.test":
		return netip.MustParseAddr("127.0.0.5"), nil
	case "servfail.test":
		return netip.Addr{}, fmt.Errorf("%w: %s: server misbehaving", target.ErrLookup, name)
	case "timeout.test":
		return netip.Addr{}, fmt.Errorf("%w: %s", target.ErrTimeout, name)
	}
	var n int
	if _, err := fmt.Sscanf(name, "h%d.test", &n); err == nil && n < 256 {
		return netip.AddrFrom4([4]byte{192, 0, 2, byte(n)}), nil
	}
	return netip.Addr{}, errors.New("no such host")
}

func monitorLookupAll(ctx context.Context, name string) ([]netip.Addr, error) {
	a, err := monitorResolve(ctx, name)
	if err != nil {
		return nil, err
	}
	return []netip.Addr{a}, nil
}

// newMonitorEnv serves a monitor of the immutable hosts 192.0.2.1,
// 192.0.2.2 and h3.test, probed once (3 requests: 1, 2 and 3 ms), plus the
// never-probed 192.0.2.9 added through the API.
func newMonitorEnv(t testing.TB, store *monitor.Store, mod func(*Deps)) *env {
	t.Helper()
	p := &fakePinger{ready: true, rtts: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}}
	m, err := monitor.New(monitor.Options{
		Settings:  monitor.Settings{ProbeInterval: 10 * time.Second, PingCount: 3, PingInterval: time.Second, Tolerance: 0, DataLength: 56, Listen: "localhost:8080"},
		Immutable: []string{"192.0.2.1", "192.0.2.2", "h3.test"},
		Pinger:    p, Store: store, Resolve: monitorResolve, LookupAll: monitorLookupAll, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	m.ProbeOnce(t.Context())
	if err := m.Add(t.Context(), "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	return newEnv(t, func(d *Deps) {
		d.Pinger = p
		d.Monitor = m
		if mod != nil {
			mod(d)
		}
	})
}

// monitorBody decodes the monitor error format and checks both shapes.
func monitorBody(t *testing.T, body string) (code, msg string, index int) {
	t.Helper()
	var b struct {
		Error   struct{ Code, Message string } `json:"error"`
		Message string                         `json:"message"`
		Index   int                            `json:"index"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if b.Message != b.Error.Message || b.Message == "" {
		t.Errorf("top-level message %q differs from the envelope's %q", b.Message, b.Error.Message)
	}
	return b.Error.Code, b.Message, b.Index
}

func TestMonitorRoutes(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	auth := bearer("alice")
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // substring of the body (success) or the error code
	}{
		{"id", "GET", "/id", "", 200, `"package":"pingapi","version":"test","pid":`},
		{"id attr", "GET", "/id/package", "", 200, `"pingapi"`},
		{"id pid", "GET", "/id/pid", "", 200, fmt.Sprint(os.Getpid())},
		{"id bad attr", "GET", "/id/color", "", 404, CodeNoSuchAttribute},
		{"host", "GET", "/host/192.0.2.1", "", 200,
			`[{"name":"192.0.2.1","validity":true,"status":"valid","xmit-timestamp":1795330802,"start-timestamp":1795330800,"stop-timestamp":1795330803,"xmit":3,"recv":3,"loss":0,"tmin":1,"tmax":3,"avg":2,"stddev":0.816,"jitter":1,"dup":0,"alive":true}]`},
		{"host attr", "GET", "/host/192.0.2.1?attr=name,alive,jitter", "", 200, `[{"name":"192.0.2.1","jitter":1,"alive":true}]`},
		{"host select", "GET", "/host/h3.test?select=192.0.2.7,192.0.2.2&attr=name", "", 200, `[{"name":"h3.test"},{"name":"192.0.2.2"}]`},
		{"host select only", "GET", "/host?select=192.0.2.2&attr=name", "", 200, `[{"name":"192.0.2.2"}]`},
		{"host not monitored", "GET", "/host/192.0.2.200", "", 404, CodeNotMonitored},
		{"host queued not yet", "GET", "/host/192.0.2.9", "", 404, CodeNotMonitored},
		{"host bad attr", "GET", "/host/192.0.2.1?attr=name,colour", "", 400, CodeInvalidParameter},
		{"hosts", "GET", "/host?attr=name", "", 200, `[{"name":"192.0.2.1"},{"name":"192.0.2.2"},{"name":"h3.test"}]`},
		{"hosts page", "GET", "/host?attr=name&limit=1&offset=1", "", 200, `[{"name":"192.0.2.2"}]`},
		{"hosts past end", "GET", "/host?limit=5&offset=10", "", 200, `[]`},
		{"hosts bad limit", "GET", "/host?limit=0", "", 400, CodeInvalidParameter},
		{"hosts bad offset", "GET", "/host?offset=x", "", 400, CodeInvalidParameter},
		{"match ip", "GET", "/match/192.0.2.3", "", 200, `[{"name":"192.0.2.3","hosts":["h3.test"]}]`},
		{"match name", "GET", "/match/h1.test?select=192.0.2.5", "", 200, `[{"name":"h1.test","hosts":["192.0.2.1"]},{"name":"192.0.2.5","hosts":[]}]`},
		{"match select only", "GET", "/match?select=h2.test", "", 200, `[{"name":"h2.test","hosts":["192.0.2.2"]}]`},
		{"match unresolvable", "GET", "/match/nowhere.test", "", 200, `[{"name":"nowhere.test","hosts":[],"error":"cannot resolve nowhere.test"}]`},
		{"match nothing", "GET", "/match", "", 400, CodeInvalidParameter},
		{"config", "GET", "/config", "", 200,
			`{"probe-interval":10,"ping-count":3,"ping-interval":1,"tolerance":0,"data-length":56,"listen":"localhost:8080","ip-list":["192.0.2.1","192.0.2.2","h3.test","192.0.2.9"],"immutable-ip-list":["192.0.2.1","192.0.2.2","h3.test"],"mutable-ip-list":["192.0.2.9"]}`},
		{"config keyword", "GET", "/config/ping-count", "", 200, `3`},
		{"config ip-list", "GET", "/config/ip-list", "", 200, `["192.0.2.1","192.0.2.2","h3.test","192.0.2.9"]`},
		{"config bad keyword", "GET", "/config/colour", "", 404, CodeNoSuchAttribute},
		{"get on the PUT route", "GET", "/config/ip-list/192.0.2.1", "", 405, CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.method, tt.path, tt.body, auth...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			body := strings.TrimSpace(w.Body.String())
			if tt.status >= 400 && tt.status != 405 {
				if code, _, _ := monitorBody(t, body); code != tt.want {
					t.Errorf("code %q, want %q: %s", code, tt.want, body)
				}
				return
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("body\n%s\nwant it to contain\n%s", body, tt.want)
			}
		})
	}
}

func TestMonitorHostPaging(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	w := e.do("GET", "/host?limit=2&attr=name", "", bearer("a")...)
	if w.Code != 200 || w.Header().Get("X-Total-Count") != "3" {
		t.Fatalf("status %d, X-Total-Count %q", w.Code, w.Header().Get("X-Total-Count"))
	}
	if link := w.Header().Get("Link"); link != `</host?attr=name&limit=2&offset=2>; rel="next"` {
		t.Errorf("Link %q", link)
	}
	w = e.do("GET", "/host?limit=2&offset=2", "", bearer("a")...)
	if w.Header().Get("Link") != "" {
		t.Errorf("Link on the last page: %q", w.Header().Get("Link"))
	}
	var recs []wire.Record
	if err := json.Unmarshal(w.Body.Bytes(), &recs); err != nil || len(recs) != 1 || recs[0].Name != "h3.test" || !recs[0].Validity {
		t.Fatalf("last page: %v %+v", err, recs)
	}
}

func TestMonitorUpdates(t *testing.T) {
	store := monitor.NewStore(t.TempDir())
	e := newMonitorEnv(t, store, nil)
	auth := append(bearer("a"), "Content-Type", "application/json")
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
		index                    int
	}{
		{"put", "PUT", "/config/ip-list/192.0.2.10", "", 201, "", 0},
		{"put hostname", "PUT", "/config/ip-list/h11.test", "", 201, "", 0},
		{"put again", "PUT", "/config/ip-list/192.0.2.10", "", 403, CodeAlreadyMonitored, 0},
		{"put immutable", "PUT", "/config/ip-list/192.0.2.1", "", 403, CodeAlreadyMonitored, 0},
		{"put unresolvable", "PUT", "/config/ip-list/nowhere.test", "", 403, CodeUnresolvableHost, 0},
		{"put invalid", "PUT", "/config/ip-list/-x-", "", 400, CodeInvalidTarget, 0},
		{"delete", "DELETE", "/config/ip-list/192.0.2.10", "", 200, "", 0},
		{"delete again", "DELETE", "/config/ip-list/192.0.2.10", "", 404, CodeNotMonitored, 0},
		{"delete immutable", "DELETE", "/config/ip-list/192.0.2.1", "", 404, CodeImmutable, 0},
		{"post array", "POST", "/config/ip-list", `["192.0.2.20","h21.test"]`, 200, "", 0},
		{"post object append", "POST", "/config/ip-list", `{"ip-list":["192.0.2.22"],"mode":"append"}`, 200, "", 0},
		{"post bad element", "POST", "/config/ip-list", `["192.0.2.30","not a host"]`, 400, CodeInvalidTarget, 2},
		{"post unresolvable element", "POST", "/config/ip-list", `{"ip-list":["192.0.2.30","h1.test","nowhere.test"],"mode":"replace"}`, 403, CodeUnresolvableHost, 3},
		{"post non-string", "POST", "/config/ip-list", `["192.0.2.30",7]`, 400, CodeInvalidTarget, 2},
		{"post bad element before a non-string", "POST", "/config/ip-list", `["192.0.2.30","not a host",7]`, 400, CodeInvalidTarget, 2},
		{"post unresolvable element before a non-string", "POST", "/config/ip-list", `["nowhere.test",7]`, 403, CodeUnresolvableHost, 1},
		{"post bad mode", "POST", "/config/ip-list", `{"ip-list":[],"mode":"merge"}`, 400, CodeInvalidParameter, 0},
		{"post no list", "POST", "/config/ip-list", `{"mode":"append"}`, 400, CodeInvalidJSON, 0},
		{"post bad json", "POST", "/config/ip-list", `[1,`, 400, CodeInvalidJSON, 0},
		{"post scalar", "POST", "/config/ip-list", `"192.0.2.1"`, 400, CodeInvalidJSON, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.method, tt.path, tt.body, auth...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.code == "" {
				return
			}
			if code, _, index := monitorBody(t, w.Body.String()); code != tt.code || index != tt.index {
				t.Errorf("code %q index %d, want %q %d: %s", code, index, tt.code, tt.index, w.Body)
			}
		})
	}
	want := []string{"192.0.2.9", "h11.test", "192.0.2.20", "h21.test", "192.0.2.22"}
	saved, err := store.Load()
	if err != nil || strings.Join(saved, " ") != strings.Join(want, " ") {
		t.Fatalf("saved list %q %v, want %q", saved, err, want)
	}
	w := e.do("POST", "/config/ip-list", `{"ip-list":["192.0.2.40"],"mode":"replace"}`, auth...)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"mutable":1`) {
		t.Fatalf("replace: %d %s", w.Code, w.Body)
	}
	w = e.do("POST", "/config/ip-list", `["192.0.2.41"]`, append(bearer("a"), "Content-Type", "text/plain")...)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain body: %d", w.Code)
	}
}

func TestMonitorSaveFailure(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	store := monitor.NewStore(file)
	e := newEnv(t, nil)
	m, err := monitor.New(monitor.Options{Pinger: e.pinger, Store: store, Resolve: monitorResolve})
	if err != nil {
		t.Fatal(err)
	}
	// The data directory turns into a file: every save now fails.
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, func(d *Deps) { d.Monitor = m })
	w := e.do("PUT", "/config/ip-list/192.0.2.1", "", bearer("a")...)
	if w.Code != 500 {
		t.Fatalf("status %d, want 500: %s", w.Code, w.Body)
	}
	if code, msg, _ := monitorBody(t, w.Body.String()); code != CodeInternal || strings.Contains(msg, "not-a-dir") {
		t.Errorf("code %q message %q: want internal without the cause", code, msg)
	}
	if !strings.Contains(e.logs.String(), "not-a-dir") {
		t.Errorf("the cause is not logged: %s", e.logs.String())
	}
}

func TestMonitorAuth(t *testing.T) {
	e := newMonitorEnv(t, nil, func(d *Deps) {
		d.Verifier = &fakeVerifier{scopes: []string{"monitor:read"}}
		d.MonitorReadScope, d.MonitorWriteScope = "monitor:read", "monitor:write"
	})
	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
	}{
		{"no token", "GET", "/host", nil, 401},
		{"bad token", "GET", "/id", []string{"Authorization", "Bearer nope"}, 401},
		{"read without scope", "GET", "/config", []string{"Authorization", "Bearer noscope.x.y"}, 403},
		{"read with scope", "GET", "/config", bearer("a"), 200},
		{"write with read scope", "PUT", "/config/ip-list/192.0.2.50", bearer("a"), 403},
		{"delete with read scope", "DELETE", "/config/ip-list/192.0.2.9", bearer("a"), 403},
		{"post with read scope", "POST", "/config/ip-list", bearer("a"), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := e.do(tt.method, tt.path, "", tt.hdr...); w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
		})
	}
}

func TestMonitorHostStream(t *testing.T) {
	names := make([]string, 3000)
	for i := range names {
		names[i] = fmt.Sprintf("10.9.%d.%d", i/250, i%250+1)
	}
	e := newEnv(t, nil)
	m, err := monitor.New(monitor.Options{Pinger: e.pinger, Immutable: names})
	if err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, func(d *Deps) { d.Monitor = m })
	w := e.do("GET", "/host", "", bearer("a")...)
	if w.Code != 200 || !w.Flushed {
		t.Fatalf("status %d flushed %v: want 200, streamed", w.Code, w.Flushed)
	}
	var recs []wire.Record
	if err := json.Unmarshal(w.Body.Bytes(), &recs); err != nil || len(recs) != len(names) {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for i, r := range recs {
		if r.Name != names[i] || r.Status != wire.StatusInit || r.Validity {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}

func TestMonitorPostTooLarge(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	body := `["` + strings.Repeat("a", DefaultMonitorMaxBody) + `"]`
	w := e.do("POST", "/config/ip-list", body, append(bearer("a"), "Content-Type", "application/json")...)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
	if code, _, _ := monitorBody(t, w.Body.String()); code != CodeBodyTooLarge {
		t.Errorf("code %q", code)
	}
}

// BenchmarkMonitorHostStream serves GET /host for 100,000 hosts.
func BenchmarkMonitorHostStream(b *testing.B) {
	names := make([]string, 100000)
	for i := range names {
		names[i] = fmt.Sprintf("10.%d.%d.%d", i/62500, i/250%250, i%250+1)
	}
	e := newEnv(b, nil)
	m, err := monitor.New(monitor.Options{Pinger: e.pinger, Immutable: names})
	if err != nil {
		b.Fatal(err)
	}
	e = newEnv(b, func(d *Deps) { d.Monitor = m })
	b.ReportAllocs()
	for b.Loop() {
		w := e.do("GET", "/host", "", bearer("a")...)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}
