package auth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newTestVerifier(t *testing.T, srv *jwksServer, clk *fakeClock, mod func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		JWKSURL:    srv.URL + "/.well-known/jwks.json",
		Issuer:     testIssuer,
		Audience:   testAudience,
		Now:        clk.Now,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func TestVerify(t *testing.T) {
	k1 := newTestKey(t, "k1")
	other := newTestKey(t, "k1") // same kid, different key
	srv := newJWKSServer(t, k1)
	clk := &fakeClock{now: t0}
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.UnknownKIDInterval = time.Hour })
	waitFor(t, "keys", v.Ready)

	with := func(mod func(jwt.MapClaims)) string {
		c := validClaims()
		mod(c)
		return sign(t, k1, c)
	}
	valid := sign(t, k1, validClaims())
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","aud":"`+testAudience+`","sub":"admin","exp":9999999999}`)) + "." + parts[2]

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&k1.key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsTok := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims())
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rs384 := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS384, validClaims())
		tok.Header["kid"] = "k1"
		s, _ := tok.SignedString(k1.key)
		return s
	}()
	noKID := sign(t, testKey{key: k1.key}, validClaims())

	tests := []struct {
		name   string
		token  string
		reason string // "" = valid
	}{
		{"valid", valid, ""},
		{"valid without kid (all keys tried)", noKID, ""},
		{"exp within leeway", with(func(c jwt.MapClaims) { c["exp"] = t0.Add(-10 * time.Second).Unix() }), ""},
		{"nbf within leeway", with(func(c jwt.MapClaims) { c["nbf"] = t0.Add(10 * time.Second).Unix() }), ""},
		{"aud as array", with(func(c jwt.MapClaims) { c["aud"] = []string{"other", testAudience} }), ""},
		{"expired", with(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Minute).Unix() }), ReasonExpired},
		{"nbf in the future", with(func(c jwt.MapClaims) { c["nbf"] = t0.Add(5 * time.Minute).Unix() }), ReasonNotYetValid},
		{"iat in the future", with(func(c jwt.MapClaims) { c["iat"] = t0.Add(5 * time.Minute).Unix() }), ReasonNotYetValid},
		{"wrong aud", with(func(c jwt.MapClaims) { c["aud"] = "https://other.test/" }), ReasonBadAudience},
		{"wrong iss", with(func(c jwt.MapClaims) { c["iss"] = "https://evil.test/" }), ReasonBadIssuer},
		{"iss without trailing slash", with(func(c jwt.MapClaims) { c["iss"] = strings.TrimSuffix(testIssuer, "/") }), ReasonBadIssuer},
		{"no exp", with(func(c jwt.MapClaims) { delete(c, "exp") }), ReasonMissingClaim},
		// RFC 7519 4.1.4: a NumericDate is a JSON number, never a string.
		{"exp as a string", with(func(c jwt.MapClaims) { c["exp"] = strconv.FormatInt(t0.Add(time.Hour).Unix(), 10) }), ReasonMalformed},
		{"nbf as a string", with(func(c jwt.MapClaims) { c["nbf"] = strconv.FormatInt(t0.Add(-time.Minute).Unix(), 10) }), ReasonMalformed},
		{"iat as a string", with(func(c jwt.MapClaims) { c["iat"] = strconv.FormatInt(t0.Add(-time.Minute).Unix(), 10) }), ReasonMalformed},
		{"exp as null", with(func(c jwt.MapClaims) { c["exp"] = nil }), ReasonMissingClaim},
		{"no iss", with(func(c jwt.MapClaims) { delete(c, "iss") }), ReasonMissingClaim},
		{"no aud", with(func(c jwt.MapClaims) { delete(c, "aud") }), ReasonMissingClaim},
		{"alg none", none, ReasonBadAlgorithm},
		{"HS256 keyed with the RSA public key (PEM)", hsTok(pubPEM), ReasonBadAlgorithm},
		{"HS256 keyed with the RSA modulus", hsTok(k1.key.N.Bytes()), ReasonBadAlgorithm},
		{"RS384 not allowed", rs384, ReasonBadAlgorithm},
		{"tampered payload", tampered, ReasonBadSignature},
		{"another key's signature", sign(t, other, validClaims()), ReasonBadSignature},
		{"unknown kid", sign(t, newTestKey(t, "k9"), validClaims()), ReasonUnknownKID},
		{"empty", "", ReasonMissing},
		{"garbage", "not-a-jwt", ReasonMalformed},
		{"two segments", parts[0] + "." + parts[1], ReasonMalformed},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], ReasonMalformed},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], ReasonMalformed},
		{"payload not JSON", parts[0] + ".bm9wZQ." + parts[2], ReasonMalformed},
		{"crit header", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","crit":["x"]}`)) + "." + parts[1] + "." + parts[2], ReasonMalformed},
		{"scope of a wrong type", with(func(c jwt.MapClaims) { c["scope"] = 42 }), ReasonMalformed},
		{"too large", strings.Repeat("a", MaxTokenBytes+1), ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tt.token)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "user-1" || c.Issuer != testIssuer || !c.ExpiresAt.After(t0.Add(-time.Minute)) {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", c)
			}
			if !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrNoKeys) {
				t.Errorf("error %v does not wrap ErrInvalidToken only", err)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q (err: %v)", got, tt.reason, err)
			}
			if tt.token != "" && strings.Contains(PublicMessage(err), tt.token) {
				t.Errorf("public message leaks the token")
			}
		})
	}
}

