package api

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/tcpecho"
	"github.com/pingapi/pingapi/pkg/wire"
)

// fakeDashArchive is an in-memory DashboardArchive for the aggregation
// tests (the browser tests run against the real archive).
type fakeDashArchive struct {
	samples map[string][]archive.Measurement
	windows map[string][]archive.WindowStats // by target; any size
	n       atomic.Int64                     // reads
}

func (f *fakeDashArchive) reads() int { return int(f.n.Load()) }

func (f *fakeDashArchive) Measurements(ctx context.Context, q archive.SeriesQuery, from, to time.Time, limit int) ([]archive.Measurement, error) {
	f.n.Add(1)
	var out []archive.Measurement
	for _, s := range f.samples[q.Target] {
		if !s.Time.Before(from) && s.Time.Before(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeDashArchive) Windows(ctx context.Context, q archive.SeriesQuery, from, to time.Time, window time.Duration) ([]archive.WindowStats, error) {
	f.n.Add(1)
	var out []archive.WindowStats
	for _, w := range f.windows[q.Target] {
		if !w.Start.Before(from) && w.Start.Before(to) {
			out = append(out, w)
		}
	}
	return out, nil
}

// SearchMetadata and Data: the fake holds no esmond data.
func (f *fakeDashArchive) SearchMetadata(ctx context.Context, q archive.Filter) ([]archive.Metadata, int, error) {
	return nil, 0, nil
}

func (f *fakeDashArchive) Data(ctx context.Context, q archive.DataQuery) ([]archive.Point, error) {
	return nil, archive.ErrNotFound
}

// dashNow is the fixed clock of the dashboard tests: 12:00:00 UTC.
var dashNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// minuteSamples returns one measurement a minute over [from, from+n min):
// 10 echoes of 1..10 ms, except every 10th minute, which lost them all.
func minuteSamples(from time.Time, n int) []archive.Measurement {
	out := make([]archive.Measurement, 0, n)
	for i := range n {
		s := archive.Measurement{Time: from.Add(time.Duration(i) * time.Minute), Sent: 10}
		for k := 1; k <= 10; k++ {
			rtt := time.Duration(k) * time.Millisecond
			if i%10 == 9 {
				rtt = archive.Lost
			}
			s.RTTs = append(s.RTTs, rtt)
		}
		out = append(out, s)
	}
	return out
}

type seriesJSON struct {
	Target     string     `json:"target"`
	Resolution string     `json:"resolution"`
	Step       int64      `json:"step"`
	T          []int64    `json:"t"`
	P5, P50    []*float64 `json:"-"`
	Cols       map[string][]*float64
	Fail       []int `json:"fail"`
}

func decodeSeries(t *testing.T, body string) seriesJSON {
	t.Helper()
	var s seriesJSON
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("series: %v\n%s", err, body)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal([]byte(body), &raw)
	s.Cols = map[string][]*float64{}
	for _, k := range []string{"p5", "p25", "p50", "p75", "p95", "loss", "jitter"} {
		var col []*float64
		if err := json.Unmarshal(raw[k], &col); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if len(col) != len(s.T) {
			t.Fatalf("%s has %d values for %d times", k, len(col), len(s.T))
		}
		s.Cols[k] = col
	}
	return s
}

func dashEnv(t *testing.T, a *fakeDashArchive, public bool) *env {
	t.Helper()
	return newMonitorEnv(t, nil, func(d *Deps) {
		if a != nil {
			d.DashboardArchive = a
		}
		d.ArchiveReadPublic = public
		d.Now = func() time.Time { return dashNow }
	})
}

func TestDashboardSeries(t *testing.T) {
	day := dashNow.Add(-24 * time.Hour)
	a := &fakeDashArchive{samples: map[string][]archive.Measurement{"192.0.2.1": minuteSamples(day, 1440)}}
	// Two hours without data: a gap.
	s := a.samples["192.0.2.1"]
	a.samples["192.0.2.1"] = append(s[:600:600], s[720:]...)
	e := dashEnv(t, a, true)

	t.Run("raw, one point per measurement", func(t *testing.T) {
		q := "/dashboard/api/host/192.0.2.1/series?from=" + strconv.FormatInt(dashNow.Add(-time.Hour).Unix(), 10) + "&to=" + strconv.FormatInt(dashNow.Unix(), 10)
		w := e.do(http.MethodGet, q, "")
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		got := decodeSeries(t, w.Body.String())
		if got.Resolution != "raw" || len(got.T) != 60 {
			t.Fatalf("resolution %s, %d points; want raw, 60", got.Resolution, len(got.T))
		}
		// Nearest rank over 1..10 ms: p5 = 1, p50 = 5, p95 = 10.
		if p := got.Cols["p5"][0]; p == nil || *p != 1 {
			t.Errorf("p5 = %v, want 1", p)
		}
		if p := got.Cols["p50"][0]; p == nil || *p != 5 {
			t.Errorf("p50 = %v, want 5", p)
		}
		if p := got.Cols["p95"][0]; p == nil || *p != 10 {
			t.Errorf("p95 = %v, want 10", p)
		}
		fails := 0
		for i, f := range got.Fail {
			fails += f
			if f > 0 && (got.Cols["p50"][i] != nil || *got.Cols["loss"][i] != 100) {
				t.Errorf("point %d: failed measurement has median %v, loss %v", i, got.Cols["p50"][i], *got.Cols["loss"][i])
			}
		}
		if fails != 6 {
			t.Errorf("%d failures marked, want 6", fails)
		}
	})

	t.Run("compressed", func(t *testing.T) {
		w := e.do(http.MethodGet, "/dashboard/api/host/192.0.2.1/series", "", "Accept-Encoding", "gzip")
		if w.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("not compressed for a client that accepts gzip: %v", w.Header())
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeSeries(t, string(body)); len(got.T) < 800 {
			t.Errorf("%d points", len(got.T))
		}
	})

	t.Run("24 h at 100 px is bucketed, with a gap", func(t *testing.T) {
		w := e.do(http.MethodGet, "/dashboard/api/host/192.0.2.1/series?width=100", "")
		got := decodeSeries(t, w.Body.String())
		if len(got.T) > 101+2 || len(got.T) < 80 {
			t.Fatalf("%d points for width 100", len(got.T))
		}
		if got.Step != 864 {
			t.Errorf("step %d s, want 864", got.Step)
		}
		gaps := 0
		for i := range got.T {
			if got.Cols["p50"][i] == nil && got.Cols["loss"][i] == nil {
				gaps++
			}
		}
		if gaps != 1 {
			t.Errorf("%d gaps, want 1 (the two hours without data)", gaps)
		}
		// A bucket of 14-15 minutes holds one all-lost measurement or two:
		// loss 100 × lost/sent is between 6 and 15 %.
		if l := got.Cols["loss"][0]; l == nil || *l < 6 || *l > 15 {
			t.Errorf("loss of the first bucket = %v", l)
		}
	})

	t.Run("ranges pick their source", func(t *testing.T) {
		for _, tt := range []struct {
			span time.Duration
			res  string
		}{{time.Hour, "raw"}, {7 * 24 * time.Hour, "raw"}, {30 * 24 * time.Hour, "hour"}, {365 * 24 * time.Hour, "day"}} {
			q := "/dashboard/api/host/192.0.2.1/series?from=" + strconv.FormatInt(dashNow.Add(-tt.span).Unix(), 10)
			got := decodeSeries(t, e.do(http.MethodGet, q, "").Body.String())
			if got.Resolution != tt.res {
				t.Errorf("%v: resolution %s, want %s", tt.span, got.Resolution, tt.res)
			}
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"from=abc", "from=10&to=5", "width=3", "width=x", "to=-1", "from=0&to=9999999999999"} {
			w := e.do(http.MethodGet, "/dashboard/api/host/192.0.2.1/series?"+q, "")
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), CodeInvalidParameter) {
				t.Errorf("%s: %d %s", q, w.Code, w.Body)
			}
		}
	})
}

