package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultRefreshInterval    = time.Hour
	DefaultUnknownKIDInterval = 10 * time.Second
	DefaultNegativeKIDTTL     = 30 * time.Second
	DefaultMinBackoff         = time.Second
	DefaultMaxBackoff         = time.Minute
	DefaultHTTPTimeout        = 10 * time.Second
	// MaxTokenBytes bounds the size of a token Verify and BearerToken accept.
	MaxTokenBytes = 8 << 10
)

// Config configures a Verifier. JWKSURL (or StaticJWKS), Issuer and Audience
// are required; every duration has a default when zero.
type Config struct {
	// JWKSURL is where the key set lives: Auth0JWKSURL(AUTH0_DOMAIN) or
	// AUTH_JWKS_URL for any OIDC issuer.
	JWKSURL string
	// StaticJWKS, when set, is the key set itself (JWKS JSON) and JWKSURL is
	// not used: no fetches, no refresh (dev mode, tests).
	StaticJWKS []byte
	// Issuer must equal the token's iss exactly (Auth0: "https://DOMAIN/").
	Issuer string
	// Audience must be one of the token's aud values.
	Audience string
	// Algorithms lists the accepted JWS algorithms; default ["RS256"].
	// "none" and HS256/384/512 are refused by New.
	Algorithms []string
	// Leeway is the clock-skew allowance for exp, nbf and iat; default 30 s.
	Leeway time.Duration
	// RefreshInterval is the period of the background refresh; default 1 h.
	RefreshInterval time.Duration
	// UnknownKIDInterval is the minimum gap between two refreshes triggered
	// by tokens with an unknown kid; default 10 s. It is short so that a
	// rotated key is picked up quickly even while forged kids arrive (each
	// refresh loads the whole set, whoever triggered it), and it bounds the
	// fetches anonymous forged kids can cause (6 a minute by default).
	UnknownKIDInterval time.Duration
	// NegativeKIDTTL is how long a kid that a refresh has just proven absent
	// triggers no further refresh; default 30 s. Replaying one forged kid
	// then costs no fetch, and a genuine kid looked up just before its key
	// was published is retried well within a minute.
	NegativeKIDTTL time.Duration
	// MinBackoff and MaxBackoff bound the retry delay after a failed fetch
	// (doubling, with jitter); defaults 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// HTTPTimeout bounds one fetch of the key set; default 10 s.
	HTTPTimeout time.Duration
	// HTTPClient fetches the key set; default a new http.Client.
	HTTPClient *http.Client
	// Now is the clock for token validation and rate limits; default time.Now.
	Now func() time.Time
	// Logger receives refresh failures and recoveries; default discards.
	Logger *slog.Logger
}

// Auth0JWKSURL returns the JWKS location of an Auth0 tenant domain
// ("tenant.us.auth0.com", with or without scheme and trailing slash).
func Auth0JWKSURL(domain string) string {
	return "https://" + auth0Host(domain) + "/.well-known/jwks.json"
}

// Auth0Issuer returns the iss Auth0 puts in tokens of domain: "https://DOMAIN/".
func Auth0Issuer(domain string) string { return "https://" + auth0Host(domain) + "/" }

func auth0Host(domain string) string {
	d := strings.TrimSpace(domain)
	d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
	return strings.TrimRight(d, "/")
}

// Verifier verifies bearer tokens. It is safe for concurrent use; Close
// stops its background refresh.
type Verifier struct {
	cfg     Config
	log     *slog.Logger
	parser  *jwt.Parser
	kf      keyfunc.Keyfunc
	keys    *keyStore
	loaded  atomic.Bool
	fetches atomic.Int64
	limiter *rate.Limiter
	absent  absentKIDs
	flight  singleflight.Group
	fetch   func(ctx context.Context) ([]byte, error)
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
}

