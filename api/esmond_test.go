package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/auth"
)

// esmondEnv is a server with the esmond API over a real SQLite archive in
// a temporary directory, and one archive key.
type esmondEnv struct {
	srv   *Server
	store *archive.Store
	key   string // a live archive key
	logs  *syncBuffer
}

// esmondTestDNS is the fake DNS of the esmond tests: the host names of
// esmond's own test suite, with documentation addresses.
func esmondTestDNS() map[string][]string {
	return map[string][]string{
		"lbl-pt1.es.net":    {"198.51.100.30"},
		"lbl-pt1-v6.es.net": {"2001:db8:201:1150::3"},
		"sacr-pt1.es.net":   {"198.51.100.38", "2001:db8:501:1150::3"},
		"host2.example.net": {"10.1.1.2"},
	}
}

func newEsmondEnv(t testing.TB, mod func(*Deps)) *esmondEnv {
	t.Helper()
	return newEsmondEnvOn(t, archive.BackendSQLite, mod)
}

// newEsmondEnvOn is newEsmondEnv on an archive of backend.
func newEsmondEnvOn(t testing.TB, backend string, mod func(*Deps)) *esmondEnv {
	t.Helper()
	st := openArchive(t, backend)
	key, hash, err := auth.NewArchiveKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIKey(context.Background(), "pscheduler", hash); err != nil {
		t.Fatal(err)
	}
	e := &esmondEnv{store: st, key: key, logs: &syncBuffer{}}
	d := Deps{
		Logger:            slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Verifier:          &fakeVerifier{scopes: []string{auth.ScopeArchiveRead}},
		Resolver:          dnsResolver(esmondTestDNS()),
		Archive:           st,
		ArchiveReadPublic: true,
		Now:               func() time.Time { return time.Unix(1398800000, 0) },
	}
	if mod != nil {
		mod(&d)
	}
	e.srv = New(d)
	return e
}

// do serves one request; hdr are name, value pairs.
func (e *esmondEnv) do(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	return serveOne(e.srv, method, target, body, hdr...)
}

// write sends a write with the archive key, as esmond's client does.
func (e *esmondEnv) write(method, target, body string) *httptest.ResponseRecorder {
	return e.do(method, target, body, "Authorization", "Token "+e.key, "Content-Type", "application/json")
}

// register posts metadata and returns its key.
func (e *esmondEnv) register(t testing.TB, body string) string {
	t.Helper()
	w := e.write(http.MethodPost, "/esmond/perfsonar/archive/", body)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST metadata: %d %s", w.Code, w.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	k, _ := m["metadata-key"].(string)
	return k
}

// wantStatus checks status, the exact Content-Type, and for an error the
// {"detail"} body; it returns the body.
func wantStatus(t testing.TB, w *httptest.ResponseRecorder, status int) string {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if status == http.StatusNoContent {
		return ""
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want exactly application/json", ct)
	}
	if status >= 400 {
		var d map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || len(d) != 1 || d["detail"] == nil || d["detail"] == "" {
			t.Errorf("error body %s, want {\"detail\": \"...\"}", w.Body)
		}
	}
	return w.Body.String()
}

