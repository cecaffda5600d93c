package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
)

// builder collects the values and the problems of one Load.
type builder struct {
	src  *sources
	errs []error
}

// fail records a problem with variable name.
func (b *builder) fail(name, val, from, why string) {
	b.errs = append(b.errs, fmt.Errorf("%s: %s", describe(name, val, from), why))
}

// str returns the trimmed value of name, or def when it is unset or empty.
func (b *builder) str(name, def string) (val, from string) {
	v, from, ok := b.src.get(name)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return def, "default"
	}
	return v, from
}

func (b *builder) enum(name, def string, allowed ...string) string {
	v, from := b.str(name, def)
	if !slices.Contains(allowed, v) {
		b.fail(name, v, from, "must be one of "+strings.Join(allowed, ", "))
		return def
	}
	return v
}

// duration parses a Go duration within [min, max].
func (b *builder) duration(name string, def, min, max time.Duration) time.Duration {
	v, from := b.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.fail(name, v, from, "not a duration (use a unit: 500ms, 2s, 1m)")
		return def
	}
	if d < min || d > max {
		b.fail(name, v, from, fmt.Sprintf("must be between %v and %v", min, max))
		return def
	}
	return d
}

func (b *builder) integer(name string, def, min, max int) int {
	v, from := b.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		b.fail(name, v, from, fmt.Sprintf("must be an integer from %d to %d", min, max))
		return def
	}
	return n
}

func (b *builder) float(name string, def, min, max float64) float64 {
	v, from := b.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < min || f > max {
		b.fail(name, v, from, fmt.Sprintf("must be a number from %g to %g", min, max))
		return def
	}
	return f
}

func (b *builder) boolean(name string, def bool) bool {
	v, from := b.str(name, "")
	if v == "" {
		return def
	}
	x, err := strconv.ParseBool(v)
	if err != nil {
		b.fail(name, v, from, "must be true or false")
		return def
	}
	return x
}

// scope returns a single OAuth scope token (RFC 6749 §3.3: no spaces).
func (b *builder) scope(name string) string {
	v, from := b.str(name, "")
	if strings.ContainsAny(v, " \t\"\\") {
		b.fail(name, v, from, "must be a single scope such as ping:run (no spaces or quotes)")
		return ""
	}
	return v
}

// prefixes parses a comma-separated list of CIDRs or bare addresses.
func (b *builder) prefixes(name string) []netip.Prefix {
	v, from := b.str(name, "")
	if v == "" {
		return nil
	}
	ps, err := target.ParsePrefixes(v)
	if err != nil {
		b.fail(name, v, from, strings.TrimPrefix(err.Error(), target.ErrInvalid.Error()+": "))
		return nil
	}
	return ps
}

// allowedAlgorithms are the asymmetric JWS algorithms (RFC 7518 §3.1,
// RFC 8037). HMAC is refused: with a JWKS of public keys it would let
// anyone sign with the public key.
func allowedAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// algorithms reads AUTH_ALGORITHMS or, when it is unset, the original
// pingapi's name for the same setting, AUTH0_ALGORITHMS (its .env has
// e.g. AUTH0_ALGORITHMS = RS512). Both set to different lists is refused.
func (b *builder) algorithms() []string {
	name := "AUTH_ALGORITHMS"
	v, from := b.str(name, "")
	if old, oldFrom := b.str("AUTH0_ALGORITHMS", ""); old != "" {
		switch {
		case v == "":
			name, v, from = "AUTH0_ALGORITHMS", old, oldFrom
		case !slices.Equal(splitList(v), splitList(old)):
			b.fail("AUTH0_ALGORITHMS", old, oldFrom, fmt.Sprintf("differs from AUTH_ALGORITHMS=%q (%s); they are the same setting: set one", v, from))
		}
	}
	if v == "" {
		v, from = "RS256", "default"
	}
	var out []string
	for a := range strings.SplitSeq(v, ",") {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			continue
		case strings.EqualFold(a, "none"):
			b.fail(name, v, from, `"none" is never accepted: tokens must be signed`)
			return []string{"RS256"}
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			b.fail(name, v, from, fmt.Sprintf("%s is refused: HMAC with a public JWKS lets anyone forge tokens; use RS256, PS256, ES256 or EdDSA", a))
			return []string{"RS256"}
		case !slices.Contains(allowedAlgorithms(), a):
			b.fail(name, v, from, fmt.Sprintf("unknown algorithm %q; accepted: %s", a, strings.Join(allowedAlgorithms(), ", ")))
			return []string{"RS256"}
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return []string{"RS256"}
	}
	return out
}

