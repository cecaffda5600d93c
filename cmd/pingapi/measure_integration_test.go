package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/wire"
)

// needEngine skips unless the process may open ICMP sockets.
func needEngine(t *testing.T) {
	t.Helper()
	e, err := probe.New(probe.Options{})
	if err != nil {
		netlab.Unavailable(t, fmt.Sprintf("no ICMP socket (needs root, CAP_NET_RAW or net.ipv4.ping_group_range): %v", err))
	}
	e.Close()
}

// TestMeasureLoopback measures 127.0.0.1 and ::1 for real and checks the
// JSON Lines and the exit status.
func TestMeasureLoopback(t *testing.T) {
	needEngine(t)
	if b, err := os.ReadFile("/proc/sys/net/ipv6/conf/lo/disable_ipv6"); err != nil || strings.TrimSpace(string(b)) != "0" {
		netlab.Unavailable(t, "IPv6 is disabled on lo")
	}
	var out, errb bytes.Buffer
	code := measure(t.Context(), realMeasureEnv(), []string{"--json", "-c", "3", "-i", "10ms", "-W", "1s", "127.0.0.1", "::1"}, &out, &errb)
	if code != exitAllAnswered {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", out.String())
	}
	// Lines come in completion order: either family may be first.
	byFam := map[int]string{}
	for _, l := range lines {
		var m wire.Measurement
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		byFam[m.Family] = l
	}
	for _, fam := range []int{4, 6} {
		var m wire.Measurement
		line := byFam[fam]
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("IPv%d: no line (%v)", fam, err)
		}
		if m.Family != fam || m.CountSent != 3 || m.CountReceived != 3 || m.PacketLoss != 0 || len(m.Packets) != 3 {
			t.Errorf("IPv%d: %s", fam, line)
			continue
		}
		// Loopback: a reply within a second, and min ≤ mean ≤ max.
		if *m.RTTMin <= 0 || *m.RTTMax > 1000 || *m.RTTMin > *m.RTTMean || *m.RTTMean > *m.RTTMax {
			t.Errorf("IPv%d implausible RTTs: %s", fam, line)
		}
	}
	// The text form of the same.
	out.Reset()
	code = measure(t.Context(), realMeasureEnv(), []string{"-c", "2", "-i", "10ms", "127.0.0.1"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "2 packets transmitted, 2 received, 0% packet loss") ||
		!strings.Contains(out.String(), "rtt min/avg/max/mdev = ") {
		t.Errorf("exit %d, output:\n%s", code, out.String())
	}
}

// TestMeasureSilentHost measures a host in a network namespace of its own
// that ignores echo: 100 % loss is a result, and the exit status is 1.
func TestMeasureSilentHost(t *testing.T) {
	needEngine(t)
	if _, err := exec.LookPath("ip"); err != nil {
		netlab.Unavailable(t, "ip(8) not installed")
	}
	ns := fmt.Sprintf("pamsr%d", os.Getpid())
	host, peer := "pamh"+fmt.Sprint(os.Getpid()%100000), "pamp"+fmt.Sprint(os.Getpid()%100000)
	run := func(args ...string) error {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("ip", "netns", "add", ns); err != nil {
		netlab.Unavailable(t, fmt.Sprintf("cannot create a network namespace (needs root): %v", err))
	}
	t.Cleanup(func() {
		_ = run("ip", "link", "del", host)
		_ = run("ip", "netns", "del", ns)
	})
	for _, c := range [][]string{
		{"ip", "link", "add", host, "type", "veth", "peer", "name", peer},
		{"ip", "link", "set", peer, "netns", ns},
		{"ip", "addr", "add", "10.200.213.1/30", "dev", host},
		{"ip", "link", "set", host, "up"},
		{"ip", "-n", ns, "addr", "add", "10.200.213.2/30", "dev", peer},
		{"ip", "-n", ns, "link", "set", peer, "up"},
		{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1"},
	} {
		if err := run(c...); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	ctx := context.Background()
	code := measure(ctx, realMeasureEnv(), []string{"-q", "-c", "2", "-i", "10ms", "-W", "200ms", "127.0.0.1", "10.200.213.2"}, &out, &errb)
	if code != exitSomeSilent {
		t.Fatalf("exit %d, want 1; stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "--- 10.200.213.2 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss") {
		t.Errorf("output:\n%s", out.String())
	}
}
