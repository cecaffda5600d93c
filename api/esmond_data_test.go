package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
)

// dataMetadata registers every value type with the summaries esmond's
// data tests query.
const dataMetadata = `{"subject-type":"point-to-point","source":"10.1.1.1","destination":"10.1.1.2",
 "measurement-agent":"10.1.1.1","tool-name":"bwctl/iperf3","input-source":"h1","input-destination":"h2",
 "event-types":[
  {"event-type":"throughput","summaries":[{"summary-type":"average","summary-window":86400},{"summary-type":"aggregation","summary-window":86400}]},
  {"event-type":"time-error-estimates","summaries":[{"summary-type":"average","summary-window":86400},{"summary-type":"aggregation","summary-window":86400}]},
  {"event-type":"failures"},
  {"event-type":"packet-loss-rate","summaries":[{"summary-type":"aggregation","summary-window":86400}]},
  {"event-type":"throughput-subintervals"},
  {"event-type":"packet-trace"},
  {"event-type":"histogram-rtt","summaries":[{"summary-type":"aggregation","summary-window":86400},{"summary-type":"statistics","summary-window":86400},{"summary-type":"statistics","summary-window":0}]}]}`

// dataEnv is an esmond server on SQLite with dataMetadata registered.
func dataEnv(t *testing.T) (*esmondEnv, string) { return dataEnvOn(t, "sqlite") }

// dataEnvOn is dataEnv on an archive of backend.
func dataEnvOn(t *testing.T, backend string) (*esmondEnv, string) {
	e := newEsmondEnvOn(t, backend, nil)
	return e, e.register(t, dataMetadata)
}

// point is {"ts", "val"} with a raw value.
func point(ts int64, val string) string { return fmt.Sprintf(`{"ts": %d, "val": %s}`, ts, val) }

// bulk is a bulk document of one event type, one value per interval.
func bulk(eventType string, start, interval int64, vals ...string) string {
	var items []string
	for i, v := range vals {
		items = append(items, fmt.Sprintf(`{"ts": %d, "val": [{"event-type": %q, "val": %s}]}`, start+int64(i)*interval, eventType, v))
	}
	return `{"data": [` + strings.Join(items, ",") + `]}`
}

type tsVal struct {
	TS  int64           `json:"ts"`
	Val json.RawMessage `json:"val"`
}

func (e *esmondEnv) read(t *testing.T, path string) []tsVal {
	t.Helper()
	w := e.do(http.MethodGet, path, "")
	body := wantStatus(t, w, http.StatusOK)
	if w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%s: no Access-Control-Allow-Origin: *", path)
	}
	return decodeJSON[[]tsVal](t, body)
}

// TestEsmondIntegerData: esmond's test_integer_data. Values read back as
// JSON floats; averages and aggregations over a day.
func TestEsmondIntegerData(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		base := "/esmond/perfsonar/archive/" + key + "/throughput/base/"
		start := int64(1398965989)
		ints := []string{"5978580000", "5413040000", `"7964590000"`, "6946810000"}
		wantStatus(t, e.write(http.MethodPost, base, point(start, `"bad input"`)), http.StatusBadRequest)
		wantStatus(t, e.write(http.MethodPost, base, point(start, ints[0])), http.StatusCreated)
		got := e.read(t, base+"?time="+fmt.Sprint(start))
		if len(got) != 1 || got[0].TS != start || string(got[0].Val) != "5978580000.0" {
			t.Fatalf("single point read back as %+v", got)
		}
		wantStatus(t, e.write(http.MethodPost, base, point(start, ints[0])), http.StatusConflict)
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", bulk("throughput", start+7200, 7200, ints[1:]...)), http.StatusCreated)
		if got := e.read(t, base+fmt.Sprintf("?time-start=%d&time-end=%d", start, start+3*7200)); len(got) != 4 {
			t.Fatalf("%d points after the bulk PUT, want 4", len(got))
		}
		avg := e.read(t, "/esmond/perfsonar/archive/"+key+"/throughput/averages/86400/")
		if len(avg) != 1 || avg[0].TS != 1398902400 || string(avg[0].Val) != "6575755000.0" {
			t.Errorf("average: %s", js(avg))
		}
		agg := e.read(t, "/esmond/perfsonar/archive/"+key+"/throughput/aggregations/86400")
		if len(agg) != 1 || agg[0].TS != 1398902400 || num(t, agg[0].Val) != 26303020000 {
			t.Errorf("aggregation: %s", js(agg))
		}
	})
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func num(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return f
}

