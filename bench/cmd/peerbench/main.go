// Command peerbench measures pingapi's ICMP engine against its peers, fping
// and pro-bing, on loopback targets, each peer in its own child process so
// that CPU time and peak memory come from that child's rusage alone.
//
// Usage:
//
//	peerbench load [-n 1000] [-c 5] [-i 1s] [-W 1s] [-peers engine,fping,probing] [-limit 120s]
//	peerbench rtt  [-n 1000] [-i 10ms]
//
// Peers: engine (pingapi's pkg/probe, one goroutine per target on one
// shared Engine), fping, probing (pro-bing, one Pinger per target) and idle
// (the same goroutines without any pinging: the harness's memory floor).
//
// "load" prints one markdown table row per peer: CPU seconds per 1,000
// echoes, replies lost, peak RSS. "rtt" compares the median loopback RTT of
// iputils ping and the engine. The child subcommands ("child-engine",
// "child-probing", "child-rtt") are internal: they read targets from a file,
// measure, and print one JSON line of counts on stdout.
//
// It sends packets to 127.0.0.0/8 and ::1 only; see docs/PERFORMANCE.md.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: peerbench load|rtt [flags]")
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "load":
		return runLoad(args, stdout, stderr)
	case "rtt":
		return runRTT(args, stdout, stderr)
	case "child-engine":
		return childEngine(args, stdout, stderr)
	case "child-idle":
		return childIdle(args, stdout, stderr)
	case "child-probing":
		return childProbing(args, stdout, stderr)
	case "child-rtt":
		return childRTT(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "peerbench: unknown command %q\n", cmd)
	return 2
}
