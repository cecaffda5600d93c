package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Measurement results, the values of pingapi_measurements_total{result}.
const (
	resultOK        = "ok"        // at least one reply
	resultNoReply   = "no_reply"  // 100 % loss: still a 200
	resultCancelled = "cancelled" // the client went away or the server is stopping
	resultError     = "error"     // the engine failed
)

// serverMetrics are the series the HTTP layer updates itself, and the
// registry /metrics serves. The registry is the server's own (never
// client_golang's global default), so two servers in one process, as in
// tests, never share or clash.
type serverMetrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec // route, method, status
	measurements *prometheus.CounterVec // result
	duration     prometheus.Histogram   // seconds
	inFlight     prometheus.Gauge
	echoSent     prometheus.Counter
	echoReceived prometheus.Counter
	authFailures *prometheus.CounterVec // reason
}

// measurementBuckets cover 1..59 one-second echoes plus the deadline.
func measurementBuckets() []float64 {
	return []float64{0.5, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 75}
}

// newServerMetrics builds the registry: the HTTP layer's series, Go's and
// the process's standard ones, and collectors that read the other
// components' counters at scrape time: the engine (Deps.Pinger, when it has
// Stats), the monitor (Deps.Monitor) and the archive's write queue
// (Deps.ArchiveFeed). A new figure of one of them (the archive's write
// latency, say) is a new field of its Stats and a row in its collector.
func newServerMetrics(d Deps) serverMetrics {
	m := serverMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pingapi_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code."}, []string{"route", "method", "status"}),
		measurements: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pingapi_measurements_total",
			Help: "Measurements finished, by result (ok, no_reply, cancelled, error)."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pingapi_measurement_duration_seconds",
			Help: "Wall-clock duration of measurements, in seconds.", Buckets: measurementBuckets()}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pingapi_measurements_in_flight",
			Help: "Measurements running now."}),
		echoSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "pingapi_echo_requests_sent_total",
			Help: "ICMP echo requests sent by API measurements."}),
		echoReceived: prometheus.NewCounter(prometheus.CounterOpts{Name: "pingapi_echo_replies_received_total",
			Help: "ICMP echo replies received in time by API measurements."}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pingapi_auth_failures_total",
			Help: "Requests refused by authentication, by reason."}, []string{"reason"}),
	}
	m.reg.MustRegister(m.requests, m.measurements, m.duration, m.inFlight, m.echoSent, m.echoReceived, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if e, ok := d.Pinger.(EngineStats); ok {
		m.reg.MustRegister(engineCollector{e})
	}
	if d.Monitor != nil {
		m.reg.MustRegister(monitorCollector{d.Monitor})
	}
	if d.ArchiveFeed != nil {
		m.reg.MustRegister(archiveCollector{d.ArchiveFeed})
	}
	if te, ok := d.TCPEcho.(TCPEchoStats); ok {
		m.reg.MustRegister(tcpechoCollector{te})
	}
	return m
}

// metricsHandler serves the registry in the Prometheus text format.
//
//	@Summary		Prometheus metrics
//	@Description	Prometheus text exposition: the HTTP layer's pingapi_* series, the engine's pingapi_engine_*, the monitor's pingapi_monitor_* (per host only with METRICS_PER_HOST), the archive's pingapi_archive_*, the TCP echo service's pingapi_tcpecho_*, and Go's go_* and process_*. Names, types and help strings are listed in docs/METRICS.md. Unauthenticated: restrict it at the reverse proxy.
//	@Tags			operations
//	@Produce		plain
//	@Success		200	{string}	string	"Prometheus text exposition"
//	@Router			/metrics [get]
//	@Router			/metrics [head]
func (s *Server) metricsHandler(c *gin.Context) { s.promHandler.ServeHTTP(c.Writer, c.Request) }

// newPromHandler is client_golang's handler over reg: it negotiates the
// format (text 0.0.4 unless the scraper asks for another) and logs, not
// serves, a collector's error.
func (s *Server) newPromHandler() http.Handler {
	return promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger sends promhttp's errors to the server's logger.
type promLogger struct{ s *Server }

func (l promLogger) Println(v ...any) { l.s.log.Warn("metrics", "err", v) }
