package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
)

// realCheckPing is where Debian's monitoring-plugins-basic installs it.
const realCheckPing = "/usr/lib/nagios/plugins/check_ping"

// requireCheckPing skips (fails in CI) without the real plugin.
func requireCheckPing(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(realCheckPing); err != nil {
		netlab.Unavailable(t, "needs the real check_ping (apt-get install monitoring-plugins-basic)")
	}
}

// runReal runs the real check_ping; its exit status and output.
func runReal(t *testing.T, args []string) (string, string, int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(realCheckPing, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return o.String(), e.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("check_ping: %v", err)
	}
	return o.String(), e.String(), 0
}

// measured masks what check_ping and the monitor measure apart: the RTA.
var measured = regexp.MustCompile(`RTA = [0-9.]+ ms|rta=[0-9.]+ms`)

func mask(s string) string {
	return measured.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "RTA") {
			return "RTA = <measured> ms"
		}
		return "rta=<measured>ms"
	})
}

// TestCheckPingArgumentsSideBySide runs command lines that check_ping
// refuses (or answers without pinging) through the real check_ping and
// through pingapi's check_ping (argv[0] the same path, so getopt's
// complaints match too): stdout, stderr and exit status byte for byte,
// with the version line as the only allowed difference.
func TestCheckPingArgumentsSideBySide(t *testing.T) {
	requireCheckPing(t)
	cases := [][]string{
		{},
		{"-V"}, {"--version"}, {"-h"},
		{"-H", "127.0.0.1", "-w", "100,20", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "600,20%", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "100,70%", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "100.1,20%", "-c", "100.05,60%"},
		{"-H", "127.0.0.1", "-w", "100,20%"},
		{"-H", "127.0.0.1", "-c", "100,20%"},
		{"-H", "127.0.0.1", "-w", "100", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "20%", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "-5,20%", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "abc", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "100;20%", "-c", "200,60%"},
		{"-H", "127.0.0.1", "-w", "100,20%", "-c", "200,60%", "-p", "abc"},
		{"-H", "127.0.0.1", "-w", "100,20%", "-c", "200,60%", "-x"},
		{"-w", "100,20%", "-c", "200,60%"},
		{"-6", "-H", "127.0.0.1", "-w", "100,20%", "-c", "200,60%"},
		{"--foo=bar"}, {"--h"}, {"--he=3"}, {"--warning"}, {"-w"}, {"-H"}, {"--use"},
		{"127.0.0.1", "20", "60", "300", "200"},
		{"127.0.0.1", "abc"},
		{"127.0.0.1", "20", "101"},
		{"127.0.0.1", "20", "60", "-1"},
		{"-H", "127.0.0.1", "-w", "100,20%", "-c", "200,60%", "extra"},
	}
	helpPrefix := func(s string) string {
		// pingapi's help replaces check_ping's last two paragraphs
		// (about the ping command and the support address).
		s, _, _ = strings.Cut(s, "This plugin uses the ping command")
		s, _, _ = strings.Cut(s, "pingapi answers from its monitor")
		return s
	}
	version := regexp.MustCompile(`(?m)^check_ping v2\.3\.3 \(.*\)$`)
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ro, re, rc := runReal(t, args)
			var o, e bytes.Buffer
			code := run(realCheckPing, args, &o, &e)
			got := o.String()
			if len(args) == 1 && args[0] == "-h" {
				ro, got = helpPrefix(ro), helpPrefix(got)
			}
			ro = version.ReplaceAllString(ro, "VERSION")
			got = version.ReplaceAllString(got, "VERSION")
			if code != rc || got != ro || e.String() != re {
				t.Errorf("check_ping %q:\nreal:    exit %d\n%s%s\npingapi: exit %d\n%s%s", args, rc, ro, re, code, got, e.String())
			}
			// `pingapi check`: the same, getopt's prefix aside.
			o.Reset()
			e.Reset()
			code = check(t.Context(), realCheckPing, true, args, func(string) string { return "" }, &o, &e)
			got = o.String()
			if len(args) == 1 && args[0] == "-h" {
				got = helpPrefix(got)
			}
			if got = version.ReplaceAllString(got, "VERSION"); code != rc || got != ro || e.String() != re {
				t.Errorf("pingapi check %q: exit %d\n%s%s", args, code, got, e.String())
			}
		})
	}
}