// TestEsmondFloatData: esmond's test_float_data.
func TestEsmondFloatData(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		base := "/esmond/perfsonar/archive/" + key + "/time-error-estimates/base"
		start := int64(1398965989)
		wantStatus(t, e.write(http.MethodPost, base, point(start, `"bad input"`)), http.StatusBadRequest)
		wantStatus(t, e.write(http.MethodPost, base, point(start, "0.001")), http.StatusCreated)
		wantStatus(t, e.write(http.MethodPost, base, point(start, "0.001")), http.StatusConflict)
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key, bulk("time-error-estimates", start+60, 60, "0.003", "0.002", "0.003", "0.001")), http.StatusCreated)
		avg := e.read(t, "/esmond/perfsonar/archive/"+key+"/time-error-estimates/averages/86400/")
		agg := e.read(t, "/esmond/perfsonar/archive/"+key+"/time-error-estimates/aggregations/86400/")
		// Exactly esmond's expectations: 0.002 and 0.01, not their float64
		// sums' 0.0020000000000000005 and 0.010000000000000002.
		if len(avg) != 1 || string(avg[0].Val) != "0.002" || len(agg) != 1 || string(agg[0].Val) != "0.01" {
			t.Errorf("average %s, aggregation %s", js(avg), js(agg))
		}
	})
}

// TestEsmondJSONAndSubintervals: esmond's test_json_data and
// test_subinterval_data.
func TestEsmondJSONAndSubintervals(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		start := int64(1398965989)
		fb := "/esmond/perfsonar/archive/" + key + "/failures/base"
		wantStatus(t, e.write(http.MethodPost, fb, point(start, `{"error": "error1"}`)), http.StatusCreated)
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", bulk("failures", start+7200, 7200, `{"error": "error2"}`, `{"error": "error3"}`)), http.StatusCreated)
		if got := e.read(t, fb); len(got) != 3 || string(got[0].Val) != `{"error":"error1"}` {
			t.Errorf("failures: %s", js(got))
		}
		sb := "/esmond/perfsonar/archive/" + key + "/throughput-subintervals/base"
		for _, bad := range []string{`"bad input"`, `{}`, `[{}]`, `[{"duration": 1, "val": 1}]`, `[{"start": 1, "val": 1}]`,
			`[{"duration": 1, "start": 1}]`, `[{"duration": "bad", "start": 1, "val": 1}]`, `[{"duration": 1, "start": "bad", "val": 1}]`} {
			wantStatus(t, e.write(http.MethodPost, sb, point(start, bad)), http.StatusBadRequest)
		}
		sub := `[{"duration":"1.000080","start":"0.000000","val":"1331580000"},{"duration":"1.000000","start":"1.000080","val":"1069540000"}]`
		wantStatus(t, e.write(http.MethodPost, sb, point(start, sub)), http.StatusCreated)
		if got := e.read(t, sb+"?time="+fmt.Sprint(start)); len(got) != 1 || string(got[0].Val) != sub {
			t.Errorf("subintervals: %s", js(got))
		}
	})
}

