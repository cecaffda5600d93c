package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// EngineStats is a Pinger whose counters /metrics exports; *probe.Engine
// implements it. Stats must be safe for concurrent use and quick.
type EngineStats interface {
	Stats() probe.Stats
}

// ArchiveStats is the archive's write queue, whose counters /metrics
// exports; *archive.Feed implements it.
type ArchiveStats interface {
	Stats() archive.FeedStats
}

// TCPEchoStats is the TCP echo service's counters, which /metrics exports
// when Deps.TCPEcho has them; *tcpecho.Server implements it.
type TCPEchoStats interface {
	Stats() tcpecho.Stats
}

var (
	_ EngineStats  = (*probe.Engine)(nil)
	_ ArchiveStats = (*archive.Feed)(nil)
	_ TCPEchoStats = (*tcpecho.Server)(nil)
)

// statMetric is one series read from a Stats value at scrape time.
type statMetric[S any] struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(*S) float64
}

func counter[S any](name, help string, v func(*S) float64) statMetric[S] {
	return statMetric[S]{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, v}
}

func gauge[S any](name, help string, v func(*S) float64) statMetric[S] {
	return statMetric[S]{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v}
}

// engineMetrics are the engine's series, read from probe.Stats.
func engineMetrics() []statMetric[probe.Stats] {
	type s = probe.Stats
	return []statMetric[s]{
		counter("pingapi_engine_echo_requests_sent_total", "Echo requests the engine handed to the kernel (API, monitor and measure together).", func(s *s) float64 { return float64(s.Sent) }),
		counter("pingapi_engine_replies_matched_total", "Echo replies matched to a request, duplicates and late ones included.", func(s *s) float64 { return float64(s.Matched) }),
		counter("pingapi_engine_replies_unmatched_total", "Echo replies read that matched no request (wrong identifier, sequence, token or source).", func(s *s) float64 { return float64(s.Unmatched) }),
		counter("pingapi_engine_replies_late_total", "Echo replies that matched a request after its deadline (the request counts as lost).", func(s *s) float64 { return float64(s.Late) }),
		counter("pingapi_engine_send_errors_total", "Echo requests the kernel refused to send.", func(s *s) float64 { return float64(s.SendErrors) }),
		counter("pingapi_engine_socket_drops_total", "Datagrams the ICMP sockets dropped because their receive buffer was full (SO_RXQ_OVFL).", func(s *s) float64 { return float64(s.SocketDrops) }),
		counter("pingapi_engine_tx_timestamped_total", "Echo requests whose send time is the kernel's transmit timestamp.", func(s *s) float64 { return float64(s.TxStamped) }),
		counter("pingapi_engine_loop_wakeups_total", "Wake-ups of the engine's loop goroutine.", func(s *s) float64 { return float64(s.Wakeups) }),
		gauge("pingapi_engine_requests_in_flight", "Echo requests in flight now (awaiting a reply or their late-reply window).", func(s *s) float64 { return float64(s.InFlight) }),
		gauge("pingapi_engine_measurements_active", "Measurements registered in the engine now.", func(s *s) float64 { return float64(s.Active) }),
	}
}

// monitorMetrics are the monitor's plain series, read from monitor.Stats.
func monitorMetrics() []statMetric[monitor.Stats] {
	type s = monitor.Stats
	return []statMetric[s]{
		counter("pingapi_monitor_probes_total", "Probes finished, including those that could not run.", func(s *s) float64 { return float64(s.Probes) }),
		counter("pingapi_monitor_unreachable_total", "Probes that could not run (no address, or the engine refused to send).", func(s *s) float64 { return float64(s.Unreachable) }),
		counter("pingapi_monitor_resolve_failures_total", "Probes of a hostname that did not resolve to an IPv4 address.", func(s *s) float64 { return float64(s.ResolveFailures) }),
		counter("pingapi_monitor_late_rounds_total", "Whole rounds skipped because the scheduler fell behind.", func(s *s) float64 { return float64(s.LateRounds) }),
		gauge("pingapi_monitor_probes_in_flight", "Probes running now.", func(s *s) float64 { return float64(s.InFlight) }),
		gauge("pingapi_monitor_probes_in_flight_limit", "Bound on the probes running at once; a host due beyond it skips its round.", func(s *s) float64 { return float64(s.InFlightLimit) }),
	}
}

