package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/pingapi/pingapi/pkg/client"
	"github.com/pingapi/pingapi/pkg/wire"
)

// Nagios plugin states (exit statuses).
const (
	nagiosOK       = 0
	nagiosWarning  = 1
	nagiosCritical = 2
	nagiosUnknown  = 3
)

// nagiosText is the word of a state in the output line.
func nagiosText(state int) string {
	switch state {
	case nagiosOK:
		return "OK"
	case nagiosWarning:
		return "WARNING"
	case nagiosCritical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// threshold is check_ping's RTA,PL% pair.
type threshold struct {
	rta float64 // ms
	pl  int     // percent
}

// parseThreshold parses "200.0,20%" (check_ping also takes ':' as the
// separator; the % is optional).
func parseThreshold(s string) (threshold, error) {
	sep := ","
	if !strings.Contains(s, sep) {
		sep = ":"
	}
	r, p, ok := strings.Cut(s, sep)
	rta, err1 := strconv.ParseFloat(strings.TrimSpace(r), 64)
	pl, err2 := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(p), "%"))
	if !ok || err1 != nil || err2 != nil || !(rta >= 0) || math.IsInf(rta, 0) || pl < 0 || pl > 100 {
		return threshold{}, fmt.Errorf("invalid threshold %q: want RTA,PL%% (e.g. 200.0,20%%)", s)
	}
	return threshold{rta, pl}, nil
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	return check(context.Background(), args, os.Getenv, stdout, stderr)
}

// check is a Nagios plugin with check_ping's output, performance data and
// rule, on the monitor's last probe of a host (ping903q's Nagios mode).
func check(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pingapi check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connFlags
	conn.register(fs)
	host := fs.String("H", "", "host to check, as monitored (see -r)")
	warn := fs.String("w", "", "warning threshold RTA,PL% (ms, percent)")
	crit := fs.String("c", "", "critical threshold RTA,PL% (ms, percent)")
	noData := fs.Bool("N", false, "report UNKNOWN, not OK, while no data has been collected for the host")
	prefix := fs.String("p", "PING", "prefix of the output line")
	resolve := fs.Bool("r", false, "HOST is an address or name to look up with /match: check the host monitored under it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pingapi check [-N] [-r] [-p PREFIX] -H HOST -w RTA,PL% -c RTA,PL%")
		fs.PrintDefaults()
	}
	if err := fs.Parse(splitBoolFlags(args, "Nr")); err != nil {
		return nagiosUnknown
	}
	unknown := func(format string, a ...any) int {
		fmt.Fprintf(stdout, "%s UNKNOWN - %s\n", *prefix, fmt.Sprintf(format, a...))
		return nagiosUnknown
	}
	if *host == "" || *warn == "" || *crit == "" || fs.NArg() > 0 {
		fs.Usage()
		return unknown("usage: -H HOST -w RTA,PL%% -c RTA,PL%% are required")
	}
	w, err := parseThreshold(*warn)
	if err != nil {
		return unknown("%v", err)
	}
	c, err := parseThreshold(*crit)
	if err != nil {
		return unknown("%v", err)
	}
	if w.rta > c.rta || w.pl > c.pl {
		return unknown("warning threshold %s must not exceed critical threshold %s", *warn, *crit)
	}
	cl, err := conn.client(getenv, stderr)
	if err != nil {
		return unknown("%v", err)
	}
	name := *host
	if *resolve {
		m, err := cl.Match(ctx, name)
		if err != nil {
			return unknown("%s", describeError(cl, err))
		}
		if len(m) != 1 || len(m[0].Hosts) == 0 {
			return unknown("%s is not monitored", name)
		}
		name = m[0].Hosts[0]
	}
	r, err := cl.Host(ctx, name)
	switch {
	case errors.Is(err, client.ErrNotMonitored):
		return unknown("%s is not monitored", name)
	case err != nil:
		return unknown("%s", describeError(cl, err))
	}
	switch r.Status {
	case wire.StatusInit:
		if *noData {
			return unknown("no data collected yet for %s", name)
		}
		fmt.Fprintf(stdout, "%s OK - no data collected yet for %s\n", *prefix, name)
		return nagiosOK
	case wire.StatusUnreachable:
		fmt.Fprintf(stdout, "%s CRITICAL - %s could not be probed (unreachable)\n", *prefix, name)
		return nagiosCritical
	}
	if !r.Validity || r.Xmit <= 0 {
		return unknown("bad answer from the server for %s", name)
	}
	fmt.Fprintln(stdout, nagiosLine(*prefix, r, w, c))
	return nagiosState(r, w, c)
}

// packetLoss is check_ping's integer loss percentage.
func packetLoss(r wire.Record) int { return (r.Xmit - r.Recv) * 100 / r.Xmit }

// nagiosState applies check_ping's rule: CRITICAL if loss >= critical loss
// or RTA >= critical RTA (or no reply at all), else WARNING likewise, else OK.
func nagiosState(r wire.Record, w, c threshold) int {
	pl := packetLoss(r)
	switch {
	case r.Recv == 0 || pl >= c.pl || r.Avg >= c.rta:
		return nagiosCritical
	case pl >= w.pl || r.Avg >= w.rta:
		return nagiosWarning
	}
	return nagiosOK
}

// nagiosLine formats the plugin output as check_ping does, performance data
// included (rta=U when nothing came back).
func nagiosLine(prefix string, r wire.Record, w, c threshold) string {
	pl := packetLoss(r)
	state := nagiosText(nagiosState(r, w, c))
	plData := fmt.Sprintf("pl=%d%%;%s;%s;0", pl, perfInt(w.pl), perfInt(c.pl))
	if pl == 100 {
		return fmt.Sprintf("%s %s - Packet loss = %d%%| rta=U;%f;%f;; %s",
			prefix, state, pl, w.rta, c.rta, plData)
	}
	return fmt.Sprintf("%s %s - Packet loss = %d%%, RTA = %2.2f ms|rta=%fms;%s;%s;%f %s",
		prefix, state, pl, r.Avg, r.Avg, perfFloat(w.rta), perfFloat(c.rta), 0.0, plData)
}

// perfFloat and perfInt print a threshold of the performance data as
// check_ping's fperfdata and perfdata do: a threshold of 0 is left empty.
func perfFloat(v float64) string {
	if v > 0 {
		return fmt.Sprintf("%f", v)
	}
	return ""
}

func perfInt(v int) string {
	if v > 0 {
		return strconv.Itoa(v)
	}
	return ""
}
