package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/api"
	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
)

// TestMonitorEndToEnd runs the monitor on the real engine against 2,000
// loopback hosts (127.1.x.y) and one namespace host that drops everything,
// configured by a Ping903 file, with short intervals; then checks them
// through the REST API with query and check as a Nagios would. Needs root
// (raw ICMP socket, network namespace, nftables).
func TestMonitorEndToEnd(t *testing.T) {
	netlab.SkipShort(t, "end-to-end test")
	netlab.RequireRoot(t)
	drop := netlab.NewHost(t, netlab.Options{NoIPv6: true})
	drop.DropAll()

	const n = 2000
	dir := t.TempDir()
	var list strings.Builder
	loop := make([]string, n)
	for i := range loop {
		loop[i] = fmt.Sprintf("127.1.%d.%d", i/250, i%250+1)
		fmt.Fprintln(&list, loop[i])
	}
	writeFile(t, filepath.Join(dir, "hosts.txt"), list.String(), 0o600)
	conf := fmt.Sprintf("# Ping903 configuration\nprobe-interval 2\nping-count 3\nping-interval 0.1\ntolerance 1\n"+
		"ip-list hosts.txt\nip-list <<EOF\n%s\nEOF\n", drop.Addr4)
	m, srv := realMonitor(t, dir, conf)
	ctx := t.Context()

	// Wait (bounded, not timed) until every host has been probed once.
	all := append(loop, drop.Addr4.String())
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		pending := 0
		for _, h := range all {
			if r, _ := m.Lookup(h); !r.Validity {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hosts still without data after 60 s", pending)
		}
	}
	dead := 0
	for _, h := range loop {
		if r, _ := m.Lookup(h); !r.Alive || r.Recv != 3 {
			dead++
			if dead < 5 {
				t.Errorf("loopback host %s: %+v", h, r)
			}
		}
	}
	if dead > 0 {
		t.Errorf("%d of %d loopback hosts not alive", dead, n)
	}
	if r, _ := m.Lookup(drop.Addr4.String()); r.Alive || r.Recv != 0 || r.Xmit != 3 || r.Loss != 100 {
		t.Errorf("dropping host: %+v, want 3 sent, 0 received, not alive", r)
	}

	env := func(k string) string {
		return map[string]string{"PINGAPI_URL": srv.URL, "PINGAPI_TOKEN": "good.tester.sig", "HOME": dir}[k]
	}
	var o, e bytes.Buffer
	code := check(ctx, "check_ping", true, []string{"-H", drop.Addr4.String(), "-w", "200.0,20%", "-c", "600.0,60%"}, env, &o, &e)
	if want := "PING CRITICAL - Packet loss = 100%| rta=U;200.000000;600.000000;; pl=100%;20;60;0;\n"; code != 2 || o.String() != want {
		t.Errorf("check of the dropping host: exit %d, %q; want 2, %q", code, o.String(), want)
	}
	o.Reset()
	code = check(ctx, "check_ping", true, []string{"-H", loop[0], "-w", "200.0,20%", "-c", "600.0,60%"}, env, &o, &e)
	if code != 0 || !strings.HasPrefix(o.String(), "PING OK - Packet loss = 0%, RTA = ") {
		t.Errorf("check of a loopback host: exit %d, %q", code, o.String())
	}
	o.Reset()
	if code := query(ctx, []string{"-a"}, env, &o, &e); code != 1 || strings.Count(o.String(), " is alive\n") != n {
		t.Errorf("query -a: exit %d, %d alive lines; want 1, %d", code, strings.Count(o.String(), " is alive\n"), n)
	}
	if st := m.Stats(); st.Overruns+st.Saturated+st.LateRounds > 0 {
		t.Errorf("scheduler skipped probes: %+v", st)
	}
}

// realMonitor runs the monitor of the Ping903 configuration conf (written
// to dir) on the real engine, behind the API on an httptest server: the
// monitor and the server. The target policy allows loopback and the test
// networks' private addresses, as an operator would for what it watches.
func realMonitor(t *testing.T, dir, conf string) (*monitor.Monitor, *httptest.Server) {
	t.Helper()
	eng, err := probe.New(probe.Options{})
	if err != nil {
		netlab.Unavailable(t, "no ICMP socket: "+err.Error())
	}
	t.Cleanup(func() { eng.Close() })
	writeFile(t, filepath.Join(dir, "ping903.conf"), conf, 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := config.Config{MonitorConfig: filepath.Join(dir, "ping903.conf"), DataDir: filepath.Join(dir, "data"), ListenAddr: "127.0.0.1:0",
		TargetAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}
	m, err := buildMonitor(ctx, cfg, eng, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Deps{Pinger: eng, Verifier: tokenVerifier{}, Monitor: m}).Handler())
	t.Cleanup(srv.Close)
	return m, srv
}