func decodeJSON[T any](t testing.TB, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestEsmondRegister: esmond's test_post_metadata_list. The seed's delay
// registration answers 201 with a 32-hex key and URIs; free-form
// parameters come back as strings, summary windows as strings,
// time-updated null; registering it again answers the same key, 201.
func TestEsmondRegister(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newEsmondEnvOn(t, backend, nil)
		w := e.do(http.MethodPost, "/esmond/perfsonar/archive/", seedDelayMetadata, "Content-Type", "application/json")
		wantStatus(t, w, http.StatusUnauthorized)
		if got := w.Header().Values("WWW-Authenticate"); len(got) == 0 || !strings.HasPrefix(got[0], "Token") {
			t.Errorf("WWW-Authenticate %q", got)
		}

		body := wantStatus(t, e.write(http.MethodPost, "/esmond/perfsonar/archive/", seedDelayMetadata), http.StatusCreated)
		m := decodeJSON[map[string]any](t, body)
		key, _ := m["metadata-key"].(string)
		if !hex32.MatchString(key) {
			t.Fatalf("metadata-key %q", key)
		}
		if m["uri"] != "/esmond/perfsonar/archive/"+key+"/" || m["url"] != "http://example.com/esmond/perfsonar/archive/"+key+"/" {
			t.Errorf("uri %v url %v", m["uri"], m["url"])
		}
		for k, want := range map[string]string{
			"source": "10.1.1.1", "destination": "10.1.1.2", "measurement-agent": "10.1.1.1", "tool-name": "bwctl/ping",
			"subject-type": "point-to-point", "input-source": "host1.example.net", "input-destination": "host2.example.net",
			"ip-transport-protocol": "icmp", "time-probe-interval": "1", "ip-packet-size": "1000", "sample-size": "100",
		} {
			if m[k] != want {
				t.Errorf("%s = %#v, want %q", k, m[k], want)
			}
		}
		ets, _ := m["event-types"].([]any)
		if len(ets) != 8 {
			t.Fatalf("%d event types", len(ets))
		}
		var rtt map[string]any
		for _, x := range ets {
			et := x.(map[string]any)
			if et["time-updated"] != nil {
				t.Errorf("%v: time-updated %v before any data", et["event-type"], et["time-updated"])
			}
			if et["base-uri"] != "/esmond/perfsonar/archive/"+key+"/"+et["event-type"].(string)+"/base" {
				t.Errorf("base-uri %v", et["base-uri"])
			}
			if et["event-type"] == "histogram-rtt" {
				rtt = et
			}
		}
		sums := rtt["summaries"].([]any)
		if len(sums) != 3 {
			t.Fatalf("histogram-rtt summaries %v", sums)
		}
		for _, x := range sums {
			s := x.(map[string]any)
			w, ok := s["summary-window"].(string)
			if !ok {
				t.Errorf("summary-window %#v is not a string", s["summary-window"])
			}
			want := "/esmond/perfsonar/archive/" + key + "/histogram-rtt/" + archive.SummaryURIName(s["summary-type"].(string)) + "/" + w
			if s["uri"] != want || s["time-updated"] != nil {
				t.Errorf("summary %v, want uri %s", s, want)
			}
		}

		// Identical metadata again, on the path without the slash: same key,
		// 201, no redirect.
		again := decodeJSON[map[string]any](t, wantStatus(t, e.write(http.MethodPost, "/esmond/perfsonar/archive", seedDelayMetadata), http.StatusCreated))
		if again["metadata-key"] != key || again["uri"] != m["uri"] {
			t.Errorf("second registration: key %v uri %v, want %s", again["metadata-key"], again["uri"], key)
		}
		// Detail, with and without the slash.
		for _, p := range []string{"/esmond/perfsonar/archive/" + key + "/", "/esmond/perfsonar/archive/" + key, "/esmond/perfsonar/archive/" + key + "/?format=json"} {
			d := decodeJSON[map[string]any](t, wantStatus(t, e.do(http.MethodGet, p, ""), http.StatusOK))
			if d["metadata-key"] != key || d["sample-size"] != "100" {
				t.Errorf("%s: %v", p, d)
			}
		}
	})
}

func TestEsmondRegisterErrors(t *testing.T) {
	e := newEsmondEnv(t, nil)
	base := `"subject-type":"point-to-point","source":"10.1.1.1","destination":"10.1.1.2","measurement-agent":"10.1.1.1","tool-name":"t"`
	for body, status := range map[string]int{
		`{` + base + `,"event-types":[{"event-type":"histogram-rtt","summaries":[{"summary-type":"average","summary-window":60}]}]}`: 400,
		`{` + base + `,"source":"host1.example.net","event-types":[]}`:                                                               400,
		`{` + base + `,"subject-type":"network-element","event-types":[]}`:                                                           400,
		`{` + base + `,"event-types":[{"event-type":"bogus"}]}`:                                                                      400,
		`not json`: 400,
		`{` + base + `,"uri":"/x","event-types":[]}`: 400,
	} {
		wantStatus(t, e.write(http.MethodPost, "/esmond/perfsonar/archive/", body), status)
	}
	w := e.do(http.MethodPost, "/esmond/perfsonar/archive/", `{}`, "Authorization", "Token "+e.key, "Content-Type", "text/plain")
	wantStatus(t, w, http.StatusUnsupportedMediaType)
}

// pingMetadata is a ping registration like pingapi's own.
func pingMetadata(src, dst, tool string) string {
	return `{"subject-type":"point-to-point","source":"` + src + `","destination":"` + dst + `","measurement-agent":"` + src + `",
	 "tool-name":"` + tool + `","input-destination":"` + dst + `","ip-transport-protocol":"icmp",
	 "event-types":[{"event-type":"packet-count-sent"},{"event-type":"histogram-rtt","summaries":[{"summary-type":"statistics","summary-window":"0"}]},
	  {"event-type":"throughput","summaries":[{"summary-type":"average","summary-window":86400}]}]}`
}

