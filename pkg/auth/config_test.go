package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBadKeySets(t *testing.T) {
	k1 := newTestKey(t, "k1")
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", "nope"},
		{"empty set", `{"keys":[]}`},
		{"only symmetric", `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k1"}]}`},
		{"only encryption", strings.Replace(string(jwksJSON(k1)), `"use":"sig"`, `"use":"enc"`, 1)},
		{"broken RSA", `{"keys":[{"kty":"RSA","kid":"k1","n":"!!","e":"AQAB"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{StaticJWKS: []byte(tt.body), Issuer: "i", Audience: "a"})
			if err == nil {
				t.Fatal("New accepted a key set without usable keys")
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"RS256 and ES256", func(c *Config) { c.Algorithms = []string{"RS256", "ES256"} }, true},
		{"none", func(c *Config) { c.Algorithms = []string{"RS256", "none"} }, false},
		{"HS256", func(c *Config) { c.Algorithms = []string{"HS256"} }, false},
		{"HS512", func(c *Config) { c.Algorithms = []string{"RS256", "HS512"} }, false},
		{"unknown", func(c *Config) { c.Algorithms = []string{"XX1"} }, false},
		{"no issuer", func(c *Config) { c.Issuer = "" }, false},
		{"no audience", func(c *Config) { c.Audience = "" }, false},
		{"no URL", func(c *Config) { c.JWKSURL = "" }, false},
		{"ftp URL", func(c *Config) { c.JWKSURL = "ftp://x/jwks" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Port 9 on loopback: nothing listens, so New must not need it.
			c := Config{JWKSURL: "http://127.0.0.1:9/jwks.json", Issuer: "i", Audience: "a", MinBackoff: time.Hour}
			tt.mod(&c)
			v, err := New(c)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
			if v != nil {
				v.Close()
				v.Close() // idempotent
			}
		})
	}
}

func TestAuth0Helpers(t *testing.T) {
	for _, d := range []string{"tenant.us.auth0.com", "https://tenant.us.auth0.com/", " tenant.us.auth0.com/ "} {
		if got := Auth0JWKSURL(d); got != "https://tenant.us.auth0.com/.well-known/jwks.json" {
			t.Errorf("Auth0JWKSURL(%q) = %q", d, got)
		}
		if got := Auth0Issuer(d); got != "https://tenant.us.auth0.com/" {
			t.Errorf("Auth0Issuer(%q) = %q", d, got)
		}
	}
}

func TestReasonAndChallenge(t *testing.T) {
	tests := []struct {
		err       error
		reason    string
		challenge string
	}{
		{nil, "", `Bearer realm="pingapi"`},
		{invalid(ReasonMissing, "", nil), ReasonMissing, `Bearer realm="pingapi"`},
		{invalid(ReasonExpired, "", nil), ReasonExpired, `Bearer realm="pingapi", error="invalid_token", error_description="the token has expired"`},
		{&Error{reason: ReasonNoKeys, base: ErrNoKeys}, ReasonNoKeys, `Bearer realm="pingapi", error="invalid_token", error_description="authentication is temporarily unavailable"`},
		{(&Claims{}).Require("ping:run"), ReasonInsufficientScope, `Bearer realm="pingapi", error="insufficient_scope", scope="ping:run"`},
		{ErrNoKeys, ReasonNoKeys, ""},
		{errors.New("other"), ReasonInvalid, ""},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.reason {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.reason)
		}
		if tt.challenge != "" {
			if got := Challenge(tt.err, "pingapi"); got != tt.challenge {
				t.Errorf("Challenge(%v) = %s, want %s", tt.err, got, tt.challenge)
			}
		}
		if tt.err != nil && PublicMessage(tt.err) == "" {
			t.Errorf("PublicMessage(%v) empty", tt.err)
		}
	}
}