// allowedAlgorithms are the asymmetric JWS algorithms a Verifier may accept.
var allowedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// New validates cfg and returns a Verifier. It does not wait for the key set:
// with a URL, the first fetch runs in the background (Ready turns true when
// it succeeds); with StaticJWKS the keys are loaded before New returns. New
// fails only on a bad configuration.
func New(cfg Config) (*Verifier, error) {
	if err := normalize(&cfg); err != nil {
		return nil, err
	}
	v := &Verifier{
		cfg:     cfg,
		log:     cfg.Logger,
		limiter: rate.NewLimiter(rate.Every(cfg.UnknownKIDInterval), 1),
		done:    make(chan struct{}),
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.keys = &keyStore{MemoryJWKSet: jwkset.NewMemoryStorage(), v: v}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: v.ctx, Storage: v.keys})
	if err != nil {
		v.cancel()
		return nil, fmt.Errorf("auth: %w", err)
	}
	v.kf = kf
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	)
	if cfg.StaticJWKS != nil {
		static := slices.Clone(cfg.StaticJWKS)
		v.fetch = func(context.Context) ([]byte, error) { return static, nil }
		if err := v.refresh(v.ctx); err != nil {
			v.cancel()
			return nil, fmt.Errorf("auth: static key set: %w", err)
		}
		close(v.done)
		return v, nil
	}
	if u, _ := url.Parse(cfg.JWKSURL); u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		v.log.Warn("auth: the key set is fetched over plain HTTP; use https outside tests", "url", cfg.JWKSURL)
	}
	v.fetch = v.fetchHTTP
	go v.run()
	return v, nil
}

func normalize(cfg *Config) error {
	if cfg.StaticJWKS == nil {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("auth: JWKS URL %q is not an http(s) URL", cfg.JWKSURL)
		}
	}
	if cfg.Issuer == "" {
		return errors.New("auth: issuer is required")
	}
	if cfg.Audience == "" {
		return errors.New("auth: audience is required")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"RS256"}
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(allowedAlgorithms, a) {
			return fmt.Errorf("auth: algorithm %q is not accepted (allowed: %s; never none or HMAC)", a, strings.Join(allowedAlgorithms, ", "))
		}
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Leeway, DefaultLeeway)
	def(&cfg.RefreshInterval, DefaultRefreshInterval)
	def(&cfg.UnknownKIDInterval, DefaultUnknownKIDInterval)
	def(&cfg.NegativeKIDTTL, DefaultNegativeKIDTTL)
	def(&cfg.MinBackoff, DefaultMinBackoff)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	def(&cfg.HTTPTimeout, DefaultHTTPTimeout)
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// Ready reports whether a key set has been loaded (the server may answer
// authenticated requests).
func (v *Verifier) Ready() bool { return v.loaded.Load() }

// Fetches returns how many key-set fetches were attempted (for tests and
// metrics).
func (v *Verifier) Fetches() int64 { return v.fetches.Load() }

// Close stops the background refresh and waits for it to end. Verify keeps
// working with the cached keys afterwards. Close is idempotent.
func (v *Verifier) Close() {
	v.cancel()
	<-v.done
}

// tokenClaims is what a token's payload is decoded into.
type tokenClaims struct {
	jwt.RegisteredClaims
	Scope       scopeList `json:"scope,omitempty"`
	Scp         scopeList `json:"scp,omitempty"`
	Permissions scopeList `json:"permissions,omitempty"`
}

// UnmarshalJSON decodes the payload, refusing exp, nbf and iat that are not
// JSON numbers: RFC 7519 section 2 defines a NumericDate as a number, and
// jwt's NumericDate would also take a numeric string ("exp":"9999999999").
func (tc *tokenClaims) UnmarshalJSON(b []byte) error {
	var dates struct {
		Exp, Nbf, Iat json.RawMessage
	}
	if err := json.Unmarshal(b, &dates); err != nil {
		return err
	}
	for name, raw := range map[string]json.RawMessage{"exp": dates.Exp, "nbf": dates.Nbf, "iat": dates.Iat} {
		if len(raw) > 0 && !isJSONNumber(raw) && string(raw) != "null" {
			return fmt.Errorf("claim %s is not a NumericDate (a JSON number)", name)
		}
	}
	type plain tokenClaims // without this method
	return json.Unmarshal(b, (*plain)(tc))
}

