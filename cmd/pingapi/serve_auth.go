package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/config"
)

// devTokenTTL is the lifetime of the token serve prints in dev mode.
const devTokenTTL = 24 * time.Hour

// jwksPath is where the dev issuer's public keys are served, as an OIDC
// issuer would.
const jwksPath = "/.well-known/jwks.json"

// buildVerifier returns the token verifier: in production one that fetches
// the issuer's JWKS in the background (the server starts even if the keys
// are unreachable; /readyz says not ready until they arrive); in dev mode
// one over the dev issuer's key set, through the same keyfunc path, and the
// dev issuer itself.
func buildVerifier(cfg config.Config, log *slog.Logger) (*auth.Verifier, *auth.Dev, error) {
	alog := log.With("component", "auth")
	if !cfg.DevMode {
		v, err := auth.New(auth.Config{
			JWKSURL:         cfg.JWKSURL,
			Issuer:          cfg.Auth0Issuer,
			Audience:        cfg.Auth0Audience,
			Algorithms:      cfg.Algorithms,
			RefreshInterval: cfg.JWKSRefresh,
			Logger:          alog,
		})
		if err != nil {
			return nil, nil, err
		}
		alog.Info("verifying tokens", "jwks_url", cfg.JWKSURL, "issuer", cfg.Auth0Issuer, "audience", cfg.Auth0Audience, "algorithms", cfg.Algorithms)
		return v, nil, nil
	}
	dev, err := auth.LoadOrCreateDev(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	vc := dev.VerifierConfig()
	vc.Logger = alog
	v, err := auth.New(vc)
	if err != nil {
		return nil, nil, err
	}
	alog.Info("dev mode: verifying tokens of the dev issuer", "key", dev.Path(), "kid", dev.KeyID())
	return v, dev, nil
}

// withJWKS serves jwks at jwksPath in front of h.
func withJWKS(h http.Handler, jwks []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != jwksPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(jwks)
	})
}

// printDevHint writes a ready-to-paste curl line with a fresh dev token.
func printDevHint(w io.Writer, dev *auth.Dev, addr net.Addr, log *slog.Logger) {
	tok, err := dev.Mint("dev", devTokenTTL, auth.DefaultDevScopes)
	if err != nil {
		log.Error("dev mode: cannot mint a token", "err", err)
		return
	}
	base := "http://" + addr.String()
	fmt.Fprintf(w, "\npingapi is running in dev mode (no AUTH0_DOMAIN or AUTH_JWKS_URL): loopback only, tokens from %s.\n"+
		"Try (token valid %v; mint another with `pingapi token --data-dir %s`):\n\n"+
		"  curl -H \"Authorization: Bearer %s\" \"%s/pingapi/127.0.0.1?c=3\"\n\n"+
		"API docs: %s/docs (Swagger UI: Authorize with \"Bearer <token>\"), %s/redoc\n\n",
		dev.Path(), devTokenTTL, filepath.Dir(dev.Path()), tok, base, base, base)
}
