package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/wire"
)

// fakeEngine answers Ping from canned results keyed by target address.
type fakeEngine struct {
	mu      sync.Mutex
	results map[netip.Addr]probe.Result
	errs    map[netip.Addr]error
	reqs    []probe.Request
	block   bool          // wait for ctx, then return the canned result as partial
	started chan struct{} // closed when a blocking Ping has started
	closed  bool
}

func (f *fakeEngine) Ping(ctx context.Context, req probe.Request, onPacket func(probe.Packet)) (probe.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	res, err := f.results[req.Target], f.errs[req.Target]
	f.mu.Unlock()
	res.Target = req.Target
	if f.block {
		close(f.started)
		<-ctx.Done()
		return res, ctx.Err()
	}
	if onPacket != nil {
		for _, p := range res.Packets {
			onPacket(p)
		}
	}
	return res, err
}

// StartEach answers as Ping, synchronously (so the fake's results come
// in input order), or on a goroutine once ctx is done when blocking.
func (f *fakeEngine) StartEach(ctx context.Context, req probe.Request, onPacket func(probe.Packet), done func(probe.Result, error)) {
	if f.block {
		go func() { done(f.Ping(ctx, req, onPacket)) }()
		return
	}
	done(f.Ping(ctx, req, onPacket))
}

func (f *fakeEngine) Close() error { f.closed = true; return nil }

var t0 = time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)

// result builds a Result from per-sequence RTTs in µs; a negative value is
// a lost request.
func result(dups int, rttsMicro ...int) probe.Result {
	r := probe.Result{Sent: len(rttsMicro), Duplicates: dups, Started: t0,
		Finished: t0.Add(time.Duration(len(rttsMicro)) * time.Second)}
	for i, us := range rttsMicro {
		p := probe.Packet{Seq: i, SentAt: t0.Add(time.Duration(i) * time.Second)}
		if us >= 0 {
			p.Received, p.RTT, p.TTL = true, time.Duration(us)*time.Microsecond, 64
			r.Received++
		}
		r.Packets = append(r.Packets, p)
	}
	return r
}

