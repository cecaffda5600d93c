package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingapi/pingapi/api"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/wire"
)

// scriptedPinger answers each address from a script of RTTs (<0: lost);
// "block" addresses wait for ctx, "fail" ones return an error.
type scriptedPinger struct {
	rtts  map[netip.Addr][]time.Duration
	block map[netip.Addr]bool
	fail  map[netip.Addr]bool
	dups  map[netip.Addr]int // duplicate replies of each measurement
}

func (p *scriptedPinger) Ready() bool { return true }

func (p *scriptedPinger) Ping(ctx context.Context, req probe.Request, _ func(probe.Packet)) (probe.Result, error) {
	if p.block[req.Target] {
		<-ctx.Done()
		return probe.Result{}, ctx.Err()
	}
	if p.fail[req.Target] {
		return probe.Result{}, fmt.Errorf("probe: send to %v: %w", req.Target, syscall.ENETUNREACH)
	}
	t0 := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	res := probe.Result{Target: req.Target, Sent: req.Count, Started: t0, Finished: t0.Add(time.Duration(req.Count-1) * time.Second),
		Duplicates: p.dups[req.Target]}
	script := p.rtts[req.Target]
	for i := range req.Count {
		pk := probe.Packet{Seq: i, SentAt: t0.Add(time.Duration(i) * time.Second)}
		if i < len(script) && script[i] >= 0 {
			pk.Received, pk.RTT = true, script[i]
			res.Received++
		}
		res.Packets = append(res.Packets, pk)
	}
	return res, nil
}

// tokenVerifier accepts the token "good.tester.sig".
type tokenVerifier struct{}