// TestEsmondSearch: esmond's test_get_metadata_list, on pingapi's data:
// filters, DNS match rules through the injected resolver, time filters,
// and paging with the counts in the first element and a Link header.
func TestEsmondSearch(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newEsmondEnvOn(t, backend, nil)
		v4 := e.register(t, pingMetadata("198.51.100.30", "10.1.1.2", "pingapi/ping"))
		v6 := e.register(t, pingMetadata("2001:db8:201:1150::3", "10.1.1.2", "pingapi/ping"))
		s4 := e.register(t, pingMetadata("198.51.100.38", "10.1.1.3", "pingapi/monitor"))
		s6 := e.register(t, pingMetadata("2001:db8:501:1150::3", "10.1.1.3", "pingapi/monitor"))
		if w := e.write(http.MethodPost, "/esmond/perfsonar/archive/"+v4+"/packet-count-sent/base", `{"ts":1398798965,"val":10}`); w.Code != 201 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		search := func(q string) []string {
			t.Helper()
			w := e.do(http.MethodGet, "/esmond/perfsonar/archive/?"+q, "")
			body := wantStatus(t, w, http.StatusOK)
			if w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: no Access-Control-Allow-Origin: *", q)
			}
			var keys []string
			for _, m := range decodeJSON[[]map[string]any](t, body) {
				keys = append(keys, m["metadata-key"].(string))
			}
			return keys
		}
		same := func(q string, got []string, want ...string) {
			t.Helper()
			if strings.Join(sorted(got), ",") != strings.Join(sorted(want), ",") {
				t.Errorf("%s: got %v, want %v", q, got, want)
			}
		}
		for q, want := range map[string][]string{
			"":                      {v4, v6, s4, s6},
			"source=198.51.100.30":  {v4},
			"source=lbl-pt1.es.net": {v4},
			"source=lbl-pt1.es.net&dns-match-rule=only-v4":                      {v4},
			"source=lbl-pt1.es.net&dns-match-rule=prefer-v6":                    {v4},
			"source=lbl-pt1-v6.es.net":                                          {v6},
			"source=sacr-pt1.es.net":                                            {s4, s6},
			"source=sacr-pt1.es.net&dns-match-rule=v4v6":                        {s4, s6},
			"source=sacr-pt1.es.net&dns-match-rule=only-v6":                     {s6},
			"source=sacr-pt1.es.net&dns-match-rule=prefer-v4":                   {s4},
			"source=sacr-pt1.es.net&dns-match-rule=prefer-v6":                   {s6},
			"destination=host2.example.net":                                     {v4, v6},
			"measurement-agent=2001:db8:501:1150::3":                            {s6},
			"tool-name=pingapi/monitor":                                         {s4, s6},
			"input-destination=10.1.1.3":                                        {s4, s6},
			"event-type=histogram-rtt&summary-type=statistics&summary-window=0": {v4, v6, s4, s6},
			"summary-type=average&summary-window=3600":                          {},
			"ip-transport-protocol=icmp":                                        {v4, v6, s4, s6},
			"ip-transport-protocol=tcp":                                         {},
			"time=1398798965":                                                   {v4},
			"time-start=1398798900":                                             {v4},
			"time-end=1398798900":                                               {},
			"time-start=1398798900&time-range=60":                               {},
			"time-end=1398799000&time-range=60":                                 {v4},
			"metadata-key=" + s6:                                                {s6},
			"metadata-key=" + s6 + "&tool-name=pingapi/ping":                    {},
			"metadata-key=" + s6 + "&source=sacr-pt1.es.net":                    {s6},
			"metadata-key=0123":                                                 {},
		} {
			same(q, search(q), want...)
		}
		for _, q := range []string{"source=lbl-pt1.es.net&dns-match-rule=only-v6", "source=lbl-pt1-v6.es.net&dns-match-rule=only-v4", "source=nx.example"} {
			wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?"+q, ""), http.StatusBadRequest)
		}

		// Paging: esmond's limit/offset counts, the paging fields in the
		// first element, and the Link header.
		for q, n := range map[string]int{"limit=1": 1, "limit=2": 2, "offset=1": 3, "offset=0&limit=3": 3, "offset=3&limit=3": 1, "offset=9": 0} {
			if got := search(q); len(got) != n {
				t.Errorf("%s: %d records, want %d", q, len(got), n)
			}
		}
		w := e.do(http.MethodGet, "/esmond/perfsonar/archive/?limit=1&offset=1&tool-name=pingapi/ping", "")
		page := decodeJSON[[]map[string]any](t, wantStatus(t, w, http.StatusOK))
		if len(page) != 1 || page[0]["metadata-count-total"] != 2.0 ||
			page[0]["metadata-previous-page"] != "http://example.com/esmond/perfsonar/archive/?limit=1&tool-name=pingapi%2Fping" ||
			page[0]["metadata-next-page"] != nil {
			t.Errorf("paging fields: %v %v %v", page[0]["metadata-count-total"], page[0]["metadata-previous-page"], page[0]["metadata-next-page"])
		}
		if l := w.Header().Get("Link"); l != `<http://example.com/esmond/perfsonar/archive/?limit=1&tool-name=pingapi%2Fping>; rel="prev"` {
			t.Errorf("Link %q", l)
		}
		w = e.do(http.MethodGet, "/esmond/perfsonar/archive?limit=1", "")
		page = decodeJSON[[]map[string]any](t, wantStatus(t, w, http.StatusOK))
		if page[0]["metadata-count-total"] != 4.0 || page[0]["metadata-next-page"] != "http://example.com/esmond/perfsonar/archive?limit=1&offset=1" || page[0]["metadata-previous-page"] != nil {
			t.Errorf("first page: %v %v %v", page[0]["metadata-count-total"], page[0]["metadata-next-page"], page[0]["metadata-previous-page"])
		}
		if !strings.Contains(w.Header().Get("Link"), `rel="next"`) {
			t.Errorf("Link %q", w.Header().Get("Link"))
		}
		if w := e.do(http.MethodGet, "/esmond/perfsonar/archive/?tool-name=nothing", ""); strings.TrimSpace(w.Body.String()) != "[]" {
			t.Errorf("no match: %s", w.Body)
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestEsmondResolverTimeout: a slow resolver is bounded by ResolveTimeout
// and answers 504, not a hang or a 500.
func TestEsmondResolverTimeout(t *testing.T) {
	slow := dnsResolver(nil)
	slow.Lookup = func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	e := newEsmondEnv(t, func(d *Deps) { d.Resolver = slow; d.ResolveTimeout = time.Millisecond })
	wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?destination=slow.example", ""), http.StatusGatewayTimeout)
}

// TestEsmondBareRoot: the API also answers under /perfsonar/ (esmond
// without its /esmond script alias, as its own test suite calls it), with
// URIs under the root the request used.
func TestEsmondBareRoot(t *testing.T) {
	e := newEsmondEnv(t, nil)
	w := e.write(http.MethodPost, "/perfsonar/archive/", pingMetadata("10.1.1.1", "10.1.1.2", "t"))
	m := decodeJSON[map[string]any](t, wantStatus(t, w, http.StatusCreated))
	key := m["metadata-key"].(string)
	if m["uri"] != "/perfsonar/archive/"+key+"/" || m["url"] != "http://example.com/perfsonar/archive/"+key+"/" {
		t.Errorf("uri %v url %v", m["uri"], m["url"])
	}
	et := m["event-types"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(et["base-uri"].(string), "/perfsonar/archive/"+key+"/") {
		t.Errorf("base-uri %v", et["base-uri"])
	}
	// The same record under /esmond/ has /esmond/ URIs.
	d := decodeJSON[map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key, ""), http.StatusOK))
	if d["uri"] != "/esmond/perfsonar/archive/"+key+"/" {
		t.Errorf("under /esmond/: uri %v", d["uri"])
	}
	wantStatus(t, e.write(http.MethodPost, "/perfsonar/archive/"+key+"/packet-count-sent/base/", `{"ts": 60, "val": 6000}`), http.StatusCreated)
	if got := decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/perfsonar/archive/"+key+"/packet-count-sent/base?limit=1000", ""), http.StatusOK)); len(got) != 1 || got[0]["ts"] != 60.0 {
		t.Errorf("read under /perfsonar/: %v", got)
	}
	root := decodeJSON[map[string]string](t, wantStatus(t, e.do(http.MethodGet, "/perfsonar/", ""), http.StatusOK))
	if root["archive"] != "http://example.com/perfsonar/archive/" {
		t.Errorf("API root %v", root)
	}
	wantStatus(t, e.do(http.MethodGet, "/perfsonar/archive/?limit=x", ""), http.StatusBadRequest)
	wantStatus(t, e.do(http.MethodGet, "/perfsonar/nothing", ""), http.StatusNotFound)
}