// archiveMetrics are the archive's series, read from archive.FeedStats.
// Its write latency belongs here too once FeedStats has it (a histogram,
// as the monitor's probe duration).
func archiveMetrics() []statMetric[archive.FeedStats] {
	type s = archive.FeedStats
	return []statMetric[s]{
		counter("pingapi_archive_measurements_queued_total", "Measurements accepted into the archive's write queue.", func(s *s) float64 { return float64(s.Queued) }),
		counter("pingapi_archive_measurements_written_total", "Measurements stored by the archive.", func(s *s) float64 { return float64(s.Written) }),
		counter("pingapi_archive_measurements_dropped_total", "Measurements refused because the archive's write queue was full.", func(s *s) float64 { return float64(s.Dropped) }),
		counter("pingapi_archive_measurements_failed_total", "Measurements lost to a failed write (or without an agent or address).", func(s *s) float64 { return float64(s.Failed) }),
		gauge("pingapi_archive_queue_length", "Measurements waiting in the archive's write queue now.", func(s *s) float64 { return float64(s.QueueLen) }),
		gauge("pingapi_archive_queue_capacity", "Size of the archive's write queue.", func(s *s) float64 { return float64(s.QueueCap) }),
	}
}

// tcpechoMetrics are the TCP echo service's series, read from tcpecho.Stats.
func tcpechoMetrics() []statMetric[tcpecho.Stats] {
	type s = tcpecho.Stats
	return []statMetric[s]{
		counter("pingapi_tcpecho_connections_accepted_total", "TCP echo connections admitted as clients (after the TLS hello, for agents).", func(s *s) float64 { return float64(s.Accepted) }),
		counter("pingapi_tcpecho_connections_denied_policy_total", "TCP echo connections closed at once because the target policy denies the client's address.", func(s *s) float64 { return float64(s.DeniedPolicy) }),
		counter("pingapi_tcpecho_connections_denied_limit_total", "TCP echo connections closed at once because the global or per-address limit was reached.", func(s *s) float64 { return float64(s.DeniedLimit) }),
		counter("pingapi_tcpecho_auth_failures_total", "TLS echo connections closed for a failed handshake, hello or credential.", func(s *s) float64 { return float64(s.AuthFailed) }),
		counter("pingapi_tcpecho_probes_sent_total", "Probe bytes sent to TCP echo clients.", func(s *s) float64 { return float64(s.Probes) }),
		counter("pingapi_tcpecho_echoes_total", "Echoes matched to their probe before its deadline.", func(s *s) float64 { return float64(s.Echoes) }),
		counter("pingapi_tcpecho_windows_dropped_total", "Aggregation windows not archived because the archive feed fell behind.", func(s *s) float64 { return float64(s.WindowsDropped) }),
		gauge("pingapi_tcpecho_clients", "TCP echo clients connected now.", func(s *s) float64 { return float64(s.Connected) }),
	}
}

// tcpechoCollector reads the TCP echo service's counters at scrape time.
type tcpechoCollector struct{ src TCPEchoStats }

func (c tcpechoCollector) Describe(ch chan<- *prometheus.Desc) { describe(ch, tcpechoMetrics()) }

func (c tcpechoCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	collect(ch, tcpechoMetrics(), &st)
}

var (
	monitorHostsDesc = prometheus.NewDesc("pingapi_monitor_hosts",
		"Monitored hosts by status (init, valid, probing, unreachable).", []string{"status"}, nil)
	monitorSkippedDesc = prometheus.NewDesc("pingapi_monitor_probes_skipped_total",
		"Probes skipped when due, by reason: saturated (the in-flight bound was reached), overrun (the host's previous probe still ran).", []string{"reason"}, nil)
	archiveWriteDesc = prometheus.NewDesc("pingapi_archive_write_duration_seconds",
		"Duration of the archive's batch writes (one transaction each), in seconds.", nil, nil)
	monitorDurationDesc = prometheus.NewDesc("pingapi_monitor_probe_duration_seconds",
		"Wall-clock duration of the monitor's probes, in seconds.", nil, nil)
	hostRTTDesc = prometheus.NewDesc("pingapi_monitor_host_rtt_seconds",
		"Round-trip times of every echo reply from a monitored host, in seconds (METRICS_PER_HOST only).", []string{"host"}, nil)
	hostRequestsDesc = prometheus.NewDesc("pingapi_monitor_host_echo_requests_total",
		"Echo requests sent to a monitored host (METRICS_PER_HOST only).", []string{"host"}, nil)
	hostRepliesDesc = prometheus.NewDesc("pingapi_monitor_host_echo_replies_total",
		"Echo replies received in time from a monitored host (METRICS_PER_HOST only).", []string{"host"}, nil)
)

