// Package api is pingapi's HTTP layer: the Gin router, one file per
// resource, the auth middleware, the error envelope, the generated OpenAPI
// document (api/docs) and the embedded documentation UIs. It is the only
// package that imports Gin.
//
//	@title						pingapi
//	@version					1.0
//	@description				Round-trip time, jitter and packet loss to an IP address or hostname, measured with ICMP echo at one request per second. Every error is the JSON envelope {"error":{"code":"...","message":"..."}}; the codes are listed in docs/API.md.
//	@BasePath					/
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				An access token in the OAuth 2.0 Bearer scheme (RFC 6750): "Bearer <JWT>". Tokens in the query string are rejected.
//	@securityDefinitions.apikey	ArchiveKey
//	@in							header
//	@name						Authorization
//	@description				An archive key (`pingapi archive key create NAME`) in esmond's scheme: "Token <key>", as pScheduler and esmond's client send it. Esmond routes only.
//	@securityDefinitions.basic	MonitorBasic
//	@description				HTTP Basic (RFC 7617) against a Ping903-style credentials file of hashed passwords, when MONITOR_BASIC_AUTH_FILE is set; monitor routes only, without scopes. Reads from MONITOR_OPEN_CIDRS need no credentials.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
)

// Pinger runs measurements; *probe.Engine implements it. Implementations
// must be safe for concurrent use and must return promptly once ctx is done.
type Pinger interface {
	Ping(ctx context.Context, req probe.Request, onPacket func(probe.Packet)) (probe.Result, error)
	// Ready reports whether the engine can send (a socket is open).
	Ready() bool
}

// Verifier verifies bearer tokens; the pkg/auth verifier implements it.
// Verify returns errors wrapping auth.ErrInvalidToken (401) or
// auth.ErrNoKeys (503). It must be safe for concurrent use.
type Verifier interface {
	Verify(ctx context.Context, token string) (*auth.Claims, error)
	// Ready reports whether signing keys are loaded.
	Ready() bool
}

// Resolver turns a parsed target into the one address to measure that
// policy p allows; *target.Resolver implements it. A hostname's addresses
// are tried in preference order, so a name with one denied and one allowed
// address is measured at the allowed one. Errors wrap target.ErrDenied
// (naming the host), target.ErrNotFound, target.ErrTimeout,
// target.ErrLookup or target.ErrInvalid (family mismatch of a literal).
type Resolver interface {
	ResolveAllowed(ctx context.Context, t target.Target, fam target.Family, p target.Checker) (netip.Addr, error)
}

// Policy decides which addresses may be measured; target.Policy implements
// it. Check returns nil or an error wrapping target.ErrDenied whose message,
// which is shown to the client, says why.
type Policy interface {
	Check(a netip.Addr) error
}

// Defaults of the zero Deps fields.
const (
	DefaultMaxConcurrent           = 1000            // measurements in flight, all subjects
	DefaultMaxConcurrentPerSubject = 5               // measurements in flight per JWT sub
	DefaultEchoTimeout             = time.Second     // per-echo deadline after its send
	DefaultResolveTimeout          = 2 * time.Second // name resolution budget
	DefaultMaxBodyBytes            = 4 << 10         // POST body limit, bytes
	MaxCount                       = 59              // largest c (seconds, one echo per second)
	DefaultCount                   = 5               // c when the request omits it
)

