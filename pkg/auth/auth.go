// Package auth verifies JWT bearer tokens against a cached JWKS (Auth0 or any
// OIDC issuer) and provides the embedded development issuer.
//
// # Production
//
// A Verifier fetches the issuer's JSON Web Key Set (JWKS) in the background,
// caches it, refreshes it every Config.RefreshInterval, and refreshes it at
// most once per Config.UnknownKIDInterval (10 s) when a token names a key ID
// (kid) it does not know (key rotation); a kid a refresh has just proven
// absent triggers no refresh for Config.NegativeKIDTTL (30 s). Verification goes through
// github.com/MicahParks/keyfunc/v3 and github.com/golang-jwt/jwt/v5: the
// algorithm must be in the allowed list (RS256 by default; "none" and HMAC
// are refused), and exp, iss and aud are always required; nbf and iat are
// honoured with Config.Leeway. When the key endpoint is unreachable at start
// New still succeeds: Ready reports false, Verify returns ErrNoKeys (503),
// and a background loop retries with exponential backoff. Once keys are
// cached an outage of the endpoint does not affect verification.
//
// Wiring in serve:
//
//	v, err := auth.New(auth.Config{
//		JWKSURL:  auth.Auth0JWKSURL(domain), // or AUTH_JWKS_URL
//		Issuer:   issuer,                    // AUTH0_ISSUER, default auth.Auth0Issuer(domain)
//		Audience: audience,                  // AUTH0_AUDIENCE
//		Logger:   logger,
//	})
//	defer v.Close()
//	tok, err := auth.BearerToken(r.Header.Get("Authorization"))
//	claims, err := v.Verify(ctx, tok)  // ErrInvalidToken → 401, ErrNoKeys → 503
//	err = claims.Require("ping:run")   // ErrScope → 403
//	metrics.AuthFailures(auth.Reason(err))
//
// # Dev mode
//
// LoadOrCreateDev keeps one RSA-2048 signing key under the data directory and
// mints tokens (Dev.Mint, `pingapi token`). NewDevVerifier returns a Verifier
// built by the same New as production, whose key set is Dev.JWKS() given as
// Config.StaticJWKS instead of a URL: no HTTP round trip, no ordering problem
// at start, and the same keyfunc/jwt path. serve should also expose Dev.JWKS()
// at /.well-known/jwks.json so other tools can verify dev tokens.
//
//	dev, err := auth.LoadOrCreateDev(cfg.DataDir)
//	v, err := auth.NewDevVerifier(dev)
//	tok, err := dev.Mint("dev", time.Hour, auth.DefaultDevScopes)
package auth

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors returned by Verify; match them with errors.Is.
var (
	ErrNoKeys       = errors.New("signing keys not available") // → 503
	ErrInvalidToken = errors.New("invalid token")              // → 401
	ErrScope        = errors.New("insufficient scope")         // → 403
)

