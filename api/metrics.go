package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Measurement results, the values of pingapi_measurements_total{result}.
const (
	resultOK        = "ok"        // at least one reply
	resultNoReply   = "no_reply"  // 100 % loss: still a 200
	resultCancelled = "cancelled" // the client went away or the server is stopping
	resultError     = "error"     // the engine failed
)

// serverMetrics are the series the HTTP layer maintains.
type serverMetrics struct {
	requests     *Counter   // route, method, status
	measurements *Counter   // result
	duration     *Histogram // seconds
	inFlight     *Gauge
	echoSent     *Counter
	echoReceived *Counter
	authFailures *Counter // reason
}

// measurementBuckets cover 1..59 one-second echoes plus the deadline.
func measurementBuckets() []float64 {
	return []float64{0.5, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 75}
}

func newServerMetrics(m *Metrics) serverMetrics {
	sm := serverMetrics{
		requests: m.Counter("pingapi_http_requests_total",
			"HTTP requests answered, by route template, method and status code.", "route", "method", "status"),
		measurements: m.Counter("pingapi_measurements_total",
			"Measurements finished, by result (ok, no_reply, cancelled, error).", "result"),
		duration: m.Histogram("pingapi_measurement_duration_seconds",
			"Wall-clock duration of measurements, in seconds.", measurementBuckets()),
		inFlight: m.Gauge("pingapi_measurements_in_flight",
			"Measurements running now."),
		echoSent: m.Counter("pingapi_echo_requests_sent_total",
			"ICMP echo requests sent by API measurements."),
		echoReceived: m.Counter("pingapi_echo_replies_received_total",
			"ICMP echo replies received in time by API measurements."),
		authFailures: m.Counter("pingapi_auth_failures_total",
			"Requests refused by authentication, by reason.", "reason"),
	}
	sm.inFlight.Set(0) // expose the series from the start
	sm.echoSent.Add(0)
	sm.echoReceived.Add(0)
	return sm
}

// metricsHandler serves the registry in the Prometheus text format.
//
//	@Summary		Prometheus metrics
//	@Description	Prometheus text exposition (format 0.0.4): pingapi_http_requests_total{route,method,status}, pingapi_measurements_total{result}, pingapi_measurement_duration_seconds (histogram), pingapi_measurements_in_flight, pingapi_echo_requests_sent_total, pingapi_echo_replies_received_total, pingapi_auth_failures_total{reason}, and any series other components register. Unauthenticated: restrict it at the reverse proxy.
//	@Tags			operations
//	@Produce		plain
//	@Success		200	{string}	string	"Prometheus text exposition"
//	@Router			/metrics [get]
//	@Router			/metrics [head]
func (s *Server) metricsHandler(c *gin.Context) {
	c.Header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	c.Status(http.StatusOK)
	if _, err := s.metrics.WriteTo(c.Writer); err != nil {
		s.log.Debug("writing metrics", "err", err)
	}
}