// splitList splits a comma-separated list, trimming and dropping empty
// elements.
func splitList(v string) []string {
	var out []string
	for a := range strings.SplitSeq(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// build reads every variable from src, fills in defaults and validates.
func build(src *sources) (Config, error) {
	b := &builder{src: src}
	c := Config{EnvFile: src.used}

	// Dev mode follows what is set, valid or not, so that a typo in
	// AUTH0_DOMAIN is reported as such and not as a dev-mode listen error.
	rawDomain, _ := b.str("AUTH0_DOMAIN", "")
	rawJWKS, _ := b.str("AUTH_JWKS_URL", "")
	c.DevMode = rawDomain == "" && rawJWKS == ""
	c.Auth0Domain = b.auth0Domain()
	c.JWKSURL = b.jwksURL()
	if c.JWKSURL == "" && c.Auth0Domain != "" {
		c.JWKSURL = "https://" + c.Auth0Domain + "/.well-known/jwks.json"
	}
	c.Auth0Issuer = b.issuer(c.Auth0Domain, rawDomain != "", c.DevMode)
	c.Auth0Audience, _ = b.str("AUTH0_AUDIENCE", "")
	if !c.DevMode && c.Auth0Audience == "" {
		b.errs = append(b.errs, errors.New("AUTH0_AUDIENCE is required when AUTH0_DOMAIN or AUTH_JWKS_URL is set: set it to your Auth0 API identifier (the aud claim of its tokens)"))
	}
	c.Algorithms = b.algorithms()
	c.RequiredScope = b.scope("AUTH_REQUIRED_SCOPE")
	c.MonitorReadScope = b.scope("MONITOR_READ_SCOPE")
	c.MonitorWriteScope = b.scope("MONITOR_WRITE_SCOPE")
	c.MonitorOpenCIDRs = b.prefixes("MONITOR_OPEN_CIDRS")
	c.MonitorBasicFile, _ = b.str("MONITOR_BASIC_AUTH_FILE", "")
	c.MonitorBasicRealm, _ = b.str("MONITOR_BASIC_REALM", "ping903")
	if v, from := b.str("MONITOR_BASIC_REALM", ""); strings.ContainsAny(v, "\"\\\r\n") {
		b.fail("MONITOR_BASIC_REALM", v, from, "must not contain quotes, backslashes or line breaks")
	}
	c.JWKSRefresh = b.duration("AUTH_JWKS_REFRESH", time.Hour, time.Second, 7*24*time.Hour)

	c.ListenAddr = b.listen(c.DevMode)
	c.DataDir, _ = b.str("DATA_DIR", "data")
	c.LogLevel = b.enum("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	c.LogFormat = b.enum("LOG_FORMAT", "text", "text", "json")
	c.MonitorConfig, _ = b.str("MONITOR_CONFIG", "")
	c.MonitorMaxHosts = b.integer("MONITOR_MAX_HOSTS", 0, 0, 10_000_000)
	c.MonitorMaxBody = int64(b.integer("MONITOR_MAX_BODY", 8<<20, 4<<10, 1<<30))
	c.MetricsPerHost = b.boolean("METRICS_PER_HOST", false)

	c.TargetAllow = b.prefixes("TARGET_ALLOW")
	c.TargetDeny = b.prefixes("TARGET_DENY")
	c.TargetAllowOnly = b.boolean("TARGET_ALLOW_ONLY", false)
	c.ResolveTimeout = b.duration("RESOLVE_TIMEOUT", 2*time.Second, time.Millisecond, time.Minute)
	c.MaxConcurrent = b.integer("MAX_CONCURRENT", 1000, 1, 1_000_000)
	c.MaxConcurrentPerSubject = b.integer("MAX_CONCURRENT_PER_SUBJECT", min(5, c.MaxConcurrent), 1, 1_000_000)
	if v, from := b.str("MAX_CONCURRENT_PER_SUBJECT", ""); v != "" && c.MaxConcurrentPerSubject > c.MaxConcurrent {
		b.fail("MAX_CONCURRENT_PER_SUBJECT", v, from, fmt.Sprintf("must not exceed MAX_CONCURRENT (%d)", c.MaxConcurrent))
	}
	c.TrustedProxies = b.prefixes("TRUSTED_PROXIES")
	c.ShutdownTimeout = b.duration("SHUTDOWN_TIMEOUT", 65*time.Second, 0, time.Hour)
	c.PingMode = b.enum("PING_MODE", "auto", "auto", "dgram", "raw")
	c.PingRate = b.float("PING_RATE", 0, 0, 10_000_000)
	c.Archive = b.archive()
	readDefault := "token"
	if c.DevMode {
		readDefault = "public"
	}
	c.ArchiveRead = b.enum("ARCHIVE_READ", readDefault, "public", "token")
	c.ArchiveWriteCIDRs = b.prefixes("ARCHIVE_WRITE_CIDRS")
	c.TCPEcho = b.tcpEcho()

	if len(b.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(b.errs...))
	}
	return c, nil
}

// auth0Domain accepts a bare host name, as the original's .env has it.
func (b *builder) auth0Domain() string {
	v, from := b.str("AUTH0_DOMAIN", "")
	if v == "" {
		return ""
	}
	if strings.Contains(v, "/") || strings.Contains(v, ":") || !validHostname(v) {
		b.fail("AUTH0_DOMAIN", v, from, "must be a host name such as example.us.auth0.com, without scheme, port or path")
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(v, "."))
}

func (b *builder) jwksURL() string {
	v, from := b.str("AUTH_JWKS_URL", "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		b.fail("AUTH_JWKS_URL", v, from, "must be an absolute http or https URL such as https://example.com/.well-known/jwks.json")
		return ""
	}
	return v
}

func (b *builder) issuer(domain string, domainSet, dev bool) string {
	v, from := b.str("AUTH0_ISSUER", "")
	if v == "" {
		if domain != "" {
			return "https://" + domain + "/"
		}
		if !dev && !domainSet { // a bad domain is reported on its own
			b.errs = append(b.errs, errors.New("AUTH0_ISSUER is required when AUTH_JWKS_URL is set without AUTH0_DOMAIN: set it to the iss claim of your issuer's tokens"))
		}
		return ""
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
		b.fail("AUTH0_ISSUER", v, from, "must be a URL such as https://example.us.auth0.com/ (the exact iss claim)")
		return ""
	}
	return v
}

// listen validates LISTEN_ADDR; dev mode accepts only loopback.
func (b *builder) listen(dev bool) string {
	def := ProductionListenAddr
	if dev {
		def = DevListenAddr
	}
	v, from := b.str("LISTEN_ADDR", def)
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		b.fail("LISTEN_ADDR", v, from, "must be host:port, e.g. 127.0.0.1:8080 or :8080")
		return def
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		b.fail("LISTEN_ADDR", v, from, "port must be a number from 0 to 65535")
		return def
	}
	if dev && !isLoopbackHost(host) {
		b.fail("LISTEN_ADDR", v, from, "dev mode (neither AUTH0_DOMAIN nor AUTH_JWKS_URL set) listens on loopback only, "+
			"because anyone could mint its tokens: use LISTEN_ADDR=127.0.0.1:"+port+", or configure AUTH0_DOMAIN and AUTH0_AUDIENCE (or AUTH_JWKS_URL) to run in production")
		return def
	}
	return v
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// validHostname reports whether s is an RFC 1123 host name.
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
