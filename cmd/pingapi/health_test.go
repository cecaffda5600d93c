package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		listen, want, wantErr string
	}{
		{"", "http://127.0.0.1:8080/healthz", ""},
		{"  ", "http://127.0.0.1:8080/healthz", ""},
		{":8080", "http://127.0.0.1:8080/healthz", ""},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/healthz", ""},
		{"[::]:8080", "http://[::1]:8080/healthz", ""},
		{"127.0.0.2:81", "http://127.0.0.2:81/healthz", ""},
		{"[::1]:8080", "http://[::1]:8080/healthz", ""},
		{"localhost:8080", "http://localhost:8080/healthz", ""},
		{"8080", "", "missing port"},
		{"127.0.0.1:", "", "no port"},
		{":http", "", "not a number"},
		{":0", "", "not a number"},
		{":65536", "", "not a number"},
		{":#0", "", "not a number"},
		{"a b:80", "", "cannot be used in a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			got, err := healthURL(tt.listen)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("healthURL(%q) error = %v, want it to contain %q", tt.listen, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("healthURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
			}
		})
	}
}

// healthServer answers /healthz with status and every other path with 404;
// /redirect redirects to /healthz, which health must not follow.
func healthServer(t *testing.T, status int) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/healthz", http.StatusFound)
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHealth(t *testing.T) {
	ok := healthServer(t, http.StatusOK)
	down := healthServer(t, http.StatusServiceUnavailable)
	okAddr := strings.TrimPrefix(ok.URL, "http://")
	closed := closedAddr(t)

	tests := []struct {
		name       string
		args       []string
		listenAddr string
		want       int
		wantOut    string
		wantErr    string
	}{
		{"url 200", []string{"--url", ok.URL + "/healthz"}, "", 0, "ok ", ""},
		{"quiet", []string{"--quiet", "--url", ok.URL + "/healthz"}, "", 0, "", ""},
		{"from LISTEN_ADDR", nil, okAddr, 0, "ok http://" + okAddr + "/healthz", ""},
		{"unspecified host", nil, ":" + portOf(t, okAddr), 0, "ok http://127.0.0.1:", ""},
		{"503", []string{"--url", down.URL + "/healthz"}, "", 1, "", "503"},
		{"404", []string{"--url", ok.URL + "/nope"}, "", 1, "", "404"},
		{"redirect not followed", []string{"--url", ok.URL + "/redirect"}, "", 1, "", "redirected"},
		{"nothing listening", nil, closed, 1, "", "connect"},
		{"timeout", []string{"--timeout", "50ms", "--url", ok.URL + "/hang"}, "", 1, "", "deadline"},
		{"bad LISTEN_ADDR", nil, "nonsense", 1, "", "LISTEN_ADDR"},
		{"bad flag", []string{"--bogus"}, "", 2, "", "bogus"},
		{"extra arg", []string{"x"}, "", 2, "", "unexpected"},
		{"zero timeout", []string{"--timeout", "0s"}, "", 2, "", "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "LISTEN_ADDR" {
					return tt.listenAddr
				}
				return ""
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := health(ctx, tt.args, getenv, &stdout, &stderr)
			if got != tt.want {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", got, tt.want, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) || (tt.wantOut == "" && stdout.Len() > 0) {
				t.Errorf("stdout %q, want it to contain %q", stdout.String(), tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// FuzzHealthURL: whatever LISTEN_ADDR holds, healthURL either refuses it or
// returns a parseable http URL of /healthz on the same port.
func FuzzHealthURL(f *testing.F) {
	for _, s := range []string{"", ":8080", "0.0.0.0:1", "[::]:8080", "[::1]:0", "localhost:http", "a:b:c", "[fe80::1%eth0]:80", "host:", "\x00:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, listen string) {
		got, err := healthURL(listen)
		if err != nil {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil {
			t.Fatalf("healthURL(%q) = %q, which does not parse: %v", listen, got, perr)
		}
		if u.Scheme != "http" || u.Path != "/healthz" || u.Port() == "" {
			t.Fatalf("healthURL(%q) = %q", listen, got)
		}
	})
}