// Deps are what the HTTP layer needs, built by `pingapi serve`. Zero fields
// take the documented defaults; Pinger and Verifier are required for the
// measurement routes (nil: /readyz is 503, /pingapi answers 503).
type Deps struct {
	Logger *slog.Logger // nil: discard

	Pinger   Pinger   // the shared ICMP engine
	Verifier Verifier // JWT verification (production or dev issuer)
	Resolver Resolver // nil: &target.Resolver{} (system resolver)
	Policy   Policy   // nil: target.Policy{} (the package's safe defaults)

	// RequiredScope, when set, is required on /pingapi.
	RequiredScope string
	// Recorder, if not nil, receives every on-demand measurement that ran
	// (GET, POST, streamed): the archive's feed.
	Recorder Recorder

	Monitor *monitor.Monitor // nil: the monitor routes are not served
	// TCPEcho, when set, serves GET /tcpecho/clients (with
	// MonitorReadScope, like the monitor's reads).
	TCPEcho TCPEcho

	// DashboardArchive is the measurement history the dashboard draws
	// (*archive.Store); nil: the dashboard shows the monitor's current
	// state only. The dashboard's data follow the archive's read setting
	// (ArchiveReadPublic, below).
	DashboardArchive DashboardArchive
	// MonitorReadScope and MonitorWriteScope, when set, are required on the
	// monitor's read and write routes.
	MonitorReadScope  string
	MonitorWriteScope string
	// MonitorOpenCIDRs are client networks whose requests to the monitor's
	// read routes need no credentials (MONITOR_OPEN_CIDRS).
	MonitorOpenCIDRs []netip.Prefix
	// MonitorBasic, when set, lets HTTP Basic credentials in on the
	// monitor's routes (MONITOR_BASIC_AUTH_FILE).
	MonitorBasic BasicChecker

	// Archive, when set, serves the esmond API of the measurement archive
	// under /esmond/perfsonar/ (api/esmond.go). ArchiveReadPublic lets
	// anyone read it (ARCHIVE_READ=public); otherwise reads need a token
	// with archive:read or an archive key. Clients in ArchiveWriteCIDRs
	// may write without a key (ARCHIVE_WRITE_CIDRS).
	Archive           Archive
	ArchiveReadPublic bool
	ArchiveWriteCIDRs []netip.Prefix
	// ArchiveFeed, when set, is the archive's write queue (*archive.Feed),
	// whose counters /metrics exports (pingapi_archive_*).
	ArchiveFeed ArchiveStats

	// TrustedProxies are the CIDRs (or addresses) whose X-Forwarded-For and
	// X-Real-IP headers are believed when computing the client address
	// (TRUSTED_PROXIES). nil or empty: trust no one, use the peer address.
	// Invalid entries make New log an error and trust no one; call
	// Deps.Validate first to reject them.
	TrustedProxies []string

	// MaxConcurrent caps measurements in flight across all subjects;
	// MaxConcurrentPerSubject caps them per JWT sub. 0: the defaults.
	MaxConcurrent           int
	MaxConcurrentPerSubject int

	EchoTimeout    time.Duration // per-echo deadline; 0: DefaultEchoTimeout
	ResolveTimeout time.Duration // name resolution budget; 0: DefaultResolveTimeout
	MaxBodyBytes   int64         // POST body limit; 0: DefaultMaxBodyBytes
	// MonitorMaxBody bounds a POST /config/ip-list body (MONITOR_MAX_BODY);
	// 0: DefaultMonitorMaxBody.
	MonitorMaxBody int64

	Now func() time.Time // clock for Retry-After estimates; nil: time.Now
}

// Validate reports configuration errors New would otherwise only log.
func (d Deps) Validate() error {
	for _, p := range d.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return errors.New("api: invalid trusted proxy " + p + ": want an IP address or CIDR")
		}
	}
	if d.MaxConcurrent < 0 || d.MaxConcurrentPerSubject < 0 {
		return errors.New("api: concurrency caps must not be negative")
	}
	return nil
}

// Server holds the router and its dependencies. It is safe for concurrent
// use once built.
type Server struct {
	deps        Deps
	log         *slog.Logger
	router      *gin.Engine
	m           serverMetrics
	promHandler http.Handler // /metrics over m.reg
	limits      *limiter
	dash        *dashboard
}

