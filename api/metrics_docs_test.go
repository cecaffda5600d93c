package api

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// servedFamilies scrapes a server that has every family of pingapi's own:
// the engine's and the monitor's collectors (per host included), and one
// request of each kind the HTTP layer counts.
func servedFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	e := metricsEnv(t)
	e.do("GET", "/pingapi/192.0.2.1?c=1", "", bearer("a")...)
	e.do("GET", "/pingapi/192.0.2.1", "")
	return scrape(t, e)
}

// documented reads the table rows of docs/METRICS.md:
// | `name` | type | labels | help |.
func documented(t *testing.T) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile("../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(pingapi_[a-z_]+)` \\| (counter|gauge|histogram) \\| [^|]* \\| (.+?) \\|$")
	out := map[string][2]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("docs/METRICS.md lists %s twice", m[1])
		}
		out[m[1]] = [2]string{m[2], m[3]}
	}
	if len(out) < 10 {
		t.Fatalf("docs/METRICS.md: only %d metric rows found; is the table's format still | `name` | type | labels | help |?", len(out))
	}
	return out
}

// TestMetricsDocumented: docs/METRICS.md lists exactly the pingapi_*
// families /metrics serves, each with its type and help string.
func TestMetricsDocumented(t *testing.T) {
	docs := documented(t)
	fams := servedFamilies(t)
	for name, f := range fams {
		if !strings.HasPrefix(name, "pingapi_") {
			continue
		}
		d, ok := docs[name]
		if !ok {
			t.Errorf("%s (%s) is served but not in docs/METRICS.md: add | `%s` | %s | ... | %s |", name, typeName(f), name, typeName(f), f.GetHelp())
			continue
		}
		if d[0] != typeName(f) || d[1] != f.GetHelp() {
			t.Errorf("%s: documented as %s %q, served as %s %q", name, d[0], d[1], typeName(f), f.GetHelp())
		}
	}
	for name := range docs {
		if fams[name] == nil {
			t.Errorf("docs/METRICS.md lists %s, which /metrics does not serve", name)
		}
	}
}

func typeName(f *dto.MetricFamily) string { return strings.ToLower(f.GetType().String()) }

// TestGrafanaDashboard: the shipped dashboard parses, and every query names
// only metrics /metrics serves (a histogram by its _bucket, _sum or
// _count series).
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../deploy/grafana/pingapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string           `json:"title"`
		UID    string           `json:"uid"`
		Panels []map[string]any `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/pingapi.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels")
	}
	fams := servedFamilies(t)
	served := func(n string) bool {
		if f := fams[n]; f != nil {
			return true
		}
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suf); ok && fams[base] != nil && fams[base].GetType() == dto.MetricType_HISTOGRAM {
				return true
			}
		}
		return false
	}
	metricName := regexp.MustCompile(`\b(?:pingapi|go|process)_[a-z0-9_]+`)
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok {
				exprs = append(exprs, e)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, p := range dash.Panels {
		walk(p)
	}
	if len(exprs) < len(dash.Panels) {
		t.Errorf("%d queries for %d panels", len(exprs), len(dash.Panels))
	}
	var used []string
	for _, e := range exprs {
		names := metricName.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("query %q names no pingapi metric", e)
		}
		for _, n := range names {
			if !served(n) {
				t.Errorf("query %q: %s is not served by /metrics", e, n)
			}
			used = append(used, n)
		}
	}
	// The dashboard shows what an operator needs first: the engine's and
	// the monitor's health, not only the HTTP layer.
	for _, want := range []string{"pingapi_engine_socket_drops_total", "pingapi_monitor_hosts", "pingapi_monitor_probes_skipped_total", "pingapi_http_requests_total"} {
		if !slices.Contains(used, want) {
			t.Errorf("no panel queries %s", want)
		}
	}
}