// TestEsmondPercentageData: esmond's test_percentage_data: every invalid
// value is 400; base reads give numerator/denominator.
func TestEsmondPercentageData(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		base := "/esmond/perfsonar/archive/" + key + "/packet-loss-rate/base"
		start := int64(1398965989)
		for _, bad := range []string{`"bad input"`, `{}`, `{"numerator": 10}`, `{"denominator": 10}`, `{"numerator": "bad", "denominator": "bad"}`,
			`{"numerator": 10, "denominator": "bad"}`, `{"numerator": 10, "denominator": 0}`, `{"numerator": -1, "denominator": 10}`, `{"numerator": "bad", "denominator": 10}`} {
			wantStatus(t, e.write(http.MethodPost, base, point(start, bad)), http.StatusBadRequest)
		}
		wantStatus(t, e.write(http.MethodPost, base, point(start, `{"numerator": 4, "denominator": 100}`)), http.StatusCreated)
		wantStatus(t, e.write(http.MethodPost, base, point(start, `{"numerator": 4, "denominator": 100}`)), http.StatusConflict)
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/",
			bulk("packet-loss-rate", start+60, 60, `{"numerator": 50, "denominator": 200}`, `{"numerator": "1", "denominator": "10"}`, `{"numerator": 15, "denominator": 40}`)), http.StatusCreated)
		got := e.read(t, base)
		want := []float64{0.04, 0.25, 0.1, 0.375}
		if len(got) != len(want) {
			t.Fatalf("%s", js(got))
		}
		for i, w := range want {
			if got[i].TS != start+int64(i)*60 || num(t, got[i].Val) != w {
				t.Errorf("point %d: %d %s, want %d %g", i, got[i].TS, got[i].Val, start+int64(i)*60, w)
			}
		}
	})
}

// TestEsmondHistogramData: esmond's test_post_histogram_data, with the
// exact statistics esmond's suite expects.
func TestEsmondHistogramData(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		base := "/esmond/perfsonar/archive/" + key + "/histogram-rtt/base/"
		start := int64(1398965989)
		wantStatus(t, e.write(http.MethodPost, base, point(start, `{"41.0": "bad", "42.2": 20}`)), http.StatusBadRequest)
		wantStatus(t, e.write(http.MethodPost, base, point(start, `{"41.0": 1.5}`)), http.StatusBadRequest)
		wantStatus(t, e.write(http.MethodPost, base, point(start, `{"41.00": 98, "41.10": 2}`)), http.StatusCreated)
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/",
			bulk("histogram-rtt", start+600, 600, `{"41.00": 98, "41.10": 2}`, `{"41.10": 96, "41.20": 3, "50.0": 1}`)), http.StatusCreated)
		agg := e.read(t, "/esmond/perfsonar/archive/"+key+"/histogram-rtt/aggregations/86400")
		if len(agg) != 1 || agg[0].TS != 1398902400 {
			t.Fatalf("aggregation %s", js(agg))
		}
		// A union adds every count (esmond's own aggregation loses updates).
		if h := decodeJSON[map[string]float64](t, string(agg[0].Val)); !reflect.DeepEqual(h, map[string]float64{"41.00": 196, "41.10": 100, "41.20": 3, "50.0": 1}) {
			t.Errorf("aggregation %v", h)
		}
		st := e.read(t, "/esmond/perfsonar/archive/"+key+"/histogram-rtt/statistics/0")
		if len(st) != 3 || st[0].TS != start {
			t.Errorf("statistics/0: %s", js(st))
		}
		day := e.read(t, "/esmond/perfsonar/archive/"+key+"/histogram-rtt/statistics/86400")
		if len(day) != 1 {
			t.Fatalf("statistics/86400: %s", js(day))
		}
		s := decodeJSON[map[string]any](t, string(day[0].Val))
		// (196×41.00 + 100×41.10 + 3×41.20 + 50.0) / 300
		if m, _ := s["mean"].(float64); math.Abs(m-12319.6/300) > 1e-9 {
			t.Errorf("statistics %s", day[0].Val)
		}
		// esmond's statistics are numbers, minimum, maximum and mode too
		// (its test suite: 'maximum': 50.0, 'minimum': 41.0, 'mode': [41.1, 41.0]).
		if s["maximum"] != 50.0 || s["minimum"] != 41.0 || !reflect.DeepEqual(s["mode"], []any{41.0}) {
			t.Errorf("statistics minimum, maximum, mode not numbers: %s", day[0].Val)
		}
		for _, k := range []string{"mean", "median", "mode", "minimum", "maximum", "percentile-25", "percentile-75", "percentile-95", "variance", "standard-deviation"} {
			if _, ok := s[k]; !ok {
				t.Errorf("statistics lack %s: %v", k, s)
			}
		}
		// Summary list of one type (esmond's summary detail).
		list := decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key+"/histogram-rtt/statistics", ""), http.StatusOK))
		if len(list) != 2 || list[0]["summary-type"] != "statistics" {
			t.Errorf("summary list %v", list)
		}
		wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key+"/histogram-rtt/averages/", ""), http.StatusNotFound)
		// Event type detail.
		et := decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key+"/histogram-rtt/", ""), http.StatusOK))
		if len(et) != 1 || et[0]["event-type"] != "histogram-rtt" || et[0]["time-updated"] != float64(start+1200) {
			t.Errorf("event type detail %v", et)
		}
	})
}

