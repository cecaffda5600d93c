// Package config turns the environment, a .env file and flags into one
// validated Config for `pingapi serve`.
//
// Precedence, highest first: command-line flags, the process environment,
// the .env file, the defaults. The .env file never overrides a variable set
// in the real environment, and Load never modifies the process environment.
// Every variable is listed by Vars, which .env.example and docs/CONFIG.md
// mirror (a test keeps them in step).
package config

import (
	"net/netip"
	"time"
)

// Defaults that are not obvious from Vars.
const (
	DevListenAddr        = "127.0.0.1:8080" // LISTEN_ADDR in dev mode
	ProductionListenAddr = ":8080"          // LISTEN_ADDR with Auth0/JWKS configured
	DefaultEnvFile       = ".env"
)

// Config is the validated configuration of `pingapi serve`. A Config
// returned by Load without error is complete: every default is filled in
// and every value is checked. It is a plain value, safe to copy and to
// read from any goroutine.
type Config struct {
	ListenAddr string // LISTEN_ADDR, host:port
	DataDir    string // DATA_DIR: the dev signing key and the monitor's mutable list live here
	LogLevel   string // LOG_LEVEL: debug, info, warn or error
	LogFormat  string // LOG_FORMAT: text or json

	// Authentication. Dev mode is on when neither Auth0Domain nor JWKSURL is set.
	Auth0Domain   string // AUTH0_DOMAIN, a host name such as example.us.auth0.com
	Auth0Issuer   string // AUTH0_ISSUER, default https://AUTH0_DOMAIN/ (the iss claim)
	Auth0Audience string // AUTH0_AUDIENCE (the aud claim); required in production
	// JWKSURL is where the signing keys are fetched: AUTH_JWKS_URL, or
	// https://AUTH0_DOMAIN/.well-known/jwks.json when only the domain is set.
	// Empty in dev mode.
	JWKSURL           string
	Algorithms        []string // AUTH_ALGORITHMS, default [RS256]; never none or HS*
	RequiredScope     string   // AUTH_REQUIRED_SCOPE (for /pingapi); empty: none
	MonitorReadScope  string   // MONITOR_READ_SCOPE
	MonitorWriteScope string   // MONITOR_WRITE_SCOPE
	// MonitorMaxHosts bounds the monitored hosts (MONITOR_MAX_HOSTS); 0:
	// sized to the machine by serve (monitor.MaxHostsFor).
	MonitorMaxHosts int
	// MonitorMaxBody bounds a POST /config/ip-list body in bytes
	// (MONITOR_MAX_BODY).
	MonitorMaxBody int64
	// MonitorOpenCIDRs (MONITOR_OPEN_CIDRS) are client networks that may
	// read the monitor without credentials, as Ping903 serves its readers,
	// judged on the TCP peer (or X-Forwarded-For from TrustedProxies).
	MonitorOpenCIDRs []netip.Prefix
	// MonitorBasicFile (MONITOR_BASIC_AUTH_FILE) is a Ping903-style
	// credentials file of hashed passwords; set, the monitor's routes also
	// take HTTP Basic credentials of MonitorBasicRealm (MONITOR_BASIC_REALM).
	MonitorBasicFile  string
	MonitorBasicRealm string
	JWKSRefresh       time.Duration // AUTH_JWKS_REFRESH: background refresh interval of the JWKS
	DevMode           bool          // derived: no AUTH0_DOMAIN and no AUTH_JWKS_URL

	// Monitor: path of a Ping903-style configuration file (MONITOR_CONFIG or
	// serve --config). Empty: the monitor runs with only the mutable list.
	MonitorConfig string
	// MetricsPerHost: METRICS_PER_HOST, per-host RTT and loss series on
	// /metrics (cardinality: about 25 series per monitored host).
	MetricsPerHost bool

	// Targets: see target.Policy for how the lists combine with the
	// built-in ranges. Dev mode adds loopback to the allow list in serve.
	TargetAllow     []netip.Prefix // TARGET_ALLOW
	TargetDeny      []netip.Prefix // TARGET_DENY
	TargetAllowOnly bool           // TARGET_ALLOW_ONLY: only TARGET_ALLOW may be measured
	ResolveTimeout  time.Duration  // RESOLVE_TIMEOUT

	// Limits.
	MaxConcurrent           int // MAX_CONCURRENT: measurements in flight, whole server
	MaxConcurrentPerSubject int // MAX_CONCURRENT_PER_SUBJECT: per JWT sub

	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES). Empty: none; the peer address is the client.
	TrustedProxies  []netip.Prefix
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: drain deadline after SIGTERM

	// ICMP engine.
	PingMode string  // PING_MODE: auto, dgram or raw
	PingRate float64 // PING_RATE: packets per second, whole engine; 0: the engine's default

	// Archive: the measurement archive (ARCHIVE_*).
	Archive Archive
	// The archive's esmond API.
	// ArchiveRead is ARCHIVE_READ: "public" (anyone may read, esmond's
	// behaviour) or "token" (a bearer JWT with archive:read, or an archive
	// key). Default: public in dev mode, token in production.
	ArchiveRead string
	// ArchiveWriteCIDRs (ARCHIVE_WRITE_CIDRS) are client networks that may
	// write without a key (esmond's IP authentication), judged on the TCP
	// peer, or on X-Forwarded-For from TrustedProxies.
	ArchiveWriteCIDRs []netip.Prefix

	// TCPEcho: the TCP echo service for clients that connect in (TCPECHO_*).
	TCPEcho TCPEcho

	// EnvFile is the .env file that was read, "" when none was.
	EnvFile string
}

// TrustedProxyStrings returns TrustedProxies as strings, the form
// gin.Engine.SetTrustedProxies takes.
func (c Config) TrustedProxyStrings() []string {
	out := make([]string, 0, len(c.TrustedProxies))
	for _, p := range c.TrustedProxies {
		out = append(out, p.String())
	}
	return out
}