func TestDashboardWindows(t *testing.T) {
	var ws []archive.WindowStats
	start := dashNow.Add(-365 * 24 * time.Hour).Truncate(24 * time.Hour)
	for d := 0; d < 365; d++ {
		if d == 100 || d == 101 {
			continue // no data: a gap
		}
		ws = append(ws, archive.WindowStats{Start: start.Add(time.Duration(d) * 24 * time.Hour), Measurements: 1440, Sent: 14400, Received: 14400 - 144,
			Loss: 1, P5: time.Millisecond, P25: 2 * time.Millisecond, Median: 3 * time.Millisecond, P75: 4 * time.Millisecond, P95: 5 * time.Millisecond,
			Jitter: time.Millisecond / 2})
	}
	a := &fakeDashArchive{windows: map[string][]archive.WindowStats{"192.0.2.1": ws}}
	e := dashEnv(t, a, true)
	q := "/dashboard/api/host/192.0.2.1/series?from=" + strconv.FormatInt(dashNow.Add(-365*24*time.Hour).Unix(), 10)
	got := decodeSeries(t, e.do(http.MethodGet, q, "").Body.String())
	if got.Resolution != "day" || len(got.T) != 364 { // 363 windows and one gap
		t.Fatalf("resolution %s, %d points; want day, 364", got.Resolution, len(got.T))
	}
	if l := got.Cols["loss"][0]; l == nil || math.Abs(*l-1) > 1e-9 {
		t.Errorf("loss %v, want 1", l)
	}
	if j := got.Cols["jitter"][0]; j == nil || *j != 0.5 {
		t.Errorf("jitter %v, want 0.5", j)
	}
}

