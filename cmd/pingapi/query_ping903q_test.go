package main

import (
	"bytes"
	"context"
	"testing"
)

// TestPing903q runs ping903q's command lines, the seed's Nagios snippet
// among them, unchanged through runPing903q's dispatch.
func TestPing903q(t *testing.T) {
	url := monitorServer(t)
	p := func(ctx context.Context, args []string, getenv func(string) string, o, e *bytes.Buffer) int {
		return ping903q(ctx, args, getenv, o, e)
	}
	runCLI(t, p, url, []cliCase{
		// command_line /usr/bin/ping903q -r -H $HOSTADDRESS$ -w $ARG1$ -c $ARG2$
		// with check_ping903!200.0,20%!600.0,60%
		{"nagios snippet", []string{"-r", "-H", "192.0.2.7", "-w", "200.0,20%", "-c", "600.0,60%"}, nil,
			"PING OK - Packet loss = 0%, RTA = 1.00 ms|rta=1.000000ms;200.000000;600.000000;0.000000 pl=0%;20;60;0;\n", "", 0},
		{"nagios -Hhost", []string{"-H192.0.2.3", "-w", "200.0,20%", "-c", "600.0,60%"}, nil,
			"PING CRITICAL - Packet loss = 100%| rta=U;200.000000;600.000000;; pl=100%;20;60;0;\n", "", 2},
		{"query", []string{"192.0.2.1"}, nil, "192.0.2.1 is alive\n", "", 0},
		{"query -v", []string{"-v", "192.0.2.3"}, nil, "192.0.2.3 is not alive\n--- 192.0.2.3 ping statistics ---\n" +
			"10 packets transmitted, 0 received, 100% packet loss, time 9000ms\n", "", 2},
		{"a host named -H after --", []string{"--", "-H"}, nil, "", "-H is not monitored", 3},
	})
}
