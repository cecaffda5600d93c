package api

import (
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// /metrics exposes every series of the HTTP layer, with the values the
// requests made.
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
		`pingapi_http_requests_total{method="GET",route="/pingapi/:target",status="200"} 1`,
		`pingapi_http_requests_total{method="GET",route="/pingapi/:target",status="401"} 3`,
		`pingapi_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
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
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
}

// statsPinger is a fakePinger with the engine's counters.
type statsPinger struct {
	*fakePinger
	st probe.Stats
}

func (p statsPinger) Stats() probe.Stats { return p.st }

// echoStats stands in for the TCP echo service.
type echoStats tcpecho.Stats

func (e echoStats) Stats() tcpecho.Stats      { return tcpecho.Stats(e) }
func (e echoStats) Clients() []tcpecho.Client { return nil }

// feedStats stands in for the archive's write queue.
type feedStats archive.FeedStats

func (f feedStats) Stats() archive.FeedStats { return archive.FeedStats(f) }

// metricsEnv is a server whose /metrics has every family: a pinger with
// Stats, and a monitor with per-host records that has probed once.
func metricsEnv(t *testing.T) *env {
	t.Helper()
	p := &fakePinger{ready: true, rtts: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}}
	m, err := monitor.New(monitor.Options{
		Settings:  monitor.Settings{ProbeInterval: 10 * time.Second, PingCount: 3, PingInterval: time.Second, Tolerance: 1, DataLength: 56},
		Immutable: []string{"192.0.2.1", "192.0.2.2", "nowhere.test"},
		Pinger:    p, Resolve: monitorResolve, LookupAll: monitorLookupAll, PerHostRTT: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.ProbeOnce(t.Context())
	st := probe.Stats{Sent: 11, Matched: 9, Unmatched: 3, SocketDrops: 4, TxStamped: 5, Late: 6, SendErrors: 7, Wakeups: 8, InFlight: 2, Active: 1}
	return newEnv(t, func(d *Deps) {
		d.Pinger = statsPinger{p, st}
		d.Monitor = m
		// Five batch writes: two of at most 1 ms, one of at most 5 ms, one
		// of at most 1 s, one above every bound (0.75 s in all).
		fs := feedStats{Queued: 20, Written: 17, Dropped: 2, Failed: 1, QueueLen: 3, QueueCap: 4096, Batches: 5, WriteSeconds: 0.75}
		fs.WriteHist[0], fs.WriteHist[2], fs.WriteHist[9], fs.WriteHist[len(fs.WriteHist)-1] = 2, 1, 1, 1
		d.ArchiveFeed = fs
		d.TCPEcho = echoStats{Accepted: 30, DeniedPolicy: 2, DeniedLimit: 3, AuthFailed: 4, Probes: 500, Echoes: 480, WindowsDropped: 5, Connected: 25}
	})
}

// scrape parses what the server serves at /metrics.
func scrape(t *testing.T, e *env) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(e.srv.metricsText(t)))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of f whose labels are all of
// labels (name, value pairs); ok false when there is none.
func value(f *dto.MetricFamily, labels ...string) (float64, bool) {
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// The engine's and the monitor's counters are read from their Stats() at
// scrape time, and per-host series appear with PerHostRTT.
func TestMetricsCollectors(t *testing.T) {
	fams := scrape(t, metricsEnv(t))
	for name, want := range map[string]float64{
		"pingapi_engine_echo_requests_sent_total": 11, "pingapi_engine_replies_matched_total": 9,
		"pingapi_engine_replies_unmatched_total": 3, "pingapi_engine_socket_drops_total": 4,
		"pingapi_engine_tx_timestamped_total": 5, "pingapi_engine_replies_late_total": 6,
		"pingapi_engine_send_errors_total": 7, "pingapi_engine_loop_wakeups_total": 8,
		"pingapi_engine_requests_in_flight": 2, "pingapi_engine_measurements_active": 1,
		"pingapi_monitor_probes_total": 3, "pingapi_monitor_unreachable_total": 1,
		"pingapi_monitor_resolve_failures_total": 1, "pingapi_monitor_late_rounds_total": 0,
		"pingapi_monitor_probes_in_flight": 0, "pingapi_monitor_probe_duration_seconds": 2,
		"pingapi_archive_measurements_queued_total": 20, "pingapi_archive_measurements_written_total": 17,
		"pingapi_archive_measurements_dropped_total": 2, "pingapi_archive_measurements_failed_total": 1,
		"pingapi_archive_queue_length": 3, "pingapi_archive_queue_capacity": 4096,
		"pingapi_tcpecho_connections_accepted_total": 30, "pingapi_tcpecho_connections_denied_policy_total": 2,
		"pingapi_tcpecho_connections_denied_limit_total": 3, "pingapi_tcpecho_auth_failures_total": 4,
		"pingapi_tcpecho_probes_sent_total": 500, "pingapi_tcpecho_echoes_total": 480,
		"pingapi_tcpecho_windows_dropped_total": 5, "pingapi_tcpecho_clients": 25,
	} {
		if got, ok := value(fams[name]); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	for status, want := range map[string]float64{"valid": 2, "unreachable": 1, "init": 0, "probing": 0} {
		if got, ok := value(fams["pingapi_monitor_hosts"], "status", status); !ok || got != want {
			t.Errorf("pingapi_monitor_hosts{status=%q} = %v, want %v", status, got, want)
		}
	}
	if _, ok := value(fams["pingapi_monitor_probes_skipped_total"], "reason", "saturated"); !ok {
		t.Error("no pingapi_monitor_probes_skipped_total{reason=saturated}")
	}
	rtt := fams["pingapi_monitor_host_rtt_seconds"]
	if got, _ := value(rtt, "host", "192.0.2.1"); got != 3 {
		t.Fatalf("host RTT histogram of 192.0.2.1: %v observations, want 3", got)
	}
	for _, m := range rtt.Metric {
		if m.Label[0].GetValue() != "192.0.2.1" {
			continue
		}
		h := m.Histogram
		if want := 0.006; h.GetSampleSum() < want-1e-9 || h.GetSampleSum() > want+1e-9 {
			t.Errorf("RTT sum %v s, want 0.006", h.GetSampleSum())
		}
		for _, b := range h.Bucket {
			// 1, 2 and 3 ms: none up to 0.512 ms, one up to 1.024 ms, all
			// three from 4.096 ms on.
			var want uint64
			switch ub := b.GetUpperBound(); {
			case ub > 0.001 && ub < 0.002:
				want = 1
			case ub > 0.004:
				want = 3
			case ub > 0.002:
				want = 2
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
	// The archive's write latency: FeedStats' per-bucket counts become
	// cumulative Prometheus buckets at WriteBounds.
	if f := fams["pingapi_archive_write_duration_seconds"]; f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("pingapi_archive_write_duration_seconds: %v, want a histogram", f)
	} else {
		h := f.Metric[0].Histogram
		if h.GetSampleCount() != 5 || h.GetSampleSum() != 0.75 || len(h.Bucket) != len(archive.WriteBounds())+1 {
			t.Errorf("archive write histogram: count %d sum %v, %d buckets; want 5, 0.75, %d and +Inf", h.GetSampleCount(), h.GetSampleSum(), len(h.Bucket), len(archive.WriteBounds()))
		}
		for _, b := range h.Bucket {
			var want uint64
			switch ub := b.GetUpperBound(); {
			case math.IsInf(ub, 1):
				want = 5
			case ub >= 1:
				want = 4
			case ub >= 0.005:
				want = 3
			default:
				want = 2
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("archive write bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
	if got, _ := value(fams["pingapi_monitor_host_echo_requests_total"], "host", "192.0.2.2"); got != 3 {
		t.Errorf("requests to 192.0.2.2: %v, want 3", got)
	}
	if got, _ := value(fams["pingapi_monitor_host_echo_replies_total"], "host", "192.0.2.2"); got != 3 {
		t.Errorf("replies from 192.0.2.2: %v, want 3", got)
	}
}

// Without an engine that has Stats or a monitor, their families are
// absent, and the server's own still served.
func TestMetricsWithoutCollectors(t *testing.T) {
	fams := scrape(t, newEnv(t, nil))
	for name := range fams {
		if strings.HasPrefix(name, "pingapi_engine_") || strings.HasPrefix(name, "pingapi_monitor_") || strings.HasPrefix(name, "pingapi_archive_") {
			t.Errorf("%s served without its source", name)
		}
	}
	if fams["pingapi_measurements_in_flight"] == nil {
		t.Error("pingapi_measurements_in_flight missing")
	}
}