func TestDashboardOverview(t *testing.T) {
	hour := dashNow.Truncate(time.Hour)
	a := &fakeDashArchive{
		windows: map[string][]archive.WindowStats{"192.0.2.1": {
			{Start: hour.Add(-23 * time.Hour), Sent: 600, Received: 600, Median: 7 * time.Millisecond},
			{Start: hour, Sent: 100, Received: 50, Loss: 50, Median: 9 * time.Millisecond},
		}},
		samples: map[string][]archive.Measurement{"192.0.2.1": {{Time: dashNow.Add(-time.Minute), Sent: 3, RTTs: []time.Duration{4e6, 2e6, 3e6}}}},
	}
	e := dashEnv(t, a, true)
	var doc struct {
		First    int64   `json:"first"`
		Hours    int     `json:"hours"`
		Complete bool    `json:"complete"`
		Hosts    [][]any `json:"hosts"`
	}
	// The first load answers at once, incomplete, and reads the history in
	// the background; the page asks again until it is complete.
	deadline := time.Now().Add(10 * time.Second)
	for loads := 0; !doc.Complete; loads++ {
		w := e.do(http.MethodGet, "/dashboard/api/hosts", "")
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if loads == 0 && doc.Complete {
			t.Error("the first load says it is complete before reading the archive")
		}
		if time.Now().After(deadline) {
			t.Fatal("never complete")
		}
		time.Sleep(time.Millisecond) // polling, not a timing assertion
	}
	if doc.Hours != 24 || doc.First != hour.Add(-23*time.Hour).Unix() || len(doc.Hosts) != 3 {
		t.Fatalf("first %d hours %d hosts %d", doc.First, doc.Hours, len(doc.Hosts))
	}
	h := doc.Hosts[0]
	if len(h) != 9 || h[0] != "192.0.2.1" || h[1] != "alive" || h[2] != 3.0 {
		t.Fatalf("row %v: want 192.0.2.1, alive, median of the latest measurement 3 ms", h)
	}
	// Medians 7 ms (hour 0) and 9 ms (hour 23): lo 7, hi 9, codes 0 and 99.
	spark, loss := h[7].([]any), h[8].([]any)
	if h[5] != 7.0 || h[6] != 9.0 || len(spark) != 24 || spark[0] != 0.0 || spark[23] != 99.0 || spark[1] != -1.0 || loss[23] != 50.0 || loss[0] != 0.0 || loss[1] != -1.0 {
		t.Errorf("sparkline lo %v hi %v codes %v losses %v", h[5], h[6], spark, loss)
	}
	if other := doc.Hosts[1]; other[0] != "192.0.2.2" || other[2] != 2.0 || other[5] != nil || len(other[7].([]any)) != 0 || other[8] != 0.0 {
		t.Errorf("host without history: %v, want the monitor's mean and no sparkline", other)
	}

	// The cache: a second load within the TTL reads nothing.
	before := a.reads()
	e.do(http.MethodGet, "/dashboard/api/hosts", "")
	if a.reads() != before {
		t.Errorf("second load read the archive %d times, want 0 (cached)", a.reads()-before)
	}
	if w := e.do(http.MethodGet, "/dashboard/api/hosts", "", "Accept-Encoding", "gzip"); w.Header().Get("Content-Encoding") != "" {
		t.Errorf("a document smaller than a packet was compressed: %v", w.Header())
	}

	hm := e.do(http.MethodGet, "/dashboard/api/heatmap?metric=loss&rows=2", "")
	var grid struct {
		PerRow int        `json:"per_row"`
		Names  []string   `json:"names"`
		V      []*float64 `json:"v"`
	}
	if err := json.Unmarshal(hm.Body.Bytes(), &grid); err != nil {
		t.Fatalf("%v: %s", err, hm.Body)
	}
	if grid.PerRow != 2 || len(grid.Names) != 2 || len(grid.V) != 48 || grid.V[23] == nil || *grid.V[23] != 50 || grid.V[24+23] != nil {
		t.Errorf("heatmap: per_row %d names %v v[23] %v", grid.PerRow, grid.Names, grid.V[23])
	}
	if w := e.do(http.MethodGet, "/dashboard/api/heatmap?metric=nope", ""); w.Code != http.StatusBadRequest {
		t.Errorf("metric=nope: %d", w.Code)
	}
}