// TestEsmondDataPaging: limit/offset over points, with a Link header,
// and the loop esmond's client runs (limit 1000, time-start = last ts + 1).
func TestEsmondDataPaging(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		var vals []string
		for i := 0; i < 25; i++ {
			vals = append(vals, fmt.Sprint(i))
		}
		wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", bulk("throughput", 1000, 10, vals...)), http.StatusCreated)
		base := "/esmond/perfsonar/archive/" + key + "/throughput/base"
		w := e.do(http.MethodGet, base+"?limit=10&offset=10", "")
		page := decodeJSON[[]tsVal](t, wantStatus(t, w, http.StatusOK))
		if len(page) != 10 || page[0].TS != 1100 {
			t.Errorf("page %s", js(page))
		}
		if l := w.Header().Get("Link"); l != `<http://example.com`+base+`?limit=10&offset=20>; rel="next", <http://example.com`+base+`?limit=10>; rel="prev"` {
			t.Errorf("Link %q", l)
		}
		if w := e.do(http.MethodGet, base+"?limit=10&offset=20", ""); w.Header().Get("Link") != `<http://example.com`+base+`?limit=10&offset=10>; rel="prev"` {
			t.Errorf("last page Link %q", w.Header().Get("Link"))
		}
		var all []tsVal
		q := "?limit=7"
		for range 10 {
			p := e.read(t, base+q)
			all = append(all, p...)
			if len(p) < 7 {
				break
			}
			q = fmt.Sprintf("?limit=7&time-start=%d", p[len(p)-1].TS+1)
		}
		if len(all) != 25 || all[24].TS != 1240 {
			t.Errorf("client loop read %d points", len(all))
		}
	})
}

// TestEsmondDerivedSummaries: pingapi's own series read through the API,
// summaries without a time filter included (esmond's client asks so).
func TestEsmondDerivedSummaries(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newEsmondEnvOn(t, backend, nil)
		at := time.Unix(1700000000, 0)
		ms := []archive.Measurement{
			benchMeasurement(at, "host1.example", netip.MustParseAddr("198.51.100.1")),
			benchMeasurement(at.Add(time.Minute), "host1.example", netip.MustParseAddr("198.51.100.1")),
		}
		if err := e.store.AddMeasurements(context.Background(), ms); err != nil {
			t.Fatal(err)
		}
		found := decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?input-destination=host1.example&tool-name=pingapi/monitor", ""), http.StatusOK))
		if len(found) != 1 {
			t.Fatalf("%d series", len(found))
		}
		key := found[0]["metadata-key"].(string)
		for _, p := range []string{"histogram-rtt/base", "histogram-rtt/statistics/0", "histogram-rtt/statistics/3600", "histogram-rtt/aggregations/86400", "packet-loss-rate-bidir/aggregations/3600", "packet-count-sent/base"} {
			if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/"+p); len(got) == 0 {
				t.Errorf("%s: no points", p)
			}
			// The range holds the start of the day (1699920000): a summary
			// is selected by the start of its window, as esmond does.
			if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/"+p+"?time-start=1699920000&time-end=1700090000"); len(got) == 0 {
				t.Errorf("%s with a time range: no points", p)
			}
		}
	})
}