func TestScopes(t *testing.T) {
	k := newTestKey(t, "k1")
	srv := newJWKSServer(t, k)
	v := newTestVerifier(t, srv, &fakeClock{now: t0}, nil)
	waitFor(t, "keys", v.Ready)
	tests := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{"none", nil, nil},
		{"scope string", map[string]any{"scope": "a b  c"}, []string{"a", "b", "c"}},
		{"permissions array (Auth0 RBAC)", map[string]any{"permissions": []string{"ping:run", "x"}}, []string{"ping:run", "x"}},
		{"scp array (Okta)", map[string]any{"scp": []string{"p"}}, []string{"p"}},
		{"scp string (Azure)", map[string]any{"scp": "p q"}, []string{"p", "q"}},
		{"union without duplicates", map[string]any{"scope": "a b", "scp": "b c", "permissions": []string{"c", "d"}}, []string{"a", "b", "c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims()
			delete(c, "scope")
			for k, x := range tt.claims {
				c[k] = x
			}
			got, err := v.Verify(context.Background(), sign(t, k, c))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Scopes, tt.want) {
				t.Fatalf("Scopes = %q, want %q", got.Scopes, tt.want)
			}
			for _, s := range tt.want {
				if !got.HasScope(s) || got.Require(s) != nil {
					t.Errorf("HasScope/Require(%q) false", s)
				}
			}
			err = got.Require("admin")
			if !errors.Is(err, ErrScope) || Reason(err) != ReasonInsufficientScope {
				t.Errorf("Require(admin) = %v", err)
			}
			if got.Require("") != nil {
				t.Error(`Require("") must pass`)
			}
		})
	}
}

func TestRotationUnknownKID(t *testing.T) {
	k1, k2, k3 := newTestKey(t, "k1"), newTestKey(t, "k2"), newTestKey(t, "k3")
	srv := newJWKSServer(t, k1)
	clk := &fakeClock{now: t0}
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.UnknownKIDInterval = 10 * time.Minute })
	waitFor(t, "keys", v.Ready)
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, k1, validClaims())); err != nil {
		t.Fatal(err)
	}
	base := srv.requests.Load()

	// The issuer rotates to k2; the first token signed with it triggers a refresh.
	srv.setKeys(k1, k2)
	if _, err := v.Verify(ctx, sign(t, k2, validClaims())); err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
	if got := srv.requests.Load() - base; got != 1 {
		t.Fatalf("unknown kid caused %d fetches, want 1", got)
	}
	// Another unknown kid within the interval: no fetch, unknown_kid.
	srv.setKeys(k1, k2, k3)
	_, err := v.Verify(ctx, sign(t, k3, validClaims()))
	if Reason(err) != ReasonUnknownKID {
		t.Fatalf("second unknown kid within the interval: %v", err)
	}
	if got := srv.requests.Load() - base; got != 1 {
		t.Fatalf("rate limit broken: %d fetches", got)
	}
	// After the interval, a refresh is allowed again.
	clk.Advance(10 * time.Minute)
	if _, err := v.Verify(ctx, sign(t, k3, validClaimsAt(clk.Now()))); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	// Keys removed from the set are forgotten after a refresh (revocation).
	srv.setKeys(k3)
	clk.Advance(10 * time.Minute)
	_, err = v.Verify(ctx, sign(t, newTestKey(t, "k4"), validClaimsAt(clk.Now())))
	if Reason(err) != ReasonUnknownKID {
		t.Fatalf("k4: %v", err)
	}
	if _, err := v.Verify(ctx, sign(t, k1, validClaimsAt(clk.Now()))); Reason(err) != ReasonUnknownKID {
		t.Fatalf("revoked k1 still accepted: %v", err)
	}
}