// isJSONNumber reports whether raw (one valid JSON value) is a number.
func isJSONNumber(raw json.RawMessage) bool {
	c := raw[0]
	return c == '-' || c >= '0' && c <= '9'
}

// Verify checks token (the compact JWS, without "Bearer ") and returns its
// claims. Errors wrap ErrInvalidToken (→ 401) or ErrNoKeys (→ 503); Reason
// classifies them. A token whose kid is unknown may trigger one rate-limited
// refresh of the key set, bounded by ctx.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, invalid(ReasonMissing, "", nil)
	}
	if len(token) > MaxTokenBytes {
		return nil, invalid(ReasonMalformed, "token too large", nil)
	}
	if err := v.checkHeader(token); err != nil {
		return nil, err
	}
	if !v.Ready() {
		return nil, &Error{reason: ReasonNoKeys, base: ErrNoKeys}
	}
	var tc tokenClaims
	_, err := v.parser.ParseWithClaims(token, &tc, v.kf.KeyfuncCtx(ctx))
	if err != nil {
		return nil, classify(err)
	}
	c := &Claims{
		Subject:  tc.Subject,
		Scopes:   mergeScopes(tc.Scope, tc.Scp, tc.Permissions),
		Issuer:   tc.Issuer,
		Audience: []string(tc.Audience),
	}
	if tc.ExpiresAt != nil {
		c.ExpiresAt = tc.ExpiresAt.Time
	}
	if tc.IssuedAt != nil {
		c.IssuedAt = tc.IssuedAt.Time
	}
	return c, nil
}

// checkHeader decodes the JOSE header on its own, so that a forbidden
// algorithm is reported as such (jwt reports it as a bad signature) and
// critical extensions we do not implement are refused (RFC 7515 4.1.11).
func (v *Verifier) checkHeader(token string) error {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return invalid(ReasonMalformed, "not a compact JWS", nil)
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return invalid(ReasonMalformed, "header is not base64url", nil)
	}
	var h struct {
		Alg  any `json:"alg"`
		Crit any `json:"crit"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return invalid(ReasonMalformed, "header is not JSON", nil)
	}
	alg, _ := h.Alg.(string)
	if !slices.Contains(v.cfg.Algorithms, alg) {
		return invalid(ReasonBadAlgorithm, fmt.Sprintf("alg %.20q", alg), nil)
	}
	if h.Crit != nil {
		return invalid(ReasonMalformed, "unsupported crit header", nil)
	}
	return nil
}

// classify maps a jwt/keyfunc error to an *Error with a stable reason.
func classify(err error) error {
	checks := []struct {
		target error
		reason string
	}{
		{ErrNoKeys, ReasonNoKeys},
		{jwkset.ErrKeyNotFound, ReasonUnknownKID},
		{jwt.ErrTokenMalformed, ReasonMalformed},
		{jwt.ErrTokenSignatureInvalid, ReasonBadSignature},
		{keyfunc.ErrKeyfunc, ReasonBadKey},
		{jwt.ErrTokenRequiredClaimMissing, ReasonMissingClaim},
		{jwt.ErrTokenExpired, ReasonExpired},
		{jwt.ErrTokenNotValidYet, ReasonNotYetValid},
		{jwt.ErrTokenUsedBeforeIssued, ReasonNotYetValid},
		{jwt.ErrTokenInvalidIssuer, ReasonBadIssuer},
		{jwt.ErrTokenInvalidAudience, ReasonBadAudience},
	}
	for _, c := range checks {
		if errors.Is(err, c.target) {
			if c.reason == ReasonNoKeys {
				return &Error{reason: ReasonNoKeys, base: ErrNoKeys, cause: err}
			}
			return invalid(c.reason, "", err)
		}
	}
	return invalid(ReasonInvalid, "", err)
}

// UnmarshalJSON accepts a space-separated string or an array of strings.
func (s *scopeList) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = strings.Fields(str)
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return errors.New("scope claim is neither a string nor an array of strings")
	}
	*s = nil
	for _, a := range arr {
		*s = append(*s, strings.Fields(a)...)
	}
	return nil
}
