package api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// basicFake accepts alice:pw, and admin:pw under /config/ only.
type basicFake struct{}

func (basicFake) Realm() string { return "ping903" }
func (basicFake) Check(user, pw, path string) bool {
	return pw == "pw" && (user == "alice" || (user == "admin" && strings.HasPrefix(path, "/config/")))
}

// TestMonitorOpenAndBasic: MONITOR_OPEN_CIDRS lets reads in without
// credentials from the listed client networks (judged on the TCP peer),
// never writes; Basic credentials are accepted when a checker is set,
// without any scope; bearer tokens keep working; off by default.
func TestMonitorOpenAndBasic(t *testing.T) {
	tests := []struct {
		name    string
		cidrs   []string
		proxies []string
		basic   bool
		scope   string
		method  string
		path    string
		peer    string
		hdr     []string
		status  int
		basicCh bool // a Basic challenge is expected
	}{
		{"off by default", nil, nil, false, "", "GET", "/host/192.0.2.1", "127.0.0.1:5000", nil, 401, false},
		{"open network read", []string{"127.0.0.0/8"}, nil, false, "", "GET", "/host/192.0.2.1", "127.0.0.1:5000", nil, 200, false},
		{"open network /config", []string{"127.0.0.0/8"}, nil, false, "", "GET", "/config", "127.0.0.1:5000", nil, 200, false},
		{"open network IPv6", []string{"::1"}, nil, false, "", "GET", "/id", "[::1]:5000", nil, 200, false},
		{"open network, even with a read scope", []string{"127.0.0.0/8"}, nil, false, "monitor:read", "GET", "/match/192.0.2.1", "127.0.0.1:5000", nil, 200, false},
		{"other network", []string{"10.0.0.0/8"}, nil, false, "", "GET", "/host/192.0.2.1", "127.0.0.1:5000", nil, 401, false},
		{"forged X-Forwarded-For from an untrusted peer", []string{"10.0.0.0/8"}, nil, false, "", "GET", "/host/192.0.2.1", "127.0.0.1:5000",
			[]string{"X-Forwarded-For", "10.1.1.1"}, 401, false},
		{"X-Forwarded-For from a trusted proxy", []string{"10.0.0.0/8"}, []string{"127.0.0.1"}, false, "", "GET", "/host/192.0.2.1", "127.0.0.1:5000",
			[]string{"X-Forwarded-For", "10.1.1.1"}, 200, false},
		{"open network never writes", []string{"127.0.0.0/8"}, nil, false, "", "PUT", "/config/ip-list/192.0.2.50", "127.0.0.1:5000", nil, 401, false},
		{"a bad token from an open network is still refused", []string{"127.0.0.0/8"}, nil, false, "", "GET", "/id", "127.0.0.1:5000",
			[]string{"Authorization", "Bearer bad.x.y"}, 401, false},
		{"basic off: Basic refused", nil, nil, false, "", "GET", "/id", "127.0.0.1:5000", []string{"Authorization", "Basic YWxpY2U6cHc="}, 401, false},
		{"basic read", nil, nil, true, "", "GET", "/host/192.0.2.1", "127.0.0.1:5000", []string{"Authorization", "Basic YWxpY2U6cHc="}, 200, false},
		{"basic write", nil, nil, true, "", "PUT", "/config/ip-list/192.0.2.50", "127.0.0.1:5000", []string{"Authorization", "Basic YWxpY2U6cHc="}, 201, false},
		{"basic wrong password", nil, nil, true, "", "GET", "/id", "127.0.0.1:5000", []string{"Authorization", "Basic YWxpY2U6eHg="}, 401, true},
		{"basic entry limited to a path", nil, nil, true, "", "GET", "/id", "127.0.0.1:5000", []string{"Authorization", "Basic YWRtaW46cHc="}, 401, true},
		{"basic entry on its path", nil, nil, true, "", "GET", "/config/ip-list", "127.0.0.1:5000", []string{"Authorization", "Basic YWRtaW46cHc="}, 200, false},
		{"basic has no scope", nil, nil, true, "monitor:read", "GET", "/id", "127.0.0.1:5000", []string{"Authorization", "Basic YWxpY2U6cHc="}, 403, false},
		{"basic on: no credentials challenges both", nil, nil, true, "", "GET", "/id", "127.0.0.1:5000", nil, 401, true},
		{"basic on: bearer still works", nil, nil, true, "", "GET", "/id", "127.0.0.1:5000", bearer("a"), 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newMonitorEnv(t, nil, func(d *Deps) {
				for _, c := range tt.cidrs {
					p, err := netip.ParsePrefix(c)
					if err != nil {
						p = netip.PrefixFrom(netip.MustParseAddr(c), 128)
					}
					d.MonitorOpenCIDRs = append(d.MonitorOpenCIDRs, p)
				}
				d.TrustedProxies = tt.proxies
				d.MonitorReadScope = tt.scope
				if tt.basic {
					d.MonitorBasic = basicFake{}
				}
			})
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.RemoteAddr = tt.peer
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			ch := w.Header().Values("WWW-Authenticate")
			hasBasic := false
			for _, v := range ch {
				hasBasic = hasBasic || v == `Basic realm="ping903", charset="UTF-8"`
			}
			if hasBasic != tt.basicCh {
				t.Errorf("WWW-Authenticate %q: Basic challenge %v, want %v", ch, hasBasic, tt.basicCh)
			}
			if tt.status == http.StatusUnauthorized && (len(ch) == 0 || !strings.HasPrefix(ch[0], "Bearer ")) {
				t.Errorf("401 without a Bearer challenge: %q", ch)
			}
		})
	}
}
