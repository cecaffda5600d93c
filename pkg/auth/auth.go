// Package auth verifies JWT bearer tokens against a cached JWKS (Auth0 or any
// OIDC issuer) and provides the embedded development issuer.
package auth

import (
	"errors"
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
	Subject   string
	Scopes    []string
	ExpiresAt time.Time
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
