package main

import (
	"fmt"
	"io"
	"strings"
)

// check_ping's sentinels (check_ping.c): a threshold not given yet.
const (
	unknownPL  = 200
	unknownRTA = float32(-1)
)

// checkArgs is a check_ping command line, parsed. RTA thresholds are C
// floats (float32), as check_ping stores them, so that they print and
// compare as check_ping's do: -w 100.1 is 100.099998.
type checkArgs struct {
	hosts      []string
	wrta, crta float32 // ms
	wpl, cpl   int     // percent
	packets    int     // -p: check_ping's packet count; no effect on the monitor's data
	timeout    int     // -t, seconds; raised as check_ping raises it
	family     int     // 0, 4 (-4) or 6 (-6)
	html       bool    // -L

	// pingapi's additions: how to reach the server and read its record.
	conn          connFlags
	resolve       bool   // -r / --resolve: HOST is an address to look up with /match
	noDataUnknown bool   // -N / --no-data-unknown: UNKNOWN, not OK, while no data was collected
	prefix        string // --prefix: replaces "PING" at the start of the line
}

// Keys of the long-only options pingapi adds (beyond any letter).
const (
	keyURL = 0x100 + iota
	keyToken
	keyCredentials
	keyPing903Conf
	keyResolve
	keyNoData
	keyPrefix
	keyExtraOpts
)

// checkPingUsage is check_ping's print_usage.
const checkPingUsage = "Usage:\ncheck_ping -H <host_address> -w <wrta>,<wpl>% -c <crta>,<cpl>%\n [-p packets] [-t timeout] [-4|-6]\n"

// checkPingVersion is print_revision's line: check_ping's version whose
// output and options pingapi reproduces, and pingapi's own.
func checkPingVersion() string { return fmt.Sprintf("check_ping v2.3.3 (pingapi %s)\n", version) }

// checkPingHelp is check_ping's print_help, with pingapi's additions in
// place of the paragraphs about the ping command and the support address.
func checkPingHelp() string {
	return checkPingVersion() + `Copyright (c) 1999 Ethan Galstad <nagios@nagios.org>
Copyright (c) 2000-2007 Monitoring Plugins Development Team
	<devel@monitoring-plugins.org>

Use ping to check connection statistics for a remote host.

` + checkPingUsage + `
Options:
 -h, --help
    Print detailed help screen
 -V, --version
    Print version information
 --extra-opts=[section][@file]
    Read options from an ini file. See
    https://www.monitoring-plugins.org/doc/extra-opts.html
    for usage and examples.
 -4, --use-ipv4
    Use IPv4 connection
 -6, --use-ipv6
    Use IPv6 connection
 -H, --hostname=HOST
    host to ping
 -w, --warning=THRESHOLD
    warning threshold pair
 -c, --critical=THRESHOLD
    critical threshold pair
 -p, --packets=INTEGER
    number of ICMP ECHO packets to send (Default: 5)
 -L, --link
    show HTML in the plugin output (obsoleted by urlize)
 -t, --timeout=INTEGER
    Seconds before connection times out (default: 10)

THRESHOLD is <rta>,<pl>% where <rta> is the round trip average travel
time (ms) which triggers a WARNING or CRITICAL state, and <pl> is the
percentage of packet loss to trigger an alarm state.

pingapi answers from its monitor's last probe of HOST (a name as monitored)
instead of running ping: -p, -4 and -6 are accepted and change nothing, -t
bounds the request to the server. pingapi's own options:
 --url=URL, --token=TOKEN, --credentials=FILE, --ping903-conf=FILE
    the server and its token (default: PINGAPI_URL, PINGAPI_TOKEN,
    ~/.pingapi/credentials, http://127.0.0.1:8080)
 --resolve
    HOST is an address: check the host monitored under it (/match)
 --no-data-unknown
    UNKNOWN, not OK, while no data has been collected for HOST
 --prefix=WORD
    start the output with WORD instead of PING

`
}

