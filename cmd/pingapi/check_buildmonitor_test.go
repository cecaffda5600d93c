package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/monitor"
)

// TestBuildMonitor covers serve's wiring of the monitor: the Ping903 file,
// the listen warning, the mutable list across a restart, and errors.
func TestBuildMonitor(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ping903.conf")
	writeFile(t, conf, "listen 0.0.0.0:9999\npidfile /run/ping903.pid\nprobe-interval 30\nping-count 5\nip-list <<EOF\n192.0.2.1\nEOF\n", 0o600)
	cfg := config.Config{MonitorConfig: conf, DataDir: filepath.Join(dir, "data"), ListenAddr: ":8080"}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	m, err := startMonitor(ctx, cfg, &scriptedPinger{}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := m.Settings(); st.ProbeInterval != 30*time.Second || st.PingCount != 5 {
		t.Errorf("settings %+v", st)
	}
	for _, want := range []string{"LISTEN_ADDR governs the HTTP socket", "listen=0.0.0.0:9999", `statement="` + conf + `:2: pidfile"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if err := m.Add(ctx, "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	cancel()

	// Restart: the mutable list comes back after the immutable one.
	m2, err := startMonitor(t.Context(), cfg, &scriptedPinger{}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	imm, mut := m2.IPList()
	if !slices.Equal(imm, []string{"192.0.2.1"}) || !slices.Equal(mut, []string{"192.0.2.2"}) {
		t.Errorf("after restart: %q %q", imm, mut)
	}

	// No configuration at all: Ping903 defaults, empty list, still running.
	m3, err := startMonitor(t.Context(), config.Config{}, &scriptedPinger{}, log, nil)
	if err != nil || m3.Len() != 0 || m3.Settings().ProbeInterval != time.Minute {
		t.Errorf("without configuration: %v", err)
	}

	writeFile(t, conf, "ping-count 10\nping-interval 1\nprobe-interval 5\n", 0o600)
	if _, err := startMonitor(t.Context(), cfg, &scriptedPinger{}, log, nil); err == nil || !strings.Contains(err.Error(), "must be below probe-interval") {
		t.Errorf("overlapping probes: %v", err)
	}
	writeFile(t, conf, "# x\nping-cont 10\n", 0o600)
	if _, err := startMonitor(t.Context(), cfg, &scriptedPinger{}, log, nil); err == nil || err.Error() != conf+`:2: unknown statement "ping-cont"` {
		t.Errorf("unknown statement: %v", err)
	}
	if _, err := buildMonitor(t.Context(), cfg, nil, log, nil); err == nil {
		t.Error("buildMonitor without an engine: no error")
	}
}

// TestBuildMonitorPerHost: METRICS_PER_HOST reaches the monitor, and serve
// warns of the series it adds; without it, no warning.
func TestBuildMonitorPerHost(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "ping903.conf")
	writeFile(t, conf, "ip-list <<EOF\n192.0.2.1\n192.0.2.2\nEOF\n", 0o600)
	for _, on := range []bool{false, true} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		m, err := startMonitor(t.Context(), config.Config{MonitorConfig: conf, MetricsPerHost: on}, &scriptedPinger{}, log, nil)
		if err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(logs.String(), "METRICS_PER_HOST is on") && strings.Contains(logs.String(), "series=52")
		if warned != on {
			t.Errorf("METRICS_PER_HOST=%v: warned %v:\n%s", on, warned, logs.String())
		}
		n := 0
		m.HostRTTs(func(rs []monitor.HostRTT) error { n += len(rs); return nil })
		if want := map[bool]int{true: 2}[on]; n != want {
			t.Errorf("METRICS_PER_HOST=%v: %d per-host records, want %d", on, n, want)
		}
	}
}