// TestEsmondPSchedulerArchiver: what pScheduler's esmond archiver sends
// for a latency test (its EsmondLatencyRecord, with pscheduler-raw): the
// registration, the bulk PUT, and the same PUT again, which it reads as
// "already there" when it answers 409.
func TestEsmondPSchedulerArchiver(t *testing.T) {
	e := newEsmondEnv(t, nil)
	md := `{"subject-type": "point-to-point", "source": "10.1.1.1", "destination": "10.1.1.2",
	  "input-source": "host1.example.net", "input-destination": "host2.example.net", "tool-name": "pscheduler/powstream",
	  "time-duration": 10.0, "measurement-agent": "10.1.1.1", "pscheduler-test-type": "latency",
	  "sample-size": 600, "sample-bucket-width": 0.0001, "time-probe-interval": 0.1, "mode-flip": false,
	  "event-types": [{"event-type": "failures"}, {"event-type": "packet-count-sent"},
	   {"event-type": "histogram-owdelay", "summaries": [{"summary-window": 300, "event-type": "histogram-owdelay", "summary-type": "aggregation"},
	     {"summary-window": 0, "event-type": "histogram-owdelay", "summary-type": "statistics"}]},
	   {"event-type": "histogram-ttl"}, {"event-type": "packet-duplicates"},
	   {"event-type": "packet-loss-rate", "summaries": [{"summary-window": 300, "event-type": "packet-loss-rate", "summary-type": "aggregation"}]},
	   {"event-type": "packet-count-lost"}, {"event-type": "packet-reorders"}, {"event-type": "time-error-estimates"},
	   {"event-type": "pscheduler-raw"}, {"event-type": "packet-rtt"}, {"event-type": "tcp-windowsize-subintervals"}]}`
	key := e.register(t, md)
	m := decodeJSON[map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key+"/", ""), http.StatusOK))
	if m["time-duration"] != "10.0" || m["mode-flip"] != "False" || m["sample-bucket-width"] != "0.0001" || m["sample-size"] != "600" {
		t.Errorf("free-form parameters: %v %v %v %v", m["time-duration"], m["mode-flip"], m["sample-bucket-width"], m["sample-size"])
	}
	doc := `{"data": [{"ts": 1700000000, "val": [
	   {"event-type": "histogram-owdelay", "val": {"34.5": 30, "34.3": 440}},
	   {"event-type": "histogram-ttl", "val": {"59": 600}},
	   {"event-type": "packet-count-sent", "val": 600}, {"event-type": "packet-count-lost", "val": 0},
	   {"event-type": "packet-duplicates", "val": 0}, {"event-type": "packet-reorders", "val": 0},
	   {"event-type": "packet-loss-rate", "val": {"numerator": 0, "denominator": 600}},
	   {"event-type": "time-error-estimates", "val": 0.000124},
	   {"event-type": "pscheduler-raw", "val": {"succeeded": true, "packets-sent": 600, "histogram-latency": {"34.5": 30}}}]}]}`
	wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", doc), http.StatusCreated)
	wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", doc), http.StatusConflict)
	if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/pscheduler-raw/base"); len(got) != 1 || !strings.Contains(string(got[0].Val), `"packets-sent":600`) {
		t.Errorf("pscheduler-raw: %s", js(got))
	}
	if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/time-error-estimates/base"); len(got) != 1 || num(t, got[0].Val) != 0.000124 {
		t.Errorf("time-error-estimates: %s", js(got))
	}
}

// TestEsmondConcurrentWriters: writers in parallel (pScheduler runs many
// tests at once) all get 201, and every point is stored once; the same
// point from several writers is stored once and the others get 409.
func TestEsmondConcurrentWriters(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e, key := dataEnvOn(t, backend)
		const writers, each = 8, 25
		codes := make(chan int, 2*writers)
		for w := range writers {
			go func() {
				var vals []string
				for range each {
					vals = append(vals, "1")
				}
				codes <- e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", bulk("throughput", int64(1700000000+w*each), 1, vals...)).Code
				codes <- e.write(http.MethodPost, "/esmond/perfsonar/archive/"+key+"/time-error-estimates/base", point(1700000000, "0.5")).Code
			}()
		}
		created, conflicts := 0, 0
		for range 2 * writers {
			switch c := <-codes; c {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				conflicts++
			default:
				t.Errorf("status %d", c)
			}
		}
		if created != writers+1 || conflicts != writers-1 {
			t.Errorf("%d created, %d conflicts; want %d and %d", created, conflicts, writers+1, writers-1)
		}
		if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/throughput/base?limit=1000"); len(got) != writers*each {
			t.Errorf("%d throughput points, want %d", len(got), writers*each)
		}
		if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/time-error-estimates/base"); len(got) != 1 {
			t.Errorf("%d points at one ts", len(got))
		}
	})
}
