package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// runPing903q is ping903q's command line on one entry point (a ping903q
// link to the binary, or `pingapi` called with -H): ping903q(1)'s three
// modes,
//
//	ping903q [-ahVv] [-f FILE] [-R REALM] [HOST...]          query
//	ping903q -m [-f FILE] [-R REALM] HOST...                 match
//	ping903q -H HOST -w WARN -c CRIT [-p PREFIX] [-r] [...]  Nagios check
//
// so that the seed's Nagios snippet (`ping903q -r -H $HOSTADDRESS$ -w
// $ARG1$ -c $ARG2$`) runs with only the program's name changed.
func runPing903q(args []string, stdout, stderr io.Writer) int {
	return ping903q(context.Background(), args, os.Getenv, stdout, stderr)
}

// ping903q's options, as getopt reads them, plus pingapi's long-only ones.
func ping903qOptions() getopt {
	return getopt{prog: "ping903q", short: "af:H:c:w:p:rR:mhVvN", long: []longOpt{
		{name: "url", hasArg: true, key: keyURL, exact: true}, {name: "token", hasArg: true, key: keyToken, exact: true},
		{name: "credentials", hasArg: true, key: keyCredentials, exact: true},
	}}
}

const ping903qUsage = `usage: ping903q [-ahVv] [-f FILE] [-R REALM] [HOST...]
   or: ping903q -m [-f FILE] [-R REALM] HOST...
   or: ping903q -H HOST -c CRIT -w WARN [-N] [-p PREFIX] [-r] [-f FILE] [-R REALM]
`

func ping903qHelp() string {
	return ping903qUsage + `Query the monitor of a pingapi server (Ping903's REST API).

Query mode (default): print "HOST is alive" or "HOST is not alive" for each
HOST, or every monitored host with -a.
  -a          query all monitored hosts
  -v          ping(8)-like statistics after each line
  Exit: one host 0 alive, 2 not alive, 3 unknown; several hosts or -a:
  0 all alive, 1 some, 2 none, 3 error.

Match mode:
  -m          print the monitored names of each HOST (an address or a name);
              exit 0 when every HOST is monitored, 2 when one is not, 3 error

Nagios check mode (check_ping's output and exit codes 0..3):
  -H HOST     the host to check, as monitored
  -w RTA,PL%  warning threshold
  -c RTA,PL%  critical threshold
  -p PREFIX   start the output line with PREFIX instead of PING
  -r          HOST is an address: check the host monitored under it
  -N          UNKNOWN, not OK, while no data has been collected for HOST

Common options:
  -f FILE     Ping903 configuration file: its listen statement gives the server
  -R REALM    HTTP Basic realm of the credentials to use (~/.ping903.cred)
  --url URL, --token TOKEN, --credentials FILE
              the server and its bearer token (default PINGAPI_URL,
              PINGAPI_TOKEN, ~/.pingapi/credentials, http://127.0.0.1:8080)
  -h          print this help and exit
  -V          print the version and exit
`
}

// ping903qCmd is one parsed ping903q command line.
type ping903qCmd struct {
	conn                  connFlags
	all, verbose, match   bool
	host, warn, crit      string
	prefix                string
	resolve, noData, nagi bool
	hosts                 []string
}

func ping903q(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := ping903qCmd{prefix: "PING"}
	opts, operands, ok := ping903qOptions().parse(args, stderr)
	for _, o := range opts {
		switch o.key {
		case 'a':
			c.all = true
		case 'f':
			c.conn.ping903conf = o.arg
		case 'H':
			c.host, c.nagi = o.arg, true
		case 'c':
			c.crit = o.arg
		case 'w':
			c.warn = o.arg
		case 'p':
			c.prefix = o.arg
		case 'r':
			c.resolve = true
		case 'R':
			c.conn.realm = o.arg
		case 'm':
			c.match = true
		case 'N':
			c.noData = true
		case 'v':
			c.verbose = true
		case 'h':
			fmt.Fprint(stdout, ping903qHelp())
			return exitAlive
		case 'V':
			fmt.Fprintf(stdout, "ping903q (pingapi) %s\n", version)
			return exitAlive
		case keyURL:
			c.conn.url = o.arg
		case keyToken:
			c.conn.token = o.arg
		case keyCredentials:
			c.conn.credentials = o.arg
		}
	}
	if !ok {
		fmt.Fprint(stderr, ping903qUsage)
		return exitUnknown
	}
	c.hosts = operands
	switch {
	case c.nagi:
		return c.nagios(ctx, getenv, stdout, stderr)
	case c.match:
		if len(c.hosts) == 0 || c.all {
			fmt.Fprint(stderr, ping903qUsage)
			return exitUnknown
		}
		return matchHosts(ctx, c.conn, c.hosts, getenv, stdout, stderr)
	}
	if len(c.hosts) == 0 && !c.all {
		fmt.Fprint(stderr, ping903qUsage)
		return exitUnknown
	}
	return queryHostsCmd(ctx, c.conn, c.all, c.verbose, c.hosts, getenv, stdout, stderr)
}

// nagios is ping903q's Nagios mode: check_ping's rule and output on the
// monitor's last probe of one host.
func (c ping903qCmd) nagios(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	unknown := func(format string, a ...any) int {
		fmt.Fprintf(stdout, "%s UNKNOWN - %s\n", c.prefix, fmt.Sprintf(format, a...))
		return nagiosUnknown
	}
	if c.warn == "" || c.crit == "" || len(c.hosts) > 0 {
		fmt.Fprint(stderr, ping903qUsage)
		return unknown("usage: -H HOST -w RTA,PL%% -c RTA,PL%% are required")
	}
	th := thresholds{wrta: unknownRTA, crta: unknownRTA, wpl: unknownPL, cpl: unknownPL}
	for _, t := range []struct {
		arg string
		rta *float32
		pl  *int
	}{{c.warn, &th.wrta, &th.wpl}, {c.crit, &th.crta, &th.cpl}} {
		if !getThreshold(t.arg, t.rta, t.pl) || *t.rta < 0 || *t.pl == unknownPL {
			return unknown("invalid threshold %q: want RTA,PL%% (e.g. 200.0,20%%)", t.arg)
		}
	}
	if th.wrta > th.crta || th.wpl > th.cpl {
		return unknown("warning threshold %s must not exceed critical threshold %s", c.warn, c.crit)
	}
	cl, err := c.conn.client(getenv, stderr)
	if err != nil {
		return unknown("%v", err)
	}
	r, code, done := fetchRecord(ctx, cl, c.host, c.resolve, c.prefix, int(c.conn.timeoutOr().Seconds()), stdout)
	if done {
		return code
	}
	switch {
	case r.Status == "init":
		return noData(stdout, c.prefix, r.Name, c.noData)
	case r.Status == "unreachable":
		return unreachable(stdout, c.prefix, c.host, r)
	case !r.Validity || r.Xmit <= 0:
		return unknown("bad answer from the server for %s", r.Name)
	}
	state, line := nagiosResult(r, th, c.prefix, c.host, false)
	fmt.Fprint(stdout, line)
	return state
}

// isCheckInvocation reports whether args hold ping903q's Nagios flag -H
// (-H HOST, -HHOST or -H=HOST) before any "--".
func isCheckInvocation(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case strings.HasPrefix(a, "-H"), a == "--H", strings.HasPrefix(a, "--H="):
			return true
		}
	}
	return false
}