func validClaimsAt(now time.Time) jwt.MapClaims {
	c := validClaims()
	c["exp"] = now.Add(time.Hour).Unix()
	c["iat"] = now.Unix()
	c["nbf"] = now.Unix()
	return c
}

func TestUnknownKIDConcurrentRefreshCollapsed(t *testing.T) {
	k1, k2 := newTestKey(t, "k1"), newTestKey(t, "k2")
	srv := newJWKSServer(t, k1)
	v := newTestVerifier(t, srv, &fakeClock{now: t0}, func(c *Config) { c.UnknownKIDInterval = time.Hour })
	waitFor(t, "keys", v.Ready)
	base := srv.requests.Load()
	srv.setKeys(k1, k2)
	tok := sign(t, k2, validClaims())
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			_, err := v.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	ok := 0
	for range 20 {
		if err := <-errs; err == nil {
			ok++
		} else if Reason(err) != ReasonUnknownKID {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if got := srv.requests.Load() - base; got != 1 {
		t.Fatalf("%d fetches for 20 concurrent unknown-kid tokens, want 1", got)
	}
	if ok == 0 {
		t.Fatal("no verification succeeded")
	}
}

func TestKeyEndpointDownAfterWarmUp(t *testing.T) {
	k1 := newTestKey(t, "k1")
	srv := newJWKSServer(t, k1)
	v := newTestVerifier(t, srv, &fakeClock{now: t0}, func(c *Config) {
		c.RefreshInterval = 5 * time.Millisecond // background refreshes keep failing
		c.UnknownKIDInterval = time.Nanosecond
	})
	waitFor(t, "keys", v.Ready)
	srv.down.Store(true)
	base := srv.requests.Load()
	waitFor(t, "failed background refreshes", func() bool { return srv.requests.Load()-base >= 3 })
	tok := sign(t, k1, validClaims())
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("cached keys lost during the outage: %v", err)
	}
	if !v.Ready() {
		t.Fatal("Ready false during the outage")
	}
	// An unknown kid during the outage is a 401, not a 503.
	_, err := v.Verify(context.Background(), sign(t, newTestKey(t, "k9"), validClaims()))
	if Reason(err) != ReasonUnknownKID || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown kid during outage: %v", err)
	}
}

func TestKeyEndpointDownFromStart(t *testing.T) {
	k1 := newTestKey(t, "k1")
	srv := newJWKSServer(t, k1)
	srv.down.Store(true)
	v := newTestVerifier(t, srv, &fakeClock{now: t0}, nil)
	tok := sign(t, k1, validClaims())
	waitFor(t, "first failed fetch", func() bool { return srv.requests.Load() >= 1 })
	if v.Ready() {
		t.Fatal("Ready with no keys")
	}
	_, err := v.Verify(context.Background(), tok)
	if !errors.Is(err, ErrNoKeys) || errors.Is(err, ErrInvalidToken) || Reason(err) != ReasonNoKeys {
		t.Fatalf("Verify without keys = %v, want ErrNoKeys", err)
	}
	// A bad token is still a 401 rather than a 503.
	if _, err := v.Verify(context.Background(), "garbage"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("garbage without keys = %v", err)
	}
	waitFor(t, "retries with backoff", func() bool { return srv.requests.Load() >= 3 })
	srv.down.Store(false)
	waitFor(t, "recovery", v.Ready)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}
