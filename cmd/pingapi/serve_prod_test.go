package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeProduction: production wiring passes AUTH_JWKS_URL, the issuer,
// the audience and the algorithms to the verifier: the server starts while
// the key endpoint is down (/readyz 503, requests 503), becomes ready when
// the keys arrive, accepts a token of that issuer and audience, and refuses
// one for another audience.
func TestServeProduction(t *testing.T) {
	serveNeedsRoot(t)
	key := newRSAKey(t)
	jwks := `{"keys":[` + rsaJWK("k1", key) + `]}`
	var up atomic.Bool
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, jwks)
	}))
	defer keys.Close()

	env := map[string]string{
		"AUTH_JWKS_URL":  keys.URL + "/jwks.json",
		"AUTH0_ISSUER":   "https://issuer.test/",
		"AUTH0_AUDIENCE": "https://pingapi.test/",
	}
	cfg, base, stop := serveInProcess(t, env)
	if cfg.DevMode {
		t.Fatal("AUTH_JWKS_URL set but dev mode on")
	}
	defer func() {
		if code := stop(); code != 0 {
			t.Errorf("exit %d", code)
		}
	}()

	mint := func(aud string) string { return mintRS256(t, "k1", key, aud) }
	status := func(path, token string) int { return getJSON(t, base+path, token, nil) }
	good := mint("https://pingapi.test/")

	// Keys down: the server runs but is not ready, and says 503.
	if got := status("/readyz", ""); got != 503 {
		t.Errorf("/readyz with keys down: %d, want 503", got)
	}
	if got := status("/pingapi/127.0.0.1?c=0", good); got != 503 {
		t.Errorf("request with keys down: %d, want 503", got)
	}
	if got := status("/.well-known/jwks.json", ""); got != 404 {
		t.Errorf("production serves a JWKS: %d, want 404", got)
	}

	// Keys up: ready within the verifier's retry backoff (bounded wait).
	up.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for status("/readyz", "") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("never ready after the key endpoint came up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"valid token passes auth (then c=0 is out of range)", good, 422},
		{"another audience", mint("https://other.test/"), 401},
		{"no token", "", 401},
	}
	for _, tt := range tests {
		if got := status("/pingapi/127.0.0.1?c=0", tt.token); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// Production denies loopback targets by default.
	if got := status("/pingapi/127.0.0.1?c=1", good); got != 403 {
		t.Errorf("loopback target in production: %d, want 403", got)
	}
}
