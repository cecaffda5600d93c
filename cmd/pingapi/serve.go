package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pingapi/pingapi/api"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
)

// Exit statuses of serve.
const (
	exitOK     = 0
	exitFailed = 1 // the server could not run (listen failed, serve error)
	exitConfig = 2 // bad configuration or environment (flags, variables, no ICMP socket)
)

// runServe is `pingapi serve`: configuration, then the server until SIGTERM
// or SIGINT. A second signal during the drain kills the process at once.
func runServe(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, os.LookupEnv)
	if errors.Is(err, config.ErrHelp) {
		config.Usage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: %v\n", err)
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, stop, cfg, stderr, nil)
}

// newLogger returns the service's logger on w per cfg's level and format.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is done, then drains it. stopSignals,
// if not nil, is called when the drain starts, so that a second signal
// takes its default action. onListen, if not nil, is called with the bound
// address once the server accepts connections (tests). It returns the exit
// status.
func serve(ctx context.Context, stopSignals func(), cfg config.Config, stderr io.Writer, onListen func(net.Addr)) int {
	log := newLogger(cfg, stderr)
	mode := "production"
	if cfg.DevMode {
		mode = "dev"
	}
	log.Info("starting pingapi", "mode", mode, "listen", cfg.ListenAddr, "data_dir", cfg.DataDir, "env_file", cfg.EnvFile)

	// A missing ICMP socket is an environment problem no retry fixes: fail
	// at once with the fix, rather than serve 503s forever.
	// One target policy for every prober: the engine refuses what it denies
	// whoever asks (the API and the monitor check it first, to answer why).
	policy := targetPolicy(cfg)
	eng, err := probe.New(probe.Options{Mode: probe.SocketMode(cfg.PingMode), Rate: cfg.PingRate,
		Logger: log.With("component", "probe"), Admit: policy.Check})
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: %v\n"+
			"  ICMP needs a raw socket (run as root, or `setcap cap_net_raw+ep pingapi`, or in a container add the NET_RAW capability)\n"+
			"  or unprivileged ICMP sockets for this group (sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" and PING_MODE=dgram)\n", err)
		return exitConfig
	}
	defer eng.Close()

	verifier, dev, err := buildVerifier(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: %v\n", err)
		return exitConfig
	}
	defer verifier.Close()
	if dev != nil {
		// So that `pingapi token` run from anywhere signs with this key.
		if err := recordDevServer(os.Getenv, filepath.Dir(dev.Path())); err != nil {
			log.Debug("dev mode: cannot record the data directory for `pingapi token`", "err", err)
		}
	}

	// runCtx outlives the signal: the monitor and in-flight measurements
	// keep running while the server drains, and end when it is cancelled.
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()

	arch, err := openArchive(ctx, cfg, log.With("component", "archive"))
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: archive: %v\n", err)
		return exitConfig
	}
	defer arch.Close()
	var monRec monitor.Recorder
	var pingRec api.Recorder
	if arch != nil {
		monRec, pingRec = arch.Monitor, arch.Ping
	}

	// Closed before the archive (defers run last first): its last windows
	// are archived.
	te, err := startTCPEcho(cfg, policy, verifier, arch, log.With("component", "tcpecho"))
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: tcp echo: %v\n", err)
		return exitConfig
	}
	defer te.Close()

	mon, err := buildMonitor(runCtx, cfg, eng, log.With("component", "monitor"), monRec)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: monitor: %v\n", err)
		return exitConfig
	}

	deps := api.Deps{
		Logger:                  log,
		Pinger:                  eng,
		Verifier:                verifier,
		Resolver:                &target.Resolver{Timeout: cfg.ResolveTimeout},
		Policy:                  policy,
		RequiredScope:           cfg.RequiredScope,
		Recorder:                pingRec,
		MonitorReadScope:        cfg.MonitorReadScope,
		MonitorWriteScope:       cfg.MonitorWriteScope,
		TrustedProxies:          cfg.TrustedProxyStrings(),
		MaxConcurrent:           cfg.MaxConcurrent,
		MaxConcurrentPerSubject: cfg.MaxConcurrentPerSubject,
		ResolveTimeout:          cfg.ResolveTimeout,
		MonitorMaxBody:          cfg.MonitorMaxBody,
		Monitor:                 mon,
	}
	// The esmond API of the archive (/esmond/perfsonar/archive/) and the
	// dashboard, which draws from the same store.
	if arch != nil {
		deps.Archive = arch.Store
		deps.DashboardArchive = arch.Store
		deps.ArchiveFeed = arch.Feed
	}
	if te != nil {
		deps.TCPEcho = te.Server
	}
	deps.ArchiveReadPublic = cfg.ArchiveRead == "public"
	deps.ArchiveWriteCIDRs = cfg.ArchiveWriteCIDRs
	// Ping903's ways in to the monitor, both off by default.
	deps.MonitorOpenCIDRs = cfg.MonitorOpenCIDRs
	if cfg.MonitorBasicFile != "" {
		b, err := auth.LoadBasicFile(cfg.MonitorBasicFile, cfg.MonitorBasicRealm)
		if err != nil {
			fmt.Fprintf(stderr, "pingapi serve: MONITOR_BASIC_AUTH_FILE: %v\n", err)
			return exitConfig
		}
		deps.MonitorBasic = b
	}
	if err := deps.Validate(); err != nil {
		fmt.Fprintf(stderr, "pingapi serve: %v\n", err)
		return exitConfig
	}
	api.UseReleaseMode()
	srv := api.New(deps)
	hs := srv.HTTPServer(cfg.ListenAddr)
	hs.BaseContext = func(net.Listener) context.Context { return runCtx }
	if dev != nil {
		hs.Handler = withJWKS(hs.Handler, dev.JWKS())
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi serve: %v\n", err)
		return exitFailed
	}
	log.Info("listening", "addr", ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs")
	if dev != nil {
		printDevHint(stderr, dev, ln.Addr(), log)
	}
	if onListen != nil {
		onListen(ln.Addr())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(srv.Listener(ln)) }()
	select {
	case err := <-serveErr:
		log.Error("server failed", "err", err)
		return exitFailed
	case <-ctx.Done():
	}
	if stopSignals != nil {
		stopSignals()
	}
	return drain(hs, srv, cancelRun, cfg.ShutdownTimeout, serveErr, log)
}

