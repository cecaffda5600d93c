package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

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

// thresholds are check_ping's -w and -c pairs, as check_ping stores them.
type thresholds struct {
	wrta, crta float32 // ms
	wpl, cpl   int     // percent
}

// checkPingCGI is check_ping's CGIURL (Debian's build), for -L.
const checkPingCGI = "/nagios/cgi-bin"

func runCheck(args []string, stdout, stderr io.Writer) int {
	return check(context.Background(), "pingapi check", true, args, os.Getenv, stdout, stderr)
}

// runCheckPing is the binary called as check_ping (a link): check_ping's
// command line and nothing else.
func runCheckPing(prog string, args []string, stdout, stderr io.Writer) int {
	return check(context.Background(), prog, false, args, os.Getenv, stdout, stderr)
}

// check is check_ping (monitoring-plugins 2.3.3) answering from the
// monitor's last probe of each host instead of running ping: the same
// options, messages, output, performance data and exit statuses. prog is
// argv[0] for getopt's complaints; extended adds -r and -N.
func check(ctx context.Context, prog string, extended bool, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a, code, done := parseCheckArgs(prog, args, extended, stdout, stderr)
	if done {
		return code
	}
	a.conn.timeout = time.Duration(a.timeout) * time.Second
	ctx, cancel := context.WithTimeout(ctx, a.conn.timeout)
	defer cancel()
	th := thresholds{wrta: a.wrta, crta: a.crta, wpl: a.wpl, cpl: a.cpl}
	cl, err := a.conn.client(getenv, stderr)
	if err != nil {
		fmt.Fprintf(stdout, "%s UNKNOWN - %v\n", a.prefix, err)
		return nagiosUnknown
	}
	for i, h := range a.hosts {
		last := i == len(a.hosts)-1
		r, code, done := fetchRecord(ctx, cl, h, a.resolve, a.prefix, a.timeout, stdout)
		if done {
			return code
		}
		switch r.Status {
		case wire.StatusInit:
			if !last {
				continue // nothing known yet: check_ping's next host
			}
			return noData(stdout, a.prefix, r.Name, a.noDataUnknown)
		case wire.StatusUnreachable:
			return unreachable(stdout, a.prefix, h, r)
		}
		if !r.Validity || r.Xmit <= 0 {
			fmt.Fprintf(stdout, "%s UNKNOWN - bad answer from the server for %s\n", a.prefix, r.Name)
			return nagiosUnknown
		}
		state, line := nagiosResult(r, th, a.prefix, h, a.html)
		if len(a.hosts) > 1 {
			// check_ping with several hosts: the first that gives a
			// result is "alive", whatever its loss.
			fmt.Fprintf(stdout, "%s is alive\n", h)
			return nagiosOK
		}
		fmt.Fprint(stdout, line)
		return state
	}
	return nagiosUnknown
}

// fetchRecord reads the record of host (through /match first with
// resolve). When done, the check ends with code, having printed why.
func fetchRecord(ctx context.Context, cl *client.Client, host string, resolve bool, prefix string, timeout int, stdout io.Writer) (r wire.Record, code int, done bool) {
	fail := func(err error) (wire.Record, int, bool) {
		if ctx.Err() != nil {
			fmt.Fprintf(stdout, "CRITICAL - Plugin timed out after %d seconds\n", timeout)
			return r, nagiosCritical, true
		}
		fmt.Fprintf(stdout, "%s UNKNOWN - %s\n", prefix, describeError(cl, err))
		return r, nagiosUnknown, true
	}
	notMonitored := func(name string) (wire.Record, int, bool) {
		fmt.Fprintf(stdout, "%s UNKNOWN - %s is not monitored\n", prefix, name)
		return r, nagiosUnknown, true
	}
	name := host
	if resolve {
		m, err := cl.Match(ctx, host)
		if err != nil {
			return fail(err)
		}
		if len(m) != 1 || len(m[0].Hosts) == 0 {
			return notMonitored(host)
		}
		name = m[0].Hosts[0]
	}
	r, err := cl.Host(ctx, name)
	switch {
	case errors.Is(err, client.ErrNotMonitored):
		return notMonitored(name)
	case err != nil:
		return fail(err)
	}
	return r, 0, false
}

