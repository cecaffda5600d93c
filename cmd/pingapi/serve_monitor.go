package main

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"syscall"

	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
)

// buildMonitor builds and starts the monitor for serve: the Ping903
// configuration file cfg.MonitorConfig (if set) gives the settings and the
// immutable ip-list, the mutable ip-list is read back from cfg.DataDir, and
// the scheduler runs until ctx is done. The monitor always runs, with an
// empty list if nothing is configured, so that PUT /config/ip-list works
// out of the box. The listen statement of the file does not move the HTTP
// socket (LISTEN_ADDR does); a differing one is logged as a warning. rec,
// if not nil, receives every probe (the archive).
func buildMonitor(ctx context.Context, cfg config.Config, eng *probe.Engine, log *slog.Logger, rec monitor.Recorder) (*monitor.Monitor, error) {
	if eng == nil {
		return nil, errors.New("no probe engine")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return startMonitor(ctx, cfg, eng, log, rec)
}

// startMonitor is buildMonitor on any Pinger (tests use a fake).
func startMonitor(ctx context.Context, cfg config.Config, p monitor.Pinger, log *slog.Logger, rec monitor.Recorder) (*monitor.Monitor, error) {
	// The one target policy: the same as /pingapi's and the engine's.
	opts := monitor.Options{Pinger: p, Logger: log, Settings: monitor.DefaultSettings(), Recorder: rec, Policy: targetPolicy(cfg), PerHostRTT: cfg.MetricsPerHost}
	opts.MaxHosts = cfg.MonitorMaxHosts
	if opts.MaxHosts == 0 {
		opts.MaxHosts = monitor.MaxHostsFor(totalMemory())
	}
	resolver := &target.Resolver{Timeout: cfg.ResolveTimeout}
	opts.Resolve = func(ctx context.Context, name string) (netip.Addr, error) {
		t, err := target.Parse(name)
		if err != nil {
			return netip.Addr{}, err
		}
		return resolver.Resolve(ctx, t, 4)
	}
	if cfg.MonitorConfig != "" {
		mc, err := monitor.LoadConfig(cfg.MonitorConfig)
		if err != nil {
			return nil, err
		}
		for _, ig := range mc.Ignored {
			log.Info("Ping903 statement has no effect in pingapi, ignored", "statement", ig)
		}
		if mc.ListenGiven && mc.Settings.Listen != cfg.ListenAddr {
			log.Warn("the listen statement of the monitor configuration is not used: LISTEN_ADDR governs the HTTP socket",
				"listen", mc.Settings.Listen, "LISTEN_ADDR", cfg.ListenAddr, "file", cfg.MonitorConfig)
		}
		opts.Settings, opts.Immutable, opts.ImmutableAt = mc.Settings, mc.IPList, mc.IPListAt
	}
	if cfg.DataDir != "" {
		opts.Store = monitor.NewStore(cfg.DataDir)
	} else {
		log.Warn("no data directory: the mutable ip-list will not survive a restart")
	}
	info, _ := debug.ReadBuildInfo()
	opts.Version = resolveBuildID(version, commit, info).Version
	m, err := monitor.New(opts)
	if err != nil {
		return nil, err
	}
	st := m.Settings()
	imm, mut := m.IPList()
	log.Info("monitor started", "immutable", len(imm), "mutable", len(mut), "max_hosts", m.MaxHosts(),
		"probe_interval", st.ProbeInterval, "ping_count", st.PingCount, "ping_interval", st.PingInterval,
		"tolerance", st.Tolerance, "store", storePath(opts.Store))
	if cfg.MetricsPerHost {
		// docs/METRICS.md: about 26 series per host (a 24-series
		// histogram and two counters).
		log.Warn("METRICS_PER_HOST is on: /metrics carries about 26 series per monitored host; keep the list to a few hundred hosts",
			"hosts", len(imm)+len(mut), "series", 26*(len(imm)+len(mut)))
	}
	go func() {
		if err := m.Run(ctx); err != nil {
			log.Error("monitor stopped", "err", err)
		}
	}()
	return m, nil
}

// totalMemory is the machine's RAM in bytes (0 when unknown: the smallest
// MONITOR_MAX_HOSTS default).
func totalMemory() uint64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

func storePath(s *monitor.Store) string {
	if s == nil {
		return ""
	}
	return s.Path()
}