// engineCollector reads the engine's counters at scrape time.
type engineCollector struct{ src EngineStats }

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) { describe(ch, engineMetrics()) }

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	collect(ch, engineMetrics(), &st)
}

// archiveCollector reads the archive's write-queue counters and its batch
// writes' latency at scrape time.
type archiveCollector struct{ src ArchiveStats }

func (c archiveCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, archiveMetrics())
	ch <- archiveWriteDesc
}

func (c archiveCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	collect(ch, archiveMetrics(), &st)
	// FeedStats counts each bucket alone; Prometheus' are cumulative.
	bounds := archive.WriteBounds()
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, ub := range bounds {
		cum += st.WriteHist[i]
		buckets[ub] = cum
	}
	ch <- prometheus.MustNewConstHistogram(archiveWriteDesc, st.Batches, st.WriteSeconds, buckets)
}

// monitorCollector reads the monitor's counters, and with
// Options.PerHostRTT its per-host records, at scrape time.
type monitorCollector struct{ m *monitor.Monitor }

func (c monitorCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, monitorMetrics())
	for _, d := range []*prometheus.Desc{monitorHostsDesc, monitorSkippedDesc, monitorDurationDesc, hostRTTDesc, hostRequestsDesc, hostRepliesDesc} {
		ch <- d
	}
}

func (c monitorCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.m.Stats()
	collect(ch, monitorMetrics(), &st)
	for status, n := range map[string]int{"init": st.Hosts.Init, "valid": st.Hosts.Valid, "probing": st.Hosts.Probing, "unreachable": st.Hosts.Unreachable} {
		ch <- prometheus.MustNewConstMetric(monitorHostsDesc, prometheus.GaugeValue, float64(n), status)
	}
	ch <- prometheus.MustNewConstMetric(monitorSkippedDesc, prometheus.CounterValue, float64(st.Saturated), "saturated")
	ch <- prometheus.MustNewConstMetric(monitorSkippedDesc, prometheus.CounterValue, float64(st.Overruns), "overrun")
	ch <- constHistogram(monitorDurationDesc, &st.ProbeDuration, st.ProbeDurationSum.Seconds())
	_ = c.m.HostRTTs(func(rs []monitor.HostRTT) error {
		for i := range rs {
			r := &rs[i]
			ch <- constHistogram(hostRTTDesc, &r.RTT, r.Sum.Seconds(), r.Name)
			ch <- prometheus.MustNewConstMetric(hostRequestsDesc, prometheus.CounterValue, float64(r.Sent), r.Name)
			ch <- prometheus.MustNewConstMetric(hostRepliesDesc, prometheus.CounterValue, float64(r.Received), r.Name)
		}
		return nil
	})
}

func describe[S any](ch chan<- *prometheus.Desc, ms []statMetric[S]) {
	for _, m := range ms {
		ch <- m.desc
	}
}

func collect[S any](ch chan<- prometheus.Metric, ms []statMetric[S], s *S) {
	for _, m := range ms {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.value(s))
	}
}

// promBucketStep and the bounds below choose the Prometheus buckets of a
// stats.Histogram: one per doubling (every promBucketStep-th of stats'
// quarter-octave buckets), from 128 µs to about 67 s, 21 in all. The
// bounds coincide with stats' own, so the cumulative counts are exact.
const (
	promBucketStep  = stats.BucketsPerOctave
	promBucketFirst = 7 * stats.BucketsPerOctave // Upper(28) = 128 µs
)

// constHistogram turns h (and the sum of its observations, in seconds)
// into a Prometheus histogram in seconds.
func constHistogram(desc *prometheus.Desc, h *stats.Histogram, sum float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, (stats.NumBuckets-promBucketFirst)/promBucketStep+1)
	var cum uint64
	for i := range stats.NumBuckets - 1 {
		cum += h.Counts[i]
		if i >= promBucketFirst && (i-promBucketFirst)%promBucketStep == 0 {
			buckets[stats.Upper(i).Seconds()] = cum
		}
	}
	return prometheus.MustNewConstHistogram(desc, cum+h.Counts[stats.NumBuckets-1], sum, buckets, labels...)
}
