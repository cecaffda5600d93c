package tcpecho

import (
	"context"
	"errors"
	"fmt"

	"github.com/pingapi/pingapi/pkg/auth"
)

// DefaultAgentScope is the scope an agent's token must carry.
const DefaultAgentScope = "echo:agent"

// TokenVerifier verifies a JWT; *auth.Verifier implements it (the same
// verification as the API's).
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*auth.Claims, error)
}

// KeyChecker checks an archive key and returns its subject; the archive's
// key store implements it. Errors wrap ErrForbidden when the key is valid
// but may not run an agent.
type KeyChecker interface {
	CheckKey(ctx context.Context, key string) (subject string, err error)
}

// CredentialAuth is the Authenticator of the TLS listener: a Bearer JWT
// verified by Tokens and carrying Scope, or (when Keys is set) an archive
// key.
type CredentialAuth struct {
	Tokens TokenVerifier
	Scope  string // required scope; "" : DefaultAgentScope
	Keys   KeyChecker
}

// Authenticate implements Authenticator.
func (a CredentialAuth) Authenticate(ctx context.Context, scheme, credential string) (string, error) {
	switch {
	case scheme == "Bearer" && a.Tokens != nil:
		claims, err := a.Tokens.Verify(ctx, credential)
		if errors.Is(err, auth.ErrNoKeys) {
			return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err != nil {
			return "", err
		}
		scope := a.Scope
		if scope == "" {
			scope = DefaultAgentScope
		}
		if err := claims.Require(scope); err != nil {
			return "", fmt.Errorf("%w: %w", ErrForbidden, err)
		}
		return claims.Subject, nil
	case scheme == "Key" && a.Keys != nil:
		return a.Keys.CheckKey(ctx, credential)
	}
	return "", fmt.Errorf("credential scheme %s is not accepted here", scheme)
}

// ArchiveKeys is the KeyChecker of live archive keys: an agent may present
// "Key <archive key>" instead of a token. The subject is "key:" and the
// key's name.
type ArchiveKeys struct{ Store auth.ArchiveKeyStore }

// CheckKey implements KeyChecker.
func (k ArchiveKeys) CheckKey(ctx context.Context, key string) (string, error) {
	name, err := auth.CheckArchiveKey(ctx, k.Store, key)
	if errors.Is(err, auth.ErrArchiveKeyStore) {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err != nil {
		return "", err
	}
	return "key:" + name, nil
}