// TestCheckPingSideBySide runs the real check_ping and pingapi's (as
// check_ping, as `pingapi check` and as ping903q -H) on the same
// namespace hosts with the same thresholds, the monitor probing them on
// the real engine: output and exit status byte for byte apart from the
// measured RTA. Needs root.
func TestCheckPingSideBySide(t *testing.T) {
	netlab.SkipShort(t, "side-by-side test with the real check_ping")
	requireCheckPing(t)
	netlab.RequireRoot(t)
	newHost := func() *netlab.Host { return netlab.NewHost(t, netlab.Options{NoIPv6: true}) }
	ok, slow, lossy, drop, dup, unr := newHost(), newHost(), newHost(), newHost(), newHost(), newHost()
	// No route to unr from here: the kernel refuses to send (EHOSTUNREACH),
	// to ping and to the monitor's engine alike; nothing leaves.
	route := []string{"route", "add", "unreachable", unr.Addr4.String() + "/32"}
	if out, err := exec.Command("ip", route...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", route, err, out)
	}
	t.Cleanup(func() {
		route[1] = "del"
		if out, err := exec.Command("ip", route...).CombinedOutput(); err != nil {
			t.Errorf("ip %v: %v: %s", route, err, out)
		}
	})
	slow.Respond(func() time.Duration { return 150 * time.Millisecond })
	dup.Respond(func() time.Duration { return 0 }).SetCopies(2)
	drop.DropAll()
	// One echo request in six dropped, counted apart for the monitor's
	// (data-length 64: 92-byte IP packets; 6 per probe, so exactly one of
	// each probe: 16 %) and ping's (56-byte payload: 84 bytes). check_ping
	// runs ping with a deadline, which sends until 5 replies came back:
	// with its counter reset before each run, the first request is
	// dropped and ping sends 6, 16 % as well.
	lossy.Nft(`table ip lossmon {
	chain input {
		type filter hook input priority 0; policy accept;
		icmp type echo-request ip length 92 numgen inc mod 6 < 1 drop
	}
}
`)
	resetPingLoss := func() {
		lossy.Nft(`table ip lossping
delete table ip lossping
table ip lossping {
	chain input {
		type filter hook input priority 0; policy accept;
		icmp type echo-request ip length 84 numgen inc mod 6 < 1 drop
	}
}
`)
	}
	hosts := []*netlab.Host{ok, slow, lossy, drop, dup, unr}
	var list strings.Builder
	for _, h := range hosts {
		fmt.Fprintln(&list, h.Addr4)
	}
	dir := t.TempDir()
	m, srv := realMonitor(t, dir, "probe-interval 2\nping-count 6\nping-interval 0.1\ntolerance 3\ndata-length 64\n"+
		"ip-list <<EOF\n"+list.String()+"EOF\n")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		pending := 0
		for _, h := range hosts {
			if r, _ := m.Lookup(h.Addr4.String()); r.Status == "init" || r.Status == "" {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hosts without data after 30 s", pending)
		}
	}
	env := map[string]string{"PINGAPI_URL": srv.URL, "PINGAPI_TOKEN": "good.tester.sig", "HOME": dir}
	getenv := func(k string) string { return env[k] }

	a := func(h *netlab.Host) string { return h.Addr4.String() }
	cases := []struct {
		name  string
		args  []string
		state int // what both must say
	}{
		{"ok", []string{"-H", a(ok), "-w", "100,20%", "-c", "200,60%"}, nagiosOK},
		{"ok, C-float thresholds", []string{"-H", a(ok), "-w", "100.1,20%", "-c", "200.3,60%"}, nagiosOK},
		{"ok, fractional loss thresholds", []string{"-H", a(ok), "-w", "100,20.5%", "-c", "200,60.5%"}, nagiosOK},
		{"ok, check_ping's options", []string{"--hostname=" + a(ok), "-w", "100,20%", "-c", "200,60%", "-t", "20", "-4", "-p", "5"}, nagiosOK},
		{"ok, positional", []string{a(ok), "20", "60", "100", "200"}, nagiosOK},
		{"ok, zero warning", []string{"-H", a(ok), "-w", "0,0%", "-c", "200,60%"}, nagiosWarning},
		{"ok, -L", []string{"-L", "-H", a(ok), "-w", "100,20%", "-c", "200,60%"}, nagiosOK},
		{"warning rta", []string{"-H", a(slow), "-w", "100,20%", "-c", "300,60%"}, nagiosWarning},
		{"critical rta", []string{"-H", a(slow), "-w", "50,20%", "-c", "120,60%"}, nagiosCritical},
		{"warning loss", []string{"-H", a(lossy), "-w", "100,10%", "-c", "200,60%"}, nagiosWarning},
		{"critical loss", []string{"-H", a(lossy), "-w", "100,10%", "-c", "200,15%"}, nagiosCritical},
		{"100% loss", []string{"-H", a(drop), "-w", "100,20%", "-c", "200,60%"}, nagiosCritical},
		{"duplicates", []string{"-H", a(dup), "-w", "100,20%", "-c", "200,60%"}, nagiosWarning},
		{"network unreachable", []string{"-H", a(unr), "-w", "100,20%", "-c", "200,60%"}, nagiosCritical},
		{"several hosts", []string{"-H", a(drop) + "," + a(ok), "-w", "100,20%", "-c", "200,60%"}, nagiosOK},
		{"several hosts, the first unreachable", []string{"-H", a(unr) + "," + a(ok), "-w", "100,20%", "-c", "200,60%"}, nagiosCritical},
		{"several -H", []string{"-H", a(slow), "-H", a(ok), "-w", "100,20%", "-c", "200,60%"}, nagiosOK},
	}
	type outcome struct {
		out  string
		code int
	}
	real := make([]outcome, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases { // each real check_ping pings for about 4 s: in parallel
		if slices.Contains(c.args, a(lossy)) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, e, code := runReal(t, c.args)
			real[i] = outcome{o + e, code}
		}()
	}
	wg.Wait()
	for i, c := range cases { // the lossy host's, one at a time from a reset counter
		if slices.Contains(c.args, a(lossy)) {
			resetPingLoss()
			o, e, code := runReal(t, c.args)
			real[i] = outcome{o + e, code}
		}
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := mask(real[i].out)
			if real[i].code != c.state {
				t.Fatalf("the real check_ping says %d, not %d: %s", real[i].code, c.state, real[i].out)
			}
			var o, e bytes.Buffer
			code := check(t.Context(), realCheckPing, false, c.args, getenv, &o, &e)
			if got := mask(o.String() + e.String()); code != real[i].code || got != want {
				t.Errorf("check_ping %q:\nreal:    exit %d %s\npingapi: exit %d %s", c.args, real[i].code, real[i].out, code, o.String()+e.String())
			}
			o.Reset()
			e.Reset()
			code = check(t.Context(), "pingapi check", true, c.args, getenv, &o, &e)
			if got := mask(o.String() + e.String()); code != real[i].code || got != want {
				t.Errorf("pingapi check %q: exit %d %s", c.args, code, o.String()+e.String())
			}
			if len(c.args) != 6 || c.args[0] != "-H" || strings.Contains(c.args[1], ",") {
				return // ping903q's Nagios mode: one -H, -w, -c
			}
			o.Reset()
			e.Reset()
			code = ping903q(t.Context(), c.args, getenv, &o, &e)
			if got := mask(o.String() + e.String()); code != real[i].code || got != want {
				t.Errorf("ping903q %q: exit %d %s", c.args, code, o.String()+e.String())
			}
		})
	}

	// ping903q -v prints ping(8)'s statistics lines: the same as iputils
	// ping's for the same loss and duplicates (6 requests each), times and
	// the number of duplicates aside (ping stops at its last reply, before
	// that reply's copy arrives).
	pingTime := regexp.MustCompile(`time [0-9]+ms|= [0-9./]+ ms|\+[0-9]+ duplicates`)
	statLines := func(out string) string {
		var keep []string
		for l := range strings.SplitSeq(out, "\n") {
			if strings.Contains(l, "packets transmitted") || strings.HasPrefix(l, "rtt ") {
				keep = append(keep, pingTime.ReplaceAllString(l, "<measured>"))
			}
		}
		return strings.Join(keep, "\n")
	}
	for _, h := range []*netlab.Host{lossy, dup} {
		t.Run("ping903q -v as ping "+h.Addr4.String(), func(t *testing.T) {
			if h == lossy {
				resetPingLoss()
			}
			out, _ := exec.Command("ping", "-n", "-c", "6", "-i", "0.2", h.Addr4.String()).Output()
			want := statLines(string(out))
			var o, e bytes.Buffer
			ping903q(t.Context(), []string{"-v", h.Addr4.String()}, getenv, &o, &e)
			if got := statLines(o.String()); got != want || want == "" {
				t.Errorf("ping(8):\n%s\nping903q -v:\n%s", out, o.String())
			}
		})
	}
}
