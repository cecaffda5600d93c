package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pingapi/pingapi/pkg/config"
)

// TestKeyRotationUnderForgedKIDs is issue 12's attack on a real server in
// production mode (AUTH_JWKS_URL on loopback): an anonymous client sends
// tokens with random kids, 20 a second, while the issuer rotates to a new
// key. Tokens of the new key must be accepted within a minute of its
// publication, and the forged kids must not turn into a flood of key-set
// fetches.
func TestKeyRotationUnderForgedKIDs(t *testing.T) {
	serveNeedsRoot(t)
	k1, k2 := newRSAKey(t), newRSAKey(t)
	var set atomic.Pointer[string]
	one := `{"keys":[` + rsaJWK("k1", k1) + `]}`
	set.Store(&one)
	var fetches atomic.Int64
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, *set.Load())
	}))
	defer keys.Close()

	env := map[string]string{"AUTH_JWKS_URL": keys.URL + "/jwks.json", "AUTH0_ISSUER": "https://issuer.test/", "AUTH0_AUDIENCE": "https://pingapi.test/"}
	_, base, stopServe := serveInProcess(t, env)
	defer stopServe()

	mint := func(kid string, k *rsa.PrivateKey) string { return mintRS256(t, kid, k, "https://pingapi.test/") }
	status := func(token string) int { return getJSON(t, base+"/config", token, nil) }
	for deadline := time.Now().Add(30 * time.Second); status(mint("k1", k1)) != 200; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never accepted a token of the first key")
		}
	}

	// The attack: forged kids (no key needed: the kid is looked up before
	// any signature is checked), 20 a second, from now to the end.
	attacker := newRSAKey(t)
	stop := make(chan struct{})
	forgerDone := make(chan struct{})
	var forged atomic.Int64
	go func() {
		defer close(forgerDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if code := status(mint(fmt.Sprintf("forged-%d", i), attacker)); code != 401 {
				t.Errorf("forged kid: %d", code)
			}
			forged.Add(1)
		}
	}()
	time.Sleep(2 * time.Second) // the attacker has triggered a refresh just before the rotation
	start, before := time.Now(), fetches.Load()
	both := `{"keys":[` + rsaJWK("k1", k1) + `,` + rsaJWK("k2", k2) + `]}`
	set.Store(&both) // the rotation: k2 published, and its tokens in use at once
	var accepted time.Duration
	for {
		if status(mint("k2", k2)) == 200 {
			accepted = time.Since(start)
			break
		}
		if time.Since(start) > 70*time.Second {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	close(stop)
	<-forgerDone
	elapsed := time.Since(start)
	n := fetches.Load() - before
	t.Logf("k2 accepted %v after its publication; %d forged tokens meanwhile, %d key-set fetches in %v", accepted.Round(time.Millisecond), forged.Load(), n, elapsed.Round(time.Millisecond))
	if accepted == 0 || accepted > time.Minute {
		t.Errorf("the rotated key was not accepted within a minute (%v)", elapsed)
	}
	if limit := int64(elapsed/(10*time.Second)) + 2; n > limit {
		t.Errorf("%d key-set fetches in %v under forged kids, want at most %d (one per 10 s)", n, elapsed, limit)
	}
}

// serveInProcess runs serve with the configuration of env and args (and no
// .env file) on a kernel-chosen loopback port, and returns the
// configuration and its base URL; stop cancels it and returns its exit
// status.
func serveInProcess(t *testing.T, env map[string]string, args ...string) (cfg config.Config, base string, stop func() int) {
	t.Helper()
	dir := t.TempDir()
	empty := dir + "/empty.env"
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(append([]string{"--env-file", empty, "--listen", "127.0.0.1:0", "--data-dir", dir}, args...),
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan int, 1)
	go func() { done <- serve(ctx, nil, cfg, io.Discard, func(a net.Addr) { addrc <- a }) }()
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d", code)
	}
	return cfg, base, func() int { cancel(); return <-done }
}

// newRSAKey returns a new 2048-bit RSA key.
func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaJWK is the JWK of k's public key under kid, for RS256.
func rsaJWK(kid string, k *rsa.PrivateKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return fmt.Sprintf(`{"kty":"RSA","use":"sig","alg":"RS256","kid":%q,"n":%q,"e":%q}`,
		kid, b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes()))
}

// mintRS256 signs with k, under kid, a token of subject alice from
// https://issuer.test/ for audience aud, valid for an hour.
func mintRS256(t *testing.T, kid string, k *rsa.PrivateKey, aud string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "https://issuer.test/", "aud": aud, "sub": "alice",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
