package auth

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

func TestLoadOrCreateDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d1, err := LoadOrCreateDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, d1.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key (no temp files)", len(entries))
	}
	d2, err := LoadOrCreateDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d1.KeyID() != d2.KeyID() || !slices.Equal(d1.JWKS(), d2.JWKS()) {
		t.Fatal("second start did not reuse the key")
	}
	// A token minted by one instance verifies with the other's key set.
	tok, err := d1.Mint("dev", time.Hour, DefaultDevScopes)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewDevVerifier(d2)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if !v.Ready() {
		t.Fatal("dev verifier not ready")
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "dev" || !slices.Equal(c.Scopes, DefaultDevScopes) || c.Issuer != DevIssuer || !slices.Contains(c.Audience, DevAudience) {
		t.Fatalf("claims = %+v", c)
	}
}

func TestLoadOrCreateDevConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	kids := make([]string, 4)
	for i := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := LoadOrCreateDev(dir)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = d.KeyID()
		}()
	}
	wg.Wait()
	d, err := LoadOrCreateDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if k != d.KeyID() {
			t.Fatalf("concurrent starts disagree on the key: %q vs %q", k, d.KeyID())
		}
	}
}

func TestLoadOrCreateDevRejects(t *testing.T) {
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"world-readable", "", 0o644, "chmod 600"},
		{"not PEM", "hello", 0o600, "PEM"},
		{"wrong PEM type", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0o600, "PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content == "" {
				d, err := LoadOrCreateDev(dir)
				if err != nil {
					t.Fatal(err)
				}
				os.Chmod(d.Path(), tt.mode)
			} else if err := os.WriteFile(filepath.Join(dir, DevKeyFile), []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateDev(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := LoadOrCreateDev(""); err == nil {
		t.Error("empty data dir accepted")
	}
}

func TestDevJWKSAndMint(t *testing.T) {
	d, err := LoadOrCreateDev(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The JWKS is usable by keyfunc directly (what another tool would do
	// with /.well-known/jwks.json), and its kid is the RFC 7638 thumbprint.
	kf, err := keyfunc.NewJWKSetJSON(d.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(d.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS = %s, %v", d.JWKS(), err)
	}
	if set.Keys[0]["kid"] != d.KeyID() || set.Keys[0]["d"] != "" || len(d.KeyID()) != 43 {
		t.Fatalf("JWKS key = %v", set.Keys[0])
	}
	clk := &fakeClock{now: t0}
	d.Now = clk.Now
	tok, err := d.Mint("alice", 2*time.Minute, []string{"ping:run"})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithTimeFunc(clk.Now), jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatal(err)
	}
	mc := parsed.Claims.(jwt.MapClaims)
	want := map[string]any{"iss": DevIssuer, "sub": "alice", "scope": "ping:run",
		"exp": float64(t0.Add(2 * time.Minute).Unix()), "iat": float64(t0.Unix()), "nbf": float64(t0.Unix())}
	for k, w := range want {
		if mc[k] != w {
			t.Errorf("claim %s = %v, want %v", k, mc[k], w)
		}
	}
	if parsed.Header["kid"] != d.KeyID() || parsed.Header["alg"] != "RS256" {
		t.Errorf("header = %v", parsed.Header)
	}

	cfg := d.VerifierConfig()
	cfg.Now = clk.Now
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	clk.Advance(3 * time.Minute) // past exp + leeway
	if _, err := v.Verify(context.Background(), tok); Reason(err) != ReasonExpired {
		t.Fatalf("expired dev token: %v", err)
	}

	for _, bad := range []struct {
		sub    string
		ttl    time.Duration
		scopes []string
	}{
		{"", time.Hour, nil},
		{"x", 0, nil},
		{"x", -time.Second, nil},
		{"x", MaxDevTTL + time.Second, nil},
		{"x", time.Hour, []string{"a b"}},
		{"x", time.Hour, []string{""}},
	} {
		if _, err := d.Mint(bad.sub, bad.ttl, bad.scopes); err == nil {
			t.Errorf("Mint(%q, %v, %q) accepted", bad.sub, bad.ttl, bad.scopes)
		}
	}
}

func TestDevTokenRejectedByProductionVerifier(t *testing.T) {
	d, err := LoadOrCreateDev(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := d.Mint("dev", time.Hour, nil)
	k := newTestKey(t, d.KeyID()) // same kid, different key
	srv := newJWKSServer(t, k)
	v := newTestVerifier(t, srv, &fakeClock{now: time.Now()}, nil)
	waitFor(t, "keys", v.Ready)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("dev token accepted by another issuer's verifier: %v", err)
	}
}
