package api

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// /metrics exposes every series issue 3 names, with the values the requests
// made.
func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.Pinger = &fakePinger{ready: true, rtts: []time.Duration{time.Millisecond, -1, time.Millisecond}}
	})
	e.do("GET", "/pingapi/192.0.2.1?c=3", "", bearer("a")...)
	e.do("GET", "/pingapi/192.0.2.1", "")
	e.do("GET", "/pingapi/192.0.2.1", "", "Authorization", "Bearer forged.x.y")
	e.do("GET", "/pingapi/192.0.2.1?token=abc", "")
	e.do("GET", "/nope", "")
	w := e.do("GET", "/metrics", "")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	for _, want := range []string{
		"# TYPE pingapi_http_requests_total counter",
		`pingapi_http_requests_total{route="/pingapi/:target",method="GET",status="200"} 1`,
		`pingapi_http_requests_total{route="/pingapi/:target",method="GET",status="401"} 3`,
		`pingapi_http_requests_total{route="unmatched",method="GET",status="404"} 1`,
		`pingapi_measurements_total{result="ok"} 1`,
		"# TYPE pingapi_measurement_duration_seconds histogram",
		`pingapi_measurement_duration_seconds_bucket{le="+Inf"} 1`,
		"pingapi_measurement_duration_seconds_count 1",
		"pingapi_measurements_in_flight 0",
		"pingapi_echo_requests_sent_total 3",
		"pingapi_echo_replies_received_total 2",
		`pingapi_auth_failures_total{reason="missing"} 1`,
		`pingapi_auth_failures_total{reason="query_token"} 1`,
		`pingapi_auth_failures_total{reason="invalid"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
}

func TestRegistryExposition(t *testing.T) {
	m := NewMetrics()
	c := m.Counter("x_total", "An x.\nSecond line \\ slash.", "a", "b")
	c.Inc("1", `q"uo\te`+"\n")
	c.Add(2.5, "1", `q"uo\te`+"\n")
	c.Add(-1, "1", "ignored") // negative: ignored, but the series is not created either
	g := m.Gauge("g", "A gauge.")
	g.Set(3)
	g.Add(-5)
	h := m.Histogram("h_seconds", "A histogram.", []float64{1, 0.5, 1})
	for _, v := range []float64{0.1, 0.5, 0.7, 2} {
		h.Observe(v)
	}
	if again := m.Counter("x_total", "other help", "a", "b"); again.f != c.f {
		t.Error("re-registration made a new family")
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP g A gauge.
# TYPE g gauge
g -2
# HELP h_seconds A histogram.
# TYPE h_seconds histogram
h_seconds_bucket{le="0.5"} 2
h_seconds_bucket{le="1"} 3
h_seconds_bucket{le="+Inf"} 4
h_seconds_sum 3.3
h_seconds_count 4
# HELP x_total An x.\nSecond line \\ slash.
# TYPE x_total counter
x_total{a="1",b="q\"uo\\te\n"} 3.5
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRegistryMisuse(t *testing.T) {
	for name, f := range map[string]func(m *Metrics){
		"type clash":  func(m *Metrics) { m.Counter("a", ""); m.Gauge("a", "") },
		"label clash": func(m *Metrics) { m.Counter("a", "", "x"); m.Counter("a", "", "y") },
		"arity":       func(m *Metrics) { m.Counter("a", "", "x").Inc() },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewMetrics())
		})
	}
}

// Updates and scrapes from many goroutines; run with -race.
func TestRegistryConcurrent(t *testing.T) {
	m := NewMetrics()
	c := m.Counter("c_total", "", "k")
	h := m.Histogram("h", "", []float64{1})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 500 {
				c.Inc(string(rune('a' + i)))
				h.Observe(float64(j % 2))
				if j%100 == 0 {
					_, _ = m.WriteTo(&bytes.Buffer{})
				}
			}
		}()
	}
	wg.Wait()
	var b bytes.Buffer
	_, _ = m.WriteTo(&b)
	if !strings.Contains(b.String(), `c_total{k="h"} 500`) || !strings.Contains(b.String(), "h_count 4000") {
		t.Errorf("got\n%s", b.String())
	}
}