func (tokenVerifier) Ready() bool { return true }
func (tokenVerifier) Verify(_ context.Context, tok string) (*auth.Claims, error) {
	if tok == "good.tester.sig" {
		return &auth.Claims{Subject: "tester"}, nil
	}
	return nil, auth.ErrInvalidToken
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// monitorServer serves a monitor (Ping903 defaults: 10 requests, tolerance
// 3) whose hosts are, after one probe:
//
//	192.0.2.1  10/10 at 0.41 ms      alive
//	192.0.2.2   5/10 at 250 ms       not alive, loss 50 %
//	192.0.2.3   0/10                 not alive, loss 100 %
//	192.0.2.4  10/10 at 700 ms       alive, slow
//	192.0.2.5  probe never finishes  init
//	192.0.2.6  engine error          unreachable (Network is unreachable)
//	web.test   (192.0.2.7) 10/10 at 1 ms
//	192.0.2.8   9/10 at 2 ms, 2 duplicates   alive
func monitorServer(t *testing.T) string {
	t.Helper()
	return monitorServerWith(t, nil)
}

// monitorServerWith is monitorServer with its api.Deps changed by mod.
func monitorServerWith(t *testing.T, mod func(*api.Deps)) string {
	t.Helper()
	a := netip.MustParseAddr
	p := &scriptedPinger{
		rtts: map[netip.Addr][]time.Duration{
			a("192.0.2.1"): repeat(410*time.Microsecond, 10),
			a("192.0.2.2"): {250 * time.Millisecond, -1, 250 * time.Millisecond, -1, 250 * time.Millisecond, -1, 250 * time.Millisecond, -1, 250 * time.Millisecond, -1},
			a("192.0.2.4"): repeat(700*time.Millisecond, 10),
			a("192.0.2.7"): repeat(time.Millisecond, 10),
			a("192.0.2.8"): append(repeat(2*time.Millisecond, 9), -1),
		},
		dups:  map[netip.Addr]int{a("192.0.2.8"): 2},
		block: map[netip.Addr]bool{a("192.0.2.5"): true},
		fail:  map[netip.Addr]bool{a("192.0.2.6"): true},
	}
	resolve := func(ctx context.Context, name string) (netip.Addr, error) {
		if name == "web.test" {
			return a("192.0.2.7"), nil
		}
		return netip.ParseAddr(name)
	}
	lookup := func(ctx context.Context, name string) ([]netip.Addr, error) {
		ad, err := resolve(ctx, name)
		return []netip.Addr{ad}, err
	}
	names := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "web.test", "192.0.2.8"}
	m, err := monitor.New(monitor.Options{Pinger: p, Immutable: names, Resolve: resolve, LookupAll: lookup})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.ProbeOnce(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r8, _ := m.Lookup("192.0.2.8")
		if r, _ := m.Lookup("web.test"); r.Validity && r8.Validity {
			if r6, _ := m.Lookup("192.0.2.6"); r6.Status == wire.StatusUnreachable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the monitor did not probe its hosts")
		}
	}
	d := api.Deps{Pinger: p, Verifier: tokenVerifier{}, Monitor: m}
	if mod != nil {
		mod(&d)
	}
	srv := httptest.NewServer(api.New(d).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// downURL is an address where nothing listens.
func downURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

type cliCase struct {
	name   string
	args   []string
	env    map[string]string // overrides
	stdout string            // exact, or a prefix when it ends with '*'
	stderr string            // substring; "": stderr must be empty
	exit   int
}

func runCLI(t *testing.T, f func(context.Context, []string, func(string) string, *bytes.Buffer, *bytes.Buffer) int, url string, tests []cliCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PINGAPI_URL": url, "PINGAPI_TOKEN": "good.tester.sig", "HOME": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			code := f(t.Context(), tt.args, func(k string) string { return env[k] }, &stdout, &stderr)
			if code != tt.exit {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tt.exit, stdout.String(), stderr.String())
			}
			if pre, ok := strings.CutSuffix(tt.stdout, "*"); ok {
				if !strings.HasPrefix(stdout.String(), pre) {
					t.Errorf("stdout\n%s\nwant it to start with\n%s", stdout.String(), pre)
				}
			} else if stdout.String() != tt.stdout {
				t.Errorf("stdout\n%s\nwant\n%s", stdout.String(), tt.stdout)
			}
			if !containsOrEmpty(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want %q (empty: none)", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	url := monitorServer(t)
	q := func(ctx context.Context, args []string, getenv func(string) string, o, e *bytes.Buffer) int {
		return query(ctx, args, getenv, o, e)
	}
	runCLI(t, q, url, []cliCase{
		{"alive", []string{"192.0.2.1"}, nil, "192.0.2.1 is alive\n", "", 0},
		{"not alive", []string{"192.0.2.3"}, nil, "192.0.2.3 is not alive\n", "", 2},
		{"loss above tolerance", []string{"192.0.2.2"}, nil, "192.0.2.2 is not alive\n", "", 2},
		{"unreachable", []string{"192.0.2.6"}, nil, "192.0.2.6 is not alive\n", "", 2},
		{"no data yet", []string{"192.0.2.5"}, nil, "192.0.2.5: no data yet\n", "", 3},
		{"not monitored", []string{"192.0.2.99"}, nil, "", "192.0.2.99 is not monitored", 3},
		{"verbose", []string{"-v", "192.0.2.1"}, nil, "192.0.2.1 is alive\n--- 192.0.2.1 ping statistics ---\n" +
			"10 packets transmitted, 10 received, 0% packet loss, time 9000ms\nrtt min/avg/max/mdev = 0.410/0.410/0.410/0.000 ms\n", "", 0},
		{"verbose all lost", []string{"-v", "192.0.2.3"}, nil, "192.0.2.3 is not alive\n--- 192.0.2.3 ping statistics ---\n" +
			"10 packets transmitted, 0 received, 100% packet loss, time 9000ms\n", "", 2},
		{"several all alive", []string{"192.0.2.1", "192.0.2.4"}, nil, "192.0.2.1 is alive\n192.0.2.4 is alive\n", "", 0},
		{"several some", []string{"192.0.2.1", "192.0.2.3"}, nil, "192.0.2.1 is alive\n192.0.2.3 is not alive\n", "", 1},
		{"several none", []string{"192.0.2.2", "192.0.2.3"}, nil, "192.0.2.2 is not alive\n192.0.2.3 is not alive\n", "", 2},
		{"several with unknown", []string{"192.0.2.1", "192.0.2.99"}, nil, "192.0.2.1 is alive\n", "192.0.2.99 is not monitored", 1},
		{"all", []string{"-a"}, nil, "192.0.2.1 is alive\n192.0.2.2 is not alive\n192.0.2.3 is not alive\n192.0.2.4 is alive\n" +
			"192.0.2.5: no data yet\n192.0.2.6 is not alive\nweb.test is alive\n192.0.2.8 is alive\n", "", 1},
		{"verbose duplicates", []string{"-v", "192.0.2.8"}, nil, "192.0.2.8 is alive\n--- 192.0.2.8 ping statistics ---\n" +
			"10 packets transmitted, 9 received, +2 duplicates, 10% packet loss, time 9000ms\nrtt min/avg/max/mdev = 2.000/2.000/2.000/0.000 ms\n", "", 0},
		{"server down", []string{"192.0.2.1"}, map[string]string{"PINGAPI_URL": downURL(t)}, "", "cannot reach the pingapi server at http://127.0.0.1:", 3},
		{"token refused", []string{"192.0.2.1"}, map[string]string{"PINGAPI_TOKEN": "bad.x.y"}, "", "the server refused the token", 3},
		{"no host", nil, nil, "", "usage: ping903q", 3},
	})
}

func TestQueryGroupedVerbose(t *testing.T) {
	url := monitorServer(t)
	var o, e bytes.Buffer
	code := query(t.Context(), []string{"-av", "--url", url, "--token", "good.tester.sig"}, func(string) string { return "" }, &o, &e)
	if code != 1 || strings.Count(o.String(), "ping statistics") != 6 {
		t.Fatalf("exit %d, output\n%s", code, o.String())
	}
}

func TestCredentialsFile(t *testing.T) {
	url := monitorServer(t)
	home := t.TempDir()
	dir := home + "/.pingapi"
	writeFile(t, dir+"/credentials", fmt.Sprintf("# test\nurl = %s\ntoken = good.tester.sig\n", url), 0o600)
	var o, e bytes.Buffer
	env := map[string]string{"HOME": home}
	if code := query(t.Context(), []string{"192.0.2.1"}, func(k string) string { return env[k] }, &o, &e); code != 0 {
		t.Fatalf("with ~/.pingapi/credentials: exit %d, %s", code, e.String())
	}
	other := t.TempDir() + "/cred"
	writeFile(t, other, "token = bad.x.y\n", 0o644)
	o.Reset()
	e.Reset()
	env["PINGAPI_URL"] = url
	code := query(t.Context(), []string{"--credentials", other, "192.0.2.1"}, func(k string) string { return env[k] }, &o, &e)
	if code != 3 || !strings.Contains(e.String(), "refused the token") || !strings.Contains(e.String(), "readable by others") {
		t.Fatalf("--credentials with a bad token: exit %d, %s", code, e.String())
	}
}

func TestQueryManyHosts(t *testing.T) {
	url := monitorServer(t)
	args := []string{"--url", url, "--token", "good.tester.sig"}
	for i := range 1000 { // about 12 KB of names: several requests
		args = append(args, fmt.Sprintf("192.0.2.%d", i%7+1))
	}
	var o, e bytes.Buffer
	code := query(t.Context(), args, func(string) string { return "" }, &o, &e)
	if code != 1 || strings.Count(o.String(), "\n") != 1000-1000/7 {
		t.Fatalf("exit %d, %d lines; stderr %s", code, strings.Count(o.String(), "\n"), e.String())
	}
}