// checkOptions is check_ping's getopt_long table, plus pingapi's long-only
// options; extended (`pingapi check`, not a check_ping link) also takes -r
// and -N.
func checkOptions(prog string, extended bool) getopt {
	g := getopt{prog: prog, short: "VvhnL46t:c:w:H:p:", long: []longOpt{
		{name: "version", key: 'V'}, {name: "verbose", key: 'v'}, {name: "help", key: 'h'},
		{name: "timeout", hasArg: true, key: 't'}, {name: "critical", hasArg: true, key: 'c'},
		{name: "warning", hasArg: true, key: 'w'}, {name: "hostname", hasArg: true, key: 'H'},
		{name: "packets", hasArg: true, key: 'p'}, {name: "nohtml", key: 'n'}, {name: "link", key: 'L'},
		{name: "use-ipv4", key: '4'}, {name: "use-ipv6", key: '6'},
		{name: "extra-opts", hasArg: true, key: keyExtraOpts},
		{name: "url", hasArg: true, key: keyURL, exact: true}, {name: "token", hasArg: true, key: keyToken, exact: true},
		{name: "credentials", hasArg: true, key: keyCredentials, exact: true},
		{name: "ping903-conf", hasArg: true, key: keyPing903Conf, exact: true},
		{name: "resolve", key: keyResolve, exact: true}, {name: "no-data-unknown", key: keyNoData, exact: true},
		{name: "prefix", hasArg: true, key: keyPrefix, exact: true},
	}}
	if extended {
		g.short += "rN"
	}
	return g
}

// parseCheckArgs is check_ping's process_arguments and
// validate_arguments. When it returns done, the command ends with exit
// status code, having printed what check_ping prints (on stdout, as
// check_ping does, except getopt's own complaint on stderr).
func parseCheckArgs(prog string, args []string, extended bool, stdout, stderr io.Writer) (a checkArgs, code int, done bool) {
	a = checkArgs{wrta: unknownRTA, crta: unknownRTA, wpl: unknownPL, cpl: unknownPL, packets: -1, timeout: 10, prefix: "PING"}
	fail := func(format string, v ...any) (checkArgs, int, bool) {
		fmt.Fprintf(stdout, format, v...)
		fmt.Fprint(stdout, checkPingUsage)
		return a, nagiosUnknown, true
	}
	// usage2: "check_ping: MSG - ARG" then the usage.
	usage2 := func(msg, arg string) (checkArgs, int, bool) {
		return fail("check_ping: %s - %s\n", msg, arg)
	}
	couldNotParse := func() (checkArgs, int, bool) { return fail("check_ping: Could not parse arguments\n") }
	if len(args) == 0 {
		return couldNotParse()
	}
	args = append([]string(nil), args...)
	for i, s := range args {
		switch s {
		case "-to":
			args[i] = "-t"
		case "-nohtml":
			args[i] = "-n"
		}
	}
	opts, operands, ok := checkOptions(prog, extended).parse(args, stderr)
	for _, o := range opts {
		switch o.key {
		case 'h':
			fmt.Fprint(stdout, checkPingHelp())
			return a, nagiosUnknown, true
		case 'V':
			fmt.Fprint(stdout, checkPingVersion())
			return a, nagiosUnknown, true
		case 't':
			a.timeout = cAtoi(o.arg)
		case '4':
			a.family = 4
		case '6':
			a.family = 6
		case 'H':
			a.hosts = append(a.hosts, strings.Split(o.arg, ",")...)
		case 'p':
			if !isIntNonNeg(o.arg) {
				return usage2("<max_packets> (%s) must be a non-negative number\n", o.arg) // sic: usage2 prints the %s as is
			}
			a.packets = cAtoi(o.arg)
		case 'n':
			a.html = false
		case 'L':
			a.html = true
		case 'c', 'w':
			rta, pl := &a.wrta, &a.wpl
			if o.key == 'c' {
				rta, pl = &a.crta, &a.cpl
			}
			if !getThreshold(o.arg, rta, pl) {
				// check_ping says "Warning" for -c too, and its message
				// keeps a literal %s.
				return usage2("%s: Warning threshold must be integer or percentage!\n\n", o.arg)
			}
		case 'r', keyResolve:
			a.resolve = true
		case 'N', keyNoData:
			a.noDataUnknown = true
		case keyURL:
			a.conn.url = o.arg
		case keyToken:
			a.conn.token = o.arg
		case keyCredentials:
			a.conn.credentials = o.arg
		case keyPing903Conf:
			a.conn.ping903conf = o.arg
		case keyPrefix:
			a.prefix = o.arg
		case keyExtraOpts:
			fmt.Fprintf(stdout, "check_ping: --extra-opts is not supported by pingapi\n")
			return a, nagiosUnknown, true
		}
	}
	if !ok {
		fmt.Fprint(stdout, checkPingUsage)
		return a, nagiosUnknown, true
	}
	if err := a.positional(operands, stdout); err != nil {
		if err == errUsage2 {
			return usage2("Invalid hostname/address", operands[0])
		}
		return couldNotParse()
	}
	return a.validate(stdout)
}

