package config

// Var documents one variable of the service's configuration.
type Var struct {
	Name    string // environment variable
	Flag    string // `pingapi serve` flag that overrides it, without dashes; "" if none
	Default string // as documented; "" means empty
	Meaning string // one sentence for the README table and .env.example
}

// Vars returns every variable Load reads, in documentation order. The
// slice is new on each call.
func Vars() []Var {
	return []Var{
		{"LISTEN_ADDR", "listen", "127.0.0.1:8080 (dev), :8080 (production)", "host:port the HTTP server listens on. Dev mode accepts only a loopback address."},
		{"DATA_DIR", "data-dir", "data", "Directory for state: the dev signing key and the monitor's mutable host list."},
		{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error."},
		{"LOG_FORMAT", "log-format", "text", "text (logfmt-style) or json, written to stderr."},
		{"AUTH0_DOMAIN", "", "", "Auth0 tenant host, e.g. example.us.auth0.com. Setting it (or AUTH_JWKS_URL) turns production mode on."},
		{"AUTH0_ISSUER", "", "https://AUTH0_DOMAIN/", "Expected iss claim. Required when only AUTH_JWKS_URL is set."},
		{"AUTH0_AUDIENCE", "", "", "Expected aud claim (the Auth0 API identifier). Required in production."},
		{"AUTH_JWKS_URL", "", "https://AUTH0_DOMAIN/.well-known/jwks.json", "Where the signing keys are fetched; set it for another OIDC issuer (Keycloak, Dex) or tests."},
		{"AUTH_ALGORITHMS", "", "RS256", "Comma-separated accepted JWS algorithms (RS*, PS*, ES*, EdDSA); none and HS* are refused."},
		{"AUTH0_ALGORITHMS", "", "", "The original pingapi's name for AUTH_ALGORITHMS, read when AUTH_ALGORITHMS is unset, so its .env (e.g. RS512) works unchanged."},
		{"AUTH_REQUIRED_SCOPE", "", "", "Scope a token needs for /pingapi, e.g. ping:run. Empty: any valid token."},
		{"AUTH_JWKS_REFRESH", "", "1h", "Background refresh interval of the cached signing keys. A token with an unknown kid triggers at most one extra fetch per 10 seconds; a kid just proven absent triggers none for 30 seconds."},
		{"MONITOR_READ_SCOPE", "", "", "Scope required on the monitor's read routes. Empty: any valid token."},
		{"MONITOR_WRITE_SCOPE", "", "", "Scope required on the monitor's write routes. Empty: any valid token."},
		{"MONITOR_OPEN_CIDRS", "", "", "Comma-separated CIDRs or addresses whose clients may read the monitor (GET /id, /host, /match, /config) without credentials, as Ping903 serves them; judged on the TCP peer, or on X-Forwarded-For from TRUSTED_PROXIES. Empty: none."},
		{"MONITOR_BASIC_AUTH_FILE", "", "", "Ping903-style credentials file (WHERE [REALM] USER HASH lines, bcrypt or SHA-crypt hashes); set, the monitor's routes also accept HTTP Basic credentials, as ping903q sends them. Empty: bearer tokens only."},
		{"MONITOR_BASIC_REALM", "", "ping903", "Realm of the monitor's HTTP Basic challenge and of the credentials file entries it uses."},
		{"MONITOR_CONFIG", "config", "", "Ping903-style monitor configuration file. Empty: the monitor uses only its mutable list."},
		{"MONITOR_MAX_HOSTS", "", "0 (sized to the machine)", "Most hosts the monitor holds, configured and added together; past it PUT and POST /config/ip-list get 413 too_many_hosts. 0: one per 8 KiB of RAM, at least 100,000, at most 2,000,000."},
		{"MONITOR_MAX_BODY", "", "8388608", "Largest POST /config/ip-list body in bytes (8 MiB holds the 100,000-host list); larger is a 413. nginx's template applies the same limit to that route (same variable)."},
		{"METRICS_PER_HOST", "", "false", "true: /metrics adds an RTT histogram and echo counters per monitored host. About 25 series and 1 KB of memory per host: keep it to a few hundred hosts (see docs/METRICS.md)."},
		{"TARGET_ALLOW", "", "", "Comma-separated CIDRs or addresses that may be measured although private or loopback (e.g. 10.0.0.0/8 to watch a LAN). The one policy of /pingapi, the monitor (every host, configured or added) and the engine. Dev mode adds 127.0.0.0/8 and ::1. Multicast, broadcast, unspecified and link-local stay denied."},
		{"TARGET_DENY", "", "", "Comma-separated CIDRs or addresses never measured; wins over TARGET_ALLOW. Private and loopback ranges are denied unless allowed."},
		{"TARGET_ALLOW_ONLY", "", "false", "true: only addresses in TARGET_ALLOW may be measured."},
		{"RESOLVE_TIMEOUT", "", "2s", "Time limit for resolving a host name."},
		{"MAX_CONCURRENT", "", "1000", "Measurements in flight across the server; beyond it requests get 429."},
		{"MAX_CONCURRENT_PER_SUBJECT", "", "5", "Measurements in flight per token subject (sub); beyond it requests get 429."},
		{"TRUSTED_PROXIES", "", "", "Comma-separated CIDRs or addresses of proxies whose X-Forwarded-For is believed (e.g. the NGINX container's network). Empty: none."},
		{"SHUTDOWN_TIMEOUT", "", "65s", "After SIGTERM/SIGINT, how long in-flight requests may finish before their measurements are cancelled."},
		{"PING_MODE", "", "auto", "ICMP sockets: auto (unprivileged datagram if allowed, else raw), dgram or raw."},
		{"PING_RATE", "", "0", "Echo requests per second across the whole engine; 0 means the engine's default (50000)."},
		{"ARCHIVE_DSN", "", "", "Measurement archive: empty is a SQLite file DATA_DIR/archive.db (nothing to install); postgres://user:pass@host/db is PostgreSQL (several instances may share it); off disables the archive."},
		{"ARCHIVE_AGENT", "", "", "measurement-agent (and source) stamped on this instance's measurements, an IP address. Empty: the address each target is probed from."},
		{"ARCHIVE_RETENTION_RAW", "", "180d", "How long measurements and other base data are kept (180d, 26w, 1y, 4320h); older data are deleted and the disk space freed."},
		{"ARCHIVE_RETENTION_SUMMARIES", "", "5y", "How long the hourly and daily summaries of pingapi's own measurements are kept (they outlive the measurements)."},
		{"ARCHIVE_RETENTION", "", "", "Per event type overrides of ARCHIVE_RETENTION_RAW for clients' esmond data, e.g. packet-trace=30d,throughput=1y."},
		{"ARCHIVE_QUEUE_SIZE", "", "100000", "Measurements waiting to be archived; when the database is slower than the probes, further ones are dropped, counted and logged."},
		{"ARCHIVE_READ", "", "public (dev), token (production)", "Who may read the archive (its esmond API and the dashboard's data): public (anyone, as esmond) or token (a bearer JWT with archive:read, or an archive key)."},
		{"TCPECHO_LISTEN", "", "", "host:port of the TCP echo listener (e.g. :7007): clients connect in and echo every byte, e.g. socat TCP:server:7007 EXEC:cat; the target policy judges their addresses. Empty: off."},
		{"TCPECHO_TLS_LISTEN", "", "", "host:port of the authenticated TCP echo listener: TLS, then `pingapi agent` presents a token with TCPECHO_AGENT_SCOPE (or an archive key) and a name. Empty: off."},
		{"TCPECHO_TLS_CERT", "", "", "PEM certificate chain of TCPECHO_TLS_LISTEN (e.g. NGINX's fullchain.pem)."},
		{"TCPECHO_TLS_KEY", "", "", "PEM private key of TCPECHO_TLS_LISTEN (e.g. NGINX's privkey.pem)."},
		{"TCPECHO_INTERVAL", "", "3s", "Time between two probe bytes to one client (each client's ticks are spread by ±5 % jitter)."},
		{"TCPECHO_TIMEOUT", "", "2s", "An echo later than this after its probe counts as lost (and as late); at most 8 intervals."},
		{"TCPECHO_SILENT_INTERVALS", "", "5", "A client that echoes nothing for this many intervals is disconnected and listed as gone."},
		{"TCPECHO_MAX_CLIENTS", "", "10000", "Connected TCP echo clients across both listeners; further connections are closed at once."},
		{"TCPECHO_MAX_PER_ADDR", "", "64", "Connected TCP echo clients per source address (many may share one NAT address)."},
		{"TCPECHO_WINDOW", "", "1m", "Each client's echoes are archived as one record per window of this length, aligned to the clock."},
		{"TCPECHO_AGENT_SCOPE", "", "echo:agent", "Scope the bearer token of an agent on TCPECHO_TLS_LISTEN must carry."},
		{"ARCHIVE_WRITE_CIDRS", "", "", "Comma-separated CIDRs or addresses whose clients may write to the archive without a key (esmond's IP authentication); judged on the TCP peer, or on X-Forwarded-For from TRUSTED_PROXIES."},
	}
}
