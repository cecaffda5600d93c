package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/auth"
)

func TestToken(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantSub    string
		wantScopes []string
		wantTTL    time.Duration
		wantWarn   bool
	}{
		{"defaults", nil, nil, "dev", auth.DefaultDevScopes, time.Hour, false},
		{"sub and ttl", []string{"--sub", "alice", "--ttl", "24h"}, nil, "alice", auth.DefaultDevScopes, 24 * time.Hour, false},
		{"repeated scopes", []string{"--scope", "ping:run", "--scope", "monitor:read"}, nil, "dev", []string{"ping:run", "monitor:read"}, time.Hour, false},
		{"space-separated scopes", []string{"--scope", "a b"}, nil, "dev", []string{"a", "b"}, time.Hour, false},
		{"no scopes", []string{"--scope", ""}, nil, "dev", nil, time.Hour, false},
		{"production env warns", nil, map[string]string{"AUTH0_DOMAIN": "x.auth0.com"}, "dev", auth.DefaultDevScopes, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DATA_DIR": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			var out, errOut bytes.Buffer
			before := time.Now()
			if code := token(tt.args, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if strings.Contains(errOut.String(), "warning") != tt.wantWarn || !strings.Contains(errOut.String(), dir) {
				t.Fatalf("stderr = %q", errOut.String())
			}
			line := out.String()
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("stdout must be the token and one newline, got %q", line)
			}
			// Round trip through the same Verifier serve uses in dev mode.
			dev, err := auth.LoadOrCreateDev(dir)
			if err != nil {
				t.Fatal(err)
			}
			v, err := auth.NewDevVerifier(dev)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			tok, err := auth.BearerToken("Bearer " + strings.TrimSuffix(line, "\n"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != tt.wantSub || !slices.Equal(c.Scopes, tt.wantScopes) {
				t.Fatalf("claims = %+v", c)
			}
			if ttl := c.ExpiresAt.Sub(before); ttl < tt.wantTTL-2*time.Second || ttl > tt.wantTTL+time.Second {
				t.Fatalf("token lifetime %v, want %v", ttl, tt.wantTTL)
			}
		})
	}
}

func TestTokenDataDir(t *testing.T) {
	base := t.TempDir()
	flagDir := filepath.Join(base, "flag")
	envDir := filepath.Join(base, "env")
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return map[string]string{"DATA_DIR": envDir}[k] }
	if code := token([]string{"--data-dir", flagDir}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(flagDir, auth.DevKeyFile)); err != nil {
		t.Fatalf("--data-dir not used: %v", err)
	}
	if _, err := os.Stat(envDir); !os.IsNotExist(err) {
		t.Fatalf("DATA_DIR used despite --data-dir: %v", err)
	}
	// Without flag or DATA_DIR: ./data relative to the working directory.
	t.Chdir(base)
	if code := token(nil, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(base, "data", auth.DevKeyFile)); err != nil {
		t.Fatalf("default ./data not used: %v", err)
	}
}

func TestTokenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"zero ttl", []string{"--ttl", "0s"}, "--ttl"},
		{"negative ttl", []string{"--ttl", "-1h"}, "--ttl"},
		{"huge ttl", []string{"--ttl", "10000h"}, "--ttl"},
		{"bad ttl", []string{"--ttl", "soon"}, "invalid value"},
		{"empty sub", []string{"--sub", " "}, "--sub"},
		{"unknown flag", []string{"--nope"}, "not defined"},
		{"extra argument", []string{"extra"}, "unexpected argument"},
		{"data dir is a file", []string{"--data-dir", notDir}, "dev issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := func(k string) string { return map[string]string{"DATA_DIR": t.TempDir()}[k] }
			if code := token(tt.args, env, &out, &errOut); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if out.Len() != 0 || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("stdout %q, stderr %q; want stderr containing %q", out.String(), errOut.String(), tt.want)
			}
		})
	}
}

// TestTokenFindsTheServersKey: `pingapi token` run from another directory
// than the dev server's signs with the server's key (recorded by serve),
// not a new one under ./data, and says which key it used.
func TestTokenFindsTheServersKey(t *testing.T) {
	home := t.TempDir()
	serverData := filepath.Join(t.TempDir(), "srv-data")
	server, err := auth.LoadOrCreateDev(serverData)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": home}
	getenv := func(k string) string { return env[k] }
	if err := recordDevServer(getenv, serverData); err != nil { // what serve does in dev mode
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	var out, errOut bytes.Buffer
	if code := token(nil, getenv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	v, err := auth.NewDevVerifier(server)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), strings.TrimSpace(out.String())); err != nil {
		t.Fatalf("the server refuses the token: %v (stderr %q)", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), server.Path()) || !strings.Contains(errOut.String(), server.KeyID()) {
		t.Errorf("stderr does not name the key used: %q", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "data")); !os.IsNotExist(err) {
		t.Errorf("a new ./data was created: %v", err)
	}

	// Without a record, a new key under ./data is said plainly.
	env["HOME"] = t.TempDir()
	out.Reset()
	errOut.Reset()
	if code := token(nil, getenv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	abs, _ := filepath.Abs(filepath.Join("data", auth.DevKeyFile))
	if msg := errOut.String(); !strings.Contains(msg, "warning: created a NEW signing key") || !strings.Contains(msg, "data") {
		t.Errorf("stderr = %q, want a warning naming %s", msg, abs)
	}
}
