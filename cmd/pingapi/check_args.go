package main

import (
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
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

// getThreshold is check_ping's get_threshold: "RTA" alone (an integer),
// "RTA,PL%" (or ':'), or "PL%". Like its sscanf, it stores the RTA even when
// the rest does not match, and reads a fractional loss ("20.5%") up to the
// point: 20.
func getThreshold(arg string, rta *float32, pl *int) bool {
	if isIntNonNeg(arg) {
		if f, _, ok := scanFloat(arg); ok {
			*rta = f
			return true
		}
	}
	if strings.ContainsAny(arg, ",:") && strings.Contains(arg, "%") {
		if f, rest, ok := scanFloat(arg); ok {
			*rta = f
			if n := len(rest) - len(strings.TrimLeft(rest, ":,")); n > 0 {
				if d, _, ok := scanInt(rest[n:]); ok {
					*pl = d
					return true
				}
			}
		}
	}
	if strings.Contains(arg, "%") {
		if d, _, ok := scanInt(arg); ok {
			*pl = d
			return true
		}
	}
	return false
}

// isHost is check_ping's is_host without a resolver: an address of the
// chosen family, or a name that is a valid host name (pingapi resolves no
// name here; the monitor knows its hosts by name).
func isHost(s string, family int) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return family == 0 || (family == 4) == a.Unmap().Is4()
	}
	if s == "" || len(s) > 253 || strings.ContainsAny(s, ":%") {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return false
		}
	}
	return true
}

// The C library's number readers, as check_ping uses them.

// isInteger is the plugins' is_integer: only digits, '-' and spaces, and
// strtol's value fits an int.
func isInteger(s string) bool {
	if strings.Trim(s, "-0123456789 ") != "" {
		return false
	}
	v, _, _ := scanLong(s)
	return v >= math.MinInt32 && v <= math.MaxInt32
}

func isIntNonNeg(s string) bool { return isInteger(s) && cAtoi(s) >= 0 }

func isIntPercent(s string) bool { return isInteger(s) && cAtoi(s) >= 0 && cAtoi(s) <= 100 }

// isNegative is is_negative: the whole string is a number (sscanf "%f%c"
// reads nothing after it) below 0.
func isNegative(s string) bool {
	f, rest, ok := scanFloat(s)
	return ok && rest == "" && f < 0
}

// cAtoi is atoi: strtol's value cast to int; 0 when nothing is read.
func cAtoi(s string) int {
	v, _, _ := scanLong(s)
	return int(int32(v))
}

func scanInt(s string) (int, string, bool) {
	v, rest, ok := scanLong(s)
	return int(int32(v)), rest, ok
}

// scanLong is strtol in base 10: leading white space, a sign, digits;
// saturated at the limits of a 64-bit long.
func scanLong(s string) (int64, string, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	i, neg := 0, false
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-'
		i++
	}
	start := i
	var v uint64
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		if v <= math.MaxInt64 {
			v = v*10 + uint64(t[i]-'0')
		}
	}
	if i == start {
		return 0, s, false
	}
	switch {
	case !neg && v > math.MaxInt64:
		return math.MaxInt64, t[i:], true
	case neg && v > math.MaxInt64:
		return math.MinInt64, t[i:], true
	case neg:
		return -int64(v), t[i:], true
	}
	return int64(v), t[i:], true
}

// scanFloat is sscanf's %f into a C float: leading white space, then the
// longest decimal number (sign, digits, point, exponent) or inf/nan,
// rounded to float32 as strtof does.
func scanFloat(s string) (float32, string, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	lower := strings.ToLower(t[i:])
	for _, word := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(lower, word) {
			f := float32(math.Inf(1))
			if word == "nan" {
				f = float32(math.NaN())
			}
			if t[0] == '-' {
				f = -f
			}
			return f, t[i+len(word):], true
		}
	}
	digits := 0
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		digits++
	}
	if i < len(t) && t[i] == '.' {
		for i++; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, s, false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		j := i + 1
		if j < len(t) && (t[j] == '+' || t[j] == '-') {
			j++
		}
		if j < len(t) && t[j] >= '0' && t[j] <= '9' {
			for i = j; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			}
		}
	}
	v, _ := strconv.ParseFloat(t[:i], 32) // out of range: ±Inf or 0, as strtof
	return float32(v), t[i:], true
}