// drain stops accepting connections and lets in-flight requests finish for
// up to timeout; then it cancels the measurements still running and closes
// the remaining connections.
func drain(hs *http.Server, srv *api.Server, cancelRun context.CancelFunc, timeout time.Duration, serveErr <-chan error, log *slog.Logger) int {
	log.Info("shutting down: draining in-flight requests (signal again to exit at once)", "in_flight", srv.InFlight(), "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	cancelRun() // ends the monitor and any measurement still running
	if err != nil {
		log.Warn("drain deadline passed: cancelled remaining measurements", "in_flight", srv.InFlight())
		// Handlers return promptly once their context is cancelled; give
		// them a moment to write their final line, then close.
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer ccancel()
		if hs.Shutdown(cctx) != nil {
			_ = hs.Close()
		}
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("server failed", "err", err)
		return exitFailed
	}
	log.Info("stopped")
	return exitOK
}

// targetPolicy is the configured allow/deny policy; dev mode adds loopback.
func targetPolicy(cfg config.Config) target.Policy {
	p := target.Policy{Allow: cfg.TargetAllow, Deny: cfg.TargetDeny, AllowOnly: cfg.TargetAllowOnly}
	if cfg.DevMode {
		p.Allow = append(append([]netip.Prefix(nil), p.Allow...), target.DevPolicy().Allow...)
	}
	return p
}