func fakeResolve(ctx context.Context, t target.Target, fam target.Family) (netip.Addr, error) {
	if t.IsLiteral() {
		return t.Addr, nil
	}
	if t.Host == "host.test" {
		return netip.MustParseAddr("192.0.2.10"), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: %s", target.ErrNotFound, t.Host)
}

func newEnv(eng *fakeEngine, stdin string) measureEnv {
	return measureEnv{
		open:    func(probe.Options) (measureEngine, error) { return eng, nil },
		resolve: fakeResolve,
		stdin:   strings.NewReader(stdin),
	}
}

func TestMeasureText(t *testing.T) {
	a1, a2, a3 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.10")
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{
		a1: result(0, 1000, 3000, 2000),
		a2: result(1, 500, -1, 700),
		a3: result(0, -1, -1, -1),
	}}
	var out, errb bytes.Buffer
	code := measure(context.Background(), newEnv(eng, ""), []string{"-q", "-c", "3", "192.0.2.1", "192.0.2.2", "host.test"}, &out, &errb)
	// a1: mean 2, σ² = 2/3 → 0.816 ms, jitter (2+1)/2 = 1.5 ms.
	want := `--- 192.0.2.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 3000ms
rtt min/avg/max/mdev = 1.000/2.000/3.000/0.816 ms
jitter = 1.500 ms

--- 192.0.2.2 ping statistics ---
3 packets transmitted, 2 received, +1 duplicates, 33.3333% packet loss, time 3000ms
rtt min/avg/max/mdev = 0.500/0.600/0.700/0.100 ms
jitter = 0.200 ms

--- host.test ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 3000ms
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if code != exitSomeSilent {
		t.Errorf("exit %d, want %d (stderr %q)", code, exitSomeSilent, errb.String())
	}
	if !eng.closed {
		t.Error("engine not closed")
	}
	if len(eng.reqs) != 3 || eng.reqs[0].Count != 3 {
		t.Errorf("requests %+v", eng.reqs)
	}
}

func TestMeasurePerReplyLines(t *testing.T) {
	a := netip.MustParseAddr("127.0.0.1")
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{a: result(0, 45, -1)}}
	var out, errb bytes.Buffer
	code := measure(context.Background(), newEnv(eng, ""), []string{"-c", "2", "127.0.0.1"}, &out, &errb)
	want := `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 1 received, 50% packet loss, time 2000ms
rtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms
jitter = 0.000 ms
`
	if out.String() != want || code != exitAllAnswered {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out.String(), want)
	}
}

// TestMeasureFpingLines: with several targets, fping's reply lines (seq
// from 0, running mean and loss of that target, names aligned) and then
// each target's summary as it completes.
func TestMeasureFpingLines(t *testing.T) {
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.22")
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{
		a1: result(0, 1000, 3000),
		a2: result(0, -1, 500),
	}}
	var out, errb bytes.Buffer
	code := measure(context.Background(), newEnv(eng, ""), []string{"-c", "2", "192.0.2.1", "192.0.2.22"}, &out, &errb)
	want := `192.0.2.1  : [0], 64 bytes, 1.000 ms (1.000 avg, 0% loss)
192.0.2.1  : [1], 64 bytes, 3.000 ms (2.000 avg, 0% loss)

--- 192.0.2.1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 2000ms
rtt min/avg/max/mdev = 1.000/2.000/3.000/1.000 ms
jitter = 2.000 ms
192.0.2.22 : [1], 64 bytes, 0.500 ms (0.500 avg, 50% loss)

--- 192.0.2.22 ping statistics ---
2 packets transmitted, 1 received, 50% packet loss, time 2000ms
rtt min/avg/max/mdev = 0.500/0.500/0.500/0.000 ms
jitter = 0.000 ms
`
	if out.String() != want || code != exitAllAnswered {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out.String(), want)
	}
}

// TestMeasureFpingOptions: -C prints fping's RTT list per target, -a and
// -u the names that answered or not (-e: with the first RTT).
func TestMeasureFpingOptions(t *testing.T) {
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.22")
	res := map[netip.Addr]probe.Result{a1: result(0, -1, 1500, 250), a2: result(0, -1, -1, -1)}
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"-q", "-C", "3"}, "192.0.2.1  : - 1.500 0.250\n192.0.2.22 : - - -\n", exitSomeSilent},
		{[]string{"-C", "3"}, "192.0.2.1  : [1], 64 bytes, 1.500 ms (1.500 avg, 50% loss)\n" +
			"192.0.2.1  : [2], 64 bytes, 0.250 ms (0.875 avg, 33% loss)\n" +
			"192.0.2.1  : - 1.500 0.250\n192.0.2.22 : - - -\n", exitSomeSilent},
		{[]string{"-a"}, "192.0.2.1\n", exitSomeSilent},
		{[]string{"-a", "-e"}, "192.0.2.1 (1.500 ms)\n", exitSomeSilent},
		{[]string{"-u"}, "192.0.2.22\n", exitSomeSilent},
		{[]string{"-a", "-u"}, "192.0.2.1\n192.0.2.22\n", exitSomeSilent},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			eng := &fakeEngine{results: res}
			var out, errb bytes.Buffer
			code := measure(context.Background(), newEnv(eng, ""), append(tt.args, "192.0.2.1", "192.0.2.22"), &out, &errb)
			if out.String() != tt.want || code != tt.code {
				t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out.String(), tt.want)
			}
			if len(eng.reqs) != 2 || eng.reqs[0].Count != res[a1].Sent && tt.args[len(tt.args)-1] == "3" {
				t.Errorf("requests %+v", eng.reqs)
			}
		})
	}
	// -p is fping's period in milliseconds: the interval.
	eng := &fakeEngine{results: res}
	measure(context.Background(), newEnv(eng, ""), []string{"-q", "-p", "250", "192.0.2.1"}, new(bytes.Buffer), new(bytes.Buffer))
	if len(eng.reqs) != 1 || eng.reqs[0].Interval != 250*time.Millisecond {
		t.Errorf("-p 250: requests %+v", eng.reqs)
	}
}

func TestMeasureJSON(t *testing.T) {
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{
		a1: result(0, 1000, 3000),
		a2: result(0, 250, -1),
	}}
	var out, errb bytes.Buffer
	code := measure(context.Background(), newEnv(eng, ""), []string{"--json", "-c", "2", "192.0.2.1", "2001:db8::1"}, &out, &errb)
	if code != exitAllAnswered {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", out.String())
	}
	var m [2]wire.Measurement
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &m[i]); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	if m[0].IPHost != "192.0.2.1" || m[0].Family != 4 || *m[0].RTTMean != 2 || *m[0].Jitter != 2 || m[0].CountRequested != 2 {
		t.Errorf("first: %+v", m[0])
	}
	if m[1].IP != "2001:db8::1" || m[1].Family != 6 || m[1].PacketLoss != 50 || len(m[1].Packets) != 2 ||
		m[1].Packets[1].RTT != nil || *m[1].Packets[0].RTT != 0.25 || m[1].Packets[0].TTL != 64 {
		t.Errorf("second: %+v", m[1])
	}
	// -json (one dash) is the same flag.
	out.Reset()
	if code := measure(context.Background(), newEnv(eng, ""), []string{"-json", "-c", "2", "192.0.2.1"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "{") {
		t.Errorf("-json: exit %d, %q", code, out.String())
	}
}

func TestMeasureExitStatus(t *testing.T) {
	ok := netip.MustParseAddr("192.0.2.1")
	silent := netip.MustParseAddr("192.0.2.2")
	broken := netip.MustParseAddr("192.0.2.3")
	mk := func() *fakeEngine {
		return &fakeEngine{
			results: map[netip.Addr]probe.Result{ok: result(0, 100), silent: result(0, -1)},
			errs:    map[netip.Addr]error{broken: errors.New("probe: no IPv6 socket")},
		}
	}
	tests := []struct {
		name     string
		args     []string
		openErr  error
		want     int
		inStderr string
	}{
		{"all answered", []string{"192.0.2.1"}, nil, 0, ""},
		{"one silent", []string{"192.0.2.1", "192.0.2.2"}, nil, 1, ""},
		{"usage: no target", nil, nil, 2, "no target given"},
		{"usage: bad flag", []string{"-x", "192.0.2.1"}, nil, 2, "not defined"},
		{"usage: bad target", []string{"bad_host!"}, nil, 2, "invalid target"},
		{"usage: -4 with IPv6 via resolver", []string{"-4", "-6", "::1"}, nil, 2, "mutually exclusive"},
		{"engine open fails", []string{"192.0.2.1"}, errors.New("probe: cannot open an ICMP socket: allow it with sysctl or CAP_NET_RAW"), 2, "CAP_NET_RAW"},
		{"unresolvable name", []string{"192.0.2.1", "nowhere.test"}, nil, 2, "nowhere.test"},
		{"engine error", []string{"192.0.2.1", "192.0.2.3"}, nil, 2, "no IPv6 socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := mk()
			env := newEnv(eng, "")
			if tt.openErr != nil {
				env.open = func(probe.Options) (measureEngine, error) { return nil, tt.openErr }
			}
			var out, errb bytes.Buffer
			got := measure(context.Background(), env, append([]string{"-c", "1"}, tt.args...), &out, &errb)
			if got != tt.want {
				t.Errorf("exit %d, want %d; stderr %q", got, tt.want, errb.String())
			}
			if !strings.Contains(errb.String(), tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.inStderr)
			}
		})
	}
}

// TestMeasureUsageOnce checks that a usage error is reported once, with
// the usage once, before anything is measured, and that -h lists the flags.
func TestMeasureUsageOnce(t *testing.T) {
	tests := []struct {
		args      []string
		inStderr  string
		usageDefs bool // the flags' defaults are listed
	}{
		{[]string{"-x", "192.0.2.1"}, "flag provided but not defined: -x", false},
		{[]string{"-s", "4", "192.0.2.1"}, "-s must be within 8..65000", false},
		{[]string{"-h"}, "", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			eng := &fakeEngine{results: map[netip.Addr]probe.Result{}}
			var out, errb bytes.Buffer
			code := measure(context.Background(), newEnv(eng, ""), tt.args, &out, &errb)
			stderr := errb.String()
			if code != exitUsageOrSetup || out.Len() != 0 || len(eng.reqs) != 0 {
				t.Fatalf("exit %d, stdout %q, %d pings", code, out.String(), len(eng.reqs))
			}
			if tt.inStderr != "" && strings.Count(stderr, tt.inStderr) != 1 {
				t.Errorf("stderr has %q %d times, want once:\n%s", tt.inStderr, strings.Count(stderr, tt.inStderr), stderr)
			}
			if n := strings.Count(stderr, "usage: pingapi measure"); n != 1 {
				t.Errorf("usage printed %d times, want once:\n%s", n, stderr)
			}
			if got := strings.Contains(stderr, "echo requests per target"); got != tt.usageDefs {
				t.Errorf("flag defaults listed: %v, want %v:\n%s", got, tt.usageDefs, stderr)
			}
		})
	}
}

func TestMeasureTargetsFromFileAndCIDR(t *testing.T) {
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{}}
	stdin := "# hosts\n192.0.2.9\n\n  192.0.2.8  # inline comment\n"
	var out, errb bytes.Buffer
	measure(context.Background(), newEnv(eng, stdin), []string{"-q", "-c", "1", "-g", "198.51.100.0/30", "-f", "-", "192.0.2.7"}, &out, &errb)
	var got []string
	for _, r := range eng.reqs {
		got = append(got, r.Target.String())
	}
	// The output is in completion order; the fake completes in input order.
	var printed []string
	for _, l := range strings.Split(out.String(), "\n") {
		if h, ok := strings.CutPrefix(l, "--- "); ok {
			printed = append(printed, strings.TrimSuffix(h, " ping statistics ---"))
		}
	}
	want := []string{"192.0.2.7", "198.51.100.1", "198.51.100.2", "192.0.2.9", "192.0.2.8"}
	if !reflect.DeepEqual(printed, want) || len(got) != len(want) {
		t.Errorf("printed %v (pinged %v), want %v; stderr %q", printed, got, want, errb.String())
	}
}

func TestMeasureTargetsFromRealFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.txt")
	if err := os.WriteFile(path, []byte("192.0.2.1\n# off: 192.0.2.2\n2001:db8::5 # v6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{}}
	var out, errb bytes.Buffer
	code := measure(context.Background(), newEnv(eng, ""), []string{"-c", "1", "-f", path, "--json"}, &out, &errb)
	if n := strings.Count(out.String(), "\n"); n != 2 || len(eng.reqs) != 2 || code != exitSomeSilent {
		t.Fatalf("exit %d, %d lines, %d pings; stderr %q", code, n, len(eng.reqs), errb.String())
	}
}

func TestMeasureInterrupted(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	partial := result(0, 100, 200)
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{a: partial}, block: true, started: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-eng.started; cancel() }() // what SIGINT does
	var out, errb bytes.Buffer
	code := measure(ctx, newEnv(eng, ""), []string{"-q", "-c", "100", "192.0.2.1"}, &out, &errb)
	if code != exitAllAnswered || !strings.Contains(out.String(), "2 packets transmitted, 2 received") {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, errb.String(), out.String())
	}
}

func TestParseMeasureFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    measureFlags
		wantErr string
	}{
		{args: []string{"h"}, want: measureFlags{count: 5, targets: []string{"h"}}},
		{args: []string{"-c", "3", "-i", "0.2", "-W", "1.5", "-s", "100", "-t", "9", "-Q", "184", "-4", "--json", "h"},
			want: measureFlags{count: 3, interval: 200 * time.Millisecond, timeout: 1500 * time.Millisecond,
				size: 100, ttl: 9, tos: 184, v4: true, json: true, targets: []string{"h"}}},
		{args: []string{"a", "-i", "250ms", "b", "-6", "-q"},
			want: measureFlags{count: 5, interval: 250 * time.Millisecond, v6: true, quiet: true, targets: []string{"a", "b"}}},
		{args: []string{"-g", "192.0.2.0/30", "-f", "x", "-f", "-", "-S", "192.0.2.5"},
			want: measureFlags{count: 5, cidrs: []string{"192.0.2.0/30"}, files: []string{"x", "-"}, source: "192.0.2.5"}},
		{args: []string{"-c", "1", "--", "a", "-c"}, want: measureFlags{count: 1, targets: []string{"a", "-c"}}},
		{args: []string{"-c", "0", "h"}, wantErr: "-c must be at least 1"},
		{args: []string{"-i", "0.005", "h"}, wantErr: "-i must be at least 10ms"},
		{args: []string{"-i", "soon", "h"}, wantErr: "invalid value"},
		{args: []string{"-W", "-1", "h"}, wantErr: "out of range"},
		{args: []string{"-s", "70000", "h"}, wantErr: "-s must be"},
		{args: []string{"-s", "65001", "h"}, wantErr: "-s must be within 8..65000"},
		{args: []string{"-s", "7", "h"}, wantErr: "-s must be within 8..65000"},
		{args: []string{"-s", "0", "h"}, wantErr: "-s must be within 8..65000"},
		{args: []string{"-s", "8", "h"}, want: measureFlags{count: 5, size: 8, targets: []string{"h"}}},
		{args: []string{"-c", "1048577", "h"}, wantErr: "-c must be at most 1048576"},
		{args: []string{"-t", "256", "h"}, wantErr: "-t must be"},
		{args: []string{"-Q", "-1", "h"}, wantErr: "-Q must be"},
		{args: []string{"-4", "-6", "h"}, wantErr: "mutually exclusive"},
		{args: []string{"-c", "2"}, wantErr: "no target given"},
		{args: []string{"-C", "3", "-p", "20", "-a", "-u", "-e", "h"},
			want: measureFlags{count: 3, counts: 3, interval: 20 * time.Millisecond, alive: true, unreach: true, elapsed: true, targets: []string{"h"}}},
		{args: []string{"-C", "3", "-c", "3", "h"}, wantErr: "-c and -C are mutually exclusive"},
		{args: []string{"-C", "0", "h"}, wantErr: "-C must be at least 1"},
		{args: []string{"-p", "5", "h"}, wantErr: "-p must be at least 10"},
		{args: []string{"-p", "50", "-i", "1", "h"}, wantErr: "-i and -p are mutually exclusive"},
		{args: []string{"-a", "--json", "h"}, wantErr: "--json and -a/-u"},
		{args: []string{"-C", "2", "--json", "h"}, wantErr: "--json and -C"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseMeasureFlags(tt.args, new(bytes.Buffer))
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// wantErr checks err against want, a substring of the expected error ("":
// no error expected). It reports whether the caller should go on to check
// the result, which is only when no error was expected.
func wantErr(t *testing.T, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}