var (
	errUsage2 = fmt.Errorf("invalid host")
	errParse  = fmt.Errorf("could not parse")
)

// positional takes check_ping's old positional form: HOST WPL CPL WRTA
// CRTA PACKETS, each only while not given as an option.
func (a *checkArgs) positional(ops []string, stdout io.Writer) error {
	if len(ops) == 0 {
		return nil
	}
	if len(a.hosts) == 0 {
		if !isHost(ops[0], a.family) {
			return errUsage2
		}
		a.hosts = append(a.hosts, ops[0])
		ops = ops[1:]
	}
	for _, step := range []func(string) error{
		func(s string) error { return positionalPL(&a.wpl, "wpl", s, stdout) },
		func(s string) error { return positionalPL(&a.cpl, "cpl", s, stdout) },
		func(s string) error { return a.positionalRTA(&a.wrta, "wrta", s, stdout) },
		func(s string) error { return a.positionalRTA(&a.crta, "crta", s, stdout) },
		func(s string) error {
			if a.packets != -1 {
				return errSkip
			}
			if !isIntNonNeg(s) {
				fmt.Fprintf(stdout, "<max_packets> (%s) must be a non-negative number\n", s)
				return errParse
			}
			a.packets = cAtoi(s)
			return nil
		},
	} {
		if len(ops) == 0 {
			return nil
		}
		switch err := step(ops[0]); err {
		case nil:
			ops = ops[1:]
		case errSkip:
		default:
			return err
		}
	}
	return nil
}

var errSkip = fmt.Errorf("already set")

// positionalPL takes a loss threshold of the positional form, unless set.
func positionalPL(v *int, name, s string, stdout io.Writer) error {
	if *v != unknownPL {
		return errSkip
	}
	if !isIntPercent(s) {
		fmt.Fprintf(stdout, "<%s> (%s) must be an integer percentage\n", name, s)
		return errParse
	}
	*v = cAtoi(s)
	return nil
}

func (a *checkArgs) positionalRTA(v *float32, name, s string, stdout io.Writer) error {
	if *v >= 0 {
		return errSkip
	}
	if isNegative(s) {
		fmt.Fprintf(stdout, "<%s> (%s) must be a non-negative number\n", name, s)
		return errParse
	}
	f, _, _ := scanFloat(s)
	*v = f
	return nil
}

// validate is check_ping's validate_arguments.
func (a checkArgs) validate(stdout io.Writer) (checkArgs, int, bool) {
	msg := ""
	switch {
	case a.wrta < 0:
		msg = "<wrta> was not set\n"
	case a.crta < 0:
		msg = "<crta> was not set\n"
	case a.wpl == unknownPL:
		msg = "<wpl> was not set\n"
	case a.cpl == unknownPL:
		msg = "<cpl> was not set\n"
	case a.wrta > a.crta:
		msg = fmt.Sprintf("<wrta> (%f) cannot be larger than <crta> (%f)\n", a.wrta, a.crta)
	case a.wpl > a.cpl:
		msg = fmt.Sprintf("<wpl> (%d) cannot be larger than <cpl> (%d)\n", a.wpl, a.cpl)
	}
	if msg != "" {
		fmt.Fprint(stdout, msg+"check_ping: Could not parse arguments\n"+checkPingUsage)
		return a, nagiosUnknown, true
	}
	if a.packets == -1 {
		a.packets = 5
	}
	if s := a.crta/1000*float32(a.packets) + float32(a.packets); s > float32(a.timeout) {
		a.timeout = int(s)
	}
	for _, h := range a.hosts {
		if !isHost(h, a.family) {
			fmt.Fprintf(stdout, "check_ping: Invalid hostname/address - %s\n%s", h, checkPingUsage)
			return a, nagiosUnknown, true
		}
	}
	if len(a.hosts) == 0 {
		fmt.Fprint(stdout, "You must specify a server address or host name\n"+checkPingUsage)
		return a, nagiosUnknown, true
	}
	return a, 0, false
}