// noData answers for a host whose first probe has not finished: OK, as
// ping903q does, or UNKNOWN when asked.
func noData(stdout io.Writer, prefix, name string, asUnknown bool) int {
	if asUnknown {
		fmt.Fprintf(stdout, "%s UNKNOWN - no data collected yet for %s\n", prefix, name)
		return nagiosUnknown
	}
	fmt.Fprintf(stdout, "%s OK - no data collected yet for %s\n", prefix, name)
	return nagiosOK
}

// unreachable answers for a host the monitor could not probe: with
// check_ping's words when the monitor knows why (the kernel's answer to
// its echo requests), else pingapi's.
func unreachable(stdout io.Writer, prefix, host string, r wire.Record) int {
	if s := unreachableText(r); s != "" {
		fmt.Fprintf(stdout, "CRITICAL - %s (%s)\n", s, host)
		return nagiosCritical
	}
	fmt.Fprintf(stdout, "%s CRITICAL - %s could not be probed (unreachable)\n", prefix, r.Name)
	return nagiosCritical
}

// checkPingState is check_ping's rule on one result: duplicate replies make
// it WARNING with "DUPLICATES FOUND! " before the loss; CRITICAL if loss >=
// the critical loss or RTA >= the critical RTA (100 % loss compares the
// critical RTA with itself), else WARNING likewise. pl is check_ping's
// integer loss and rta ping's average as check_ping reads it (3 decimals,
// into a C float).
func checkPingState(r wire.Record, th thresholds) (state, pl int, rta float32, warn string) {
	pl = (r.Xmit - r.Recv) * 100 / r.Xmit
	rta = float32(math.Round(r.Avg*1000) / 1000)
	if pl == 100 {
		rta = th.crta
	}
	if r.Dup > 0 {
		state, warn = nagiosWarning, "DUPLICATES FOUND! "
	}
	switch {
	case pl >= th.cpl || rta >= th.crta || rta < 0:
		state = nagiosCritical
	case pl >= th.wpl || rta >= th.wrta:
		state = nagiosWarning
	}
	return state, pl, rta, warn
}

// nagiosResult is check_ping's output line (performance data included)
// for a valid record, and its state.
func nagiosResult(r wire.Record, th thresholds, prefix, host string, html bool) (int, string) {
	state, pl, rta, warn := checkPingState(r, th)
	var b strings.Builder
	if html {
		fmt.Fprintf(&b, "<A HREF='%s/traceroute.cgi?%s'>", checkPingCGI, host)
	}
	if pl == 100 {
		fmt.Fprintf(&b, "%s %s - %sPacket loss = %d%%", prefix, nagiosText(state), warn, pl)
	} else {
		fmt.Fprintf(&b, "%s %s - %sPacket loss = %d%%, RTA = %2.2f ms", prefix, nagiosText(state), warn, pl, float64(rta))
	}
	if html {
		b.WriteString("</A>")
	}
	if pl == 100 {
		fmt.Fprintf(&b, "| rta=U;%f;%f;;", float64(th.wrta), float64(th.crta))
	} else {
		// fperfdata("rta", rta, "ms", wrta>0, wrta, crta>0, crta, TRUE, 0, FALSE, 0)
		fmt.Fprintf(&b, "|rta=%fms;%s;%s;%f", float64(rta), perfFloat(th.wrta), perfFloat(th.crta), 0.0)
	}
	// perfdata("pl", pl, "%", wpl>0, wpl, cpl>0, cpl, TRUE, 0, FALSE, 0)
	fmt.Fprintf(&b, " pl=%d%%;%s;%s;0;\n", pl, perfInt(th.wpl), perfInt(th.cpl))
	return state, b.String()
}

// perfFloat and perfInt print a threshold of the performance data as
// check_ping's fperfdata and perfdata do: one not above 0 is left empty.
func perfFloat(v float32) string {
	if v > 0 {
		return fmt.Sprintf("%f", float64(v))
	}
	return ""
}

func perfInt(v int) string {
	if v > 0 {
		return fmt.Sprint(v)
	}
	return ""
}

// unreachableText is check_ping's word for why the last probe could not
// run, from the record's error (ping's and the kernel's words), as
// check_ping's error_scan reads ping's output; "" when it does not say.
func unreachableText(r wire.Record) string {
	switch e := r.Error; {
	case strings.Contains(e, "Network is unreachable"), strings.Contains(e, "No route"):
		return "Network Unreachable"
	case strings.Contains(e, "Destination Host Unreachable"), strings.Contains(e, "Address unreachable"):
		return "Host Unreachable"
	case strings.Contains(e, "unknown host"):
		return "Host not found"
	}
	return ""
}
