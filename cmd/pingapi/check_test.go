package main

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pingapi/pingapi/pkg/wire"
)

// TestCheck runs check_ping command lines against the scripted monitor
// (see monitorServer); the real check_ping is compared in
// TestCheckPingSideBySide.
func TestCheck(t *testing.T) {
	url := monitorServer(t)
	c := func(ctx context.Context, args []string, getenv func(string) string, o, e *bytes.Buffer) int {
		return check(ctx, "check_ping", true, args, getenv, o, e)
	}
	th := []string{"-w", "200.0,20%", "-c", "600.0,60%"}
	args := func(a ...string) []string { return append(append([]string{}, th...), a...) }
	const usage = "Usage:\ncheck_ping -H <host_address> -w <wrta>,<wpl>% -c <crta>,<cpl>%\n [-p packets] [-t timeout] [-4|-6]\n"
	runCLI(t, c, url, []cliCase{
		{"ok", args("-H", "192.0.2.1"), nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"warning", args("-H", "192.0.2.2"), nil,
			"PING WARNING - Packet loss = 50%, RTA = 250.00 ms|rta=250.000000ms;200.000000;600.000000;0.000000 pl=50%;20;60;0;\n", "", 1},
		{"critical loss", args("-H", "192.0.2.3"), nil,
			"PING CRITICAL - Packet loss = 100%| rta=U;200.000000;600.000000;; pl=100%;20;60;0;\n", "", 2},
		{"critical rta", args("-H", "192.0.2.4"), nil,
			"PING CRITICAL - Packet loss = 0%, RTA = 700.00 ms|rta=700.000000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 2},
		{"loss equal to critical", []string{"-w", "100,20%", "-c", "600,50%", "-H", "192.0.2.2"}, nil,
			"PING CRITICAL - Packet loss = 50%, RTA = 250.00 ms|rta=250.000000ms;100.000000;600.000000;0.000000 pl=50%;20;50;0;\n", "", 2},
		{"C float thresholds", []string{"-w", "100.1,20%", "-c", "600.3,60%", "-H", "192.0.2.1"}, nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;100.099998;600.299988;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"fractional loss read as its integer part", []string{"-w", "200,20.5%", "-c", "600,60.9%", "-H", "192.0.2.1"}, nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		// check_ping leaves a threshold of 0 out of the performance data.
		{"zero thresholds", []string{"-w", "0,0%", "-c", "600,60%", "-H", "192.0.2.1"}, nil,
			"PING WARNING - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;;600.000000;0.000000 pl=0%;;60;0;\n", "", 1},
		{"duplicates", args("-H", "192.0.2.8"), nil,
			"PING WARNING - DUPLICATES FOUND! Packet loss = 10%, RTA = 2.00 ms|rta=2.000000ms;200.000000;600.000000;0.000000 pl=10%;20;60;0;\n", "", 1},
		{"duplicates and critical", []string{"-w", "1,5%", "-c", "2,10%", "-H", "192.0.2.8"}, nil,
			"PING CRITICAL - DUPLICATES FOUND! Packet loss = 10%, RTA = 2.00 ms|rta=2.000000ms;1.000000;2.000000;0.000000 pl=10%;5;10;0;\n", "", 2},
		{"-p is the packet count", args("-p", "3", "-H", "192.0.2.1"), nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"check_ping options", args("-t", "5", "-4", "--hostname=192.0.2.1", "-v", "-n"), nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"-L", args("-L", "-H", "192.0.2.1"), nil,
			"<A HREF='/nagios/cgi-bin/traceroute.cgi?192.0.2.1'>PING OK - Packet loss = 0%, RTA = 0.41 ms</A>|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"positional form", []string{"192.0.2.1", "20", "60", "200", "600"}, nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"several hosts: the first with data is alive", args("-H", "192.0.2.5,192.0.2.3,192.0.2.1"), nil, "192.0.2.3 is alive\n", "", 0},
		{"several hosts as several -H", args("-H", "192.0.2.1", "-H", "192.0.2.2"), nil, "192.0.2.1 is alive\n", "", 0},
		{"unreachable", args("-H", "192.0.2.6"), nil, "CRITICAL - Network Unreachable (192.0.2.6)\n", "", 2},
		{"no data yet", args("-H", "192.0.2.5"), nil, "PING OK - no data collected yet for 192.0.2.5\n", "", 0},
		{"no data yet -N", args("-N", "-H", "192.0.2.5"), nil, "PING UNKNOWN - no data collected yet for 192.0.2.5\n", "", 3},
		{"not monitored", args("-H", "192.0.2.99"), nil, "PING UNKNOWN - 192.0.2.99 is not monitored\n", "", 3},
		{"prefix", args("--prefix=ICMP", "-H", "192.0.2.1"), nil,
			"ICMP OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"-r", args("-r", "-H", "192.0.2.7"), nil,
			"PING OK - Packet loss = 0%, RTA = 1.00 ms|rta=1.000000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"-r not monitored", args("-r", "-H", "192.0.2.99"), nil, "PING UNKNOWN - 192.0.2.99 is not monitored\n", "", 3},
		{"loss without %", []string{"-w", "100,20", "-c", "600,60%", "-H", "192.0.2.1"}, nil,
			"check_ping: %s: Warning threshold must be integer or percentage!\n\n - 100,20\n" + usage, "", 3},
		{"warning above critical", []string{"-w", "700,20%", "-c", "600,60%", "-H", "192.0.2.1"}, nil,
			"<wrta> (700.000000) cannot be larger than <crta> (600.000000)\ncheck_ping: Could not parse arguments\n" + usage, "", 3},
		{"critical not set", []string{"-w", "700,20%", "-H", "192.0.2.1"}, nil,
			"<crta> was not set\ncheck_ping: Could not parse arguments\n" + usage, "", 3},
		{"missing -H", th, nil, "You must specify a server address or host name\n" + usage, "", 3},
		{"bad option", args("-x"), nil, usage, "check_ping: invalid option -- 'x'\n", 3},
		{"-V", []string{"-V"}, nil, "check_ping v2.3.3 (pingapi dev)\n", "", 3},
		{"server down", args("-H", "192.0.2.1"), map[string]string{"PINGAPI_URL": downURL(t)}, "PING UNKNOWN - cannot reach the pingapi server at http://127.0.0.1:*", "", 3},
		{"token refused", args("-H", "192.0.2.1"), map[string]string{"PINGAPI_TOKEN": ""}, "PING UNKNOWN - the server refused the token (missing Authorization: Bearer <token> header); set --token, PINGAPI_TOKEN or the credentials file\n", "", 3},
	})
}

// TestCheckPingLinkRefusesExtensions: called as check_ping, -r and -N are
// check_ping's invalid options.
func TestCheckPingLinkRefusesExtensions(t *testing.T) {
	var o, e bytes.Buffer
	code := check(t.Context(), "/usr/lib/nagios/plugins/check_ping", false, []string{"-r", "-H", "x", "-w", "1,1%", "-c", "2,2%"}, func(string) string { return "" }, &o, &e)
	if code != 3 || e.String() != "/usr/lib/nagios/plugins/check_ping: invalid option -- 'r'\n" {
		t.Errorf("exit %d, stderr %q", code, e.String())
	}
}

func TestGetThreshold(t *testing.T) {
	tests := []struct {
		in      string
		rta     float32
		pl      int
		ok      bool
		comment string
	}{
		{"200.0,20%", 200, 20, true, ""},
		{"100:5%", 100, 5, true, "':' separates too"},
		{"100.1,20.5%", 100.1, 20, true, "sscanf's %d stops at the point"},
		{"100", 100, unknownPL, true, "an integer alone is the RTA"},
		{"20%", -1, 20, true, "a percentage alone is the loss"},
		{"100,20", -1, unknownPL, false, "the loss needs its %"},
		{"100.5", -1, unknownPL, false, "a lone RTA must be an integer"},
		{"100;20%", -1, 100, true, "no ',' nor ':': only %d%% reads, 100"},
		{"-5,20%", -5, 20, true, "negative: refused later as not set"},
		{"abc", -1, unknownPL, false, ""},
		{"1e2,5%", 100, 5, true, "a C float"},
	}
	for _, tt := range tests {
		rta, pl := float32(-1), unknownPL
		ok := getThreshold(tt.in, &rta, &pl)
		if ok != tt.ok || rta != tt.rta || pl != tt.pl {
			t.Errorf("getThreshold(%q) = %v, %v, %v; want %v, %v, %v (%s)", tt.in, rta, pl, ok, tt.rta, tt.pl, tt.ok, tt.comment)
		}
	}
}

func FuzzGetThreshold(f *testing.F) {
	for _, s := range []string{"200.0,20%", "0,0", "1e3,100%", ",", "NaN,5%", "-0,5%", "20.5%", " 7 ", "inf:3%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rta, pl := float32(-1), unknownPL
		getThreshold(s, &rta, &pl)
		var o, e bytes.Buffer
		a, _, done := parseCheckArgs("check_ping", []string{"-H", "h", "-w", s, "-c", s}, false, &o, &e)
		// NaN thresholds pass check_ping's checks too (every comparison
		// with them is false).
		if !done && !math.IsNaN(float64(a.wrta)) && (a.wrta < 0 || a.wrta > a.crta || a.wpl == unknownPL || a.wpl > a.cpl) {
			t.Fatalf("%q accepted as %+v", s, a)
		}
	})
}

func TestPingLoss(t *testing.T) {
	for _, tt := range []struct {
		xmit, recv int
		want       string
	}{{3, 2, "33.3333"}, {3, 1, "66.6667"}, {10, 10, "0"}, {10, 0, "100"}, {7, 6, "14.2857"}, {8, 7, "12.5"}} {
		if got := pingLoss(tt.xmit, tt.recv); got != tt.want {
			t.Errorf("pingLoss(%d, %d) = %s, want %s", tt.xmit, tt.recv, got, tt.want)
		}
	}
}

// TestUnreachableWords: check_ping's words for the causes the monitor
// reports, and pingapi's own line when it reports none.
func TestUnreachableWords(t *testing.T) {
	for _, tt := range []struct{ err, want string }{
		{"Network is unreachable", "CRITICAL - Network Unreachable (h)\n"},
		{"No route to host", "CRITICAL - Network Unreachable (h)\n"},
		{"unknown host", "CRITICAL - Host not found (h)\n"},
		{"", "PING CRITICAL - h.name could not be probed (unreachable)\n"},
	} {
		var o bytes.Buffer
		if code := unreachable(&o, "PING", "h", wire.Record{Name: "h.name", Status: wire.StatusUnreachable, Error: tt.err}); code != 2 || o.String() != tt.want {
			t.Errorf("%q: exit %d, %q; want %q", tt.err, code, o.String(), tt.want)
		}
	}
}

// TestCheckTimeout: -t bounds the whole check as check_ping's alarm does
// (raised, as check_ping raises it, to crta/1000*packets+packets: -p 0
// keeps it at -t), with check_ping's words and CRITICAL.
func TestCheckTimeout(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	var o, e bytes.Buffer
	env := map[string]string{"PINGAPI_URL": hang.URL, "PINGAPI_TOKEN": "t", "HOME": t.TempDir()}
	code := check(t.Context(), "check_ping", false, []string{"-H", "192.0.2.1", "-w", "100,20%", "-c", "200,60%", "-t", "1", "-p", "0"},
		func(k string) string { return env[k] }, &o, &e)
	if code != 2 || o.String() != "CRITICAL - Plugin timed out after 1 seconds\n" {
		t.Errorf("exit %d, %q", code, o.String())
	}
}
