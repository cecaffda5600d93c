// Command pingapi measures round-trip time, jitter and packet loss with ICMP
// echo: an authenticated HTTP API, a continuous monitor, and command-line
// tools. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() { os.Exit(run(os.Args[0], os.Args[1:], os.Stdout, os.Stderr)) }

// command is one subcommand: its entry point returns the process exit status.
type command struct {
	name    string
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}

// commands lists the subcommands in the order usage prints them. Each lives
// in its own file.
func commands() []command {
	return []command{
		{"serve", runServe, "run the HTTP API and monitor (default)"},
		{"measure", runMeasure, "measure RTT, jitter and loss to targets (like ping/fping)"},
		{"token", runToken, "mint a development token from the data directory"},
		{"query", runQuery, "query the monitor for host status (like ping903q)"},
		{"check", runCheck, "Nagios check against the monitor: check_ping's command line and output"},
		{"match", runMatch, "list the monitored names for a host"},
		{"archive", runArchive, "manage the archive's write keys: archive key create|list|revoke"},
		{"agent", runAgent, "TCP echo client: echo a server's probes so it measures RTT to this host"},
		{"health", runHealth, "exit 0 when the local server answers /healthz (container HEALTHCHECK)"},
		{"version", runVersion, "print version and commit"},
	}
}

// run dispatches on the program name and the first argument:
//   - called as ping903q or check_ping (a link to the binary), it is that
//     tool's command line;
//   - `pingapi SUBCOMMAND ...` runs that subcommand;
//   - `pingapi -H HOST ...` (ping903q's Nagios flags, so a Nagios command line
//     written for ping903q works with only the program name changed) is check;
//   - otherwise, flags only or nothing, it is serve.
func run(prog string, args []string, stdout, stderr io.Writer) int {
	switch strings.TrimSuffix(filepath.Base(prog), ".exe") {
	case "ping903q":
		return runPing903q(args, stdout, stderr)
	case "check_ping":
		return runCheckPing(prog, args, stdout, stderr)
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isCheckInvocation(args) {
			return runPing903q(args, stdout, stderr)
		}
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			usage(stdout)
			return 0
		}
		return runServe(args, stdout, stderr)
	}
	name, rest := args[0], args[1:]
	if name == "help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "pingapi: unknown command %q\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pingapi <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nWith no command, pingapi serves. `pingapi -H HOST -w RTA,PL% -c RTA,PL%`, or the binary linked as ping903q, takes ping903q's command line; linked as check_ping, check_ping's.")
}
