package main

import (
	"bytes"
	"context"
	"testing"
)

func TestCheck(t *testing.T) {
	url := monitorServer(t)
	c := func(ctx context.Context, args []string, getenv func(string) string, o, e *bytes.Buffer) int {
		return check(ctx, args, getenv, o, e)
	}
	th := []string{"-w", "200.0,20%", "-c", "600.0,60%"}
	args := func(a ...string) []string { return append(append([]string{}, th...), a...) }
	runCLI(t, c, url, []cliCase{
		{"ok", args("-H", "192.0.2.1"), nil,
			"PING OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0\n", "", 0},
		{"warning", args("-H", "192.0.2.2"), nil,
			"PING WARNING - Packet loss = 50%, RTA = 250.00 ms|rta=250.000000ms;200.000000;600.000000;0.000000 pl=50%;20;60;0\n", "", 1},
		{"critical loss", args("-H", "192.0.2.3"), nil,
			"PING CRITICAL - Packet loss = 100%| rta=U;200.000000;600.000000;; pl=100%;20;60;0\n", "", 2},
		{"critical rta", args("-H", "192.0.2.4"), nil,
			"PING CRITICAL - Packet loss = 0%, RTA = 700.00 ms|rta=700.000000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0\n", "", 2},
		{"loss equal to critical", []string{"-w", "100,20%", "-c", "600,50%", "-H", "192.0.2.2"}, nil,
			"PING CRITICAL - Packet loss = 50%, RTA = 250.00 ms|rta=250.000000ms;100.000000;600.000000;0.000000 pl=50%;20;50;0\n", "", 2},
		// check_ping leaves a threshold of 0 out of the performance data.
		{"zero thresholds", []string{"-w", "0,0%", "-c", "600,60%", "-H", "192.0.2.1"}, nil,
			"PING WARNING - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;;600.000000;0.000000 pl=0%;;60;0\n", "", 1},
		{"unreachable", args("-H", "192.0.2.6"), nil, "PING CRITICAL - 192.0.2.6 could not be probed (unreachable)\n", "", 2},
		{"no data yet", args("-H", "192.0.2.5"), nil, "PING OK - no data collected yet for 192.0.2.5\n", "", 0},
		{"no data yet -N", args("-N", "-H", "192.0.2.5"), nil, "PING UNKNOWN - no data collected yet for 192.0.2.5\n", "", 3},
		{"not monitored", args("-H", "192.0.2.99"), nil, "PING UNKNOWN - 192.0.2.99 is not monitored\n", "", 3},
		{"prefix", args("-p", "ICMP", "-H", "192.0.2.1"), nil,
			"ICMP OK - Packet loss = 0%, RTA = 0.41 ms|rta=0.410000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0\n", "", 0},
		// The seed's Nagios command: ping903q -r -H $HOSTADDRESS$ -w $ARG1$ -c $ARG2$
		{"nagios snippet -r", []string{"-r", "-H", "192.0.2.7", "-w", "200.0,20%", "-c", "600.0,60%"}, nil,
			"PING OK - Packet loss = 0%, RTA = 1.00 ms|rta=1.000000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0\n", "", 0},
		{"-r not monitored", args("-r", "-H", "192.0.2.99"), nil, "PING UNKNOWN - 192.0.2.99 is not monitored\n", "", 3},
		{"bad threshold", []string{"-w", "abc", "-c", "600,60%", "-H", "192.0.2.1"}, nil,
			"PING UNKNOWN - invalid threshold \"abc\": want RTA,PL% (e.g. 200.0,20%)\n", "", 3},
		{"warning above critical", []string{"-w", "700,20%", "-c", "600,60%", "-H", "192.0.2.1"}, nil,
			"PING UNKNOWN - warning threshold 700,20% must not exceed critical threshold 600,60%\n", "", 3},
		{"missing -H", th, nil, "PING UNKNOWN - usage: -H HOST -w RTA,PL% -c RTA,PL% are required\n", "usage: pingapi check", 3},
		{"server down", args("-H", "192.0.2.1"), map[string]string{"PINGAPI_URL": downURL(t)}, "PING UNKNOWN - cannot reach the pingapi server at http://127.0.0.1:*", "", 3},
		{"token refused", args("-H", "192.0.2.1"), map[string]string{"PINGAPI_TOKEN": ""}, "PING UNKNOWN - the server refused the token (missing Authorization: Bearer <token> header); set --token, PINGAPI_TOKEN or the credentials file\n", "", 3},
	})
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want threshold
		ok   bool
	}{
		{"200.0,20%", threshold{200, 20}, true},
		{"0.5,0%", threshold{0.5, 0}, true},
		{"100,5", threshold{100, 5}, true},
		{"100:5%", threshold{100, 5}, true},
		{"100", threshold{}, false},
		{"100,101%", threshold{}, false},
		{"-1,5%", threshold{}, false},
		{"x,5%", threshold{}, false},
	}
	for _, tt := range tests {
		got, err := parseThreshold(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseThreshold(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"200.0,20%", "0,0", "1e3,100%", ",", "NaN,5%", "-0,5%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := parseThreshold(s)
		if err == nil && (th.rta < 0 || th.pl < 0 || th.pl > 100 || th.rta != th.rta) {
			t.Fatalf("accepted %q as %+v", s, th)
		}
	})
}