// Claims are the verified facts of a token.
type Claims struct {
	Subject   string   // sub; may be empty if the issuer omits it
	Scopes    []string // union of scope, scp and permissions, in order, without duplicates
	ExpiresAt time.Time
	Issuer    string
	Audience  []string
	IssuedAt  time.Time // zero when the token has no iat
}

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool {
	for _, x := range c.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// Require returns nil when scope is empty or carried by the token, otherwise
// an error wrapping ErrScope (→ 403) with Reason "insufficient_scope".
func (c *Claims) Require(scope string) error {
	if scope == "" || c.HasScope(scope) {
		return nil
	}
	return &Error{reason: ReasonInsufficientScope, base: ErrScope, detail: fmt.Sprintf("scope %q required", scope), Scope: scope}
}

// Stable reasons returned by Reason, for metrics labels and logs.
const (
	ReasonMissing           = "missing"            // no Authorization header / empty token
	ReasonMalformed         = "malformed"          // not a compact JWS, bad base64/JSON, bad header
	ReasonExpired           = "expired"            // exp passed (beyond leeway)
	ReasonNotYetValid       = "not_yet_valid"      // nbf or iat in the future (beyond leeway)
	ReasonBadSignature      = "bad_signature"      // signature does not verify with the kid's key
	ReasonBadIssuer         = "bad_issuer"         // iss differs from the configured issuer
	ReasonBadAudience       = "bad_audience"       // aud lacks the configured audience
	ReasonBadAlgorithm      = "bad_algorithm"      // alg not in the allowed list (none, HS256, ...)
	ReasonUnknownKID        = "unknown_kid"        // kid not in the key set, even after a refresh
	ReasonBadKey            = "bad_key"            // the key set cannot verify this token (alg/use mismatch)
	ReasonMissingClaim      = "missing_claim"      // exp, iss or aud absent
	ReasonNoKeys            = "no_keys"            // key set not loaded yet (→ 503)
	ReasonInsufficientScope = "insufficient_scope" // valid token without the required scope (→ 403)
	ReasonInvalid           = "invalid"            // any other rejection
)

// Error is the error type of this package's rejections. It wraps
// ErrInvalidToken, ErrNoKeys or ErrScope, and the underlying cause.
type Error struct {
	reason string
	base   error
	detail string
	cause  error
	// Scope is the missing scope, for ErrScope errors.
	Scope string
}

// Error returns "<base>: <reason>[: detail][: cause]"; meant for logs.
// Clients should get PublicMessage instead.
func (e *Error) Error() string {
	s := e.base.Error() + ": " + e.reason
	if e.detail != "" {
		s += ": " + e.detail
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.base}
	}
	return []error{e.base, e.cause}
}

func invalid(reason, detail string, cause error) error {
	return &Error{reason: reason, base: ErrInvalidToken, detail: detail, cause: cause}
}

// Reason returns a stable short reason for err (one of the Reason*
// constants), "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.reason
	}
	switch {
	case errors.Is(err, ErrNoKeys):
		return ReasonNoKeys
	case errors.Is(err, ErrScope):
		return ReasonInsufficientScope
	}
	return ReasonInvalid
}

var publicMessages = map[string]string{
	ReasonMissing:           "a bearer token is required",
	ReasonMalformed:         "the token is malformed",
	ReasonExpired:           "the token has expired",
	ReasonNotYetValid:       "the token is not valid yet",
	ReasonBadSignature:      "the token signature is invalid",
	ReasonBadIssuer:         "the token issuer is not accepted",
	ReasonBadAudience:       "the token audience is not accepted",
	ReasonBadAlgorithm:      "the token signing algorithm is not accepted",
	ReasonUnknownKID:        "the token signing key is unknown",
	ReasonBadKey:            "the token cannot be verified with the issuer's keys",
	ReasonMissingClaim:      "the token lacks a required claim (exp, iss or aud)",
	ReasonNoKeys:            "authentication is temporarily unavailable",
	ReasonInsufficientScope: "the token lacks the required scope",
}

// PublicMessage returns a message about err that is safe to send to clients
// (it never includes the token or internal causes).
func PublicMessage(err error) string {
	if m, ok := publicMessages[Reason(err)]; ok {
		return m
	}
	return "the token is invalid"
}

// Challenge returns the value of the WWW-Authenticate header for err, as RFC
// 6750 section 3 describes: no error code when the token is missing,
// error="invalid_token" for a rejected token, error="insufficient_scope" with
// the scope for ErrScope. realm may be empty.
func Challenge(err error, realm string) string {
	s := "Bearer"
	sep := " "
	add := func(k, v string) {
		s += sep + k + `="` + v + `"`
		sep = ", "
	}
	if realm != "" {
		add("realm", realm)
	}
	switch r := Reason(err); r {
	case ReasonMissing, "":
	case ReasonInsufficientScope:
		add("error", "insufficient_scope")
		var e *Error
		if errors.As(err, &e) && e.Scope != "" {
			add("scope", e.Scope)
		}
	default:
		add("error", "invalid_token")
		add("error_description", PublicMessage(err))
	}
	return s
}

// scopeList decodes a space-separated string ("scope", "scp" in Azure) or a
// JSON array of strings ("permissions" in Auth0, "scp" in Okta).
type scopeList []string

// mergeScopes returns the union of the lists, in order, without duplicates.
func mergeScopes(lists ...scopeList) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
