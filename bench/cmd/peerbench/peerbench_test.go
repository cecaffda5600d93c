package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/probe"
)

// TestMain lets the test binary act as its own child processes, since the
// load runner re-executes os.Executable() with a child-* subcommand.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "child-") {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestParseFping(t *testing.T) {
	in := `127.1.0.1 : 0.031 0.027 - 0.030 0.029
127.1.0.2 : - - - - -
127.1.0.3 : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.041/0.070/0.098
ICMP Host Unreachable from 127.0.0.1 for ICMP Echo sent to 127.1.0.9
not an address : 1.0
127.1.0.4 : 0.5
`
	got := parseFping(strings.NewReader(in))
	want := counts{Targets: 3, Sent: 11, Received: 5}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestParsePing(t *testing.T) {
	in := `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.031 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=1.20 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 20ms
rtt min/avg/max/mdev = 0.031/0.425/1.200/0.548 ms
`
	r := parsePing(strings.NewReader(in))
	want := []time.Duration{31 * time.Microsecond, 45 * time.Microsecond, 1200 * time.Microsecond}
	if len(r.RTTs) != 3 || r.RTTs[0] != want[0] || r.RTTs[1] != want[1] || r.RTTs[2] != want[2] {
		t.Fatalf("got %v, want %v", r.RTTs, want)
	}
}

func TestLoopbackTargets(t *testing.T) {
	got := loopbackTargets(600)
	seen := map[string]bool{}
	for _, a := range got {
		b := a.As4()
		if b[0] != 127 || b[3] == 0 || b[3] == 255 || seen[a.String()] {
			t.Fatalf("bad or repeated target %v", a)
		}
		seen[a.String()] = true
	}
	if len(got) != 600 || got[0].String() != "127.1.0.1" || got[254].String() != "127.1.1.1" {
		t.Fatalf("got %d targets, [0]=%v [254]=%v", len(got), got[0], got[254])
	}
}

func TestMedianAndSummary(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatalf("median = %v", m)
	}
	rs := []peerResult{
		{Peer: "engine", Requested: 1000, CPU: 20 * time.Millisecond, MaxRSSKiB: 10240, Counts: counts{Received: 1000}},
		{Peer: "fping", Requested: 1000, CPU: 40 * time.Millisecond, MaxRSSKiB: 5120, Counts: counts{Received: 990}},
	}
	var b bytes.Buffer
	writeSummary(&b, summarize(rs))
	if !strings.Contains(b.String(), "| fping | 0 | 1 | 0.0400 | 40.0 | 10 / 1000 | 5.0 | 0.50 | 2.00 |") {
		t.Fatalf("summary:\n%s", b.String())
	}
}

// TestLoadSmoke runs every peer on 10 loopback targets, 2 echoes each: the
// harness end to end, not a measurement. It needs root for the raw sockets
// of pro-bing and the engine.
func TestLoadSmoke(t *testing.T) {
	if e, err := probe.New(probe.Options{}); err != nil {
		netlab.Unavailable(t, fmt.Sprintf("no ICMP socket (needs root): %v", err))
	} else {
		e.Close()
	}
	if os.Geteuid() != 0 {
		netlab.Unavailable(t, "pro-bing's privileged mode needs root")
	}
	peers := []string{"engine", "probing"}
	if _, err := exec.LookPath("fping"); err == nil {
		peers = append(peers, "fping")
	} else {
		netlab.Unavailable(t, "fping not installed") // in CI; elsewhere the smoke runs without it
	}
	cfg := loadConfig{n: 10, count: 2, interval: 50 * time.Millisecond, timeout: time.Second,
		limit: 30 * time.Second, peers: peers, reps: 1, dir: t.TempDir()}
	rs, err := load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Requested != 20 || r.Counts.Received != 20 || r.Note != "" || r.CPU <= 0 || r.MaxRSSKiB <= 0 {
			t.Errorf("%s: %+v", r.Peer, r)
		}
	}
}

func TestWireRTTs(t *testing.T) {
	in := `1795332778.339639667 IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 2307, seq 1, length 64
1795332778.339651278 IP 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 2307, seq 1, length 64
1795332778.549081964 IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 2307, seq 2, length 64
1795332778.549000000 IP 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 9999, seq 2, length 64
1795332778.549141436 IP 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 2307, seq 2, length 64
1795332778.600000000 IP6 ::1 > ::1: ICMP6, echo request, id 5, seq 7, length 64
1795332778.600000100 IP6 ::1 > ::1: ICMP6, echo reply, id 5, seq 7, length 64
1795332778.7 IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 1, seq 1, length 64
garbage
`
	got := wireRTTs(strings.NewReader(in))
	want := []time.Duration{100, 11611, 59472}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("got %v, want %v", got, want)
	}
}
