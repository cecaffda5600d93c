// Command pingapi measures round-trip time, jitter and packet loss with ICMP
// echo: an authenticated HTTP API, a continuous monitor, and command-line
// tools. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// subcommands maps each subcommand to its entry point. Each lives in its own
// file. An entry point returns the process exit status.
var subcommands = map[string]struct {
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}{
	"serve":   {runServe, "run the HTTP API and monitor (default)"},
	"measure": {runMeasure, "measure RTT, jitter and loss to targets (like ping/fping)"},
	"token":   {runToken, "mint a development token from the data directory"},
	"query":   {runQuery, "query the monitor for host status (like ping903q)"},
	"check":   {runCheck, "Nagios check against the monitor (like check_ping)"},
	"match":   {runMatch, "list the monitored names for a host"},
	"health":  {runHealth, "exit 0 when the local server answers /healthz (container HEALTHCHECK)"},
	"version": {runVersion, "print version and commit"},
}

func run(args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage(stdout)
		return 0
	}
	sc, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(stderr, "pingapi: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	return sc.run(args, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pingapi <command> [flags]\n\ncommands:")
	for _, n := range []string{"serve", "measure", "token", "query", "check", "match", "health", "version"} {
		fmt.Fprintf(w, "  %-8s %s\n", n, subcommands[n].summary)
	}
}