// New builds the router. It never fails: invalid TrustedProxies are logged
// and ignored (no proxy trusted); see Deps.Validate. It changes no
// process-wide state (see UseReleaseMode).
func New(d Deps) *Server {
	d = withDefaults(d)
	s := &Server{deps: d, log: d.Logger, router: gin.New(), m: newServerMetrics(d)}
	s.promHandler = s.newPromHandler()
	s.limits = newLimiter(d.MaxConcurrent, d.MaxConcurrentPerSubject, d.Now)

	r := s.router
	r.HandleMethodNotAllowed = true
	// No redirects: gin would answer a trailing slash (or an escaped one,
	// PUT /config/ip-list/127.0.0.1%2F) with a 307 to another write, or a
	// 301 HTML page; noRoute answers the envelope instead.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true // c.Done()/c.Err() follow the request context
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		s.log.Error("invalid TRUSTED_PROXIES; trusting no proxy", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(s.accessLog(), s.recovery())
	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)

	getAndHead(r, "/healthz", s.healthz)
	getAndHead(r, "/readyz", s.readyz)
	getAndHead(r, "/metrics", s.metricsHandler)
	s.registerPingAPI(r)
	if d.Monitor != nil {
		s.registerMonitor(r)
	}
	if d.Archive != nil {
		s.registerEsmond(r)
	}
	if d.TCPEcho != nil {
		s.registerTCPEcho(r)
	}
	s.registerDocs(r)
	s.registerDashboard(r)
	return s
}

func withDefaults(d Deps) Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Resolver == nil {
		d.Resolver = &target.Resolver{}
	}
	if d.Policy == nil {
		d.Policy = target.Policy{}
	}
	if d.MaxConcurrent <= 0 {
		d.MaxConcurrent = DefaultMaxConcurrent
	}
	if d.MaxConcurrentPerSubject <= 0 {
		d.MaxConcurrentPerSubject = DefaultMaxConcurrentPerSubject
	}
	if d.EchoTimeout <= 0 {
		d.EchoTimeout = DefaultEchoTimeout
	}
	if d.ResolveTimeout <= 0 {
		d.ResolveTimeout = DefaultResolveTimeout
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if d.MonitorMaxBody <= 0 {
		d.MonitorMaxBody = DefaultMonitorMaxBody
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.router }

// InFlight returns the number of measurements running now (for a graceful
// drain: http.Server.Shutdown waits for them; a longest measurement lasts
// MaxCount seconds plus the echo timeout).
func (s *Server) InFlight() int { return s.limits.inFlight() }

// UseReleaseMode switches Gin to release mode (no debug lines on standard
// output). Gin keeps its mode in a package variable, so this is for main to
// call once, before New; New itself leaves Gin's global state alone (the
// api tests set test mode in their TestMain).
func UseReleaseMode() { gin.SetMode(gin.ReleaseMode) }

// http.Server timeouts of HTTPServer: a header deadline against slow
// clients, a body deadline, an idle deadline for keep-alive connections.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	// MaxHeaderBytes bounds the request headers; larger is a 431 envelope.
	MaxHeaderBytes = 16 << 10
)

// HTTPServer returns an *http.Server for addr serving s with
// ReadHeaderTimeout, ReadTimeout, IdleTimeout and a write deadline that fits
// the longest stream (MaxCount one-second echoes, the echo timeout, the
// resolve timeout, and a margin). The caller runs ListenAndServe and
// Shutdown.
func (s *Server) HTTPServer(addr string) *http.Server {
	wt := MaxCount*EchoInterval + s.deps.EchoTimeout + s.deps.ResolveTimeout + 15*time.Second
	hs := &http.Server{
		Addr:              addr,
		Handler:           s.router,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      wt,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.dash != nil {
		hs.RegisterOnShutdown(s.dash.closeStreams)
	}
	return hs
}

// The production types satisfy the interfaces the HTTP layer consumes.
var (
	_ Pinger   = (*probe.Engine)(nil)
	_ Verifier = (*auth.Verifier)(nil)
	_ Resolver = (*target.Resolver)(nil)
	_ Policy   = target.Policy{}
)
