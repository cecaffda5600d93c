package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/config"
)

// serveNeedsRoot skips t unless the process may open raw ICMP sockets; in
// CI (CI=true) it fails instead.
func serveNeedsRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		netlab.Unavailable(t, "needs root for ICMP sockets")
	}
}

// TestRunServeConfig: configuration problems exit 2 with the message,
// before anything is opened.
func TestRunServeConfig(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env
	for _, k := range []string{"AUTH0_DOMAIN", "AUTH_JWKS_URL", "LISTEN_ADDR", "LOG_LEVEL"} {
		t.Setenv(k, "")
	}
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{[]string{"-h"}, 0, "usage: pingapi serve", ""},
		{[]string{"--log-level", "loud"}, 2, "", `pingapi serve: invalid configuration:` + "\n" + `LOG_LEVEL="loud" (flag --log-level): must be one of debug, info, warn, error`},
		{[]string{"--listen", "0.0.0.0:8080"}, 2, "", "dev mode (neither AUTH0_DOMAIN nor AUTH_JWKS_URL set) listens on loopback only"},
		{[]string{"--env-file", "missing.env"}, 2, "", "pingapi serve: env file: open missing.env"},
		{[]string{"stray"}, 2, "", `pingapi serve: serve: unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runServe(tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stdout %q\nstderr %q\nwant %q / %q", stdout.String(), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestTargetPolicy(t *testing.T) {
	deny := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	tests := []struct {
		name    string
		cfg     config.Config
		addr    string
		allowed bool
	}{
		{"dev allows loopback", config.Config{DevMode: true}, "127.0.0.1", true},
		{"dev allows ::1", config.Config{DevMode: true}, "::1", true},
		{"production denies loopback", config.Config{}, "127.0.0.1", false},
		{"deny wins over dev loopback", config.Config{DevMode: true, TargetDeny: deny}, "127.0.0.2", false},
		{"allow private", config.Config{TargetAllow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "10.1.2.3", true},
		{"allow only", config.Config{TargetAllowOnly: true, TargetAllow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, "198.51.100.1", false},
		{"dev never allows link-local", config.Config{DevMode: true}, "169.254.1.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := targetPolicy(tt.cfg).Check(netip.MustParseAddr(tt.addr))
			if (err == nil) != tt.allowed {
				t.Errorf("Check(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
			}
		})
	}
}

func TestWithJWKS(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := withJWKS(next, []byte(`{"keys":[]}`))
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/.well-known/jwks.json", 200},
		{"HEAD", "/.well-known/jwks.json", 200},
		{"POST", "/.well-known/jwks.json", http.StatusTeapot},
		{"GET", "/healthz", http.StatusTeapot},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.code {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, w.Code, tt.code)
		}
	}
}

// startServe runs serve in-process in dev mode on a free loopback port and
// returns its base URL, a token, a cancel that plays the signal, and the
// channel of its exit status.
func startServe(t *testing.T, shutdown time.Duration) (base, token string, stop func(), exit <-chan int) {
	t.Helper()
	return startServeIn(t, t.TempDir(), shutdown)
}

// startServeIn is startServe with the data directory dir.
func startServeIn(t *testing.T, dir string, shutdown time.Duration) (base, token string, stop func(), exit <-chan int) {
	t.Helper()
	serveNeedsRoot(t)
	empty := dir + "/empty.env"
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load([]string{"--env-file", empty, "--listen", "127.0.0.1:0", "--data-dir", dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ShutdownTimeout = shutdown
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, nil, cfg, io.Discard, func(a net.Addr) { addrc <- a })
		close(done) // the test may have taken the status already
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case code := <-done:
		t.Fatalf("serve exited with %d before listening", code)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	dev, err := auth.LoadOrCreateDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, err = dev.Mint("test", time.Hour, auth.DefaultDevScopes)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr.String(), token, cancel, done
}

// streamLines opens a streaming measurement and returns its line reader.
func streamLines(t *testing.T, base, token, query string) (*bufio.Scanner, func()) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/pingapi/127.0.0.1?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return bufio.NewScanner(resp.Body), func() { resp.Body.Close() }
}

type streamLine struct {
	Type          string `json:"type"`
	CountReceived int    `json:"count_received"`
}

// TestServeDrainFinishesInFlight: after the signal, a measurement already
// running completes in full and serve exits 0.
func TestServeDrainFinishesInFlight(t *testing.T) {
	base, token, stop, exit := startServe(t, time.Minute)
	sc, closeBody := streamLines(t, base, token, "c=3")
	defer closeBody()
	if !sc.Scan() { // first packet: the measurement is in flight
		t.Fatalf("no first line: %v", sc.Err())
	}
	stop()
	var last streamLine
	n := 1
	for sc.Scan() {
		n++
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %d: %v: %s", n, err, sc.Bytes())
		}
	}
	if last.Type != "summary" || last.CountReceived != 3 || n != 4 {
		t.Errorf("after drain: %d lines, last %+v; want 3 packets then a summary with 3 received", n, last)
	}
	if code := <-exit; code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestServeDrainDeadlineCancels: past SHUTDOWN_TIMEOUT, measurements still
// running are cancelled (the stream ends long before its 59 echoes) and
// serve still exits 0.
func TestServeDrainDeadlineCancels(t *testing.T) {
	base, token, stop, exit := startServe(t, 0)
	sc, closeBody := streamLines(t, base, token, "c=59")
	defer closeBody()
	if !sc.Scan() {
		t.Fatalf("no first line: %v", sc.Err())
	}
	stop()
	n := 1
	for sc.Scan() {
		n++
	}
	if n >= 59 {
		t.Errorf("stream ran to completion (%d lines) despite the drain deadline", n)
	}
	if code := <-exit; code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level, format string
		wantInfo      bool
		wantJSON      bool
	}{
		{"info", "text", true, false},
		{"info", "json", true, true},
		{"warn", "text", false, false},
		{"debug", "json", true, true},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		log := newLogger(config.Config{LogLevel: tt.level, LogFormat: tt.format}, &buf)
		log.Info("hello", "k", 1)
		log.Error("boom")
		out := buf.String()
		if strings.Contains(out, "hello") != tt.wantInfo || !strings.Contains(out, "boom") {
			t.Errorf("%s/%s: output %q", tt.level, tt.format, out)
		}
		if isJSON := strings.HasPrefix(out, "{"); isJSON != tt.wantJSON {
			t.Errorf("%s/%s: JSON=%v, want %v: %q", tt.level, tt.format, isJSON, tt.wantJSON, out)
		}
	}
}