func TestDashboardAccess(t *testing.T) {
	closed := dashEnv(t, &fakeDashArchive{}, false)
	for _, p := range []string{"/dashboard/api/hosts", "/dashboard/api/heatmap", "/dashboard/api/host/x/series", "/dashboard/api/events"} {
		if w := closed.do(http.MethodGet, p, ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", p, w.Code)
		}
	}
	if w := closed.do(http.MethodGet, "/dashboard/api/hosts", "", bearer("alice")...); w.Code != http.StatusForbidden {
		t.Errorf("with a token without archive:read: %d %s, want 403", w.Code, w.Body)
	}
	closed.srv.deps.Verifier = &fakeVerifier{scopes: []string{auth.ScopeArchiveRead}}
	if w := closed.do(http.MethodGet, "/dashboard/api/hosts", "", bearer("alice")...); w.Code != http.StatusOK {
		t.Errorf("with a token with archive:read: %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct {
		env  *env
		auth string
	}{{closed, "token"}, {dashEnv(t, nil, true), "public"}} {
		w := tt.env.do(http.MethodGet, "/dashboard/api/config", "")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"auth":"`+tt.auth+`"`) {
			t.Errorf("config: %d %s, want auth %s", w.Code, w.Body, tt.auth)
		}
	}
}

func TestDashboardFiles(t *testing.T) {
	e := dashEnv(t, nil, true)
	for _, p := range []string{"/dashboard/", "/dashboard/host/192.0.2.1", "/dashboard/host/%3Cimg%20src=x%3E", "/dashboard/static/overview.js", "/dashboard/static/vendor/uPlot.iife.min.js"} {
		w := e.do(http.MethodGet, p, "", "Accept-Encoding", "gzip, br")
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d", p, w.Code)
			continue
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, w.Header())
		}
		etag := w.Header().Get("ETag")
		if w2 := e.do(http.MethodGet, p, "", "If-None-Match", etag); w2.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d", p, w2.Code)
		}
	}
	for _, p := range []string{"/dashboard/static/nope.js", "/dashboard/static/index.html", "/dashboard/static/../web.go"} {
		if w := e.do(http.MethodGet, p, ""); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
	if w := e.do(http.MethodGet, "/dashboard", ""); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/dashboard/" {
		t.Errorf("/dashboard: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := e.do(http.MethodGet, "/dashboard/static/common.js", "", "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got %q", w.Header().Get("Content-Encoding"))
	}
}

func TestDashStatus(t *testing.T) {
	for _, tt := range []struct {
		r    wire.Record
		want string
	}{
		{wire.Record{Status: wire.StatusInit}, "collecting"},
		{wire.Record{Status: wire.StatusValid, Validity: true, Alive: true}, "alive"},
		{wire.Record{Status: wire.StatusProbing, Validity: true, Alive: true}, "alive"},
		{wire.Record{Status: wire.StatusValid, Validity: true}, "dead"},
		{wire.Record{Status: wire.StatusUnreachable}, "dead"},
	} {
		if got := dashStatus(&tt.r); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.r, got, tt.want)
		}
	}
}

func TestFleetCache(t *testing.T) {
	now := dashNow.Add(30 * time.Minute)
	a := &fakeDashArchive{windows: map[string][]archive.WindowStats{"h": {
		{Start: dashNow.Add(-time.Hour), Sent: 10, Received: 10, Median: 5 * time.Millisecond},
	}}}
	f := newFleet(a, func() time.Time { return now })
	waitIdle := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			f.mu.Lock()
			idle := !f.refreshing
			f.mu.Unlock()
			if idle {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the background read never ended")
			}
			time.Sleep(time.Millisecond) // polling, not a timing assertion
		}
	}
	if rows, complete := f.hours([]string{"h"}, t.Context()); complete || rows[0] != nil {
		t.Fatalf("first load: complete %v, row %v; want incomplete, nothing yet", complete, rows[0])
	}
	waitIdle()
	rows, complete := f.hours([]string{"h"}, t.Context())
	if !complete || rows[0].med[22] != 5 {
		t.Fatalf("second load: complete %v, hour 22 = %v", complete, rows[0].med[22])
	}
	reads := a.reads()

	// An hour later the row is served at once, shifted by one hour, and
	// refreshed in the background.
	now = now.Add(time.Hour)
	rows, complete = f.hours([]string{"h"}, t.Context())
	if !complete || rows[0].med[21] != 5 || !math.IsNaN(float64(rows[0].med[23])) {
		t.Fatalf("stale load: %v, hours 21, 23 = %v, %v", complete, rows[0].med[21], rows[0].med[23])
	}
	waitIdle()
	if f.hosts["h"].first != fleetFirst(now) {
		t.Error("the refresh did not store the new hour's row")
	}
	if a.reads() != reads+2 {
		t.Errorf("refresh read the archive %d times, want 2 (windows, latest)", a.reads()-reads)
	}
}

func TestWindowCache(t *testing.T) {
	day := 24 * time.Hour
	var ws []archive.WindowStats
	start := dashNow.Add(-400 * day).Truncate(day)
	for d := 0; d <= 400; d++ {
		ws = append(ws, archive.WindowStats{Start: start.Add(time.Duration(d) * day), Sent: 1, Received: 1, Median: time.Duration(d)})
	}
	a := &fakeDashArchive{windows: map[string][]archive.WindowStats{"h": ws}}
	var c winCache
	get := func(now time.Time) []archive.WindowStats {
		t.Helper()
		got, err := c.windows(t.Context(), a, "h", day, now.Add(-365*day), now, now)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	now := dashNow
	first := get(now)
	if len(first) != 365 && len(first) != 366 {
		t.Fatalf("%d windows for a year", len(first))
	}
	for _, tt := range []struct {
		now   time.Time
		reads int
	}{
		{now, 1},          // the open day only
		{now.Add(day), 2}, // one more closed day, and the open one
		{now.Add(day + time.Hour), 1},
	} {
		before := a.reads()
		got := get(tt.now)
		if n := a.reads() - before; n != tt.reads {
			t.Errorf("at %v: %d reads, want %d", tt.now, n, tt.reads)
		}
		want, _ := (&winCache{}).windows(t.Context(), a, "h", day, tt.now.Add(-365*day), tt.now, tt.now)
		if len(got) != len(want) || got[0].Start != want[0].Start || got[len(got)-1].Start != want[len(want)-1].Start {
			t.Errorf("at %v: cached %d windows %v…%v, uncached %d %v…%v", tt.now, len(got), got[0].Start, got[len(got)-1].Start, len(want), want[0].Start, want[len(want)-1].Start)
		}
	}
}

func TestWindowCacheWarm(t *testing.T) {
	a := &fakeDashArchive{}
	e := dashEnv(t, a, true)
	e.do(http.MethodGet, "/dashboard/api/host/192.0.2.1/series", "") // a day: raw
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := &e.srv.dash.windows
		c.mu.Lock()
		_, ok := c.m[winKey{"192.0.2.1", 24 * time.Hour}]
		c.mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("looking at a day did not warm the year's daily windows")
		}
		time.Sleep(time.Millisecond) // polling, not a timing assertion
	}
}

type fakeTCPEcho []tcpecho.Client

func (f fakeTCPEcho) Clients() []tcpecho.Client { return f }

func TestDashboardTCPEchoClients(t *testing.T) {
	rtt := 24.5
	e := newMonitorEnv(t, nil, func(d *Deps) {
		d.ArchiveReadPublic = true
		d.TCPEcho = fakeTCPEcho{
			{Key: "berlin", Name: "berlin", Address: "203.0.113.7:51234", Mode: "tls", State: "connected", Sent: 10, Received: 9, Lost: 1, PacketLoss: 10, LastRTT: &rtt, Jitter: &rtt},
			{Key: "198.51.100.2:4000", Address: "198.51.100.2:4000", Mode: "plain", State: "connected"},
			{Key: "198.51.100.3:4000", Address: "198.51.100.3:4000", Mode: "plain", State: "connected", Sent: 5, Lost: 5, PacketLoss: 100},
			{Key: "198.51.100.4:4000", Address: "198.51.100.4:4000", Mode: "plain", State: "gone", Sent: 5, Received: 5},
		}
	})
	var doc struct {
		Hosts [][]any `json:"hosts"`
	}
	if err := json.Unmarshal(e.do(http.MethodGet, "/dashboard/api/hosts", "").Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hosts) != 3+4 {
		t.Fatalf("%d rows, want 3 monitored hosts and 4 TCP echo clients", len(doc.Hosts))
	}
	want := [][]any{
		{"berlin", "alive", 24.5, 10.0, 24.5, nil, nil, []any{}, 0.0, "tcp", "203.0.113.7:51234", "tls", "berlin"},
		{"198.51.100.2:4000", "collecting", nil, nil, nil, nil, nil, []any{}, 0.0, "tcp", "198.51.100.2:4000", "plain", "198.51.100.2"},
		{"198.51.100.3:4000", "dead", nil, 100.0, nil, nil, nil, []any{}, 0.0, "tcp", "198.51.100.3:4000", "plain", "198.51.100.3"},
		{"198.51.100.4:4000", "dead", nil, 0.0, nil, nil, nil, []any{}, 0.0, "tcp", "198.51.100.4:4000", "plain", "198.51.100.4"},
	}
	for i, w := range want {
		got, _ := json.Marshal(doc.Hosts[3+i])
		exp, _ := json.Marshal(w)
		if string(got) != string(exp) {
			t.Errorf("client %d: %s, want %s", i, got, exp)
		}
	}
}

func TestDashboardPageVersions(t *testing.T) {
	for _, public := range []bool{true, false} {
		e := dashEnv(t, nil, public)
		page := e.do(http.MethodGet, "/dashboard/host/x", "").Body.String()
		want := `<meta name="pingapi-auth" content="token">`
		if public {
			want = `<meta name="pingapi-auth" content="public">`
		}
		if !strings.Contains(page, want) {
			t.Errorf("public=%v: the page lacks %s", public, want)
		}
		refs := regexp.MustCompile(`\.\./static/([^"?]+)\?v=([A-Za-z0-9_-]+)"`).FindAllStringSubmatch(page, -1)
		if len(refs) != 7 { // icon, 2 stylesheets, 4 scripts
			t.Fatalf("%d versioned references in the host page, want 7:\n%s", len(refs), page)
		}
		for _, r := range refs {
			w := e.do(http.MethodGet, "/dashboard/static/"+r[1]+"?v="+r[2], "")
			if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || w.Header().Get("ETag") != `"`+r[2]+`"` {
				t.Errorf("%s: %d, Cache-Control %q, ETag %s", r[1], w.Code, w.Header().Get("Cache-Control"), w.Header().Get("ETag"))
			}
			if w := e.do(http.MethodGet, "/dashboard/static/"+r[1]+"?v=old", ""); w.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("%s with a stale version is cached: %q", r[1], w.Header().Get("Cache-Control"))
			}
		}
	}
}

// TestDashboardStrictQuery: the dashboard's data routes and
// /tcpecho/clients read their parameters through the one strict query
// parser of /pingapi and the monitor: a malformed pair is a 400 envelope,
// not dropped (?metric=%zz would silently be the default rtt, ?to=1;x=2 the
// default window).
func TestDashboardStrictQuery(t *testing.T) {
	e := newMonitorEnv(t, nil, func(d *Deps) {
		d.ArchiveReadPublic = true
		d.DashboardArchive = &fakeDashArchive{}
		d.TCPEcho = fakeTCPEcho{}
		d.Now = func() time.Time { return dashNow }
	})
	for _, p := range []string{
		"/dashboard/api/config?x=%zz", "/dashboard/api/hosts?x=%zz", "/dashboard/api/heatmap?metric=%zz",
		"/dashboard/api/host/192.0.2.1/series?to=1;width=5", "/tcpecho/clients?state=%zz",
	} {
		w := e.do(http.MethodGet, p, "", bearer("alice")...)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"code":"invalid_parameter"`) {
			t.Errorf("GET %s: %d %s, want 400 invalid_parameter", p, w.Code, w.Body)
		}
	}
}
