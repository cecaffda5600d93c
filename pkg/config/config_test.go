package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a LookupFunc over a fixed map.
func env(m map[string]string) LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// loadFixture loads testdata/name with an empty environment.
func loadFixture(t *testing.T, name string, args ...string) (Config, error) {
	t.Helper()
	return Load(append([]string{"--env-file", filepath.Join("testdata", name)}, args...), nil)
}

// TestRejections: every rejection has its own fixture and its exact message.
func TestRejections(t *testing.T) {
	const h = "invalid configuration:\n"
	tests := []struct {
		fixture string
		want    string
	}{
		{"bad_log_level.env", h + `LOG_LEVEL="verbose" (from testdata/bad_log_level.env): must be one of debug, info, warn, error`},
		{"bad_log_format.env", h + `LOG_FORMAT="xml" (from testdata/bad_log_format.env): must be one of text, json`},
		{"dev_public_listen.env", h + `LISTEN_ADDR="0.0.0.0:8080" (from testdata/dev_public_listen.env): dev mode (neither AUTH0_DOMAIN nor AUTH_JWKS_URL set) listens on loopback only, because anyone could mint its tokens: use LISTEN_ADDR=127.0.0.1:8080, or configure AUTH0_DOMAIN and AUTH0_AUDIENCE (or AUTH_JWKS_URL) to run in production`},
		{"dev_empty_host_listen.env", h + `LISTEN_ADDR=":9000" (from testdata/dev_empty_host_listen.env): dev mode (neither AUTH0_DOMAIN nor AUTH_JWKS_URL set) listens on loopback only, because anyone could mint its tokens: use LISTEN_ADDR=127.0.0.1:9000, or configure AUTH0_DOMAIN and AUTH0_AUDIENCE (or AUTH_JWKS_URL) to run in production`},
		{"bad_listen.env", h + `LISTEN_ADDR="8080" (from testdata/bad_listen.env): must be host:port, e.g. 127.0.0.1:8080 or :8080`},
		{"bad_listen_port.env", h + `LISTEN_ADDR="127.0.0.1:99999" (from testdata/bad_listen_port.env): port must be a number from 0 to 65535`},
		{"missing_audience.env", h + `AUTH0_AUDIENCE is required when AUTH0_DOMAIN or AUTH_JWKS_URL is set: set it to your Auth0 API identifier (the aud claim of its tokens)`},
		{"jwks_without_issuer.env", h + `AUTH0_ISSUER is required when AUTH_JWKS_URL is set without AUTH0_DOMAIN: set it to the iss claim of your issuer's tokens`},
		{"bad_domain.env", h + `AUTH0_DOMAIN="https://example.us.auth0.com/" (from testdata/bad_domain.env): must be a host name such as example.us.auth0.com, without scheme, port or path`},
		{"bad_domain_public_listen.env", h + `AUTH0_DOMAIN="https://example.us.auth0.com/" (from testdata/bad_domain_public_listen.env): must be a host name such as example.us.auth0.com, without scheme, port or path`},
		{"bad_jwks_url.env", h + `AUTH_JWKS_URL="keys.example/jwks.json" (from testdata/bad_jwks_url.env): must be an absolute http or https URL such as https://example.com/.well-known/jwks.json`},
		{"bad_issuer.env", h + `AUTH0_ISSUER="example.us.auth0.com" (from testdata/bad_issuer.env): must be a URL such as https://example.us.auth0.com/ (the exact iss claim)`},
		{"alg_none.env", h + `AUTH_ALGORITHMS="RS256,none" (from testdata/alg_none.env): "none" is never accepted: tokens must be signed`},
		{"alg_hs256.env", h + `AUTH_ALGORITHMS="HS256" (from testdata/alg_hs256.env): HS256 is refused: HMAC with a public JWKS lets anyone forge tokens; use RS256, PS256, ES256 or EdDSA`},
		{"alg_unknown.env", h + `AUTH_ALGORITHMS="RS257" (from testdata/alg_unknown.env): unknown algorithm "RS257"; accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA`},
		{"alg_conflict.env", h + `AUTH0_ALGORITHMS="RS512" (from testdata/alg_conflict.env): differs from AUTH_ALGORITHMS="RS256" (testdata/alg_conflict.env); they are the same setting: set one`},
		{"bad_scope.env", h + `AUTH_REQUIRED_SCOPE="ping:run monitor:read" (from testdata/bad_scope.env): must be a single scope such as ping:run (no spaces or quotes)`},
		{"bad_refresh.env", h + `AUTH_JWKS_REFRESH="0s" (from testdata/bad_refresh.env): must be between 1s and 168h0m0s`},
		{"bad_target_allow.env", h + `TARGET_ALLOW="10.0.0.0/33" (from testdata/bad_target_allow.env): "10.0.0.0/33" is not a CIDR prefix`},
		{"bad_target_deny.env", h + `TARGET_DENY="192.0.2.1, example.com" (from testdata/bad_target_deny.env): "example.com" is neither an address nor a CIDR prefix`},
		{"bad_trusted_proxies.env", h + `TRUSTED_PROXIES="nginx" (from testdata/bad_trusted_proxies.env): "nginx" is neither an address nor a CIDR prefix`},
		{"bad_resolve_timeout.env", h + `RESOLVE_TIMEOUT="2" (from testdata/bad_resolve_timeout.env): not a duration (use a unit: 500ms, 2s, 1m)`},
		{"resolve_timeout_range.env", h + `RESOLVE_TIMEOUT="0s" (from testdata/resolve_timeout_range.env): must be between 1ms and 1m0s`},
		{"bad_max_concurrent.env", h + `MAX_CONCURRENT="0" (from testdata/bad_max_concurrent.env): must be an integer from 1 to 1000000`},
		{"per_subject_exceeds.env", h + `MAX_CONCURRENT_PER_SUBJECT="20" (from testdata/per_subject_exceeds.env): must not exceed MAX_CONCURRENT (10)`},
		{"bad_shutdown_timeout.env", h + `SHUTDOWN_TIMEOUT="-1s" (from testdata/bad_shutdown_timeout.env): must be between 0s and 1h0m0s`},
		{"bad_ping_mode.env", h + `PING_MODE="icmp" (from testdata/bad_ping_mode.env): must be one of auto, dgram, raw`},
		{"bad_archive_read.env", h + `ARCHIVE_READ="private" (from testdata/bad_archive_read.env): must be one of public, token`},
		{"bad_archive_write_cidrs.env", h + `ARCHIVE_WRITE_CIDRS="10.0.0.0/8, pscheduler.example" (from testdata/bad_archive_write_cidrs.env): "pscheduler.example" is neither an address nor a CIDR prefix`},
		{"bad_allow_only.env", h + `TARGET_ALLOW_ONLY="yes" (from testdata/bad_allow_only.env): must be true or false`},
		{"bad_ping_rate.env", h + `PING_RATE="-5" (from testdata/bad_ping_rate.env): must be a number from 0 to 1e+07`},
		{"bad_archive_agent.env", h + `ARCHIVE_AGENT="probe1.example" (from testdata/bad_archive_agent.env): must be an IP address (the measurement-agent)`},
		{"bad_archive_retention.env", h + `ARCHIVE_RETENTION="packet-trace" (from testdata/bad_archive_retention.env): must be a list of event-type=duration (packet-trace=30d,throughput=1y), each at least 1h`},
		{"bad_archive_retention_raw.env", h + `ARCHIVE_RETENTION_RAW="10m" (from testdata/bad_archive_retention_raw.env): must be a duration of at least 1h (180d, 26w, 1y, 4320h)`},
		{"several_errors.env", h + `LOG_LEVEL="loud" (from testdata/several_errors.env): must be one of debug, info, warn, error` + "\n" + `PING_MODE="icmp" (from testdata/several_errors.env): must be one of auto, dgram, raw`},
		{"bad_tcpecho_listen.env", h + `TCPECHO_LISTEN="7007" (from testdata/bad_tcpecho_listen.env): must be host:port, e.g. :7007 or 127.0.0.1:7007`},
		{"tcpecho_tls_without_key.env", h + `TCPECHO_TLS_LISTEN=":7008" (from testdata/tcpecho_tls_without_key.env): needs TCPECHO_TLS_CERT and TCPECHO_TLS_KEY (PEM files, e.g. the certificates NGINX uses)`},
		{"tcpecho_timeout_over.env", h + `TCPECHO_TIMEOUT="9s" (from testdata/tcpecho_timeout_over.env): must be at most 8 intervals (8s)`},
		{"tcpecho_window_short.env", h + `TCPECHO_WINDOW="5s" (from testdata/tcpecho_window_short.env): must be at least TCPECHO_INTERVAL and TCPECHO_TIMEOUT`},
		{"malformed_key.env", `env file testdata/malformed_key.env:3: unexpected character "-" in variable name`},
		{"unterminated_quote.env", `env file testdata/unterminated_quote.env:2: unterminated quoted value`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.fixture] = true
		t.Run(tt.fixture, func(t *testing.T) {
			_, err := loadFixture(t, tt.fixture)
			if err == nil {
				t.Fatalf("Load accepted %s; want error %q", tt.fixture, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
	// Every fixture is either a rejection above or a valid one tested below.
	valid := map[string]bool{"original.env": true, "full.env": true, "original_rs512.env": true}
	files, _ := filepath.Glob("testdata/*.env")
	for _, f := range files {
		if b := filepath.Base(f); !seen[b] && !valid[b] {
			t.Errorf("fixture %s is not tested", b)
		}
	}
}

// TestOriginalEnvFile: the original pingapi's .env (spaces around '=')
// still configures production mode.
func TestOriginalEnvFile(t *testing.T) {
	c, err := loadFixture(t, "original.env")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr: ":8080", DataDir: "data", LogLevel: "info", LogFormat: "text",
		Auth0Domain: "kurtcms.us.auth0.com", Auth0Issuer: "https://kurtcms.us.auth0.com/",
		Auth0Audience: "https://kurtcms.org/pingapi/",
		JWKSURL:       "https://kurtcms.us.auth0.com/.well-known/jwks.json",
		Algorithms:    []string{"RS256"}, JWKSRefresh: time.Hour, MonitorBasicRealm: "ping903",
		ResolveTimeout: 2 * time.Second, MonitorMaxBody: 8 << 20, MaxConcurrent: 1000, MaxConcurrentPerSubject: 5,
		ShutdownTimeout: 65 * time.Second, PingMode: "auto", ArchiveRead: "token",
		Archive: Archive{RetentionRaw: 180 * 24 * time.Hour, RetentionSummaries: 5 * 365 * 24 * time.Hour, QueueSize: 100000},
		TCPEcho: TCPEcho{Interval: 3 * time.Second, Timeout: 2 * time.Second, SilentIntervals: 5,
			MaxClients: 10000, MaxPerAddr: 64, Window: time.Minute, AgentScope: "echo:agent"},
		EnvFile: "testdata/original.env",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

// TestOriginalAlgorithms: the original pingapi's AUTH0_ALGORITHMS is the
// same setting as AUTH_ALGORITHMS, and agreeing values are no conflict.
func TestOriginalAlgorithms(t *testing.T) {
	c, err := loadFixture(t, "original_rs512.env")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Algorithms, []string{"RS512"}) {
		t.Errorf("AUTH0_ALGORITHMS=RS512: Algorithms = %v", c.Algorithms)
	}
	c, err = Load([]string{"--env-file", "testdata/original_rs512.env"}, env(map[string]string{"AUTH_ALGORITHMS": "RS512"}))
	if err != nil || !reflect.DeepEqual(c.Algorithms, []string{"RS512"}) {
		t.Errorf("both set to RS512: %v, %v", c.Algorithms, err)
	}
}

func TestFullEnvFile(t *testing.T) {
	c, err := loadFixture(t, "full.env")
	if err != nil {
		t.Fatal(err)
	}
	pp := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	want := Config{
		ListenAddr: "0.0.0.0:9090", DataDir: "/var/lib/pingapi", LogLevel: "debug", LogFormat: "json",
		Auth0Issuer: "http://127.0.0.1:5556/dex", Auth0Audience: "pingapi",
		JWKSURL:    "http://127.0.0.1:5556/dex/keys",
		Algorithms: []string{"RS256", "ES256"}, RequiredScope: "ping:run",
		MonitorReadScope: "monitor:read", MonitorWriteScope: "monitor:write",
		MonitorOpenCIDRs: pp("127.0.0.0/8", "::1/128"), MonitorBasicFile: "/etc/pingapi/ping903.cred", MonitorBasicRealm: "ops",
		JWKSRefresh: 15 * time.Minute, MonitorConfig: "/etc/pingapi/monitor.conf", MetricsPerHost: true,
		TargetAllow: pp("10.0.0.0/8", "fd00::/8"),
		TargetDeny:  pp("10.1.0.0/16", "192.0.2.1/32"), TargetAllowOnly: true,
		ResolveTimeout: 500 * time.Millisecond, MonitorMaxBody: 8 << 20, MaxConcurrent: 2000, MaxConcurrentPerSubject: 10,
		TrustedProxies:  pp("172.16.0.0/12"),
		ShutdownTimeout: 30 * time.Second, PingMode: "raw", PingRate: 1000,
		Archive: Archive{DSN: "postgres://pingapi@db/pingapi", Agent: netip.MustParseAddr("192.0.2.7"),
			RetentionRaw: 365 * 24 * time.Hour, RetentionSummaries: 2 * 365 * 24 * time.Hour, QueueSize: 5000,
			RetentionEventTypes: map[string]time.Duration{"packet-trace": 30 * 24 * time.Hour, "throughput": 14 * 24 * time.Hour}},
		ArchiveRead: "token", ArchiveWriteCIDRs: pp("192.0.2.0/24", "2001:db8::7/128"),
		TCPEcho: TCPEcho{Listen: ":7007", TLSListen: ":7008",
			TLSCert: "/etc/letsencrypt/live/example.org/fullchain.pem", TLSKey: "/etc/letsencrypt/live/example.org/privkey.pem",
			Interval: 5 * time.Second, Timeout: 4 * time.Second, SilentIntervals: 3, MaxClients: 20000, MaxPerAddr: 8,
			Window: 5 * time.Minute, AgentScope: "echo:site"},
		EnvFile: "testdata/full.env",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if got := c.TrustedProxyStrings(); !reflect.DeepEqual(got, []string{"172.16.0.0/12"}) {
		t.Errorf("TrustedProxyStrings = %v", got)
	}
}

// TestDefaults: no .env, empty environment: dev mode on loopback.
func TestDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env here: a missing default .env is fine
	c, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DevMode || c.ListenAddr != DevListenAddr || c.DataDir != "data" || c.EnvFile != "" || c.JWKSURL != "" || c.ArchiveRead != "public" {
		t.Errorf("defaults = %+v", c)
	}
}

// TestPrecedence: flags > environment > .env > defaults.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.env")
	if err := os.WriteFile(file, []byte("LOG_LEVEL=warn\nDATA_DIR=/from/file\nLISTEN_ADDR=127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantLevel string
		wantDir   string
		wantAddr  string
	}{
		{"file over defaults", nil, nil, "warn", "/from/file", "127.0.0.1:1"},
		{"environment over file", nil, map[string]string{"LOG_LEVEL": "error", "DATA_DIR": "/from/env"}, "error", "/from/env", "127.0.0.1:1"},
		{"flag over environment", []string{"--log-level", "debug", "--listen", "[::1]:2"}, map[string]string{"LOG_LEVEL": "error"}, "debug", "/from/file", "[::1]:2"},
		{"empty environment value falls back", nil, map[string]string{"LOG_LEVEL": ""}, "warn", "/from/file", "127.0.0.1:1"},
		{"flag data-dir", []string{"--data-dir=/from/flag"}, map[string]string{"DATA_DIR": "/from/env"}, "warn", "/from/flag", "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(append([]string{"--env-file", file}, tt.args...), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.LogLevel != tt.wantLevel || c.DataDir != tt.wantDir || c.ListenAddr != tt.wantAddr {
				t.Errorf("got level=%s dir=%s addr=%s; want %s %s %s", c.LogLevel, c.DataDir, c.ListenAddr, tt.wantLevel, tt.wantDir, tt.wantAddr)
			}
		})
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--env-file", "testdata/does-not-exist.env"}, "env file: open testdata/does-not-exist.env: no such file or directory"},
		{[]string{"--nope"}, "serve: flag provided but not defined: -nope"},
		{[]string{"extra"}, `serve: unexpected argument "extra"`},
		{[]string{"--env-file", "testdata/original.env", "--log-level", "x"}, "invalid configuration:\n" + `LOG_LEVEL="x" (flag --log-level): must be one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := Load(tt.args, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v; want %q", err, tt.want)
			}
		})
	}
	if _, err := Load([]string{"-h"}, nil); !errors.Is(err, ErrHelp) {
		t.Errorf("-h: err = %v; want ErrHelp", err)
	}
}

// TestPerSubjectDefaultFollowsGlobal: a small MAX_CONCURRENT lowers the
// per-subject default instead of failing.
func TestPerSubjectDefaultFollowsGlobal(t *testing.T) {
	c, err := Load([]string{"--env-file", "testdata/original.env"}, env(map[string]string{"MAX_CONCURRENT": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConcurrent != 3 || c.MaxConcurrentPerSubject != 3 {
		t.Errorf("got %d/%d, want 3/3", c.MaxConcurrent, c.MaxConcurrentPerSubject)
	}
}

// TestConfigFlag: --config sets MONITOR_CONFIG.
func TestConfigFlag(t *testing.T) {
	c, err := Load([]string{"--env-file", "testdata/original.env", "--config", "/etc/m.conf"}, env(map[string]string{"MONITOR_CONFIG": "/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MonitorConfig != "/etc/m.conf" {
		t.Errorf("MonitorConfig = %q", c.MonitorConfig)
	}
}

// TestVarsComplete: Vars lists exactly the variables build reads.
func TestVarsComplete(t *testing.T) {
	src := &sources{lookup: env(nil), asked: map[string]bool{}}
	if _, err := build(src); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, v := range Vars() {
		documented[v.Name] = true
		if !src.asked[v.Name] {
			t.Errorf("Vars lists %s but Load never reads it", v.Name)
		}
	}
	for name := range src.asked {
		if !documented[name] {
			t.Errorf("Load reads %s but Vars does not list it", name)
		}
	}
}

func TestDevLoopbackAddresses(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, addr := range []string{"127.0.0.1:8080", "127.9.9.9:1", "[::1]:8080", "localhost:8080", "[::ffff:127.0.0.1]:80"} {
		if _, err := Load([]string{"--listen", addr}, nil); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
