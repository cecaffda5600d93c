package client

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/wire"
)

// fakeServer answers like pingapi's monitor routes for token "good".
func fakeServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Header.Get("Authorization") {
		case "Bearer good":
		case "Bearer noscope":
			w.WriteHeader(403)
			io.WriteString(w, `{"error":{"code":"insufficient_scope","message":"the token lacks the required scope monitor:read"}}`)
			return
		default:
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"invalid_token","message":"the token is invalid or expired"}}`)
			return
		}
		switch {
		case r.Method == "GET" && r.URL.Path == "/host/192.0.2.1":
			if r.URL.Query().Get("select") == "192.0.2.2" {
				io.WriteString(w, `[{"name":"192.0.2.1","validity":true,"status":"valid","alive":true,"xmit":10,"recv":10},{"name":"192.0.2.2","validity":false,"status":"init","xmit-timestamp":0}]`)
				return
			}
			io.WriteString(w, `[{"name":"192.0.2.1","validity":true,"status":"valid","alive":true,"xmit":10,"recv":10,"tmin":0.1,"avg":0.2,"tmax":0.3,"stddev":0.05,"jitter":0.01}]`)
		case r.Method == "GET" && r.URL.Path == "/host":
			io.WriteString(w, "[")
			for i := range 2500 {
				if i > 0 {
					io.WriteString(w, ",")
				}
				fmt.Fprintf(w, `{"name":"10.0.%d.%d","validity":false,"status":"init"}`, i/250, i%250)
			}
			io.WriteString(w, "]\n")
		case r.Method == "GET" && r.URL.Path == "/match/h.test":
			io.WriteString(w, `[{"name":"h.test","hosts":["192.0.2.1"]}]`)
		case r.Method == "PUT" && r.URL.Path == "/config/ip-list/192.0.2.1":
			w.WriteHeader(403)
			io.WriteString(w, `{"error":{"code":"already_monitored","message":"host is already monitored"},"message":"host is already monitored"}`)
		case r.Method == "POST" && r.URL.Path == "/config/ip-list":
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"invalid_target","message":"element is not a string"},"message":"element is not a string","index":2}`)
		case r.URL.Path == "/garbage":
			io.WriteString(w, `{not json`)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"not_monitored","message":"not monitored: x"},"message":"not monitored: x"}`)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestClient(t *testing.T) {
	srv := fakeServer(t)
	c, err := New(srv.URL+"/", "good", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	r, err := c.Host(ctx, "192.0.2.1")
	if err != nil || !r.Alive || r.Avg != 0.2 || r.Jitter != 0.01 {
		t.Fatalf("Host: %+v %v", r, err)
	}
	recs, err := c.Hosts(ctx, "192.0.2.1", "192.0.2.2")
	if err != nil || len(recs) != 2 || recs[1].Status != wire.StatusInit {
		t.Fatalf("Hosts: %+v %v", recs, err)
	}
	if _, err := c.Host(ctx, "192.0.2.99"); !errors.Is(err, ErrNotMonitored) {
		t.Fatalf("Host(unknown) = %v, want ErrNotMonitored", err)
	}
	n := 0
	if err := c.AllHosts(ctx, func(wire.Record) error { n++; return nil }); err != nil || n != 2500 {
		t.Fatalf("AllHosts: %d records, %v", n, err)
	}
	m, err := c.Match(ctx, "h.test")
	if err != nil || len(m) != 1 || m[0].Hosts[0] != "192.0.2.1" {
		t.Fatalf("Match: %+v %v", m, err)
	}
	err = c.Add(ctx, "192.0.2.1")
	var e *Error
	if !errors.As(err, &e) || e.Status != 403 || e.Code != "already_monitored" || errors.Is(err, ErrTokenRefused) {
		t.Fatalf("Add(existing) = %v: want a 403 that is not a refused token", err)
	}
	err = c.Update(ctx, []string{"192.0.2.5", "x"}, false)
	if !errors.As(err, &e) || e.Index != 2 {
		t.Fatalf("Update: %v, want index 2", err)
	}
	if err := c.do(ctx, "GET", "/garbage", nil, nil, &struct{}{}); err == nil || !strings.Contains(err.Error(), "bad answer") {
		t.Fatalf("garbage answer: %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	srv := fakeServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	tests := []struct {
		name, url, token string
		want             error
	}{
		{"server down", down, "good", ErrServerDown},
		{"no token", srv.URL, "", ErrTokenRefused},
		{"bad token", srv.URL, "bad", ErrTokenRefused},
		{"missing scope", srv.URL, "noscope", ErrTokenRefused},
		{"not monitored", srv.URL, "good", ErrNotMonitored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.url, tt.token, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Host(t.Context(), "192.0.2.99")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, other := range []error{ErrServerDown, ErrTokenRefused, ErrNotMonitored} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("err %v also matches %v", err, other)
				}
			}
		})
	}
	if _, err := New("ftp://x", "", 0); err == nil {
		t.Error("New(ftp://x): no error")
	}
}

// TestClientDoesNotLinkEngine: a program that uses the client links the
// wire types, not the monitor or the raw-socket engine.
func TestClientDoesNotLinkEngine(t *testing.T) {
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/pingapi/pingapi/pkg/wire") {
		t.Fatalf("go list -deps does not list pkg/wire; is it reading this package? %v", deps)
	}
	for _, banned := range []string{"github.com/pingapi/pingapi/pkg/probe", "github.com/pingapi/pingapi/pkg/monitor", "golang.org/x/net/icmp"} {
		if slices.Contains(deps, banned) {
			t.Errorf("pkg/client links %s", banned)
		}
	}
}

func TestBasicRealm(t *testing.T) {
	for _, tt := range []struct {
		in    []string
		realm string
		ok    bool
	}{
		{[]string{`Bearer realm="pingapi", error="invalid_token"`, `Basic realm="ping903", charset="UTF-8"`}, "ping903", true},
		{[]string{`basic realm=x`}, "x", true},
		{[]string{`Basic`}, "", true},
		{[]string{`Bearer realm="pingapi"`}, "", false},
		{nil, "", false},
	} {
		if r, ok := basicRealm(tt.in); r != tt.realm || ok != tt.ok {
			t.Errorf("basicRealm(%q) = %q, %v", tt.in, r, ok)
		}
	}
}
