package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/wire"
)

// realEngine opens the ICMP engine, or skips (fails under CI=true) when the
// host allows no ICMP socket.
func realEngine(t *testing.T) *probe.Engine {
	t.Helper()
	eng, err := probe.New(probe.Options{})
	if err != nil {
		netlab.Unavailable(t, "no ICMP socket (needs root or net.ipv4.ping_group_range): "+err.Error())
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// GET, POST and streaming against 127.0.0.1 and ::1 through the real
// engine, resolver and dev policy (loopback allowed); only the verifier is
// fake. Sends packets to loopback only.
func TestRealEngineLoopback(t *testing.T) {
	eng := realEngine(t)
	e := newEnv(t, func(d *Deps) {
		d.Pinger = eng
		d.Resolver = &target.Resolver{}
		d.Policy = target.DevPolicy()
	})
	srv := httptest.NewServer(e.srv.Handler())
	defer srv.Close()

	tests := []struct {
		name, method, path, body string
		hdr                      []string
		ip                       string
	}{
		{"get v4", "GET", "/pingapi/127.0.0.1?c=2", "", nil, "127.0.0.1"},
		{"post v6", "POST", "/pingapi", `{"ip":"::1","c":"2"}`, []string{"Content-Type", "application/json"}, "::1"},
		{"stream", "GET", "/pingapi/127.0.0.1?c=2&stream=true", "", nil, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ip == "::1" && !eng.HasIPv6() {
				netlab.Unavailable(t, "no IPv6 socket")
			}
			resp := startStream(t, context.Background(), srv, tt.method, tt.path, tt.body, append(bearer("e2e"), tt.hdr...)...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var m wire.Measurement
			if strings.Contains(tt.path, "stream=true") {
				sc := bufio.NewScanner(resp.Body)
				var lines []string
				for sc.Scan() {
					lines = append(lines, sc.Text())
				}
				if len(lines) != 3 || !strings.Contains(lines[0], `"type":"packet"`) {
					t.Fatalf("lines %q", lines)
				}
				if err := json.Unmarshal([]byte(lines[2]), &m); err != nil {
					t.Fatal(err)
				}
			} else if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatal(err)
			}
			if m.IP != tt.ip || m.CountSent != 2 || m.CountReceived != 2 || m.PacketLoss != 0 || m.RTTMean == nil || *m.RTTMean <= 0 {
				t.Errorf("measurement %+v", m)
			}
		})
	}
}
